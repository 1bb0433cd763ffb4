//! The ports that exist because of how TaskFlow is delivered, not because of its business rules: rate limits,
//! idempotent retries, the shared read cache and health checks. The domain knows nothing of them; the application's
//! services drive them, and `adapters-memory` and `adapters-redis` (and `adapters-postgres` for idempotency keys and
//! health) implement them, held to the same contract suites as the domain's ports.

use std::time::Duration;

use async_trait::async_trait;
use taskflow_domain::{RepoError, UserId};

/// An `Idempotency-Key`: 1..=255 printable ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

/// Why a header value is not an [`IdempotencyKey`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("an idempotency key must be 1 to 255 printable ASCII characters")]
pub struct IdempotencyKeyError;

impl IdempotencyKey {
    /// The longest key accepted.
    pub const MAX_LEN: usize = 255;

    /// Validates a key.
    ///
    /// # Errors
    /// [`IdempotencyKeyError`] when it is empty, too long or not printable ASCII.
    pub fn parse(raw: &str) -> Result<Self, IdempotencyKeyError> {
        let ok = !raw.is_empty() && raw.len() <= Self::MAX_LEN && raw.bytes().all(|b| (0x20..=0x7e).contains(&b));
        if ok { Ok(Self(raw.to_owned())) } else { Err(IdempotencyKeyError) }
    }

    /// The key, as presented.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for IdempotencyKey {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// A response kept for replay under an idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    /// The status code.
    pub status: u16,
    /// The headers worth replaying (such as `Location`, `ETag`, `Content-Type`).
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

/// What [`IdempotencyStore::begin`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotencyBegin {
    /// The key was new: the caller runs the request and then completes or releases the key.
    Started,
    /// The first request with this key is still running.
    InProgress,
    /// The key was used with a different request.
    Mismatch,
    /// The key's request finished: replay this.
    Completed(StoredResponse),
}

/// A rate limiter's verdict on one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateDecision {
    /// Whether the request may go ahead.
    pub allowed: bool,
    /// The limit per period.
    pub limit: u32,
    /// Requests left in the current period after this one.
    pub remaining: u32,
    /// Time until the limit is fully restored.
    pub reset_after: Duration,
    /// When refused: time until one request would be allowed.
    pub retry_after: Option<Duration>,
}

/// A rate limiter shared by every instance that uses the same backing store.
#[async_trait]
pub trait RateLimiter: Send + Sync {
    /// Counts one request against `key` (`limit` per `period`) and decides it, atomically.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] when the backing store cannot be reached.
    async fn check(&self, key: &str, limit: u32, period: Duration) -> Result<RateDecision, RepoError>;
}

/// Idempotency keys, seen by every instance.
#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    /// Claims `key` for `owner` and a request with `fingerprint`, or reports what the key already holds.
    /// A claim is a lease of `ttl`: when it lapses without [`Self::complete`] (the request died), the key is free
    /// again, so a client's retry is not refused for long.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] or [`RepoError::Unexpected`].
    async fn begin(
        &self,
        owner: UserId,
        key: &IdempotencyKey,
        fingerprint: &str,
        ttl: Duration,
    ) -> Result<IdempotencyBegin, RepoError>;

    /// Stores the response of the request that claimed `key`, for replay during `ttl`.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] or [`RepoError::Unexpected`].
    async fn complete(
        &self,
        owner: UserId,
        key: &IdempotencyKey,
        response: &StoredResponse,
        ttl: Duration,
    ) -> Result<(), RepoError>;

    /// Frees a claimed key whose request failed, so a retry can run it.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] or [`RepoError::Unexpected`].
    async fn release(&self, owner: UserId, key: &IdempotencyKey) -> Result<(), RepoError>;
}

/// A byte cache shared by every instance that uses the same backing store.
#[async_trait]
pub trait CacheStore: Send + Sync {
    /// The value under `key`, if present and not expired.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] when the backing store cannot be reached.
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, RepoError>;

    /// Stores `value` under `key` for `ttl`.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] when the backing store cannot be reached.
    async fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), RepoError>;

    /// Atomically increments the counter under `key` (0 when absent or expired), sets its expiry to `ttl` from now,
    /// and returns the new value.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] when the backing store cannot be reached.
    async fn incr(&self, key: &str, ttl: Duration) -> Result<u64, RepoError>;

    /// Increments every counter of `keys` as [`CacheStore::incr`] does, all or none, in one round trip where the
    /// store allows (a command's invalidation).
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] when the backing store cannot be reached: any of them may have been incremented.
    async fn incr_all(&self, keys: &[String], ttl: Duration) -> Result<(), RepoError> {
        for key in keys {
            self.incr(key, ttl).await?;
        }
        Ok(())
    }

    /// Reads the counter under `generation_key` (0 when absent) and the value under
    /// `{key_prefix}{generation}{key_suffix}`: a generation-keyed read, in one round trip where the store allows.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] when the backing store cannot be reached.
    async fn get_generational(
        &self,
        generation_key: &str,
        key_prefix: &str,
        key_suffix: &str,
    ) -> Result<(u64, Option<Vec<u8>>), RepoError>;
}

