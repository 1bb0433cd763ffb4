//! Every class of application error reaches the client as an RFC 9457 problem with its status, the members of the
//! API's problem shape, `requestId` equal to `X-Request-Id`, and no internal text; so do the 503s of a request over
//! its time budget and of one shed past the in-flight limit.

use std::sync::Arc;
use std::time::Duration;

use axum::http::{Method, StatusCode};
use serde_json::json;
use taskflow_adapters_http::HttpSettings;
use taskflow_adapters_memory::InMemoryStore;
use taskflow_application::domain::UserId;
use taskflow_application::idempotency::IdempotencyService;
use taskflow_application::ports::IdempotencyKey;
use tokio::sync::Notify;

use crate::common::{app, app_with, assert_problem, create_task, empty_request, exchange, json_request, register};
use crate::doubles::{FailingPasswordHasher, Failure, INTERNAL_MESSAGE};

#[tokio::test]
async fn invalid_input_is_400_listing_each_failing_member() {
    // Arrange
    let app = app();
    let (_, token) = register(&app, "ann@example.com").await;
    let cases = [
        (
            "every registration member wrong",
            json_request(
                Method::POST,
                "/auth/register",
                None,
                json!({"email": "not-an-email", "password": "short", "name": "  "}).to_string(),
            ),
            vec!["email", "password", "name"],
        ),
        (
            "an empty title",
            json_request(Method::POST, "/tasks", Some(&token), json!({"title": "   "}).to_string()),
            vec!["title"],
        ),
        (
            "an unknown status and priority",
            json_request(
                Method::POST,
                "/tasks",
                Some(&token),
                json!({"title": "t", "status": "DONE", "priority": "URGENT"}).to_string(),
            ),
            vec!["status", "priority"],
        ),
        (
            "a description over 10,000 characters",
            json_request(
                Method::POST,
                "/tasks",
                Some(&token),
                json!({"title": "t", "description": "d".repeat(10_001)}).to_string(),
            ),
            vec!["description"],
        ),
    ];

    for (case, request, fields) in cases {
        // Act
        let reply = exchange(&app, request).await;

        // Assert
        let problem = assert_problem(&reply, StatusCode::BAD_REQUEST, case);
        let listed: Vec<&str> = problem["errors"]
            .as_array()
            .unwrap_or_else(|| panic!("{case}: no errors in {problem}"))
            .iter()
            .map(|e| {
                assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()), "{case}: {e}");
                e["field"].as_str().unwrap_or_else(|| panic!("{case}: no field in {e}"))
            })
            .collect();
        assert_eq!(listed, fields, "{case}");
    }
}

#[tokio::test]
async fn missing_or_bad_credentials_are_401_with_www_authenticate_bearer() {
    // Arrange
    let app = app();
    let (_, token) = register(&app, "ann@example.com").await;
    let middle = token.len() / 2;
    let flipped = if token.as_bytes()[middle] == b'A' { "B" } else { "A" };
    let tampered = format!("{}{flipped}{}", &token[..middle], &token[middle + 1..]);
    let cases: [(&str, Option<String>); 5] = [
        ("no Authorization header", None),
        ("a token that is not a token", Some("Bearer not-a-token".to_owned())),
        ("a tampered token", Some(format!("Bearer {tampered}"))),
        ("another scheme", Some(format!("Basic {token}"))),
        ("a scheme with no token", Some("Bearer".to_owned())),
    ];

    for (case, authorization) in cases {
        let mut request = empty_request(Method::GET, "/tasks", None);
        if let Some(value) = authorization {
            request.headers_mut().insert("authorization", value.parse().unwrap());
        }

        // Act
        let reply = exchange(&app, request).await;

        // Assert
        assert_problem(&reply, StatusCode::UNAUTHORIZED, case);
        assert_eq!(reply.header("www-authenticate"), Some("Bearer"), "{case}");
        assert!(!reply.body.contains(&token[10..]), "{case}: the body shows the token");
    }
}

#[tokio::test]
async fn a_login_with_a_wrong_password_is_401_with_www_authenticate_bearer() {
    // Arrange
    let app = app();
    register(&app, "ann@example.com").await;
    let body = json!({"email": "ann@example.com", "password": "wrong-password"}).to_string();

    // Act
    let reply = exchange(&app, json_request(Method::POST, "/auth/login", None, body)).await;

    // Assert
    assert_problem(&reply, StatusCode::UNAUTHORIZED, "wrong password");
    assert_eq!(reply.header("www-authenticate"), Some("Bearer"));
    assert!(!reply.body.contains("wrong-password"), "the body shows the password");
}

