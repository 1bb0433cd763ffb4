//! Cross-cutting middleware: authentication, problem bodies for errors raised outside handlers, fallbacks.

use std::any::Any;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::AppState;
use crate::error::{ApiError, problem, problem_response};

/// Verifies a bearer token, if one is presented, and leaves the [`taskflow_application::domain::policy::Actor`]
/// in the request extensions for the extractor, the rate limiter and idempotency. Routes that need a user
/// answer 401 through [`crate::extract::CurrentUser`] when none is there.
pub async fn authenticate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim());
    if let Some(Ok(credentials)) = bearer.map(|token| state.auth.verify(token)) {
        crate::access_log::note_user(req.extensions(), &credentials.actor);
        req.extensions_mut().insert(credentials.actor);
        req.extensions_mut().insert(credentials);
    }
    next.run(req).await
}

/// Gives every error response a problem body: axum's and tower-http's own rejections (404, 405, 408, 413, 415)
/// come with plain text, clients rely on problem+json everywhere.
pub async fn problem_for_bare_errors(req: Request, next: Next) -> Response {
    let response = next.run(req).await;
    let status = response.status();
    // Only bodies that are not ours (no content type, or plain text) are rewritten: a handler's own JSON, such as
    // the readiness report with its checks on 503, is left as it is.
    let is_bare = response.headers().get(header::CONTENT_TYPE).is_none_or(|v| v.as_bytes().starts_with(b"text/plain"));
    if !(status.is_client_error() || status.is_server_error()) || !is_bare {
        return response;
    }
    let detail = match status {
        StatusCode::NOT_FOUND => "no such route".to_owned(),
        StatusCode::METHOD_NOT_ALLOWED => "method not allowed on this route".to_owned(),
        StatusCode::PAYLOAD_TOO_LARGE => "the body is larger than 1 MiB".to_owned(),
        StatusCode::SERVICE_UNAVAILABLE => "the request took too long; retry later".to_owned(),
        other => other.canonical_reason().unwrap_or("error").to_owned(),
    };
    let (mut parts, _) = response.into_parts();
    let fresh = problem_response(&problem(status, detail, None));
    parts.headers.insert(header::CONTENT_TYPE, fresh.headers()[header::CONTENT_TYPE].clone());
    parts.headers.remove(header::CONTENT_LENGTH);
    if status == StatusCode::SERVICE_UNAVAILABLE && !parts.headers.contains_key(header::RETRY_AFTER) {
        parts.headers.insert(header::RETRY_AFTER, header::HeaderValue::from_static("5"));
    }
    Response::from_parts(parts, fresh.into_body())
}

/// A panic is a bug: log its message here and answer an opaque 500 (the message is never sent).
pub fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response<Body> {
    let message = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic with no message".to_owned());
    tracing::error!(panic = %message, "handler panicked");
    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "an unexpected error occurred").into_response()
}

/// 503 with `Retry-After` for a request shed because too many are in flight (or any other error of the
/// overload layers, which have no other).
pub async fn shed(_overloaded: tower::BoxError) -> ApiError {
    metrics::counter!("http_requests_shed_total").increment(1);
    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "the server is overloaded; retry later")
        .retry_after(std::time::Duration::from_secs(1))
}

/// 404 for unknown routes.
pub async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "no such route")
}

/// 405 for known routes with another method.
pub async fn method_not_allowed() -> ApiError {
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method not allowed on this route")
}
