//! What the extractors refuse, each as a problem document: the wrong media type, bad JSON, unknown members, bodies
//! over 1 MiB (chunked too), malformed path ids, bad query parameters, unknown routes and wrong methods.

use axum::body::{Body, Bytes};
use axum::http::{Method, Request, StatusCode};
use serde_json::json;
use taskflow_adapters_http::BODY_LIMIT;

use crate::common::{Reply, app, assert_problem, create_task, empty_request, exchange, json_request, register};

/// `POST /tasks` with `content_type` (none if `None`) and `body`.
fn post_task(token: &str, content_type: Option<&str>, body: impl Into<Body>) -> Request<Body> {
    let mut builder = Request::post("/tasks").header("authorization", format!("Bearer {token}"));
    if let Some(content_type) = content_type {
        builder = builder.header("content-type", content_type);
    }
    builder.body(body.into()).unwrap()
}

/// The names in a validation problem's `errors`.
fn fields(reply: &Reply) -> Vec<String> {
    reply.json()["errors"]
        .as_array()
        .map_or_else(Vec::new, |errors| errors.iter().filter_map(|e| e["field"].as_str().map(str::to_owned)).collect())
}

#[tokio::test]
async fn a_body_that_is_not_declared_as_json_is_415() {
    // Arrange
    let app = app();
    let (_, token) = register(&app, "ann@example.com").await;
    let cases = [
        ("no Content-Type", None),
        ("text/plain", Some("text/plain")),
        ("a form", Some("application/x-www-form-urlencoded")),
        ("another JSON-like type", Some("application/jsonx")),
        ("a problem document", Some("application/problem+json")),
        ("an empty Content-Type", Some("")),
    ];

    for (case, content_type) in cases {
        // Act
        let reply = exchange(&app, post_task(&token, content_type, json!({"title": "t"}).to_string())).await;

        // Assert
        assert_problem(&reply, StatusCode::UNSUPPORTED_MEDIA_TYPE, case);
    }
}

#[tokio::test]
async fn json_with_parameters_or_in_another_case_is_accepted() {
    // Arrange
    let app = app();
    let (_, token) = register(&app, "ann@example.com").await;

    for content_type in ["application/json; charset=utf-8", "Application/JSON", "application/json ;charset=UTF-8"] {
        // Act
        let reply = exchange(&app, post_task(&token, Some(content_type), json!({"title": "t"}).to_string())).await;

        // Assert
        assert_eq!(reply.status, StatusCode::CREATED, "{content_type}: {}", reply.body);
    }
}

