//! `/users`: the admin list, self versus others, role changes, deletion with the user's tasks.

use std::collections::HashSet;

use serde_json::json;

use crate::helpers::{Backend, spawn_app, text};

async fn admin_lists_users_in_pages_with_paging_meta_and_others_get_403(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let admin = app.admin().await;
    let mut registered = HashSet::new();
    for _ in 0..3 {
        registered.insert(app.register_user().await.id);
    }
    let ann = app.register_user().await;
    registered.insert(ann.id.clone());

    // Act
    let first = app.get_users(&admin, "?page=1&limit=2", 200).await.json();

    // Assert: the 4 registered users and the 2 demo users.
    assert_eq!(first["meta"], json!({"page": 1, "limit": 2, "total": 6, "totalPages": 3}));
    let mut seen = HashSet::new();
    for page in 1..=3 {
        let body = app.get_users(&admin, &format!("?page={page}&limit=2"), 200).await.json();
        for user in body["data"].as_array().expect("data") {
            assert!(user.get("passwordHash").is_none() && user.get("password").is_none(), "{user}");
            assert!(seen.insert(text(&user["id"])), "user {} on two pages", user["id"]);
        }
    }
    assert_eq!(seen.len(), 6);
    assert!(registered.is_subset(&seen));
    app.get_users(&ann, "", 403).await;
    app.get_users(&admin, "?limit=0", 400).await;
    app.get_users(&admin, "?page=0", 400).await;
}
on_both_backends!(admin_lists_users_in_pages_with_paging_meta_and_others_get_403);

async fn a_user_sees_themself_but_gets_404_for_anyone_else_while_an_admin_sees_all(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let ann = app.register_user().await;
    let bob = app.register_user().await;
    let admin = app.admin().await;

    // Act + Assert
    assert_eq!(app.get_user(&ann, &ann.id, 200).await.json()["email"], json!(ann.email));
    app.get_user(&ann, &bob.id, 404).await;
    app.patch_user(&ann, &bob.id, &json!({"name": "Hacked"}), 404).await;
    assert_eq!(app.get_user(&admin, &bob.id, 200).await.json()["name"], "Test User");
    app.get_user(&ann, "not-a-uuid", 400).await;
}
on_both_backends!(a_user_sees_themself_but_gets_404_for_anyone_else_while_an_admin_sees_all);

async fn a_user_renames_themself_but_changing_a_role_needs_an_admin(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let ann = app.register_user().await;

    // Act
    let renamed = app.patch_user(&ann, &ann.id, &json!({"name": "Ann Again"}), 200).await.json();
    app.patch_user(&ann, &ann.id, &json!({"role": "admin"}), 403).await;

    // Assert
    assert_eq!(renamed["name"], "Ann Again");
    let me = app.get_me(&ann.access_token, 200).await.json();
    assert_eq!(me["role"], "user");
    app.patch_user(&ann, &ann.id, &json!({}), 400).await;
    app.patch_user(&ann, &ann.id, &json!({"id": ann.id}), 400).await;
}
on_both_backends!(a_user_renames_themself_but_changing_a_role_needs_an_admin);

async fn a_role_change_by_an_admin_applies_from_the_next_refresh_or_login(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let admin = app.admin().await;
    let ann = app.register_user().await;

    // Act
    let changed = app.patch_user(&admin, &ann.id, &json!({"role": "admin"}), 200).await.json();

    // Assert
    assert_eq!(changed["role"], "admin");
    app.get_users(&ann, "", 403).await; // the access token issued before the change still says `user`
    let refreshed = app.post_refresh(&ann.refresh_token, 200).await.json();
    assert_eq!(refreshed["user"]["role"], "admin");
    let promoted = crate::helpers::TestUser { access_token: text(&refreshed["accessToken"]), ..ann.clone() };
    app.get_users(&promoted, "", 200).await;
    let relogged = app.login_again(&ann).await;
    app.get_users(&relogged, "", 200).await;
}
on_both_backends!(a_role_change_by_an_admin_applies_from_the_next_refresh_or_login);

async fn deleting_a_user_is_for_admins_and_takes_their_tasks_with_them(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let admin = app.admin().await;
    let ann = app.register_user().await;
    let bob = app.register_user().await;
    let tasks = [app.create_task_titled(&ann, "one").await, app.create_task_titled(&ann, "two").await];
    let bobs_task = app.create_task_titled(&bob, "bob's").await;

    // Act
    app.delete_user(&bob, &ann.id, 403).await;
    app.delete_user(&admin, &ann.id, 204).await;

    // Assert
    app.get_user(&admin, &ann.id, 404).await;
    for id in &tasks {
        app.get_task(&admin, id, 404).await;
    }
    let all = app.get_tasks(&admin, "?limit=100", 200).await.json();
    let owners: HashSet<String> = all["data"].as_array().expect("data").iter().map(|t| text(&t["userId"])).collect();
    assert!(!owners.contains(&ann.id), "a deleted user's task is still listed");
    app.get_task(&bob, &bobs_task, 200).await;
    app.post_refresh(&ann.refresh_token, 401).await;
    app.delete_user(&admin, &ann.id, 404).await;
}
on_both_backends!(deleting_a_user_is_for_admins_and_takes_their_tasks_with_them);
