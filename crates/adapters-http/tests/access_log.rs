//! The access log: one INFO line per request with the agreed fields, and nothing that may carry personal data.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::Value;
use tracing_subscriber::fmt::MakeWriter;

use common::{app, register, send};

/// A log sink the test reads back.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }

    /// The JSON lines of target `taskflow::access`.
    fn access_lines(&self) -> Vec<Value> {
        self.text()
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|v| v["target"] == "taskflow::access")
            .collect()
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Self;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// Every event at every level, as JSON lines like `LOG_FORMAT=json`, into the returned sink for this thread.
fn capture() -> (Captured, tracing::subscriber::DefaultGuard) {
    let sink = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(true)
        .with_max_level(tracing::Level::TRACE)
        .with_writer(sink.clone())
        .finish();
    (sink.clone(), tracing::subscriber::set_default(subscriber))
}

#[tokio::test]
async fn one_info_line_per_request_with_route_status_latency_and_user_but_no_query_or_token() {
    // Arrange
    let app = app();
    let (user_id, token) = register(&app, "ann@example.com").await;
    let (log, _guard) = capture();
    let request = Request::get("/tasks?search=private-needle-4711&limit=5")
        .header("authorization", format!("Bearer {token}"))
        .header("x-request-id", "access-log-test-1")
        .body(Body::empty())
        .unwrap();

    // Act
    let (status, body) = send(&app, request).await;

    // Assert
    assert_eq!(status, StatusCode::OK, "{body}");
    let lines = log.access_lines();
    assert_eq!(lines.len(), 1, "one access line per request: {}", log.text());
    let line = &lines[0];
    assert_eq!(line["level"], "INFO", "{line}");
    assert_eq!(line["request_id"], "access-log-test-1", "{line}");
    assert_eq!(line["method"], "GET", "{line}");
    assert_eq!(line["route"], "/tasks", "{line}");
    assert_eq!(line["status"], 200, "{line}");
    assert!(line["latency_ms"].is_f64(), "latency_ms is not a number: {line}");
    assert!(line["latency_ms"].as_f64().unwrap() >= 0.0, "{line}");
    assert_eq!(line["user_id"], user_id.as_str(), "{line}");
    let everything = log.text();
    assert!(!everything.contains("private-needle-4711"), "a query value was logged: {everything}");
    assert!(!everything.contains("search="), "the query string was logged: {everything}");
    assert!(!everything.contains(&token), "the token was logged: {everything}");
}

#[tokio::test]
async fn unmatched_routes_and_anonymous_callers_are_logged_by_template_without_user() {
    // Arrange
    let app = app();
    let (log, _guard) = capture();
    let request = Request::get("/no/such/route?email=someone%40example.com").body(Body::empty()).unwrap();

    // Act
    let (status, _) = send(&app, request).await;

    // Assert
    assert_eq!(status, StatusCode::NOT_FOUND);
    let lines = log.access_lines();
    assert_eq!(lines.len(), 1, "{}", log.text());
    assert_eq!(lines[0]["route"], "unmatched", "{}", lines[0]);
    assert_eq!(lines[0]["status"], 404, "{}", lines[0]);
    assert!(lines[0].get("user_id").is_none(), "{}", lines[0]);
    assert!(!lines[0]["request_id"].as_str().unwrap_or_default().is_empty(), "{}", lines[0]);
    let everything = log.text();
    assert!(!everything.contains("someone"), "a query value was logged: {everything}");
    assert!(!everything.contains("/no/such/route?"), "the raw URI was logged: {everything}");
}

#[tokio::test]
async fn a_route_with_an_id_is_logged_by_its_template() {
    // Arrange
    let app = app();
    let (_, token) = register(&app, "bob@example.com").await;
    let (log, _guard) = capture();
    let request = Request::get("/tasks/0194b6a4-8c5e-7c3a-9d3e-1a2b3c4d5e6f")
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();

    // Act
    let (status, _) = send(&app, request).await;

    // Assert
    assert_eq!(status, StatusCode::NOT_FOUND);
    let lines = log.access_lines();
    assert_eq!(lines.len(), 1, "{}", log.text());
    assert_eq!(lines[0]["route"], "/tasks/{id}", "{}", lines[0]);
    assert_eq!(lines[0]["status"], 404, "{}", lines[0]);
}

#[tokio::test]
async fn a_request_dropped_before_its_response_is_logged_as_cancelled() {
    // Arrange: a login whose body never arrives, so the handler waits until the client gives up.
    let app = app();
    let (log, _guard) = capture();
    let stalled = futures::stream::pending::<Result<axum::body::Bytes, std::io::Error>>();
    let request = Request::post("/auth/login?email=hidden%40example.com")
        .header("content-type", "application/json")
        .header("x-request-id", "access-log-cancelled")
        .body(Body::from_stream(stalled))
        .unwrap();

    // Act: the client goes away (the request's future is dropped).
    let outcome = tokio::time::timeout(std::time::Duration::from_millis(300), send(&app, request)).await;

    // Assert
    assert!(outcome.is_err(), "the stalled request was answered");
    let lines = log.access_lines();
    assert_eq!(lines.len(), 1, "{}", log.text());
    assert_eq!(lines[0]["message"], "request cancelled", "{}", lines[0]);
    assert_eq!(lines[0]["cancelled"], true, "{}", lines[0]);
    assert_eq!(lines[0]["request_id"], "access-log-cancelled", "{}", lines[0]);
    assert_eq!(lines[0]["route"], "/auth/login", "{}", lines[0]);
    assert!(lines[0].get("status").is_none(), "{}", lines[0]);
    assert!(lines[0]["latency_ms"].as_f64().is_some_and(|ms| ms >= 250.0), "{}", lines[0]);
    assert!(!log.text().contains("hidden"), "a query value was logged: {}", log.text());
}
