//! Attempting deliveries: the breaker is asked first, the event is posted, the breaker and the delivery record the
//! outcome, and a failure is scheduled again by the [`RetryPolicy`] or ends `dead`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use taskflow_domain::breaker::{BreakerPolicy, BreakerState, CallKind, Permit};
use taskflow_domain::ports::{AttemptRecord, ClaimedDelivery, Clock, DeliveryQueue, LeaseToken};
use taskflow_domain::webhook::{AttemptOutcome, RetryPolicy};
use taskflow_domain::{DeliveryId, RepoError, WebhookId};

use super::metrics_names::{
    WEBHOOK_ATTEMPTS, WEBHOOK_BREAKER_REJECTIONS, WEBHOOK_BREAKERS_OPEN, WEBHOOK_DELIVERY_LATENCY,
};
use crate::breakers::BreakerStore;
use crate::ports::{EventEncoder, OutgoingWebhook, WebhookSender};

/// How deliveries are attempted.
#[derive(Debug, Clone, Copy)]
pub struct DeliverySettings {
    /// Backoff and attempt budget (`WEBHOOK_RETRY_BASE_MS`, `WEBHOOK_MAX_ATTEMPTS`).
    pub retry: RetryPolicy,
    /// The receivers' circuit breaker (`WEBHOOK_BREAKER_THRESHOLD`, `WEBHOOK_BREAKER_COOLDOWN_SECS`).
    pub breaker: BreakerPolicy,
    /// How long a claim lasts: longer than one attempt (the sender's timeout) with a margin, so that only a worker
    /// that died loses its claims.
    pub lease: Duration,
}

/// How soon deliveries held back by a receiver's probe look again.
const PROBE_RECHECK: TimeDelta = TimeDelta::seconds(1);

/// What became of one claimed delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempted {
    /// An attempt was made; record it.
    Made(AttemptRecord),
    /// The receiver's breaker is open: no attempt was made or spent; release the claim until `until`.
    Postponed {
        /// The delivery.
        id: DeliveryId,
        /// Its claim.
        lease: LeaseToken,
        /// When it may be tried again.
        until: DateTime<Utc>,
    },
}

impl Attempted {
    /// When the delivery is due again, if it is still open (a failure with attempts left, or a postponement).
    #[must_use]
    pub const fn due_again(&self) -> Option<DateTime<Utc>> {
        match self {
            Self::Made(record) => record.next_attempt_at,
            Self::Postponed { until, .. } => Some(*until),
        }
    }
}

/// Claims, attempts and records deliveries. Cheap to share.
#[derive(Clone)]
pub struct Dispatcher {
    queue: Arc<dyn DeliveryQueue>,
    sender: Arc<dyn WebhookSender>,
    encoder: Arc<dyn EventEncoder>,
    breakers: Arc<dyn BreakerStore>,
    clock: Arc<dyn Clock>,
    settings: DeliverySettings,
    /// Receivers whose shared breaker this instance last saw closed with no failure, and when.
    healthy: Arc<Mutex<HashMap<WebhookId, DateTime<Utc>>>>,
}

/// How long a receiver seen healthy is called without asking its shared breaker (and its successes are not
/// reported): the breaker costs no round trip while a receiver answers well, and a breaker opened by another
/// instance is obeyed here within this time.
const HEALTHY_FOR: TimeDelta = TimeDelta::seconds(1);
/// Receivers remembered as healthy at most (the memory is cleared past this: it is only a shortcut).
const HEALTHY_MAX: usize = 10_000;

impl Dispatcher {
    /// A dispatcher over these ports.
    #[must_use]
    pub fn new(
        queue: Arc<dyn DeliveryQueue>,
        sender: Arc<dyn WebhookSender>,
        encoder: Arc<dyn EventEncoder>,
        breakers: Arc<dyn BreakerStore>,
        clock: Arc<dyn Clock>,
        settings: DeliverySettings,
    ) -> Self {
        Self { queue, sender, encoder, breakers, clock, settings, healthy: Arc::default() }
    }

    /// The settings.
    #[must_use]
    pub const fn settings(&self) -> &DeliverySettings {
        &self.settings
    }

    /// How long until `at` by the dispatcher's clock (zero when it has passed).
    #[must_use]
    pub fn until(&self, at: DateTime<Utc>) -> Duration {
        (at - self.clock.now()).to_std().unwrap_or(Duration::ZERO)
    }

    /// Claims up to `limit` due deliveries, none of the receivers in `skip`.
    ///
    /// # Errors
    /// When the queue cannot be reached.
    pub async fn claim(&self, limit: usize, skip: &[WebhookId]) -> Result<Vec<ClaimedDelivery>, RepoError> {
        let lease = TimeDelta::from_std(self.settings.lease).unwrap_or(TimeDelta::minutes(1));
        self.queue.claim_skipping(limit, self.clock.now(), lease, skip).await
    }

