//! `GET /tasks/stats` and `POST /tasks/batch`.

use std::collections::HashSet;

use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Backend, spawn_app, text};

fn id_set(ids: &Value) -> HashSet<String> {
    ids.as_array().expect("an array").iter().map(text).collect()
}

async fn stats_carry_every_key_with_zeros_when_there_is_nothing(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let ann = app.register_user().await;

    // Act
    let stats = app.get_stats(&ann, "", 200).await.json();

    // Assert
    assert_eq!(
        stats,
        json!({
            "total": 0, "overdue": 0,
            "byStatus": {"PENDING": 0, "IN_PROGRESS": 0, "COMPLETED": 0},
            "byPriority": {"LOW": 0, "MEDIUM": 0, "HIGH": 0},
        })
    );
}
on_both_backends!(stats_carry_every_key_with_zeros_when_there_is_nothing);

async fn stats_count_the_callers_tasks_and_an_admin_may_name_a_user(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let ann = app.register_user().await;
    let bob = app.register_user().await;
    let admin = app.admin().await;
    for body in [
        json!({"title": "late", "dueDate": "2020-01-01T00:00:00Z", "priority": "HIGH"}),
        json!({"title": "late but done", "dueDate": "2020-01-01T00:00:00Z", "status": "COMPLETED"}),
        json!({"title": "future", "dueDate": "2100-01-01T00:00:00Z", "status": "IN_PROGRESS", "priority": "LOW"}),
        json!({"title": "undated", "priority": "HIGH"}),
    ] {
        app.create_task(&ann, &body).await;
    }
    app.create_task_titled(&bob, "bob's").await;
    let expected = json!({
        "total": 4, "overdue": 1,
        "byStatus": {"PENDING": 2, "IN_PROGRESS": 1, "COMPLETED": 1},
        "byPriority": {"LOW": 1, "MEDIUM": 1, "HIGH": 2},
    });

    // Act
    let own = app.get_stats(&ann, "", 200).await.json();
    let by_admin = app.get_stats(&admin, &format!("?userId={}", ann.id), 200).await.json();

    // Assert
    assert_eq!(own, expected);
    assert_eq!(by_admin, expected);
    app.get_stats(&ann, &format!("?userId={}", bob.id), 403).await;
    app.get_stats(&ann, "?userId=bob", 400).await;
    let everything = app.get_stats(&admin, "", 200).await.json();
    assert_eq!(everything["total"], 5, "an admin counts every task");
}
on_both_backends!(stats_count_the_callers_tasks_and_an_admin_may_name_a_user);

async fn batch_complete_acts_once_per_visible_id_and_reports_the_rest_as_not_found(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let ann = app.register_user().await;
    let bob = app.register_user().await;
    let first = app.create_task_titled(&ann, "first").await;
    let second = app.create_task_titled(&ann, "second").await;
    let bobs = app.create_task(&bob, &json!({"title": "bob's"})).await;
    let bobs_id = text(&bobs["id"]);
    let missing = Uuid::new_v4().to_string();

    // Act
    let result = app
        .post_batch(&ann, &json!({"tasks": [first, first, second, bobs_id, missing], "action": "complete"}), 200)
        .await
        .json();

    // Assert
    assert_eq!(result["action"], "complete");
    assert_eq!(result["requested"], 4, "duplicates count once: {result}");
    assert_eq!(result["succeeded"].as_array().map(Vec::len), Some(2), "each id acted on once: {result}");
    assert_eq!(id_set(&result["succeeded"]), HashSet::from([first.clone(), second.clone()]));
    let failed = result["failed"].as_array().expect("failed");
    assert_eq!(failed.len(), 2, "{result}");
    for failure in failed {
        assert_eq!(failure["reason"], "not_found");
    }
    assert_eq!(
        failed.iter().map(|f| text(&f["id"])).collect::<HashSet<_>>(),
        HashSet::from([bobs_id.clone(), missing])
    );
    for id in [&first, &second] {
        let task = app.get_task(&ann, id, 200).await.json();
        assert_eq!(task["status"], "COMPLETED");
        assert!(task["completedAt"].is_string());
        assert_eq!(task["version"], 2, "completed once");
    }
    assert_eq!(app.get_task(&bob, &bobs_id, 200).await.json(), bobs, "another user's task is left unchanged");
}
on_both_backends!(batch_complete_acts_once_per_visible_id_and_reports_the_rest_as_not_found);

async fn batch_delete_removes_only_the_callers_tasks(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let ann = app.register_user().await;
    let bob = app.register_user().await;
    let mine = app.create_task_titled(&ann, "mine").await;
    let kept = app.create_task_titled(&ann, "kept").await;
    let bobs = app.create_task_titled(&bob, "bob's").await;

    // Act
    let result = app.post_batch(&ann, &json!({"tasks": [mine, bobs], "action": "delete"}), 200).await.json();

    // Assert
    assert_eq!(result["action"], "delete");
    assert_eq!(result["succeeded"], json!([mine]));
    assert_eq!(result["failed"], json!([{"id": bobs, "reason": "not_found"}]));
    app.get_task(&ann, &mine, 404).await;
    app.get_task(&ann, &kept, 200).await;
    app.get_task(&bob, &bobs, 200).await;
}
on_both_backends!(batch_delete_removes_only_the_callers_tasks);

async fn batch_refuses_no_ids_too_many_ids_bad_ids_and_unknown_actions(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let ann = app.register_user().await;
    let id = app.create_task_titled(&ann, "untouched").await;
    let many: Vec<String> = (0..1001).map(|_| Uuid::new_v4().to_string()).collect();
    let cases = [
        ("no ids", json!({"tasks": [], "action": "complete"})),
        ("1001 ids", json!({"tasks": many, "action": "delete"})),
        ("an id that is not a UUID", json!({"tasks": [id, "nope"], "action": "delete"})),
        ("unknown action", json!({"tasks": [id], "action": "archive"})),
        ("missing action", json!({"tasks": [id]})),
        ("unknown member", json!({"tasks": [id], "action": "delete", "force": true})),
    ];

    for (description, body) in cases {
        // Act
        let answer = app.post_batch(&ann, &body, 400).await;

        // Assert
        assert!(answer.json()["detail"].is_string(), "{description}");
    }
    assert_eq!(app.get_task(&ann, &id, 200).await.json()["version"], 1, "nothing was changed");
}
on_both_backends!(batch_refuses_no_ids_too_many_ids_bad_ids_and_unknown_actions);
