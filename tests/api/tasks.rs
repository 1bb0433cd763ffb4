//! `/tasks/{id}` and `POST /tasks`: creation rules, visibility, PATCH semantics, versions and `If-Match`.

use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Backend, spawn_app, text};

async fn create_task_returns_201_with_location_etag_and_defaults(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let ann = app.register_user().await;

    // Act
    let answer = app.post_task(&ann, &json!({"title": "  Write the report  "}), 201).await;

    // Assert
    let task = answer.json();
    let id = text(&task["id"]);
    assert_eq!(answer.header("location"), Some(format!("/tasks/{id}").as_str()));
    assert_eq!(answer.header("etag"), Some("\"1\""));
    assert_eq!(task["title"], "Write the report");
    assert_eq!(task["status"], "PENDING");
    assert_eq!(task["priority"], "MEDIUM");
    assert_eq!(task["version"], 1);
    for nullable in ["description", "dueDate", "completedAt"] {
        assert!(task[nullable].is_null(), "{nullable} should be null: {task}");
    }
    assert_eq!(task["userId"], json!(ann.id));
    assert_eq!(task["user"], json!({"id": ann.id, "name": "Test User", "email": ann.email}));
    assert!(text(&task["createdAt"]).ends_with('Z') && text(&task["updatedAt"]).ends_with('Z'));
    assert_eq!(app.get_task(&ann, &id, 200).await.json(), task, "GET returns what POST returned");
}
on_both_backends!(create_task_returns_201_with_location_etag_and_defaults);

async fn create_task_as_completed_sets_completed_at_and_keeps_a_due_date_instant_in_utc(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let ann = app.register_user().await;

    // Act
    let task = app
        .create_task(&ann, &json!({"title": "Done", "status": "COMPLETED", "priority": "HIGH", "dueDate": "2026-11-25T10:30:00+01:30"}))
        .await;

    // Assert
    assert_eq!(task["status"], "COMPLETED");
    assert_eq!(task["priority"], "HIGH");
    assert!(task["completedAt"].is_string(), "completedAt is set: {task}");
    assert_eq!(task["dueDate"], "2026-11-25T09:00:00Z");
}
on_both_backends!(create_task_as_completed_sets_completed_at_and_keeps_a_due_date_instant_in_utc);

async fn creating_a_task_for_another_user_needs_an_admin_and_an_existing_user(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let ann = app.register_user().await;
    let bob = app.register_user().await;
    let admin = app.admin().await;

    // Act + Assert
    app.post_task(&ann, &json!({"title": "for bob", "userId": bob.id}), 403).await;
    let own = app.post_task(&ann, &json!({"title": "mine", "userId": ann.id}), 201).await.json();
    assert_eq!(own["userId"], json!(ann.id));
    let for_bob = app.post_task(&admin, &json!({"title": "for bob", "userId": bob.id}), 201).await.json();
    assert_eq!(for_bob["userId"], json!(bob.id));
    app.get_task(&bob, &text(&for_bob["id"]), 200).await;
    let unknown = app.post_task(&admin, &json!({"title": "nobody's", "userId": Uuid::new_v4()}), 400).await;
    assert_eq!(unknown.json()["errors"][0]["field"], "userId");
    let bobs = app.get_tasks(&bob, "", 200).await.json();
    assert_eq!(bobs["meta"]["total"], 1, "the refused requests created nothing");
}
on_both_backends!(creating_a_task_for_another_user_needs_an_admin_and_an_existing_user);

async fn values_at_their_limits_are_accepted_counting_unicode_characters(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let ann = app.register_user().await;
    let title = "é".repeat(200);
    let description = "ü".repeat(10_000);

    // Act
    let task = app.create_task(&ann, &json!({"title": format!("  {title}  "), "description": description})).await;

    // Assert
    assert_eq!(task["title"], json!(title));
    assert_eq!(task["description"], json!(description));
    let id = text(&task["id"]);
    let patched = app.patch_task(&ann, &id, &json!({"title": "日".repeat(200)}), 200).await.json();
    assert_eq!(patched["title"].as_str().map(|t| t.chars().count()), Some(200));
}
on_both_backends!(values_at_their_limits_are_accepted_counting_unicode_characters);

