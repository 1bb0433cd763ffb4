//! The one place where SeaORM's `DbErr` becomes the domain's [`RepoError`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sea_orm::{ConnAcquireErr, DbErr, RuntimeErr, sqlx};
use taskflow_domain::RepoError;

/// SQLSTATE `unique_violation`.
const UNIQUE_VIOLATION: &str = "23505";
/// SQLSTATE `foreign_key_violation`.
const FOREIGN_KEY_VIOLATION: &str = "23503";
/// SQLSTATE `serialization_failure` and `deadlock_detected`: the unit lost a race and may be retried.
const CONFLICTS: [&str; 2] = ["40001", "40P01"];
/// SQLSTATE `query_canceled` (statement timeout), `too_many_connections`, `admin_shutdown`, `crash_shutdown`,
/// `cannot_connect_now`: the database is overloaded or going away, retrying later may succeed.
const UNAVAILABLE: [&str; 5] = ["57014", "53300", "57P01", "57P02", "57P03"];

/// A statement that got no answer within its deadline: the server or the network stalled.
#[derive(Debug, thiserror::Error)]
#[error("no answer from the database within {0:?}")]
pub struct StatementDeadline(pub Duration);

/// Runs one database call with a deadline measured here, in the client, and maps its error.
///
/// PostgreSQL's own `statement_timeout` cannot fire when the server or the network stalls without closing the
/// connection; this one does. The call is dropped where it stands: its connection goes back to the pool, whose
/// release check (see `storage::release_check`) closes it if it does not answer either.
pub(crate) async fn bounded<T>(
    deadline: Duration,
    call: impl Future<Output = Result<T, DbErr>>,
) -> Result<T, RepoError> {
    match tokio::time::timeout(deadline, call).await {
        Ok(done) => done.map_err(map_db_err),
        Err(_) => {
            ABANDONED.fetch_add(1, Ordering::SeqCst);
            Err(RepoError::unavailable(StatementDeadline(deadline)))
        }
    }
}

/// Statements abandoned at their deadline whose connections have not been checked since: each makes the next
/// released connection be checked (see `storage::release_check`).
static ABANDONED: AtomicU64 = AtomicU64::new(0);

/// Whether a statement was abandoned since the last check (and counts this check against it).
pub(crate) fn take_abandoned() -> bool {
    ABANDONED.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok()
}

/// What a database error means to the domain.
enum Kind {
    Duplicate(String),
    MissingReference,
    Conflict,
    Unavailable,
    Unexpected,
}

/// Maps a SeaORM error to a [`RepoError`], keeping the original as the source.
///
/// Unique violations become [`RepoError::Duplicate`] named by their constraint (`users_email_key`), foreign-key
/// violations [`RepoError::MissingReference`], serialization failures and deadlocks [`RepoError::Conflict`], pool,
/// connection, timeout and shutdown failures [`RepoError::Unavailable`], and everything else
/// [`RepoError::Unexpected`].
#[must_use]
pub fn map_db_err(err: DbErr) -> RepoError {
    match classify(&err) {
        Kind::Duplicate(constraint) => RepoError::Duplicate { constraint },
        Kind::MissingReference => RepoError::MissingReference,
        Kind::Conflict => RepoError::Conflict,
        Kind::Unavailable => RepoError::unavailable(err),
        Kind::Unexpected => RepoError::unexpected(err),
    }
}

fn classify(err: &DbErr) -> Kind {
    match err {
        DbErr::ConnectionAcquire(ConnAcquireErr::Timeout | ConnAcquireErr::ConnectionClosed) => Kind::Unavailable,
        // Failing to open a connection is unavailability whatever the detail: a peer that drops the socket during
        // the handshake surfaces as a protocol error ("unexpected response from SSLRequest"), not as I/O.
        DbErr::Conn(_) => Kind::Unavailable,
        DbErr::Exec(runtime) | DbErr::Query(runtime) => match runtime {
            RuntimeErr::SqlxError(sqlx_err) => classify_sqlx(sqlx_err),
            RuntimeErr::Internal(_) => Kind::Unexpected,
        },
        DbErr::TryIntoErr { .. }
        | DbErr::ConvertFromU64(_)
        | DbErr::UnpackInsertId
        | DbErr::UpdateGetPrimaryKey
        | DbErr::RecordNotFound(_)
        | DbErr::AttrNotSet(_)
        | DbErr::Custom(_)
        | DbErr::Type(_)
        | DbErr::Json(_)
        | DbErr::Migration(_)
        | DbErr::RecordNotInserted
        | DbErr::RecordNotUpdated => Kind::Unexpected,
        // DbErr is non-exhaustive (RBAC, mutex poisoning, ...): none of the rest is a condition the domain names.
        _ => Kind::Unexpected,
    }
}

fn classify_sqlx(err: &sqlx::Error) -> Kind {
    match err {
        sqlx::Error::Database(db) => {
            let code = db.code().unwrap_or_default();
            match code.as_ref() {
                UNIQUE_VIOLATION => Kind::Duplicate(db.constraint().unwrap_or("unknown").to_owned()),
                FOREIGN_KEY_VIOLATION => Kind::MissingReference,
                c if CONFLICTS.contains(&c) => Kind::Conflict,
                c if UNAVAILABLE.contains(&c) || c.starts_with("08") => Kind::Unavailable,
                _ => Kind::Unexpected,
            }
        }
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::BeginFailed => Kind::Unavailable,
        _ => Kind::Unexpected,
    }
}

/// Wraps a row that does not fit the domain (a corrupt or hand-edited value) as [`RepoError::Unexpected`].
pub(crate) fn corrupt(what: &str, detail: impl std::fmt::Display) -> RepoError {
    RepoError::unexpected(format!("stored {what} is invalid: {detail}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_connection_failure_is_unavailable() {
        let handshake = DbErr::Conn(RuntimeErr::SqlxError(std::sync::Arc::new(sqlx::Error::Protocol(
            "unexpected response from SSLRequest".into(),
        ))));
        assert!(matches!(map_db_err(handshake), RepoError::Unavailable(_)));
        let internal = DbErr::Conn(RuntimeErr::Internal("connection closed".into()));
        assert!(matches!(map_db_err(internal), RepoError::Unavailable(_)));
    }
}
