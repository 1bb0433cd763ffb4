//! The errors a use case returns. Adapters map them to their own protocol (HTTP: `adapters-http/src/error.rs`).

use taskflow_domain::RepoError;
use taskflow_domain::policy::Denied;
use taskflow_domain::task::Version;

/// One invalid input member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The wire name of the member (`title`, `email`, ...).
    pub field: String,
    /// What is wrong with it, safe to show to the client.
    pub message: String,
}

impl FieldError {
    /// A field error from any displayable reason.
    pub fn new(field: impl Into<String>, message: impl ToString) -> Self {
        Self { field: field.into(), message: message.to_string() }
    }
}

/// Why a use case did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The input is invalid; each failing member is listed.
    #[error("invalid input")]
    Validation(Vec<FieldError>),
    /// Missing, malformed, expired or revoked credentials, or a wrong password.
    #[error("authentication failed")]
    Unauthenticated,
    /// Authenticated, but the caller's role does not allow this.
    #[error("forbidden")]
    Forbidden,
    /// The resource does not exist or the caller may not see it.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The request conflicts with the current state (a duplicate email).
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// `If-Match` named a version that is no longer current.
    #[error("version {current} is current")]
    PreconditionFailed {
        /// The current version.
        current: Version,
    },
    /// An idempotency key was reused with a different request.
    #[error("idempotency key reused with a different request")]
    IdempotencyMismatch,
    /// The first request with this idempotency key is still running.
    #[error("a request with this idempotency key is in progress")]
    IdempotencyInProgress,
    /// A required dependency is down; retrying later may succeed.
    #[error("a dependency is unavailable")]
    Unavailable(#[source] RepoError),
    /// This instance cannot take more of this work now (a bounded resource is full, or it is shutting down); the
    /// client may retry, elsewhere or later.
    #[error("busy: {0}")]
    Busy(&'static str),
    /// The caller holds too much of a bounded resource at once (say, open event streams).
    #[error("too many: {0}")]
    TooMany(&'static str),
    /// A bug or an unexpected state; details go to the log, never to the client.
    #[error("unexpected error")]
    Unexpected(#[source] RepoError),
}

impl AppError {
    /// A validation error on one member.
    pub fn invalid(field: impl Into<String>, message: impl ToString) -> Self {
        Self::Validation(vec![FieldError::new(field, message)])
    }
}

impl From<RepoError> for AppError {
    fn from(err: RepoError) -> Self {
        match err {
            RepoError::Unavailable(_) => Self::Unavailable(err),
            // A lost race (deadlock, serialization failure) the use case did not resolve: the client may retry.
            RepoError::Conflict => Self::Conflict("the resource was changed concurrently; retry the request"),
            RepoError::Duplicate { .. } | RepoError::MissingReference | RepoError::Unexpected(_) => {
                Self::Unexpected(err)
            }
        }
    }
}

impl From<Denied> for AppError {
    fn from(denied: Denied) -> Self {
        match denied {
            Denied::Hidden => Self::NotFound("resource"),
            Denied::Forbidden => Self::Forbidden,
        }
    }
}
