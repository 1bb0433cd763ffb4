//! The headers clients rely on: `ETag` and `Location` on tasks, `RateLimit-*` on limited routes (`Retry-After` on
//! 429), and `X-Request-Id` on every response.

use std::collections::HashSet;
use std::sync::Arc;

use axum::http::{HeaderValue, Method, Request, StatusCode};
use serde_json::json;
use taskflow_adapters_http::HttpSettings;
use taskflow_adapters_memory::InMemoryStore;

use crate::common::{app, app_with, assert_problem, create_task, empty_request, exchange, json_request, register};

/// A router whose limits are `api` requests a minute per user (or IP) and `auth` on login, register and refresh.
fn limited_app(api: u32, auth: u32) -> axum::Router {
    let settings = HttpSettings { rate_limit_per_minute: api, rate_limit_auth_per_minute: auth, ..Default::default() };
    app_with(Arc::new(InMemoryStore::new()), settings, |_| {})
}

/// The value of `name`, which must be there and a whole number.
fn number(reply: &crate::common::Reply, name: &str, case: &str) -> u64 {
    let value = reply.header(name).unwrap_or_else(|| panic!("{case}: no {name} ({})", reply.status));
    value.parse().unwrap_or_else(|_| panic!("{case}: {name}: {value}"))
}