#[tokio::test]
async fn a_role_the_caller_lacks_is_403() {
    // Arrange
    let app = app();
    let (ann, token) = register(&app, "ann@example.com").await;
    let (bob, _) = register(&app, "bob@example.com").await;
    let cases = [
        ("listing users", empty_request(Method::GET, "/users", Some(&token))),
        (
            "promoting oneself",
            json_request(Method::PATCH, &format!("/users/{ann}"), Some(&token), json!({"role": "admin"}).to_string()),
        ),
        ("deleting a user", empty_request(Method::DELETE, &format!("/users/{bob}"), Some(&token))),
        ("listing another user's tasks", empty_request(Method::GET, &format!("/tasks?userId={bob}"), Some(&token))),
        (
            "creating a task for another user",
            json_request(Method::POST, "/tasks", Some(&token), json!({"title": "t", "userId": bob}).to_string()),
        ),
    ];

    for (case, request) in cases {
        // Act
        let reply = exchange(&app, request).await;

        // Assert
        assert_problem(&reply, StatusCode::FORBIDDEN, case);
    }
}

#[tokio::test]
async fn a_missing_resource_and_another_users_one_are_the_same_404() {
    // Arrange
    let app = app();
    let (_, ann) = register(&app, "ann@example.com").await;
    let (bob, bob_token) = register(&app, "bob@example.com").await;
    let bobs = create_task(&app, &bob_token, "Bob's").await["id"].as_str().unwrap().to_owned();
    let missing = uuid::Uuid::new_v4();
    let patch = |id: &str| json_request(Method::PATCH, &format!("/tasks/{id}"), Some(&ann), r#"{"title":"x"}"#);
    let cases = [
        ("a task that does not exist", "task", empty_request(Method::GET, &format!("/tasks/{missing}"), Some(&ann))),
        ("another user's task", "task", empty_request(Method::GET, &format!("/tasks/{bobs}"), Some(&ann))),
        ("changing a task that does not exist", "task", patch(&missing.to_string())),
        ("changing another user's task", "task", patch(&bobs)),
        ("deleting another user's task", "task", empty_request(Method::DELETE, &format!("/tasks/{bobs}"), Some(&ann))),
        ("a user that does not exist", "user", empty_request(Method::GET, &format!("/users/{missing}"), Some(&ann))),
        ("another user", "user", empty_request(Method::GET, &format!("/users/{bob}"), Some(&ann))),
    ];

    let mut first_of: std::collections::HashMap<&str, (&str, serde_json::Value)> = Default::default();
    for (case, kind, request) in cases {
        // Act
        let reply = exchange(&app, request).await;

        // Assert: nothing tells a resource that exists from one that does not.
        let detail = assert_problem(&reply, StatusCode::NOT_FOUND, case)["detail"].clone();
        let (first_case, first) = first_of.entry(kind).or_insert((case, detail.clone()));
        assert_eq!(&detail, first, "{case} is told apart from {first_case}");
    }
}

#[tokio::test]
async fn a_duplicate_email_is_409() {
    // Arrange
    let app = app();
    register(&app, "ann@example.com").await;
    let again = json!({"email": " ANN@example.com ", "password": "password456", "name": "Other Ann"}).to_string();

    // Act
    let reply = exchange(&app, json_request(Method::POST, "/auth/register", None, again)).await;

    // Assert
    assert_problem(&reply, StatusCode::CONFLICT, "the same email, differently written");
}

#[tokio::test]
async fn an_if_match_that_is_not_the_current_version_is_412() {
    // Arrange
    let app = app();
    let (_, token) = register(&app, "ann@example.com").await;
    let id = create_task(&app, &token, "t").await["id"].as_str().unwrap().to_owned();
    let cases =
        [("an older version", "\"2\""), ("a weak tag", "W/\"1\""), ("no tag at all", "1"), ("garbage", "\"x\"")];

    for (case, tag) in cases {
        let mut request =
            json_request(Method::PATCH, &format!("/tasks/{id}"), Some(&token), json!({"title": "u"}).to_string());
        request.headers_mut().insert("if-match", tag.parse().unwrap());

        // Act
        let reply = exchange(&app, request).await;

        // Assert
        assert_problem(&reply, StatusCode::PRECONDITION_FAILED, case);
    }
    let reply = exchange(&app, empty_request(Method::GET, &format!("/tasks/{id}"), Some(&token))).await;
    assert_eq!(reply.json()["title"], "t", "a refused change was applied");
}

#[tokio::test]
async fn an_idempotency_key_reused_with_another_body_is_422() {
    // Arrange
    let app = app();
    let (_, token) = register(&app, "ann@example.com").await;
    let post = |title: &str| {
        let mut request = json_request(Method::POST, "/tasks", Some(&token), json!({"title": title}).to_string());
        request.headers_mut().insert("idempotency-key", "key-1".parse().unwrap());
        request
    };
    assert_eq!(exchange(&app, post("first")).await.status, StatusCode::CREATED);

    // Act
    let reply = exchange(&app, post("second")).await;

    // Assert
    assert_problem(&reply, StatusCode::UNPROCESSABLE_ENTITY, "the same key, another title");
}

#[tokio::test]
async fn an_idempotency_key_whose_first_request_still_runs_is_409() {
    // Arrange: the first request has claimed the key and not answered yet (on this instance or another one).
    let store = Arc::new(InMemoryStore::new());
    let app = app_with(store.clone(), HttpSettings::default(), |_| {});
    let (ann, token) = register(&app, "ann@example.com").await;
    let body = json!({"title": "once"}).to_string();
    let key = IdempotencyKey::parse("key-1").unwrap();
    let fingerprint = IdempotencyService::fingerprint("POST", "/tasks", body.as_bytes());
    let owner: UserId = ann.parse().unwrap();
    IdempotencyService::new(store).begin(owner, &key, &fingerprint).await.unwrap();
    let mut retry = json_request(Method::POST, "/tasks", Some(&token), body);
    retry.headers_mut().insert("idempotency-key", "key-1".parse().unwrap());

    // Act
    let reply = exchange(&app, retry).await;

    // Assert
    let problem = assert_problem(&reply, StatusCode::CONFLICT, "a retry while the first runs");
    assert!(problem["detail"].as_str().unwrap().contains("in progress"), "{problem}");
    let list = exchange(&app, empty_request(Method::GET, "/tasks", Some(&token))).await;
    assert_eq!(list.json()["meta"]["total"], 0, "the retry acted: {}", list.body);
}

/// A router with `settings` whose password hasher fails with `failure`.
fn app_with_failing_hasher(failure: Failure, settings: HttpSettings) -> axum::Router {
    app_with(Arc::new(InMemoryStore::new()), settings, |deps| {
        deps.hasher = Arc::new(FailingPasswordHasher(failure));
    })
}

/// A registration, which needs the password hasher.
fn registration() -> axum::http::Request<axum::body::Body> {
    let body = json!({"email": "ann@example.com", "password": "password123", "name": "Ann"}).to_string();
    json_request(Method::POST, "/auth/register", None, body)
}

/// Registers through a router whose password hasher fails with `failure`.
async fn register_with_failing_hasher(failure: Failure) -> crate::common::Reply {
    exchange(&app_with_failing_hasher(failure, HttpSettings::default()), registration()).await
}

/// The `Retry-After` of `reply`, which must be there and a number of seconds from 1 to an hour.
fn retry_after(reply: &crate::common::Reply, case: &str) -> u64 {
    let value = reply.header("retry-after").unwrap_or_else(|| panic!("{case}: no Retry-After"));
    let seconds = value.parse().unwrap_or_else(|_| panic!("{case}: Retry-After: {value}"));
    assert!((1..=3600).contains(&seconds), "{case}: Retry-After: {seconds}");
    seconds
}

#[tokio::test]
async fn a_dependency_that_is_down_is_503_with_retry_after_and_no_internal_text() {
    // Act
    let reply = register_with_failing_hasher(Failure::Unavailable).await;

    // Assert
    assert_problem(&reply, StatusCode::SERVICE_UNAVAILABLE, "hashing unavailable");
    let retry_after: u64 =
        reply.header("retry-after").expect("no Retry-After").parse().expect("Retry-After in seconds");
    assert!((1..=3600).contains(&retry_after), "Retry-After: {retry_after}");
    assert!(!reply.body.contains("10.1.2.3") && !reply.body.contains(INTERNAL_MESSAGE), "{}", reply.body);
}

#[tokio::test]
async fn an_unexpected_failure_is_an_opaque_500() {
    for (case, failure) in [("an unexpected error", Failure::Unexpected), ("a panic", Failure::Panic)] {
        // Act
        let reply = register_with_failing_hasher(failure).await;

        // Assert
        let problem = assert_problem(&reply, StatusCode::INTERNAL_SERVER_ERROR, case);
        assert!(!reply.body.contains("10.1.2.3") && !reply.body.contains("password_hash"), "{case}: {}", reply.body);
        assert!(problem.get("errors").is_none(), "{case}: {problem}");
    }
}

#[tokio::test]
async fn a_request_over_its_time_budget_is_503_with_retry_after() {
    // Arrange: a dependency that never answers, and a short budget.
    let settings = HttpSettings { request_timeout: Duration::from_millis(200), ..HttpSettings::default() };
    let app = app_with_failing_hasher(Failure::Hang(Arc::new(Notify::new())), settings);

    // Act: the margin is generous, the budget is what ends the request.
    let reply = tokio::time::timeout(Duration::from_secs(30), exchange(&app, registration())).await;

    // Assert
    let reply = reply.expect("the time budget did not end the request");
    assert_problem(&reply, StatusCode::SERVICE_UNAVAILABLE, "over budget");
    retry_after(&reply, "over budget");
}

#[tokio::test]
async fn a_request_past_the_in_flight_limit_is_shed_with_503_and_retry_after() {
    // Arrange: one request may be in flight, and one is, waiting on a dependency that never answers.
    let started = Arc::new(Notify::new());
    let settings = HttpSettings { max_in_flight: 1, ..HttpSettings::default() };
    let app = app_with_failing_hasher(Failure::Hang(started.clone()), settings);
    let held = tokio::spawn({
        let app = app.clone();
        async move { exchange(&app, registration()).await }
    });
    tokio::time::timeout(Duration::from_secs(30), started.notified()).await.expect("the first request never started");

    // Act
    let reply = exchange(&app, empty_request(Method::GET, "/health/live", None)).await;

    // Assert
    assert_problem(&reply, StatusCode::SERVICE_UNAVAILABLE, "shed");
    retry_after(&reply, "shed");
    held.abort();
}