async fn create_task_returns_400_naming_the_invalid_member(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let ann = app.register_user().await;
    let cases = [
        ("empty title", json!({"title": ""}), "title"),
        ("blank title", json!({"title": " \t "}), "title"),
        ("title of 201 characters", json!({"title": "t".repeat(201)}), "title"),
        ("title with a control character", json!({"title": "a\u{0}b"}), "title"),
        ("missing title", json!({"description": "no title"}), "title"),
        ("description of 10001 characters", json!({"title": "t", "description": "d".repeat(10_001)}), "description"),
        ("unknown status", json!({"title": "t", "status": "DONE"}), "status"),
        ("lower-case priority", json!({"title": "t", "priority": "high"}), "priority"),
        ("due date that is not RFC 3339", json!({"title": "t", "dueDate": "tomorrow"}), "dueDate"),
        ("userId that is not a UUID", json!({"title": "t", "userId": "ann"}), "userId"),
        ("unknown member", json!({"title": "t", "version": 7}), "version"),
        ("title of the wrong type", json!({"title": 42}), "title"),
    ];

    for (description, body, field) in cases {
        // Act
        let answer = app.post_task(&ann, &body, 400).await;

        // Assert
        let errors = answer.json()["errors"].as_array().cloned().unwrap_or_default();
        assert!(errors.iter().any(|e| e["field"] == field), "{description}: `{field}` not named in {}", answer.text);
    }
    assert_eq!(app.get_tasks(&ann, "", 200).await.json()["meta"]["total"], 0, "nothing was created");
}
on_both_backends!(create_task_returns_400_naming_the_invalid_member);

async fn another_users_task_is_404_for_every_method_and_stays_unchanged(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let ann = app.register_user().await;
    let eve = app.register_user().await;
    let task = app.create_task(&ann, &json!({"title": "private"})).await;
    let id = text(&task["id"]);

    // Act
    let get = app.get_task(&eve, &id, 404).await;
    let patch = app.patch_task(&eve, &id, &json!({"title": "mine now"}), 404).await;
    app.delete_task(&eve, &id, 404).await;
    let unknown = app.get_task(&eve, &Uuid::new_v4().to_string(), 404).await;

    // Assert
    let detail = |a: &crate::helpers::Answer| a.json()["detail"].clone();
    assert_eq!(detail(&get), detail(&unknown), "a hidden task looks exactly like a missing one");
    assert_eq!(detail(&patch), detail(&unknown));
    assert_eq!(app.get_task(&ann, &id, 200).await.json(), task, "the owner sees it unchanged");
}
on_both_backends!(another_users_task_is_404_for_every_method_and_stays_unchanged);

async fn patch_refuses_nulls_for_required_members_unknown_members_and_an_empty_body(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let ann = app.register_user().await;
    let task = app.create_task(&ann, &json!({"title": "keep me"})).await;
    let id = text(&task["id"]);
    let cases = [
        ("null title", json!({"title": null}), Some("title")),
        ("null status", json!({"status": null}), Some("status")),
        ("null priority", json!({"priority": null}), Some("priority")),
        ("empty title", json!({"title": ""}), Some("title")),
        ("unknown status", json!({"status": "ARCHIVED"}), Some("status")),
        ("userId", json!({"userId": ann.id}), Some("userId")),
        ("version", json!({"version": 5}), Some("version")),
        ("id", json!({"id": id}), Some("id")),
        ("completedAt", json!({"completedAt": "2026-01-01T00:00:00Z"}), Some("completedAt")),
        ("empty body", json!({}), None),
    ];

    for (description, body, field) in cases {
        // Act
        let answer = app.patch_task(&ann, &id, &body, 400).await;

        // Assert
        if let Some(field) = field {
            let errors = answer.json()["errors"].as_array().cloned().unwrap_or_default();
            assert!(
                errors.iter().any(|e| e["field"] == field),
                "{description}: `{field}` not named in {}",
                answer.text
            );
        }
    }
    assert_eq!(app.get_task(&ann, &id, 200).await.json(), task, "no refused PATCH changed the task");
}
on_both_backends!(patch_refuses_nulls_for_required_members_unknown_members_and_an_empty_body);

async fn patch_with_null_description_or_due_date_clears_them(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let ann = app.register_user().await;
    let task = app
        .create_task(&ann, &json!({"title": "t", "description": "details", "dueDate": "2030-01-01T00:00:00Z"}))
        .await;
    let id = text(&task["id"]);

    // Act
    let cleared = app.patch_task(&ann, &id, &json!({"description": null, "dueDate": null}), 200).await.json();

    // Assert
    assert!(cleared["description"].is_null() && cleared["dueDate"].is_null(), "{cleared}");
    assert_eq!(cleared["title"], "t");
    assert_eq!(cleared["version"], 2);
}
on_both_backends!(patch_with_null_description_or_due_date_clears_them);