    /// Attempts one claimed delivery (unless its receiver's breaker is open). Never fails: a breaker store that
    /// cannot be reached lets the attempt go ahead, since the attempt's own outcome is recorded anyway.
    pub async fn attempt(&self, claimed: &ClaimedDelivery) -> Attempted {
        let policy = &self.settings.breaker;
        let started = self.clock.now();
        let seen_healthy = self.seen_healthy(claimed.webhook_id, started);
        let permit = if seen_healthy {
            Ok(Permit::Call)
        } else {
            self.breakers.permit(claimed.webhook_id, policy, started).await
        };
        let kind = match permit {
            Ok(Permit::Reject { retry_at }) => {
                metrics::counter!(WEBHOOK_BREAKER_REJECTIONS).increment(1);
                let until = self.postponed_until(claimed, retry_at, started).await;
                tracing::debug!(delivery_id = %claimed.id, %until, "receiver's breaker refused; postponed");
                return Attempted::Postponed { id: claimed.id, lease: claimed.lease, until };
            }
            Ok(permit) => permit.kind().unwrap_or(CallKind::Regular),
            Err(err) => {
                tracing::warn!(error = %err, webhook_id = %claimed.webhook_id, "breaker unreadable; attempting");
                CallKind::Regular
            }
        };
        let body = self.encoder.webhook_body(&claimed.event, &claimed.owner);
        let outcome = self
            .sender
            .send(OutgoingWebhook {
                url: &claimed.url,
                secret: &claimed.secret,
                message_id: claimed.event.id,
                delivery_id: claimed.id,
                event: claimed.event.kind,
                timestamp: started,
                body: &body,
            })
            .await;
        let finished = self.clock.now();
        if !(seen_healthy && outcome.is_success()) {
            match self.breakers.record(claimed.webhook_id, kind, outcome.is_success(), policy, finished).await {
                Ok(state) => self.remember(claimed.webhook_id, state, finished),
                Err(err) => tracing::warn!(error = %err, webhook_id = %claimed.webhook_id, "breaker not updated"),
            }
        }
        let next_attempt_at = match outcome {
            AttemptOutcome::Failed { retry_after, .. } => self.settings.retry.next_attempt(
                claimed.attempt,
                retry_after,
                jitter(claimed.id, claimed.attempt),
                finished,
            ),
            AttemptOutcome::Succeeded { .. } | AttemptOutcome::Gone { .. } => None,
        };
        observe(claimed, &outcome, next_attempt_at.is_none(), finished);
        Attempted::Made(AttemptRecord {
            id: claimed.id,
            lease: claimed.lease,
            attempt: claimed.attempt,
            outcome,
            at: started,
            next_attempt_at,
        })
    }

    fn seen_healthy(&self, receiver: WebhookId, now: DateTime<Utc>) -> bool {
        let healthy = self.healthy.lock().unwrap_or_else(PoisonError::into_inner);
        healthy.get(&receiver).is_some_and(|seen| now - *seen < HEALTHY_FOR)
    }

    fn remember(&self, receiver: WebhookId, state: BreakerState, now: DateTime<Utc>) {
        let mut healthy = self.healthy.lock().unwrap_or_else(PoisonError::into_inner);
        if state == BreakerState::CLOSED {
            if healthy.len() >= HEALTHY_MAX {
                healthy.clear();
            }
            healthy.insert(receiver, now);
        } else {
            healthy.remove(&receiver);
        }
    }

