//! `GET /tasks/{id}/history`: the wire shape of events and their changes, keyset paging, who may read a history
//! (also after the task's deletion), and the 400s and 404s.

use std::sync::Arc;

use axum::Router;
use axum::http::{Method, StatusCode};
use chrono::Utc;
use serde_json::{Value, json};
use taskflow_adapters_http::HttpSettings;
use taskflow_adapters_memory::InMemoryStore;
use taskflow_application::domain::UserId;
use taskflow_application::domain::ports::UnitOfWork;
use taskflow_application::domain::user::{Role, UserPatch};

use crate::common::{
    Reply, app, app_with, assert_problem, create_task, empty_request, exchange, json_request, register,
};

async fn get(app: &Router, token: &str, uri: &str) -> Reply {
    exchange(app, empty_request(Method::GET, uri, Some(token))).await
}

async fn patch(app: &Router, token: &str, id: &str, body: Value) {
    let reply =
        exchange(app, json_request(Method::PATCH, &format!("/tasks/{id}"), Some(token), body.to_string())).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}

/// The history of task `id` as `token` sees it, asserting a 200.
async fn history(app: &Router, token: &str, id: &str, query: &str) -> Value {
    let reply = get(app, token, &format!("/tasks/{id}/history{query}")).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.json()
}

