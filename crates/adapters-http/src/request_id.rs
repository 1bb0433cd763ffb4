//! Request ids: echo a valid incoming `X-Request-Id` or make one, expose it to error bodies, and log failures
//! once with their cause chain.

use std::error::Error as _;
use std::sync::Arc;

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use taskflow_application::AppError;

/// An internal error kept in the response extensions so the edge can log it once.
#[derive(Debug, Clone)]
pub struct InternalError(pub Arc<AppError>);

/// The request id header.
pub static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

tokio::task_local! {
    static REQUEST_ID: String;
}

/// The id of the request being served (empty outside a request).
#[must_use]
pub fn current_request_id() -> String {
    REQUEST_ID.try_with(Clone::clone).unwrap_or_default()
}

/// Whether an incoming id is acceptable: 1-64 characters of `[A-Za-z0-9._-]`.
fn is_valid(id: &str) -> bool {
    (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// Sets the request id for the request's whole life, adds it to the response and logs 5xx causes.
pub async fn request_id(mut req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get(&X_REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| is_valid(v))
        .map_or_else(|| uuid::Uuid::now_v7().to_string(), str::to_owned);
    if let Ok(value) = HeaderValue::from_str(&id) {
        req.headers_mut().insert(X_REQUEST_ID.clone(), value);
    }
    let span = tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.uri().path());
    let mut response = tracing::Instrument::instrument(REQUEST_ID.scope(id.clone(), next.run(req)), span.clone()).await;
    if let Some(InternalError(err)) = response.extensions_mut().remove::<InternalError>()
        && response.status().is_server_error()
    {
        let mut chain = String::new();
        let mut cause = err.source();
        while let Some(c) = cause {
            chain.push_str(": ");
            chain.push_str(&c.to_string());
            cause = c.source();
        }
        span.in_scope(
            || tracing::error!(status = response.status().as_u16(), error = %err, cause = %chain, "request failed"),
        );
    }
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(X_REQUEST_ID.clone(), value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::is_valid;

    #[test]
    fn request_id_rules() {
        assert!(is_valid("abc-123_.X"));
        assert!(is_valid(&"a".repeat(64)));
        assert!(!is_valid(&"a".repeat(65)));
        assert!(!is_valid(""));
        assert!(!is_valid("has space"));
        assert!(!is_valid("semi;colon"));
    }
}
