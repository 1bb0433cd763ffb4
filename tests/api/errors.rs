//! Error answers: problem+json everywhere, request ids, body limits, content types, malformed input.
//! (`Call::expect` checks every error answer for the problem shape, `requestId` and leaks.)

use reqwest::Method;
use serde_json::json;

use crate::helpers::{Backend, spawn_app};

async fn unknown_routes_and_wrong_methods_are_problems(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;

    // Act + Assert
    app.call(Method::GET, "/no/such/route").expect(404).await;
    app.call(Method::PUT, "/tasks").expect(405).await;
    app.call(Method::DELETE, "/auth/login").expect(405).await;
    app.call(Method::POST, "/health/live").expect(405).await;
}
on_both_backends!(unknown_routes_and_wrong_methods_are_problems);

async fn a_body_over_1_mib_is_413_even_when_chunked(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let ann = app.register_user().await;
    let big = json!({"title": "t", "description": "d".repeat(1024 * 1024 + 10)}).to_string().into_bytes();
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = big.chunks(64 * 1024).map(|c| Ok(c.to_vec())).collect();

    // Act + Assert
    app.call(Method::POST, "/tasks")
        .signed_in(&ann)
        .header("content-type", "application/json")
        .body(big.clone())
        .expect(413)
        .await;
    app.call(Method::POST, "/tasks")
        .signed_in(&ann)
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(futures::stream::iter(chunks)))
        .expect(413)
        .await;
    app.call(Method::POST, "/auth/register").header("content-type", "application/json").body(big).expect(413).await;
    assert_eq!(app.get_tasks(&ann, "", 200).await.json()["meta"]["total"], 0);
}
on_both_backends!(a_body_over_1_mib_is_413_even_when_chunked);

async fn a_body_without_json_content_type_is_415_and_a_charset_is_fine(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let ann = app.register_user().await;
    let body = json!({"title": "typed"}).to_string();

    // Act + Assert
    app.call(Method::POST, "/tasks").signed_in(&ann).body(body.clone()).expect(415).await;
    app.call(Method::POST, "/tasks")
        .signed_in(&ann)
        .header("content-type", "text/plain")
        .body(body.clone())
        .expect(415)
        .await;
    app.call(Method::POST, "/auth/login").body(r#"{"email":"a@b.io","password":"x"}"#).expect(415).await;
    app.call(Method::POST, "/tasks")
        .signed_in(&ann)
        .header("content-type", "application/json; charset=utf-8")
        .body(body)
        .expect(201)
        .await;
}
on_both_backends!(a_body_without_json_content_type_is_415_and_a_charset_is_fine);

async fn malformed_input_is_400_and_missing_credentials_are_401(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let ann = app.register_user().await;
    let json_post = |path: &str, body: &'static str| {
        app.call(Method::POST, path).signed_in(&ann).header("content-type", "application/json").body(body)
    };

    // Act + Assert
    json_post("/tasks", "{\"title\": ").expect(400).await;
    json_post("/tasks", "[1, 2]").expect(400).await;
    json_post("/tasks", "").expect(400).await;
    json_post("/auth/login", "not json").expect(400).await;
    app.get_task(&ann, "not-a-uuid", 400).await;
    app.call(Method::PATCH, "/tasks/123").signed_in(&ann).json(&json!({"title": "x"})).expect(400).await;
    app.call(Method::DELETE, "/users/zzz").signed_in(&ann).expect(400).await;
    let anonymous = app.call(Method::GET, "/tasks").expect(401).await;
    assert_eq!(anonymous.header("www-authenticate"), Some("Bearer"));
    app.call(Method::POST, "/tasks").json(&json!({"title": "x"})).expect(401).await;
    app.call(Method::GET, "/tasks").bearer("v4.local.forged").expect(401).await;
    app.call(Method::GET, "/users").header("authorization", "Basic YWRtaW46YWRtaW4xMjM=").expect(401).await;
}
on_both_backends!(malformed_input_is_400_and_missing_credentials_are_401);

async fn a_valid_request_id_is_echoed_and_an_invalid_one_replaced(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let invalid = ["has space", "semi;colon", &"x".repeat(65)];

    // Act + Assert
    let ok = app.call(Method::GET, "/health/live").header("x-request-id", "abc-123_.X").expect(200).await;
    assert_eq!(ok.header("x-request-id"), Some("abc-123_.X"));
    let error = app.call(Method::GET, "/nowhere").header("x-request-id", "trace.42").expect(404).await;
    assert_eq!(error.json()["requestId"], "trace.42");
    for id in invalid {
        let answer = app.call(Method::GET, "/nowhere").header("x-request-id", id).expect(404).await;
        let replaced = answer.header("x-request-id").expect("a request id");
        assert_ne!(replaced, id);
        assert!(
            (1..=64).contains(&replaced.len())
                && replaced.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)),
            "generated id {replaced:?} is not itself valid"
        );
    }
    let generated = app.call(Method::GET, "/health/live").expect(200).await;
    assert!(generated.header("x-request-id").is_some_and(|id| !id.is_empty()));
}
on_both_backends!(a_valid_request_id_is_echoed_and_an_invalid_one_replaced);