/// A router and its store, and an admin's token (made admin in the store, then logged in again for the role).
async fn app_with_admin() -> (Router, String) {
    let store = Arc::new(InMemoryStore::new());
    let app = app_with(store.clone(), HttpSettings::default(), |_| {});
    let (id, _) = register(&app, "root@example.com").await;
    let tx = store.begin().await.unwrap();
    let mut user = tx.users().find_for_update(UserId::from_uuid(id.parse().unwrap())).await.unwrap().unwrap();
    user.apply(UserPatch { role: Some(Role::Admin), ..Default::default() }, Utc::now());
    tx.users().update(&user).await.unwrap();
    tx.commit().await.unwrap();
    let login = json!({"email": "root@example.com", "password": "password123"}).to_string();
    let reply = exchange(&app, json_request(Method::POST, "/auth/login", None, login)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let token = reply.json()["accessToken"].as_str().unwrap().to_owned();
    (app, token)
}

#[tokio::test]
async fn each_event_carries_its_type_actor_version_and_exact_changes_in_member_order() {
    // Arrange
    let app = app();
    let (ann_id, token) = register(&app, "ann@example.com").await;
    let task = create_task(&app, &token, "Write tests").await;
    let id = task["id"].as_str().unwrap();

    // Act: two members change (the restated title does not), the due date sent with an offset
    patch(
        &app,
        &token,
        id,
        json!({"dueDate": "2026-12-01T10:00:00+01:00", "priority": "HIGH", "title": "Write tests"}),
    )
    .await;
    let reply = get(&app, &token, &format!("/tasks/{id}/history")).await;

    // Assert
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert!(reply.header("ratelimit-limit").is_some(), "the history is rate limited like /tasks");
    let body = reply.json();
    assert_eq!(body["meta"], json!({"limit": 20, "nextCursor": null}));
    let events = body["data"].as_array().unwrap();
    assert_eq!(events.len(), 2);
    let created = &events[0];
    assert_eq!(created["type"], "task.created");
    assert_eq!((created["taskId"].as_str(), created["actorId"].as_str()), (Some(id), Some(&*ann_id)));
    assert_eq!(created["version"], 1);
    assert_eq!(created["occurredAt"], task["createdAt"]);
    assert_eq!(
        created["changes"],
        json!({
            "title": {"from": null, "to": "Write tests"}, "description": {"from": null, "to": null},
            "status": {"from": null, "to": "PENDING"}, "priority": {"from": null, "to": "MEDIUM"},
            "dueDate": {"from": null, "to": null}, "completedAt": {"from": null, "to": null},
        })
    );
    let updated = &events[1];
    assert_eq!((updated["type"].as_str(), updated["version"].as_i64()), (Some("task.updated"), Some(2)));
    let expected =
        r#""changes":{"priority":{"from":"MEDIUM","to":"HIGH"},"dueDate":{"from":null,"to":"2026-12-01T09:00:00Z"}}"#;
    assert!(reply.body.contains(expected), "changes, in member order, UTC: {}", reply.body);
    let created_order = r#""changes":{"title":{"from":null,"to":"Write tests"},"description":"#;
    assert!(reply.body.contains(created_order), "a creation starts with the title: {}", reply.body);
    let ids: Vec<_> = events.iter().map(|e| e["id"].as_str().unwrap().to_owned()).collect();
    assert_ne!(ids[0], ids[1]);
}

#[tokio::test]
async fn pages_follow_the_cursor_to_a_last_page_with_a_null_cursor() {
    // Arrange: five versions
    let app = app();
    let (_, token) = register(&app, "ann@example.com").await;
    let id = create_task(&app, &token, "v1").await["id"].as_str().unwrap().to_owned();
    for n in 2..=5 {
        patch(&app, &token, &id, json!({"title": format!("v{n}")})).await;
    }

    // Act
    let first = history(&app, &token, &id, "?limit=2&cursor=").await;
    let cursor = first["meta"]["nextCursor"].as_str().unwrap().to_owned();
    let second = history(&app, &token, &id, &format!("?limit=2&cursor={cursor}")).await;
    let cursor = second["meta"]["nextCursor"].as_str().unwrap().to_owned();
    let last = history(&app, &token, &id, &format!("?cursor={cursor}&limit=2")).await;

    // Assert
    let versions = |page: &Value| -> Vec<i64> {
        page["data"].as_array().unwrap().iter().map(|e| e["version"].as_i64().unwrap()).collect()
    };
    assert_eq!((versions(&first), versions(&second), versions(&last)), (vec![1, 2], vec![3, 4], vec![5]));
    assert_eq!(last["meta"], json!({"limit": 2, "nextCursor": null}));
    let whole = history(&app, &token, &id, "?limit=5").await;
    assert_eq!(whole["meta"]["nextCursor"], Value::Null, "a full last page has no next page");
}

#[tokio::test]
async fn the_owner_and_an_admin_read_a_history_and_another_user_gets_404() {
    // Arrange
    let (app, admin) = app_with_admin().await;
    let (_, ann) = register(&app, "ann@example.com").await;
    let (_, bob) = register(&app, "bob@example.com").await;
    let id = create_task(&app, &ann, "ann's").await["id"].as_str().unwrap().to_owned();
    let uri = format!("/tasks/{id}/history");

    // Act
    let (owner, other, root) =
        (get(&app, &ann, &uri).await, get(&app, &bob, &uri).await, get(&app, &admin, &uri).await);

    // Assert
    assert_eq!(owner.status, StatusCode::OK, "{}", owner.body);
    assert_problem(&other, StatusCode::NOT_FOUND, "another user");
    assert_eq!(root.status, StatusCode::OK, "{}", root.body);
    assert_eq!(root.json()["data"], owner.json()["data"]);
}

#[tokio::test]
async fn a_deleted_tasks_history_stays_readable_by_its_owner_and_admins_only() {
    // Arrange
    let (app, admin) = app_with_admin().await;
    let (ann_id, ann) = register(&app, "ann@example.com").await;
    let (_, bob) = register(&app, "bob@example.com").await;
    let id = create_task(&app, &ann, "short-lived").await["id"].as_str().unwrap().to_owned();
    patch(&app, &ann, &id, json!({"status": "COMPLETED"})).await;

    // Act
    let deleted = exchange(&app, empty_request(Method::DELETE, &format!("/tasks/{id}"), Some(&ann))).await;

    // Assert
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(get(&app, &ann, &format!("/tasks/{id}")).await.status, StatusCode::NOT_FOUND);
    for token in [&ann, &admin] {
        let events = history(&app, token, &id, "").await["data"].as_array().unwrap().clone();
        let kinds: Vec<_> = events.iter().map(|e| e["type"].as_str().unwrap().to_owned()).collect();
        assert_eq!(kinds, ["task.created", "task.completed", "task.deleted"]);
        let last = &events[2];
        assert_eq!((last["version"].as_i64(), last["actorId"].as_str()), (Some(2), Some(&*ann_id)));
        assert_eq!(last["changes"], json!({}), "a deletion changes no member");
    }
    let other = get(&app, &bob, &format!("/tasks/{id}/history")).await;
    assert_problem(&other, StatusCode::NOT_FOUND, "another user, after the deletion");
}

#[tokio::test]
async fn bad_input_is_400_on_the_member_and_an_unknown_task_is_404() {
    // Arrange: a task with a cursor of its own, and another task's cursor
    let app = app();
    let (_, token) = register(&app, "ann@example.com").await;
    let id = create_task(&app, &token, "mine").await["id"].as_str().unwrap().to_owned();
    let other = create_task(&app, &token, "other").await["id"].as_str().unwrap().to_owned();
    patch(&app, &token, &other, json!({"title": "renamed"})).await;
    let foreign = history(&app, &token, &other, "?limit=1").await["meta"]["nextCursor"].as_str().unwrap().to_owned();
    let unknown = uuid::Uuid::now_v7();

    let cases = [
        ("a malformed id", "/tasks/not-a-uuid/history".to_owned(), StatusCode::BAD_REQUEST, Some("id")),
        ("a limit of 0", format!("/tasks/{id}/history?limit=0"), StatusCode::BAD_REQUEST, Some("limit")),
        ("a limit of 101", format!("/tasks/{id}/history?limit=101"), StatusCode::BAD_REQUEST, Some("limit")),
        ("a limit that is no number", format!("/tasks/{id}/history?limit=ten"), StatusCode::BAD_REQUEST, Some("limit")),
        (
            "a cursor not ours",
            format!("/tasks/{id}/history?cursor=bm90IG91cnM"),
            StatusCode::BAD_REQUEST,
            Some("cursor"),
        ),
        (
            "another task's cursor",
            format!("/tasks/{id}/history?cursor={foreign}"),
            StatusCode::BAD_REQUEST,
            Some("cursor"),
        ),
        ("an unknown parameter", format!("/tasks/{id}/history?page=1"), StatusCode::BAD_REQUEST, None),
        ("an unknown task", format!("/tasks/{unknown}/history"), StatusCode::NOT_FOUND, None),
    ];
    for (case, uri, status, field) in cases {
        // Act
        let reply = get(&app, &token, &uri).await;

        // Assert
        let problem = assert_problem(&reply, status, case);
        if let Some(field) = field {
            assert_eq!(problem["errors"][0]["field"], field, "{case}: {problem}");
        }
    }
    let anonymous = exchange(&app, empty_request(Method::GET, &format!("/tasks/{id}/history"), None)).await;
    assert_problem(&anonymous, StatusCode::UNAUTHORIZED, "no token");
}
