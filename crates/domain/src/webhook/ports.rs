//! The storage ports of webhooks and their deliveries (re-exported by [`crate::ports`]).
//!
//! The queue is the database itself: deliveries are rows claimed with a lease, so a worker that dies mid-delivery
//! loses nothing (its lease expires and another worker claims the delivery again).

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use uuid::Uuid;

use super::{AttemptOutcome, Delivery, DeliveryStatus, Webhook, WebhookSecret, WebhookUrl};
use crate::error::RepoError;
use crate::events::DomainEvent;
use crate::ids::{DeliveryId, WebhookId};
use crate::policy::TaskScope;
use crate::query::{OwnerSummary, PageRequest};

/// Webhook subscriptions. `scope` limits what a caller sees: [`TaskScope::Owner`] for users, [`TaskScope::All`] for
/// admins (and workers).
#[async_trait]
pub trait WebhookRepository: Send + Sync {
    /// Stores a new webhook.
    ///
    /// # Errors
    /// [`RepoError::MissingReference`] when its owner does not exist.
    async fn insert(&self, hook: &Webhook) -> Result<(), RepoError>;

    /// The webhook with this id within `scope`.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] or [`RepoError::Unexpected`].
    async fn get(&self, id: WebhookId, scope: TaskScope) -> Result<Option<Webhook>, RepoError>;

    /// Every webhook within `scope`, oldest first (ties on id).
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] or [`RepoError::Unexpected`].
    async fn list(&self, scope: TaskScope) -> Result<Vec<Webhook>, RepoError>;

    /// How many webhooks `scope` holds (to enforce a per-user cap).
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] or [`RepoError::Unexpected`].
    async fn count(&self, scope: TaskScope) -> Result<u64, RepoError>;

    /// Stores a changed webhook; returns whether it still existed.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] or [`RepoError::Unexpected`].
    async fn update(&self, hook: &Webhook) -> Result<bool, RepoError>;

    /// Deletes the webhook with this id within `scope` and cancels its open deliveries, atomically; returns whether
    /// it existed. Its finished deliveries go with it.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] or [`RepoError::Unexpected`].
    async fn delete(&self, id: WebhookId, scope: TaskScope) -> Result<bool, RepoError>;
}

/// Identifies one claim of a delivery: only the holder of the current lease may finish or release it, so a worker
/// whose lease expired (and whose delivery was claimed again) cannot overwrite the newer attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LeaseToken(pub Uuid);

/// A delivery claimed by a worker, with everything needed to attempt it.
#[derive(Debug, Clone)]
pub struct ClaimedDelivery {
    /// The delivery.
    pub id: DeliveryId,
    /// This claim.
    pub lease: LeaseToken,
    /// The number of this attempt (1 for the first).
    pub attempt: u32,
    /// The webhook.
    pub webhook_id: WebhookId,
    /// Where to post.
    pub url: WebhookUrl,
    /// What to sign with.
    pub secret: WebhookSecret,
    /// The event to post.
    pub event: DomainEvent,
    /// The task owner's summary, as the posted task carries it (read when the delivery is claimed).
    pub owner: OwnerSummary,
}

/// The outcome of one attempt, to be recorded by [`DeliveryQueue::finish`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttemptRecord {
    /// The delivery.
    pub id: DeliveryId,
    /// The claim it was made under.
    pub lease: LeaseToken,
    /// The number of this attempt.
    pub attempt: u32,
    /// What happened.
    pub outcome: AttemptOutcome,
    /// When the attempt started.
    pub at: DateTime<Utc>,
    /// When to try again after a failure; `None` after a failure makes the delivery `dead`. Ignored on success and
    /// on 410 Gone (which deactivates the webhook and cancels its open deliveries, this one included).
    pub next_attempt_at: Option<DateTime<Utc>>,
}

/// What one relay round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RelayOutcome {
    /// Events taken from the outbox and marked relayed.
    pub events: usize,
    /// Deliveries created from them.
    pub deliveries: usize,
}

/// Figures for metrics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueFigures {
    /// Events not relayed yet.
    pub unrelayed_events: u64,
    /// When the oldest of them occurred.
    pub oldest_unrelayed: Option<DateTime<Utc>>,
    /// Deliveries by status (every status present, 0 where none).
    pub deliveries: Vec<(DeliveryStatus, u64)>,
}

