//! The error every port returns: what went wrong, never which technology it came from.

use std::error::Error as StdError;

type Source = Box<dyn StdError + Send + Sync>;

/// A storage or infrastructure failure, as seen by the domain and the use cases.
///
/// Adapters map their own errors (SQL, Redis, I/O) into these variants and keep the original as an opaque source,
/// so embedders never see `sea_orm` or `redis` types, and logs still get the whole cause chain.
#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    /// A uniqueness rule was broken (for example a second user with the same email).
    #[error("duplicate value for {constraint}")]
    Duplicate {
        /// The name of the rule that was broken, such as `users_email_key`.
        constraint: String,
    },
    /// The row changed since it was read (an optimistic-concurrency check failed).
    #[error("the record was changed concurrently")]
    Conflict,
    /// A referenced record does not exist (for example a task's owner).
    #[error("a referenced record does not exist")]
    MissingReference,
    /// The backing service cannot be reached or is overloaded; retrying later may succeed.
    #[error("storage is unavailable")]
    Unavailable(#[source] Source),
    /// Anything else; a bug or an unexpected state of the backing service.
    #[error("unexpected storage error")]
    Unexpected(#[source] Source),
}

impl RepoError {
    /// Wraps any error as [`RepoError::Unexpected`].
    pub fn unexpected(err: impl Into<Source>) -> Self {
        Self::Unexpected(err.into())
    }

    /// Wraps any error as [`RepoError::Unavailable`].
    pub fn unavailable(err: impl Into<Source>) -> Self {
        Self::Unavailable(err.into())
    }
}