#[tokio::test]
async fn single_task_responses_carry_the_version_as_etag() {
    // Arrange
    let app = app();
    let (_, token) = register(&app, "ann@example.com").await;
    let created =
        exchange(&app, json_request(Method::POST, "/tasks", Some(&token), json!({"title": "t"}).to_string())).await;
    let id = created.json()["id"].as_str().unwrap().to_owned();
    let uri = format!("/tasks/{id}");
    let mut conditional = json_request(Method::PATCH, &uri, Some(&token), json!({"status": "COMPLETED"}).to_string());
    conditional.headers_mut().insert("if-match", HeaderValue::from_static("\"2\""));

    // Act
    let replies = [
        ("created", created),
        ("read", exchange(&app, empty_request(Method::GET, &uri, Some(&token))).await),
        ("changed", exchange(&app, json_request(Method::PATCH, &uri, Some(&token), r#"{"title":"u"}"#)).await),
        ("changed if still version 2", exchange(&app, conditional).await),
    ];

    // Assert
    for (i, (case, reply)) in replies.iter().enumerate() {
        assert!(reply.status.is_success(), "{case}: {}", reply.body);
        let version = reply.json()["version"].as_i64().unwrap();
        assert_eq!(version, [1, 1, 2, 3][i], "{case}");
        assert_eq!(reply.header("etag"), Some(&*format!("\"{version}\"")), "{case}");
    }
}

#[tokio::test]
async fn a_created_task_carries_its_location_and_a_replay_carries_it_again() {
    // Arrange
    let app = app();
    let (_, token) = register(&app, "ann@example.com").await;
    let post = || {
        let mut request = json_request(Method::POST, "/tasks", Some(&token), json!({"title": "t"}).to_string());
        request.headers_mut().insert("idempotency-key", HeaderValue::from_static("key-1"));
        request
    };

    // Act
    let created = exchange(&app, post()).await;
    let replayed = exchange(&app, post()).await;

    // Assert
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.json()["id"].as_str().unwrap().to_owned();
    let location = created.header("location").expect("no Location");
    assert_eq!(location, format!("/tasks/{id}"));
    let fetched = exchange(&app, empty_request(Method::GET, location, Some(&token))).await;
    assert_eq!(fetched.json()["id"], id.as_str(), "the Location does not serve the task");
    assert_eq!(replayed.status, StatusCode::CREATED, "{}", replayed.body);
    assert_eq!(replayed.header("idempotent-replayed"), Some("true"));
    assert_eq!(replayed.header("location"), Some(location));
    assert_eq!(replayed.header("etag"), Some("\"1\""));
}

#[tokio::test]
async fn every_response_of_a_limited_route_carries_the_ratelimit_headers() {
    // Arrange
    let app = limited_app(50, 10);
    let (ann, token) = register(&app, "ann@example.com").await;
    let task = create_task(&app, &token, "t").await["id"].as_str().unwrap().to_owned();
    let missing = uuid::Uuid::new_v4();
    let cases = [
        ("a list", empty_request(Method::GET, "/tasks", Some(&token)), StatusCode::OK, 50),
        ("a task", empty_request(Method::GET, &format!("/tasks/{task}"), Some(&token)), StatusCode::OK, 50),
        (
            "a deletion",
            empty_request(Method::DELETE, &format!("/tasks/{task}"), Some(&token)),
            StatusCode::NO_CONTENT,
            50,
        ),
        ("a user", empty_request(Method::GET, &format!("/users/{ann}"), Some(&token)), StatusCode::OK, 50),
        ("who am I", empty_request(Method::GET, "/auth/me", Some(&token)), StatusCode::OK, 50),
        ("a bad id", empty_request(Method::GET, "/tasks/x", Some(&token)), StatusCode::BAD_REQUEST, 50),
        ("anonymous", empty_request(Method::GET, "/tasks", None), StatusCode::UNAUTHORIZED, 50),
        ("forbidden", empty_request(Method::GET, "/users", Some(&token)), StatusCode::FORBIDDEN, 50),
        (
            "a missing task",
            empty_request(Method::GET, &format!("/tasks/{missing}"), Some(&token)),
            StatusCode::NOT_FOUND,
            50,
        ),
        ("an unknown route", empty_request(Method::GET, "/tasks/a/b", Some(&token)), StatusCode::NOT_FOUND, 50),
        ("a wrong method", empty_request(Method::PUT, "/tasks", Some(&token)), StatusCode::METHOD_NOT_ALLOWED, 50),
        (
            "an anonymous body with no media type",
            Request::post("/tasks").body("{}".into()).unwrap(),
            StatusCode::UNAUTHORIZED,
            50,
        ),
        (
            "a failed login",
            json_request(
                Method::POST,
                "/auth/login",
                None,
                json!({"email": "ann@example.com", "password": "nope-nope"}).to_string(),
            ),
            StatusCode::UNAUTHORIZED,
            10,
        ),
    ];

    for (case, request, status, limit) in cases {
        // Act
        let reply = exchange(&app, request).await;

        // Assert
        assert_eq!(reply.status, status, "{case}: {}", reply.body);
        assert_eq!(number(&reply, "ratelimit-limit", case), limit, "{case}");
        assert!(number(&reply, "ratelimit-remaining", case) < limit, "{case}");
        assert!((1..=60).contains(&number(&reply, "ratelimit-reset", case)), "{case}");
        assert!(reply.header("retry-after").is_none(), "{case}: Retry-After on an allowed request");
    }
}

#[tokio::test]
async fn routes_outside_the_limits_carry_no_ratelimit_headers() {
    // Arrange
    let app = limited_app(1, 1);

    for uri in ["/health/live", "/health/ready", "/metrics", "/openapi.json", "/health/live"] {
        // Act
        let reply = exchange(&app, empty_request(Method::GET, uri, None)).await;

        // Assert
        assert_eq!(reply.status, StatusCode::OK, "{uri}: {}", reply.body);
        for name in ["ratelimit-limit", "ratelimit-remaining", "ratelimit-reset", "retry-after"] {
            assert!(reply.header(name).is_none(), "{uri}: {name}");
        }
    }
}

#[tokio::test]
async fn remaining_counts_down_to_a_429_with_retry_after_and_remaining_0() {
    // Arrange
    let app = limited_app(3, 10);
    let (_, token) = register(&app, "ann@example.com").await;
    let list = || empty_request(Method::GET, "/tasks", Some(&token));

    // Act
    let mut replies = Vec::new();
    for _ in 0..4 {
        replies.push(exchange(&app, list()).await);
    }

    // Assert
    for (n, reply) in replies[..3].iter().enumerate() {
        let case = format!("request {}", n + 1);
        assert_eq!(reply.status, StatusCode::OK, "{case}: {}", reply.body);
        assert_eq!(number(reply, "ratelimit-remaining", &case), 2 - n as u64, "{case}");
    }
    let refused = &replies[3];
    assert_problem(refused, StatusCode::TOO_MANY_REQUESTS, "request 4");
    assert_eq!(number(refused, "ratelimit-limit", "429"), 3);
    assert_eq!(number(refused, "ratelimit-remaining", "429"), 0);
    let retry_after = number(refused, "retry-after", "429");
    assert!((1..=60).contains(&retry_after), "Retry-After: {retry_after}");
    assert!(retry_after <= number(refused, "ratelimit-reset", "429"), "Retry-After past the reset");
    assert_eq!(refused.headers.get_all("retry-after").iter().count(), 1, "Retry-After more than once");
}

#[tokio::test]
async fn login_register_and_refresh_share_one_limit_per_client_ip() {
    // Arrange
    let app = limited_app(100, 2);
    let login = json!({"email": "nobody@example.com", "password": "password123"}).to_string();
    let refresh = json!({"refreshToken": "nothing"}).to_string();

    // Act
    let first = exchange(&app, json_request(Method::POST, "/auth/login", None, login)).await;
    let second = exchange(&app, json_request(Method::POST, "/auth/refresh", None, refresh)).await;
    let register = json!({"email": "ann@example.com", "password": "password123", "name": "Ann"}).to_string();
    let third = exchange(&app, json_request(Method::POST, "/auth/register", None, register)).await;

    // Assert
    assert_eq!((first.status, number(&first, "ratelimit-remaining", "login")), (StatusCode::UNAUTHORIZED, 1));
    assert_eq!((second.status, number(&second, "ratelimit-remaining", "refresh")), (StatusCode::UNAUTHORIZED, 0));
    assert_problem(&third, StatusCode::TOO_MANY_REQUESTS, "register");
    assert_eq!(number(&third, "ratelimit-limit", "register"), 2);
    assert_eq!(number(&third, "ratelimit-remaining", "register"), 0);
    assert!(number(&third, "retry-after", "register") >= 1);
}

/// Whether `id` is an id the API accepts: 1-64 characters of `[A-Za-z0-9._-]`.
fn is_valid_request_id(id: &str) -> bool {
    (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

#[tokio::test]
async fn a_valid_incoming_request_id_is_echoed_on_successes_and_errors() {
    // Arrange
    let app = app();
    let longest = "a".repeat(64);
    let cases = [
        ("a success", Method::GET, "/health/live", "abc-123_.XYZ"),
        ("an unknown route", Method::GET, "/nothing", "req.42"),
        ("a 401", Method::GET, "/tasks", &*longest),
        ("a 405", Method::DELETE, "/health/live", "0"),
    ];

    for (case, method, uri, id) in cases {
        let mut request = empty_request(method, uri, None);
        request.headers_mut().insert("x-request-id", HeaderValue::from_str(id).unwrap());

        // Act
        let reply = exchange(&app, request).await;

        // Assert
        assert_eq!(reply.header("x-request-id"), Some(id), "{case}");
        if !reply.status.is_success() {
            assert_eq!(assert_problem(&reply, reply.status, case)["requestId"], id, "{case}");
        }
    }
}

#[tokio::test]
async fn an_invalid_incoming_request_id_is_replaced_by_a_generated_one() {
    // Arrange
    let app = app();
    let too_long = "a".repeat(65);
    let cases: [(&str, HeaderValue); 6] = [
        ("empty", HeaderValue::from_static("")),
        ("65 characters", HeaderValue::from_str(&too_long).unwrap()),
        ("a space", HeaderValue::from_static("has space")),
        ("a semicolon", HeaderValue::from_static("a;b")),
        ("a slash", HeaderValue::from_static("../etc")),
        ("bytes that are not ASCII", HeaderValue::from_bytes(b"caf\xc3\xa9").unwrap()),
    ];

    for (case, value) in cases {
        for uri in ["/health/live", "/tasks"] {
            let mut request = empty_request(Method::GET, uri, None);
            request.headers_mut().insert("x-request-id", value.clone());

            // Act
            let reply = exchange(&app, request).await;

            // Assert
            let sent = reply.header("x-request-id").unwrap_or_else(|| panic!("{case} {uri}: no X-Request-Id"));
            assert_ne!(sent.as_bytes(), value.as_bytes(), "{case} {uri}: echoed");
            assert!(is_valid_request_id(sent), "{case} {uri}: generated {sent:?}");
            assert_eq!(reply.headers.get_all("x-request-id").iter().count(), 1, "{case} {uri}");
            if uri == "/tasks" {
                assert_problem(&reply, StatusCode::UNAUTHORIZED, case);
            }
        }
    }
}

#[tokio::test]
async fn every_response_carries_a_fresh_request_id_errors_included() {
    // Arrange
    let app = limited_app(100, 1);
    let (_, token) = register(&app, "ann@example.com").await;
    let big = vec![b' '; taskflow_adapters_http::BODY_LIMIT + 1];
    let cases = [
        ("200", empty_request(Method::GET, "/tasks", Some(&token))),
        ("201", json_request(Method::POST, "/tasks", Some(&token), json!({"title": "t"}).to_string())),
        ("400", empty_request(Method::GET, "/tasks/x", Some(&token))),
        ("401", empty_request(Method::GET, "/auth/me", None)),
        ("403", empty_request(Method::GET, "/users", Some(&token))),
        ("404", empty_request(Method::GET, "/nothing", None)),
        ("405", empty_request(Method::PATCH, "/tasks", Some(&token))),
        ("413", json_request(Method::POST, "/tasks", Some(&token), big)),
        ("415", Request::post("/tasks").header("authorization", format!("Bearer {token}")).body("{}".into()).unwrap()),
        (
            "429",
            json_request(Method::POST, "/auth/login", None, json!({"email": "a@b.co", "password": "x"}).to_string()),
        ),
        ("200 again", empty_request(Method::GET, "/health/live", None)),
    ];

    let mut seen = HashSet::new();
    for (case, request) in cases {
        // Act
        let reply = exchange(&app, request).await;

        // Assert
        assert_eq!(reply.status.as_str(), &case[..3], "{case}: {}", reply.body);
        let id = reply.header("x-request-id").unwrap_or_else(|| panic!("{case}: no X-Request-Id")).to_owned();
        assert!(is_valid_request_id(&id), "{case}: {id:?}");
        assert!(seen.insert(id), "{case}: an id used twice");
        if !reply.status.is_success() {
            assert_problem(&reply, reply.status, case);
        }
    }
}
