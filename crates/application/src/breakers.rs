//! The circuit breakers of webhook receivers, one per webhook, shared by every instance.
//!
//! The state machine is the domain's ([`taskflow_domain::breaker`]); a [`BreakerStore`] only keeps each receiver's
//! state where every instance sees it (a PostgreSQL row, or memory for the embedded store) and applies one
//! transition per call atomically, so that, for example, among concurrent permits on a half-open breaker exactly one
//! is the probe, whichever instance asks. The sender asks [`BreakerStore::permit`] before each attempt: on
//! [`Permit::Reject`] it does not call the receiver and releases the delivery until `retry_at` without spending an
//! attempt; otherwise it reports the outcome with [`BreakerStore::record`], passing the permit's
//! [`Permit::kind`].

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use taskflow_domain::breaker::{BreakerPolicy, BreakerState, CallKind, Permit};
use taskflow_domain::{RepoError, WebhookId};

/// Where the breakers of webhook receivers live. A receiver never seen is closed with no failure.
#[async_trait]
pub trait BreakerStore: Send + Sync {
    /// Asks to call `receiver` at `now` and applies the answer's transition atomically (a probe marks the breaker
    /// half-open, so a concurrent permit is refused). A rejection changes nothing.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] or [`RepoError::Unexpected`]; [`RepoError::Conflict`] when the transition kept
    /// losing races with other instances (the caller may ask again).
    async fn permit(
        &self,
        receiver: WebhookId,
        policy: &BreakerPolicy,
        now: DateTime<Utc>,
    ) -> Result<Permit, RepoError>;

    /// Records the outcome of a call made under a permit of `kind`, at `now`, atomically; returns the new state.
    ///
    /// # Errors
    /// As [`Self::permit`].
    async fn record(
        &self,
        receiver: WebhookId,
        kind: CallKind,
        success: bool,
        policy: &BreakerPolicy,
        now: DateTime<Utc>,
    ) -> Result<BreakerState, RepoError>;

    /// The receiver's current state ([`BreakerState::CLOSED`] when never seen).
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] or [`RepoError::Unexpected`].
    async fn state(&self, receiver: WebhookId) -> Result<BreakerState, RepoError>;

    /// Closes the receiver's breaker with no failure counted (a webhook set `active: true` again).
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] or [`RepoError::Unexpected`].
    async fn reset(&self, receiver: WebhookId) -> Result<(), RepoError>;

    /// How many receivers refuse calls at `now` ([`BreakerState::refuses_calls_at`]: open within the cool-down, or
    /// half-open with the probe out), for the metrics.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] or [`RepoError::Unexpected`].
    async fn open_count(&self, now: DateTime<Utc>) -> Result<u64, RepoError>;
}