async fn status_changes_set_and_clear_completed_at_and_every_change_bumps_the_version(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let ann = app.register_user().await;
    let id = app.create_task_titled(&ann, "cycle").await;
    let steps: [(Value, bool); 4] = [
        (json!({"status": "IN_PROGRESS"}), false),
        (json!({"status": "COMPLETED"}), true),
        (json!({"title": "still done"}), true),
        (json!({"status": "PENDING"}), false),
    ];

    for (version, (change, completed)) in (2..).zip(steps) {
        // Act
        let answer = app.patch_task(&ann, &id, &change, 200).await;

        // Assert
        let task = answer.json();
        assert_eq!(task["version"], version, "after {change}");
        assert_eq!(answer.header("etag"), Some(format!("\"{version}\"").as_str()), "after {change}");
        assert_eq!(task["completedAt"].is_string(), completed, "completedAt after {change}: {task}");
    }
    let fetched = app.get_task(&ann, &id, 200).await;
    assert_eq!(fetched.header("etag"), Some("\"5\""));
}
on_both_backends!(status_changes_set_and_clear_completed_at_and_every_change_bumps_the_version);

async fn a_stale_if_match_is_412_and_changes_nothing(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let ann = app.register_user().await;
    let id = app.create_task_titled(&ann, "v1").await;
    app.patch_task(&ann, &id, &json!({"title": "v2"}), 200).await;
    let patch_if = |tag: &'static str, title: &'static str, expected: u16| {
        app.call(Method::PATCH, &format!("/tasks/{id}"))
            .signed_in(&ann)
            .header("if-match", tag)
            .json(&json!({"title": title}))
            .expect(expected)
    };

    // Act
    patch_if("\"1\"", "stale write", 412).await;

    // Assert
    assert_eq!(app.get_task(&ann, &id, 200).await.json()["title"], "v2");
    let fresh = patch_if("\"2\"", "v3", 200).await;
    assert_eq!(fresh.header("etag"), Some("\"3\""));
}
on_both_backends!(a_stale_if_match_is_412_and_changes_nothing);

async fn twenty_parallel_patches_with_one_if_match_let_exactly_one_win(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let ann = app.register_user().await;
    let id = app.create_task_titled(&ann, "contended").await;

    // Act
    let attempts = (0..20).map(|i| {
        app.client
            .patch(format!("{}/tasks/{id}", app.address))
            .bearer_auth(&ann.access_token)
            .header("if-match", "\"1\"")
            .json(&json!({"title": format!("writer {i}")}))
            .send()
    });
    let statuses: Vec<u16> = futures::future::join_all(attempts)
        .await
        .into_iter()
        .map(|r| r.expect("the request is served").status().as_u16())
        .collect();

    // Assert
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "statuses: {statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 412).count(), 19, "statuses: {statuses:?}");
    let task = app.get_task(&ann, &id, 200).await.json();
    assert_eq!(task["version"], 2, "exactly one change was applied");
}
on_both_backends!(twenty_parallel_patches_with_one_if_match_let_exactly_one_win);

async fn delete_task_returns_204_then_the_task_is_gone(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let ann = app.register_user().await;
    let id = app.create_task_titled(&ann, "short-lived").await;

    // Act
    app.delete_task(&ann, &id, 204).await;

    // Assert
    app.get_task(&ann, &id, 404).await;
    app.delete_task(&ann, &id, 404).await;
    app.patch_task(&ann, &id, &json!({"title": "back?"}), 404).await;
}
on_both_backends!(delete_task_returns_204_then_the_task_is_gone);

async fn an_admin_sees_and_changes_any_task(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let ann = app.register_user().await;
    let admin = app.admin().await;
    let id = app.create_task_titled(&ann, "ann's").await;

    // Act
    let changed = app.patch_task(&admin, &id, &json!({"priority": "LOW"}), 200).await.json();

    // Assert
    assert_eq!(changed["priority"], "LOW");
    assert_eq!(changed["userId"], json!(ann.id), "the owner stays");
    app.delete_task(&admin, &id, 204).await;
    app.get_task(&ann, &id, 404).await;
}
on_both_backends!(an_admin_sees_and_changes_any_task);
