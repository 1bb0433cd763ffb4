//! The one mapping from application errors to HTTP problems (RFC 9457 `application/problem+json`).
//!
//! `IntoResponse` has no side effects beyond putting the internal error into the response extensions; the
//! request-id middleware logs 5xx responses with their cause chain once, at the edge.

use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use taskflow_application::{AppError, FieldError};
use utoipa::ToSchema;

pub use crate::request_id::InternalError;
use crate::request_id::current_request_id;

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// One failing input member.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProblemField {
    /// The body member (or query parameter) name.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

/// An RFC 9457 problem document.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Problem {
    /// A URI naming the kind of problem.
    #[serde(rename = "type")]
    pub kind: String,
    /// A short summary of the kind of problem.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What went wrong with this request.
    pub detail: String,
    /// The request's `X-Request-Id`.
    pub request_id: String,
    /// The failing members, for validation errors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<ProblemField>>,
}

/// An error answer of the HTTP API.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    detail: String,
    errors: Option<Vec<ProblemField>>,
    retry_after: Option<Duration>,
    /// The internal cause, logged by the middleware for 5xx answers; never serialised.
    source: Option<Arc<AppError>>,
}

impl ApiError {
    /// An error with a status and a client-safe detail.
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        Self { status, detail: detail.into(), errors: None, retry_after: None, source: None }
    }

    /// 400 with per-field errors.
    #[must_use]
    pub fn validation(errors: Vec<FieldError>) -> Self {
        let detail = errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; ");
        Self {
            errors: Some(errors.into_iter().map(|e| ProblemField { field: e.field, message: e.message }).collect()),
            ..Self::new(StatusCode::BAD_REQUEST, detail)
        }
    }

    /// 400 on one member.
    pub fn invalid(field: impl Into<String>, message: impl ToString) -> Self {
        Self::validation(vec![FieldError::new(field, message)])
    }

    /// 401 with `WWW-Authenticate: Bearer`.
    #[must_use]
    pub fn unauthenticated() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "missing, malformed, expired or revoked credentials")
    }

    /// Adds a `Retry-After`.
    #[must_use]
    pub fn retry_after(mut self, after: Duration) -> Self {
        self.retry_after = Some(after);
        self
    }

    /// The status.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

/// The problem document for `status` with `detail`, for this request.
#[must_use]
pub fn problem(status: StatusCode, detail: String, errors: Option<Vec<ProblemField>>) -> Problem {
    Problem {
        kind: format!("https://taskflow.dev/problems/{}", status.as_u16()),
        title: status.canonical_reason().unwrap_or("Error").to_owned(),
        status: status.as_u16(),
        detail,
        request_id: current_request_id(),
        errors,
    }
}

/// Serialises `problem` as a response.
pub fn problem_response(problem: &Problem) -> Response {
    let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::to_vec(problem).unwrap_or_default();
    (status, [(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON))], body).into_response()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = problem_response(&problem(self.status, self.detail, self.errors));
        let headers = response.headers_mut();
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(after) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(after.as_secs().max(1)));
        }
        if let Some(source) = self.source {
            response.extensions_mut().insert(InternalError(source));
        }
        response
    }
}

impl From<AppError> for ApiError {
    fn from(err: AppError) -> Self {
        // Exhaustive on purpose: a new variant must be mapped here deliberately.
        let mapped = match &err {
            AppError::Validation(errors) => return Self::validation(errors.clone()),
            AppError::Unauthenticated => return Self::unauthenticated(),
            AppError::Forbidden => Self::new(StatusCode::FORBIDDEN, "your role does not allow this"),
            AppError::NotFound(what) => Self::new(StatusCode::NOT_FOUND, format!("{what} not found")),
            AppError::Conflict(why) => Self::new(StatusCode::CONFLICT, *why),
            AppError::PreconditionFailed { current } => Self::new(
                StatusCode::PRECONDITION_FAILED,
                format!("If-Match is stale: the current version is {current}"),
            ),
            AppError::IdempotencyMismatch => {
                Self::new(StatusCode::UNPROCESSABLE_ENTITY, "this Idempotency-Key was used with a different request")
            }
            AppError::IdempotencyInProgress => {
                Self::new(StatusCode::CONFLICT, "a request with this Idempotency-Key is still in progress")
            }
            AppError::Unavailable(_) => {
                Self::new(StatusCode::SERVICE_UNAVAILABLE, "a dependency is unavailable; retry later")
                    .retry_after(Duration::from_secs(5))
            }
            AppError::Busy(why) => Self::new(StatusCode::SERVICE_UNAVAILABLE, format!("{why}; retry later"))
                .retry_after(Duration::from_secs(5)),
            AppError::TooMany(why) => {
                Self::new(StatusCode::TOO_MANY_REQUESTS, *why).retry_after(Duration::from_secs(5))
            }
            AppError::Unexpected(_) => Self::new(StatusCode::INTERNAL_SERVER_ERROR, "an unexpected error occurred"),
        };
        Self { source: Some(Arc::new(err)), ..mapped }
    }
}

/// The result type of handlers.
pub type ApiResult<T> = Result<T, ApiError>;
