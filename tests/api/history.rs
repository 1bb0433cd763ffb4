//! `GET /tasks/{id}/history` (issue 10) on both backends: one entry per version with its exact changes, paging to
//! the end, and who may read a history while the task lives and after its deletion.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Answer, Backend, TestApp, TestUser, spawn_app, text};

async fn get_history(app: &TestApp, user: &TestUser, id: &str, query: &str, expected: u16) -> Answer {
    app.call(Method::GET, &format!("/tasks/{id}/history{query}")).signed_in(user).expect(expected).await
}

/// Every event of task `id`, `limit` at a time, following `nextCursor` to the end; and the pages' sizes.
async fn every_event(app: &TestApp, user: &TestUser, id: &str, limit: u32) -> (Vec<Value>, Vec<usize>) {
    let (mut events, mut sizes, mut query) = (Vec::new(), Vec::new(), format!("?limit={limit}&cursor="));
    loop {
        let page = get_history(app, user, id, &query, 200).await.json();
        let data = page["data"].as_array().expect("data").clone();
        sizes.push(data.len());
        events.extend(data);
        match page["meta"]["nextCursor"].as_str() {
            Some(cursor) => query = format!("?limit={limit}&cursor={cursor}"),
            None => return (events, sizes),
        }
        assert!(sizes.len() <= 20, "the cursors never end");
    }
}

async fn the_history_has_one_entry_per_version_with_exact_changes_and_pages_to_the_end(backend: Backend) {
    // Arrange: created, two members changed (one restated), renamed, completed
    let app = spawn_app(backend).await;
    let ann = app.register_user().await;
    let task = app.create_task(&ann, &json!({"title": "Write tests"})).await;
    let id = text(&task["id"]);
    let two = json!({"priority": "HIGH", "dueDate": "2026-12-01T10:00:00+01:00", "title": "Write tests"});
    app.patch_task(&ann, &id, &two, 200).await;
    app.patch_task(&ann, &id, &json!({"title": "Write more tests"}), 200).await;
    let done = app.patch_task(&ann, &id, &json!({"status": "COMPLETED"}), 200).await.json();

    // Act
    let (events, sizes) = every_event(&app, &ann, &id, 2).await;

    // Assert
    assert_eq!(sizes, [2, 2], "four events, two full pages, and no cursor after the last");
    let versions: Vec<_> = events.iter().map(|e| e["version"].as_i64().unwrap()).collect();
    assert_eq!(versions, [1, 2, 3, 4]);
    assert_eq!(done["version"], 4, "one entry per version");
    let kinds: Vec<_> = events.iter().map(|e| text(&e["type"])).collect();
    assert_eq!(kinds, ["task.created", "task.updated", "task.updated", "task.completed"]);
    assert!(events.iter().all(|e| e["actorId"] == json!(ann.id) && e["taskId"] == json!(id)));
    assert_eq!(events[0]["occurredAt"], task["createdAt"]);
    assert_eq!(events[0]["changes"]["title"], json!({"from": null, "to": "Write tests"}));
    assert_eq!(events[0]["changes"].as_object().unwrap().len(), 6, "a creation lists every member");
    assert_eq!(
        events[1]["changes"],
        json!({"priority": {"from": "MEDIUM", "to": "HIGH"}, "dueDate": {"from": null, "to": "2026-12-01T09:00:00Z"}})
    );
    assert_eq!(
        events[3]["changes"],
        json!({"status": {"from": "PENDING", "to": "COMPLETED"}, "completedAt": {"from": null, "to": done["completedAt"]}})
    );
}
on_both_backends!(the_history_has_one_entry_per_version_with_exact_changes_and_pages_to_the_end);

async fn a_history_is_the_owners_and_admins_also_after_deletion_and_404_to_others(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let admin = app.admin().await;
    let ann = app.register_user().await;
    let bob = app.register_user().await;
    let id = app.create_task_titled(&ann, "short-lived").await;
    app.patch_task(&ann, &id, &json!({"priority": "LOW"}), 200).await;
    get_history(&app, &ann, &id, "", 200).await;
    get_history(&app, &admin, &id, "", 200).await;
    get_history(&app, &bob, &id, "", 404).await;

    // Act
    app.delete_task(&ann, &id, 204).await;

    // Assert
    for user in [&ann, &admin] {
        let events = get_history(&app, user, &id, "", 200).await.json()["data"].as_array().unwrap().clone();
        let kinds: Vec<_> = events.iter().map(|e| text(&e["type"])).collect();
        assert_eq!(kinds, ["task.created", "task.updated", "task.deleted"]);
        assert_eq!((events[2]["version"].as_i64(), &events[2]["changes"]), (Some(2), &json!({})));
    }
    get_history(&app, &bob, &id, "", 404).await;
    get_history(&app, &bob, &id, "?limit=1", 404).await;
}
on_both_backends!(a_history_is_the_owners_and_admins_also_after_deletion_and_404_to_others);

async fn bad_history_requests_are_400_and_an_unknown_task_is_404(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let ann = app.register_user().await;
    let id = app.create_task_titled(&ann, "mine").await;
    let other = app.create_task_titled(&ann, "other").await;
    app.patch_task(&ann, &other, &json!({"title": "renamed"}), 200).await;
    let foreign = get_history(&app, &ann, &other, "?limit=1", 200).await.json()["meta"]["nextCursor"].clone();
    let unknown = uuid::Uuid::now_v7();

    // Act and assert
    let cases = [
        ("a malformed id", "/tasks/42/history".to_owned(), 400),
        ("a limit over 100", format!("/tasks/{id}/history?limit=101"), 400),
        ("a cursor not ours", format!("/tasks/{id}/history?cursor=garbage"), 400),
        ("another task's cursor", format!("/tasks/{id}/history?cursor={}", text(&foreign)), 400),
        ("an unknown task", format!("/tasks/{unknown}/history"), 404),
    ];
    for (case, path, status) in cases {
        let answer = app.call(Method::GET, &path).signed_in(&ann).expect(status).await;
        assert!(answer.json()["detail"].is_string(), "{case}");
    }
}
on_both_backends!(bad_history_requests_are_400_and_an_unknown_task_is_404);