/// The health of one dependency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComponentHealth {
    /// Whether it answers.
    pub up: bool,
    /// What it is (`postgres`, `redis`, `in-memory`).
    pub kind: &'static str,
    /// How long the check took.
    pub latency: Duration,
}

/// Checks one dependency.
#[async_trait]
pub trait HealthProbe: Send + Sync {
    /// Checks the dependency; never fails, a failure is `up: false`.
    async fn check(&self) -> ComponentHealth;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idempotency_key_boundaries() {
        assert!(IdempotencyKey::parse("").is_err());
        assert!(IdempotencyKey::parse("a").is_ok());
        assert!(IdempotencyKey::parse(&"k".repeat(255)).is_ok());
        assert!(IdempotencyKey::parse(&"k".repeat(256)).is_err());
        assert!(IdempotencyKey::parse("tab\there").is_err());
        assert!(IdempotencyKey::parse("ünicode").is_err());
        assert!(IdempotencyKey::parse("with space and ~!").is_ok());
    }
}

/// One signed `POST` of an event to a webhook, as the sender is asked to make it.
#[derive(Debug, Clone, Copy)]
pub struct OutgoingWebhook<'a> {
    /// The receiver.
    pub url: &'a taskflow_domain::webhook::WebhookUrl,
    /// The HMAC key.
    pub secret: &'a taskflow_domain::webhook::WebhookSecret,
    /// `webhook-id`: the event's id, the same on every retry.
    pub message_id: taskflow_domain::EventId,
    /// `TaskFlow-Delivery`.
    pub delivery_id: taskflow_domain::DeliveryId,
    /// `TaskFlow-Event`.
    pub event: taskflow_domain::events::TaskEventKind,
    /// `webhook-timestamp`: when this attempt is made.
    pub timestamp: chrono::DateTime<chrono::Utc>,
    /// The JSON body, exactly as signed.
    pub body: &'a [u8],
}

/// Why a webhook URL is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum UrlRefusal {
    /// The host is, or resolves to, an address TaskFlow does not call (loopback, private, link-local, CGNAT,
    /// unspecified, multicast, documentation, metadata).
    #[error("url must not point to a private, loopback or reserved address")]
    AddressNotAllowed,
    /// The host name does not resolve.
    #[error("url host does not resolve")]
    Unresolvable,
}

/// Sends webhook deliveries: signs them the Standard Webhooks way and posts them, never following redirects, within
/// a timeout, and only to public addresses (checked against the addresses actually connected to).
#[async_trait]
pub trait WebhookSender: Send + Sync {
    /// Makes one attempt. Never fails: every failure is an [`AttemptOutcome`] with its class.
    ///
    /// [`AttemptOutcome`]: taskflow_domain::webhook::AttemptOutcome
    async fn send(&self, request: OutgoingWebhook<'_>) -> taskflow_domain::webhook::AttemptOutcome;

    /// Checks a URL when a webhook is created or changed: its host must be, or resolve only to, public addresses.
    ///
    /// # Errors
    /// [`UrlRefusal`] naming why.
    async fn vet(&self, url: &taskflow_domain::webhook::WebhookUrl) -> Result<(), UrlRefusal>;
}

/// Wakes background workers when new work may exist (new events, new or released deliveries), or the live event
/// streams when events were published. Wake-ups may be spurious or coalesced; waiters also poll slowly, so a lost
/// wake-up delays work but never loses it.
pub trait WorkSignal: Send + Sync {
    /// A future that resolves at the next wake-up after this call. It listens from the call on, not from its first
    /// poll, so a waiter may take it, do a round of work, and then await it without missing a wake-up sent during
    /// the round.
    fn wait(&self) -> futures::future::BoxFuture<'_, ()>;
}

/// A named role that at most one instance holds at a time (the overdue scheduler), with an expiry so that a dead
/// holder's role passes on.
#[async_trait]
pub trait JobLease: Send + Sync {
    /// Takes or renews the role `name` for `holder` until `now + ttl`; returns whether `holder` holds it now.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] or [`RepoError::Unexpected`].
    async fn try_hold(
        &self,
        name: &str,
        holder: uuid::Uuid,
        ttl: Duration,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<bool, RepoError>;

    /// Gives the role up if `holder` holds it (on shutdown), so another instance takes it at once.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] or [`RepoError::Unexpected`].
    async fn release(&self, name: &str, holder: uuid::Uuid) -> Result<(), RepoError>;
}

/// Writes events in their published form. The wire shapes belong to the HTTP adapter (the task in a webhook body is
/// the task exactly as `GET /tasks/:id` shows it), so the jobs ask it instead of keeping a second copy.
pub trait EventEncoder: Send + Sync {
    /// The JSON body of a webhook delivery: `{"id", "type", "occurredAt", "data": {"task": Task}}`.
    fn webhook_body(
        &self,
        event: &taskflow_domain::events::DomainEvent,
        owner: &taskflow_domain::query::OwnerSummary,
    ) -> Vec<u8>;
}
