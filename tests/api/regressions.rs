//! Defects found in review, each pinned by the scenario that showed it.

use reqwest::Method;
use serde_json::json;
use uuid::Uuid;

use crate::helpers::{Backend, spawn_app};

async fn a_search_with_a_control_character_is_400_not_500(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register_user().await;
    let answer = app.get_tasks(&ann, "?search=a%00b", 400).await.json();
    assert_eq!(answer["errors"][0]["field"], "search");
    app.get_tasks(&ann, "?search=a%00b&cursor=", 400).await;
}
on_both_backends!(a_search_with_a_control_character_is_400_not_500);

async fn a_get_carrying_an_idempotency_key_is_an_ordinary_get(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let ann = app.register_user().await;
    let list = || app.call(Method::GET, "/tasks").signed_in(&ann).header("idempotency-key", "g1");
    let before = list().expect(200).await;
    // Act
    app.create_task_titled(&ann, "new").await;
    let after = list().expect(200).await;
    // Assert
    assert_eq!(before.json()["meta"]["total"], 0);
    assert_eq!(after.header("idempotent-replayed"), None, "GETs are never replayed");
    assert_eq!(after.json()["meta"]["total"], 1, "the listing is current");
}
on_both_backends!(a_get_carrying_an_idempotency_key_is_an_ordinary_get);

async fn a_replayed_problem_names_the_retry_in_its_request_id(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register_user().await;
    let key = format!("bad-{}", Uuid::new_v4());
    let post = |id: &str| {
        app.call(Method::POST, "/tasks")
            .signed_in(&ann)
            .header("idempotency-key", &key)
            .header("x-request-id", id)
            .json(&json!({"title": ""}))
    };
    post("first-attempt").expect(400).await;
    let replay = post("second-attempt").expect(400).await;
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    assert_eq!(replay.json()["requestId"], "second-attempt");
}
on_both_backends!(a_replayed_problem_names_the_retry_in_its_request_id);

async fn a_deleted_users_still_valid_token_is_401_on_create(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.admin().await;
    let ann = app.register_user().await;
    app.delete_user(&admin, &ann.id, 204).await;
    app.post_task(&ann, &json!({"title": "orphan"}), 401).await;
}
on_both_backends!(a_deleted_users_still_valid_token_is_401_on_create);

async fn a_405_on_a_limited_route_is_counted_and_carries_rate_limit_headers(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register_user().await;
    let answer = app.call(Method::PUT, "/tasks").signed_in(&ann).expect(405).await;
    assert!(answer.header("ratelimit-limit").is_some(), "every response of a limited route");
    assert!(answer.header("ratelimit-remaining").is_some());
}
on_both_backends!(a_405_on_a_limited_route_is_counted_and_carries_rate_limit_headers);

async fn unknown_methods_share_one_metrics_label(backend: Backend) {
    let app = spawn_app(backend).await;
    let weird = Method::from_bytes(format!("X{}", Uuid::new_v4().simple()).to_uppercase().as_bytes()).unwrap();
    app.call(weird.clone(), "/tasks").expect(405).await;
    let metrics = app.call(Method::GET, "/metrics").expect(200).await.text;
    assert!(!metrics.contains(weird.as_str()), "a client-chosen method must not become a label");
    assert!(metrics.contains("method=\"OTHER\""));
}
on_both_backends!(unknown_methods_share_one_metrics_label);

async fn the_bearer_scheme_is_case_insensitive(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register_user().await;
    let auth = format!("BEARER {}", ann.access_token);
    app.call(Method::GET, "/auth/me").header("authorization", &auth).expect(200).await;
}
on_both_backends!(the_bearer_scheme_is_case_insensitive);