#[tokio::test]
async fn malformed_json_is_400() {
    // Arrange
    let app = app();
    let (_, token) = register(&app, "ann@example.com").await;
    let cases: [(&str, &'static [u8]); 5] = [
        ("an empty body", b""),
        ("a truncated object", br#"{"title": "#),
        ("unquoted names", br#"{title: "t"}"#),
        ("a trailing comma", br#"{"title": "t",}"#),
        ("invalid UTF-8", b"{\"title\": \"\xff\"}"),
    ];

    for (case, body) in cases {
        let body = Bytes::from_static(body);

        // Act
        let reply = exchange(&app, post_task(&token, Some("application/json"), body)).await;

        // Assert
        assert_problem(&reply, StatusCode::BAD_REQUEST, case);
    }
}

#[tokio::test]
async fn a_json_object_followed_by_anything_but_whitespace_is_400() {
    // Arrange
    let app = app();
    let (_, token) = register(&app, "ann@example.com").await;
    let cases = [
        ("trailing bytes", r#"{"title": "t"} x"#),
        ("a second object", r#"{"title": "t"}{"title": "u"}"#),
        ("a trailing brace", r#"{"title": "t"}}"#),
    ];

    for (case, body) in cases {
        // Act
        let reply = exchange(&app, post_task(&token, Some("application/json"), body)).await;

        // Assert: a body is one JSON document (RFC 8259), so these are malformed, not a task titled "t".
        assert_problem(&reply, StatusCode::BAD_REQUEST, case);
    }
    let list = exchange(&app, empty_request(Method::GET, "/tasks", Some(&token))).await;
    assert_eq!(list.json()["meta"]["total"], 0, "a malformed body created a task: {}", list.body);
}

#[tokio::test]
async fn a_body_that_is_not_an_object_is_400() {
    // Arrange
    let app = app();
    let (_, token) = register(&app, "ann@example.com").await;

    for body in [r#"["t"]"#, "[]", r#""t""#, "null", "1", "true"] {
        // Act
        let reply = exchange(&app, post_task(&token, Some("application/json"), body)).await;

        // Assert
        assert_problem(&reply, StatusCode::BAD_REQUEST, body);
        assert_eq!(fields(&reply), ["body"], "{body}");
    }
}

#[tokio::test]
async fn an_unknown_member_is_400_naming_it() {
    // Arrange
    let app = app();
    let (ann, token) = register(&app, "ann@example.com").await;
    let task = create_task(&app, &token, "t").await["id"].as_str().unwrap().to_owned();
    let cases = [
        ("a task with an owner", Method::POST, "/tasks".to_owned(), json!({"title": "t", "owner": ann}), "owner"),
        ("a task change with a version", Method::PATCH, format!("/tasks/{task}"), json!({"version": 9}), "version"),
        ("a task change with an owner", Method::PATCH, format!("/tasks/{task}"), json!({"userId": ann}), "userId"),
        (
            "a registration with a role",
            Method::POST,
            "/auth/register".to_owned(),
            json!({"email": "x@example.com", "password": "password1", "name": "X", "role": "admin"}),
            "role",
        ),
        (
            "a user change with a hash",
            Method::PATCH,
            format!("/users/{ann}"),
            json!({"passwordHash": "x"}),
            "passwordHash",
        ),
        (
            "a batch with a flag",
            Method::POST,
            "/tasks/batch".to_owned(),
            json!({"tasks": [task], "action": "delete", "force": true}),
            "force",
        ),
    ];

    for (case, method, uri, body, member) in cases {
        // Act
        let reply = exchange(&app, json_request(method, &uri, Some(&token), body.to_string())).await;

        // Assert
        assert_problem(&reply, StatusCode::BAD_REQUEST, case);
        assert_eq!(fields(&reply), [member], "{case}");
    }
}

/// A JSON object of exactly `len` bytes: a task whose description fills it.
fn object_of_len(len: usize) -> Vec<u8> {
    let frame = json!({"title": "t", "description": ""}).to_string();
    json!({"title": "t", "description": "d".repeat(len - frame.len())}).to_string().into_bytes()
}

/// A body sent in 64 KiB chunks with no declared length.
fn chunked(bytes: Vec<u8>) -> Body {
    let chunks: Vec<Result<Bytes, std::io::Error>> =
        bytes.chunks(64 * 1024).map(|c| Ok(Bytes::copy_from_slice(c))).collect();
    Body::from_stream(futures::stream::iter(chunks))
}

#[tokio::test]
async fn a_body_over_1_mib_is_413_whether_its_length_is_declared_or_chunked() {
    // Arrange
    let app = app();
    let (_, token) = register(&app, "ann@example.com").await;
    let over = object_of_len(BODY_LIMIT + 1);
    let keyed = |body: Body| {
        let mut request = post_task(&token, Some("application/json"), body);
        request.headers_mut().insert("idempotency-key", "big-1".parse().unwrap());
        request
    };
    let cases = [
        ("a declared length", post_task(&token, Some("application/json"), over.clone())),
        ("chunked", post_task(&token, Some("application/json"), chunked(over.clone()))),
        ("a declared length with an Idempotency-Key", keyed(Body::from(over.clone()))),
        ("chunked with an Idempotency-Key", keyed(chunked(over.clone()))),
        ("a task change", {
            let id = create_task(&app, &token, "t").await["id"].as_str().unwrap().to_owned();
            json_request(Method::PATCH, &format!("/tasks/{id}"), Some(&token), chunked(over.clone()))
        }),
    ];

    for (case, request) in cases {
        // Act
        let reply = exchange(&app, request).await;

        // Assert
        assert_problem(&reply, StatusCode::PAYLOAD_TOO_LARGE, case);
    }
}

#[tokio::test]
async fn a_body_of_exactly_1_mib_is_read_and_judged_on_its_content() {
    // Arrange
    let app = app();
    let (_, token) = register(&app, "ann@example.com").await;

    for (case, body) in
        [("declared", Body::from(object_of_len(BODY_LIMIT))), ("chunked", chunked(object_of_len(BODY_LIMIT)))]
    {
        // Act
        let reply = exchange(&app, post_task(&token, Some("application/json"), body)).await;

        // Assert: read whole, then refused for its description, not for its size.
        assert_problem(&reply, StatusCode::BAD_REQUEST, case);
        assert_eq!(fields(&reply), ["description"], "{case}");
    }
}

#[tokio::test]
async fn a_malformed_uuid_in_a_path_is_400() {
    // Arrange
    let app = app();
    let (_, token) = register(&app, "ann@example.com").await;
    let cases = [
        ("getting a task", empty_request(Method::GET, "/tasks/not-a-uuid", Some(&token))),
        (
            "a task id one digit short",
            empty_request(Method::GET, "/tasks/0190d3a2-7d1c-7abc-8def-0123456789a", Some(&token)),
        ),
        ("changing a task", json_request(Method::PATCH, "/tasks/123", Some(&token), json!({"title": "t"}).to_string())),
        ("deleting a task", empty_request(Method::DELETE, "/tasks/%20", Some(&token))),
        ("getting a user", empty_request(Method::GET, "/users/me", Some(&token))),
    ];

    for (case, request) in cases {
        // Act
        let reply = exchange(&app, request).await;

        // Assert
        assert_problem(&reply, StatusCode::BAD_REQUEST, case);
        assert_eq!(fields(&reply), ["id"], "{case}");
    }
}

#[tokio::test]
async fn a_bad_query_parameter_is_400() {
    // Arrange
    let app = app();
    let (_, token) = register(&app, "ann@example.com").await;
    let cases = [
        ("an unknown status", "/tasks?status=DONE"),
        ("an unknown status in a list", "/tasks?status=PENDING,DONE"),
        ("an unknown priority", "/tasks?priority=URGENT"),
        ("page 0", "/tasks?page=0"),
        ("a page that is not a number", "/tasks?page=one"),
        ("limit 0", "/tasks?limit=0"),
        ("limit 101", "/tasks?limit=101"),
        ("an unknown sort", "/tasks?sort=owner"),
        ("an unknown order", "/tasks?order=up"),
        ("overdue neither true nor false", "/tasks?overdue=yes"),
        ("dueBefore not RFC 3339", "/tasks?dueBefore=tomorrow"),
        ("dueAfter not RFC 3339", "/tasks?dueAfter=2026-13-01T00:00:00Z"),
        ("a userId that is not a UUID", "/tasks?userId=ann"),
        ("a search over 200 characters", &*format!("/tasks?search={}", "s".repeat(201))),
        ("a cursor that is not ours", "/tasks?cursor=bm90LW91cnM"),
        ("an unknown parameter", "/tasks?owner=ann"),
        ("an unknown stats parameter", "/tasks/stats?status=DONE"),
        ("a query that is not UTF-8", "/tasks?search=%FF"),
    ];

    for (case, uri) in cases {
        // Act
        let reply = exchange(&app, empty_request(Method::GET, uri, Some(&token))).await;

        // Assert
        assert_problem(&reply, StatusCode::BAD_REQUEST, case);
        assert!(!fields(&reply).is_empty(), "{case}: no failing parameter named: {}", reply.body);
    }
}

#[tokio::test]
async fn an_unknown_route_is_a_404_problem() {
    // Arrange
    let app = app();
    let (_, token) = register(&app, "ann@example.com").await;

    for (case, uri, token) in [
        ("an unknown top-level path", "/nothing-here", None),
        ("an unknown path under /tasks", "/tasks/0190d3a2-7d1c-7abc-8def-0123456789ab/comments", Some(&*token)),
        ("an unknown path under /auth", "/auth/whoami", None),
        ("a near miss", "/taskss", Some(&*token)),
    ] {
        // Act
        let reply = exchange(&app, empty_request(Method::GET, uri, token)).await;

        // Assert
        assert_problem(&reply, StatusCode::NOT_FOUND, case);
    }
}

#[tokio::test]
async fn a_wrong_method_is_a_405_problem_listing_the_allowed_ones() {
    // Arrange
    let app = app();
    let (_, token) = register(&app, "ann@example.com").await;
    let id = "0190d3a2-7d1c-7abc-8def-0123456789ab";
    let cases = [
        ("PUT on a task", Method::PUT, format!("/tasks/{id}"), "GET"),
        ("DELETE on the task list", Method::DELETE, "/tasks".to_owned(), "POST"),
        ("GET on login", Method::GET, "/auth/login".to_owned(), "POST"),
        ("POST on liveness", Method::POST, "/health/live".to_owned(), "GET"),
    ];

    for (case, method, uri, allowed) in cases {
        // Act
        let reply = exchange(&app, empty_request(method, &uri, Some(&token))).await;

        // Assert
        assert_problem(&reply, StatusCode::METHOD_NOT_ALLOWED, case);
        let allow = reply.header("allow").unwrap_or_else(|| panic!("{case}: no Allow header (RFC 9110 15.5.6)"));
        assert!(allow.split(',').any(|m| m.trim() == allowed), "{case}: Allow: {allow}");
    }
}