    /// When a delivery refused by its receiver's breaker is due again. An open breaker says when its cool-down
    /// ends. A half-open one names its probe's deadline, which is far off (a whole attempt's time), while the probe
    /// itself usually answers within moments and, if it succeeds, closes the breaker: those deliveries look again
    /// after [`PROBE_RECHECK`] instead.
    async fn postponed_until(
        &self,
        claimed: &ClaimedDelivery,
        retry_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> DateTime<Utc> {
        // Read after the refusal: the probe may have closed or reopened the breaker meanwhile, so only the state
        // as it is now says how long to wait.
        match self.breakers.state(claimed.webhook_id).await {
            Ok(BreakerState::Open { until }) => until,
            Ok(_) | Err(_) => retry_at.min(now + PROBE_RECHECK),
        }
    }

    /// Records attempts and postponements, ending their claims.
    ///
    /// # Errors
    /// When the queue cannot be reached; the claims then expire and the deliveries are attempted again.
    pub async fn record(&self, done: &[Attempted]) -> Result<(), RepoError> {
        let made: Vec<AttemptRecord> = done
            .iter()
            .filter_map(|a| match a {
                Attempted::Made(r) => Some(*r),
                Attempted::Postponed { .. } => None,
            })
            .collect();
        if !made.is_empty() {
            self.queue.finish(&made).await?;
        }
        // Postponements are grouped by their time (one per open breaker, usually).
        let mut postponed: Vec<(DateTime<Utc>, DeliveryId, LeaseToken)> = done
            .iter()
            .filter_map(|a| match a {
                Attempted::Postponed { id, lease, until } => Some((*until, *id, *lease)),
                Attempted::Made(_) => None,
            })
            .collect();
        postponed.sort_by_key(|p| p.0);
        for group in postponed.chunk_by(|a, b| a.0 == b.0) {
            let leases: Vec<_> = group.iter().map(|p| (p.1, p.2)).collect();
            self.queue.release(&leases, group[0].0).await?;
        }
        Ok(())
    }

    /// Ends claims without spending attempts, due again after `delay` (a receiver that has its share in flight).
    ///
    /// # Errors
    /// When the queue cannot be reached; the claims then expire instead.
    pub async fn postpone(&self, leases: &[(DeliveryId, LeaseToken)], delay: Duration) -> Result<(), RepoError> {
        let delay = TimeDelta::from_std(delay).unwrap_or(TimeDelta::seconds(1));
        self.queue.release(leases, self.clock.now() + delay).await
    }

    /// Publishes how many receivers' breakers are open.
    ///
    /// # Errors
    /// When the breaker store cannot be reached.
    pub async fn report(&self) -> Result<(), RepoError> {
        let open = self.breakers.open_count(self.clock.now()).await?;
        metrics::gauge!(WEBHOOK_BREAKERS_OPEN).set(open as f64);
        Ok(())
    }

    /// Ends claims without spending attempts, due again now (at shutdown).
    ///
    /// # Errors
    /// When the queue cannot be reached; the claims then expire instead.
    pub async fn release_now(&self, leases: &[(DeliveryId, LeaseToken)]) -> Result<(), RepoError> {
        if leases.is_empty() {
            return Ok(());
        }
        self.queue.release(leases, self.clock.now()).await
    }
}

/// Metrics and the log line of a failed attempt (never the secret nor the receiver's body).
fn observe(claimed: &ClaimedDelivery, outcome: &AttemptOutcome, last: bool, now: DateTime<Utc>) {
    match outcome {
        AttemptOutcome::Succeeded { .. } => {
            metrics::counter!(WEBHOOK_ATTEMPTS, "outcome" => "succeeded", "class" => "").increment(1);
            let latency = (now - claimed.event.occurred_at).to_std().unwrap_or_default();
            metrics::histogram!(WEBHOOK_DELIVERY_LATENCY).record(latency.as_secs_f64());
        }
        AttemptOutcome::Gone { .. } => {
            metrics::counter!(WEBHOOK_ATTEMPTS, "outcome" => "gone", "class" => "status 410").increment(1);
            tracing::warn!(
                webhook_id = %claimed.webhook_id,
                delivery_id = %claimed.id,
                attempt = claimed.attempt,
                "webhook answered 410 Gone; deactivating it"
            );
        }
        AttemptOutcome::Failed { class, .. } => {
            let class = class.to_string();
            tracing::warn!(
                webhook_id = %claimed.webhook_id,
                delivery_id = %claimed.id,
                attempt = claimed.attempt,
                error = %class,
                dead = last,
                "webhook delivery attempt failed"
            );
            metrics::counter!(WEBHOOK_ATTEMPTS, "outcome" => "failed", "class" => class).increment(1);
        }
    }
}

/// A jitter in `[-1, 1]` that depends only on the delivery and the attempt (splitmix64): spread across deliveries,
/// reproducible in tests.
fn jitter(id: DeliveryId, attempt: u32) -> f64 {
    let bits = id.as_uuid().as_u128();
    let mut z = (bits as u64) ^ ((bits >> 64) as u64) ^ u64::from(attempt).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_within_bounds_and_varies() {
        let values: Vec<f64> =
            (0..1000u128).map(|i| jitter(DeliveryId::from_uuid(uuid::Uuid::from_u128(i * 7919)), 1)).collect();
        assert!(values.iter().all(|v| (-1.0..=1.0).contains(v)));
        let (min, max) = values.iter().fold((1f64, -1f64), |(lo, hi), v| (lo.min(*v), hi.max(*v)));
        assert!(min < -0.9 && max > 0.9, "spread over the whole range: {min}..{max}");
    }
}
