//! Issue 7: defects found by attacking TaskFlow from outside, each pinned on both backends.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{Backend, spawn_app};

async fn only_a_json_object_is_a_body_and_no_error_names_an_internal_type(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let ann = app.register_user().await;
    let cases = [
        (Method::POST, "/auth/login".to_owned(), json!(["user@example.com", "user123"]), false),
        (Method::POST, "/auth/register".to_owned(), json!(["x@example.com", "password1", "X"]), false),
        (Method::POST, "/tasks".to_owned(), json!(["t", "d", "COMPLETED", "HIGH", null, null]), true),
        (Method::POST, "/tasks".to_owned(), json!([]), true),
        (Method::POST, "/tasks".to_owned(), json!(null), true),
        (Method::PATCH, format!("/users/{}", ann.id), json!(["new name"]), true),
    ];
    for (method, path, body, signed) in cases {
        // Act
        let call = app.call(method.clone(), &path).json(&body);
        let call = if signed { call.signed_in(&ann) } else { call };
        let answer = call.expect(400).await;
        // Assert
        answer.assert_is_problem();
        let text = answer.json().to_string();
        assert!(
            !text.contains("struct") && !text.contains("In ") && !text.contains("elements"),
            "{method} {path}: {text}"
        );
    }
    assert_eq!(app.get_tasks(&ann, "", 200).await.json()["meta"]["total"], 0, "nothing was created");
}
on_both_backends!(only_a_json_object_is_a_body_and_no_error_names_an_internal_type);

async fn a_query_that_is_not_utf8_is_400(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register_user().await;
    for query in ["?search=%FF", "?search=ab%C3", "?status=%FE"] {
        app.get_tasks(&ann, query, 400).await.assert_is_problem();
    }
    app.get_tasks(&ann, "?search=%C3%A9t%C3%A9", 200).await;
}
on_both_backends!(a_query_that_is_not_utf8_is_400);

async fn a_leap_second_due_date_is_the_same_instant_on_every_backend(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register_user().await;
    let created = app.create_task(&ann, &json!({"title": "leap", "dueDate": "2026-12-31T23:59:60Z"})).await;
    assert_eq!(created["dueDate"], "2027-01-01T00:00:00Z");
    let id = created["id"].as_str().unwrap();
    let read = app.get_task(&ann, id, 200).await.json();
    assert_eq!(read["dueDate"], "2027-01-01T00:00:00Z");
    let after = app.get_tasks(&ann, "?dueAfter=2026-12-31T23:59:59Z", 200).await.json();
    assert_eq!(after["meta"]["total"], 1);
}
on_both_backends!(a_leap_second_due_date_is_the_same_instant_on_every_backend);
