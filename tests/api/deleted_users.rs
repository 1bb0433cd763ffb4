//! A deleted user's access token is 401 on every route, with `WWW-Authenticate: Bearer` and a problem body
//! (issue 7, point 5; ADR 0007).

use reqwest::Method;
use serde_json::json;

use crate::helpers::{Backend, spawn_app};

async fn a_deleted_users_access_token_is_401_on_every_route(backend: Backend) {
    // Arrange: ann with a task, deleted by the admin; bob as a control
    let app = spawn_app(backend).await;
    let admin = app.admin().await;
    let ann = app.register_user().await;
    let bob = app.register_user().await;
    let task = app.create_task_titled(&ann, "mine").await;
    app.get_tasks(&ann, "", 200).await;

    // Act
    app.delete_user(&admin, &ann.id, 204).await;

    // Assert: every route that takes her token refuses it, with the 401 every bad credential gets
    let logout_body = json!({"refreshToken": ann.refresh_token});
    let routes = [
        (Method::GET, "/tasks".to_owned(), None),
        (Method::GET, "/tasks/stats".to_owned(), None),
        (Method::POST, "/tasks/batch".to_owned(), Some(json!({"tasks": [task], "action": "complete"}))),
        (Method::POST, "/tasks".to_owned(), Some(json!({"title": "after my deletion"}))),
        (Method::GET, format!("/tasks/{task}"), None),
        (Method::PATCH, format!("/tasks/{task}"), Some(json!({"title": "renamed"}))),
        (Method::DELETE, format!("/tasks/{task}"), None),
        (Method::GET, format!("/users/{}", ann.id), None),
        (Method::PATCH, format!("/users/{}", ann.id), Some(json!({"name": "Still here"}))),
        (Method::GET, "/auth/me".to_owned(), None),
        (Method::POST, "/auth/logout".to_owned(), Some(logout_body)),
    ];
    for (method, path, body) in routes {
        let mut call = app.call(method, &path).signed_in(&ann);
        if let Some(body) = body {
            call = call.json(&body);
        }
        let answer = call.expect(401).await;
        assert_eq!(answer.header("www-authenticate"), Some("Bearer"), "{path}");
    }
    app.post_refresh(&ann.refresh_token, 401).await;
    app.get_tasks(&bob, "", 200).await;
    app.get_me(&bob.access_token, 200).await;
}
on_both_backends!(a_deleted_users_access_token_is_401_on_every_route);

async fn a_deleted_admins_token_no_longer_administers(backend: Backend) {
    // Arrange: a second admin, deleted by the first
    let app = spawn_app(backend).await;
    let admin = app.admin().await;
    let deputy = app.register_user().await;
    app.patch_user(&admin, &deputy.id, &json!({"role": "admin"}), 200).await;
    let deputy = app.login_again(&deputy).await;
    app.get_users(&deputy, "", 200).await;

    // Act
    app.delete_user(&admin, &deputy.id, 204).await;

    // Assert
    app.get_users(&deputy, "", 401).await;
    app.get_user(&deputy, &admin.id, 401).await;
    app.delete_user(&deputy, &admin.id, 401).await;
    app.get_me(&admin.access_token, 200).await;
}
on_both_backends!(a_deleted_admins_token_no_longer_administers);