/// What a retry by hand came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RetryOutcome {
    /// Sent back to `pending` with a fresh attempt budget.
    Retried(Delivery),
    /// Only `failed` and `dead` deliveries can be retried; this one is in another state.
    NotRetryable(DeliveryStatus),
}

/// The delivery queue: fan-out from the outbox, claims with leases, attempts and their outcomes.
#[async_trait]
pub trait DeliveryQueue: Send + Sync {
    /// Takes up to `limit` events not relayed yet, oldest first, and turns each into one `pending` delivery per active
    /// webhook of the event's owner that wants its kind (in one statement, not one per webhook), marking the events
    /// relayed in the same unit of work. Concurrent relays never relay one event twice. Events stay in the log.
    ///
    /// Relaying also publishes the events to the [`EventFeed`](crate::ports::EventFeed): relays take turns, and each
    /// numbers its events after those of the relays before it, in the order they were appended (for one task, their
    /// commit order), so that the feed's order is never contradicted by a later relay.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] or [`RepoError::Unexpected`].
    async fn relay(&self, limit: usize, now: DateTime<Utc>) -> Result<RelayOutcome, RepoError>;

    /// Claims up to `limit` deliveries that are due at `now` (`pending` or `failed` with `next_attempt_at <= now`, of
    /// active webhooks, and not leased, or leased with an expired lease), leasing each until `now + lease`. Two
    /// concurrent claims never return the same delivery. No lock outlives the call.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] or [`RepoError::Unexpected`].
    async fn claim(
        &self,
        limit: usize,
        now: DateTime<Utc>,
        lease: TimeDelta,
    ) -> Result<Vec<ClaimedDelivery>, RepoError> {
        self.claim_skipping(limit, now, lease, &[]).await
    }

    /// [`Self::claim`], leaving out the deliveries of the webhooks in `skip` (receivers that already have their
    /// share of this worker's attempts, so that it claims only what it can start).
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] or [`RepoError::Unexpected`].
    async fn claim_skipping(
        &self,
        limit: usize,
        now: DateTime<Utc>,
        lease: TimeDelta,
        skip: &[WebhookId],
    ) -> Result<Vec<ClaimedDelivery>, RepoError>;

    /// Records attempts (each also kept in the delivery's attempt log) and ends their leases. A record whose lease is
    /// no longer current is ignored.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] or [`RepoError::Unexpected`].
    async fn finish(&self, records: &[AttemptRecord]) -> Result<(), RepoError>;

    /// Ends leases without spending an attempt, making the deliveries due again at `at` (shutdown: now; an open
    /// circuit breaker: when it may be probed).
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] or [`RepoError::Unexpected`].
    async fn release(&self, leases: &[(DeliveryId, LeaseToken)], at: DateTime<Utc>) -> Result<(), RepoError>;

    /// One page of a webhook's deliveries, newest first (ties on id), optionally of one status, with the total.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] or [`RepoError::Unexpected`].
    async fn list(
        &self,
        webhook: WebhookId,
        status: Option<DeliveryStatus>,
        page: PageRequest,
    ) -> Result<(Vec<Delivery>, u64), RepoError>;

    /// Sends a `failed` or `dead` delivery of `webhook` back to `pending`, due at `now`, with a fresh attempt
    /// budget. `None` when the webhook has no such delivery.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] or [`RepoError::Unexpected`].
    async fn retry(
        &self,
        webhook: WebhookId,
        delivery: DeliveryId,
        now: DateTime<Utc>,
    ) -> Result<Option<RetryOutcome>, RepoError>;

    /// Deletes up to `limit` deliveries in a final state (`succeeded`, `dead`, `cancelled`) last changed before
    /// `before`, with their attempt logs; returns how many. Callers loop until it returns less than `limit`.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] or [`RepoError::Unexpected`].
    async fn prune(&self, before: DateTime<Utc>, limit: usize) -> Result<u64, RepoError>;

    /// The figures the metrics report.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] or [`RepoError::Unexpected`].
    async fn figures(&self) -> Result<QueueFigures, RepoError>;
}

/// The overdue scan's storage side.
#[async_trait]
pub trait OverdueScan: Send + Sync {
    /// Records a `task.overdue` event for up to `limit` tasks that are overdue at `now` (due date passed, not
    /// completed) and have no overdue event for their current due date yet; returns how many. A unique key on
    /// (task, due date) makes two concurrent scans record one event, whatever the timing.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] or [`RepoError::Unexpected`].
    async fn emit_overdue(&self, now: DateTime<Utc>, limit: usize) -> Result<usize, RepoError>;
}
