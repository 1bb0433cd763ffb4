//! Deliveries: one per (event, webhook), retried with exponential backoff until it succeeds or is dead.

use std::fmt;

use chrono::{DateTime, TimeDelta, Utc};

use crate::events::TaskEventKind;
use crate::ids::{DeliveryId, EventId, WebhookId};

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeliveryStatus {
    /// Not attempted yet (or sent back by a retry).
    Pending,
    /// The receiver answered 2xx.
    Succeeded,
    /// The last attempt failed and another is scheduled.
    Failed,
    /// No attempt is left.
    Dead,
    /// Its webhook was deleted or gone (410) before it succeeded.
    Cancelled,
}

/// A status name that is not a [`DeliveryStatus`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown delivery status {0:?}")]
pub struct UnknownDeliveryStatus(pub String);

impl DeliveryStatus {
    /// Every status.
    pub const ALL: [Self; 5] = [Self::Pending, Self::Succeeded, Self::Failed, Self::Dead, Self::Cancelled];

    /// The wire name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Dead => "dead",
            Self::Cancelled => "cancelled",
        }
    }

    /// Parses the wire name.
    ///
    /// # Errors
    /// [`UnknownDeliveryStatus`] for anything else.
    pub fn parse(raw: &str) -> Result<Self, UnknownDeliveryStatus> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw).ok_or_else(|| UnknownDeliveryStatus(raw.to_owned()))
    }

    /// Whether a worker may still attempt it.
    #[must_use]
    pub const fn is_open(self) -> bool {
        matches!(self, Self::Pending | Self::Failed)
    }

    /// Whether an owner may send it back to `pending` with a fresh attempt budget.
    #[must_use]
    pub const fn is_retryable(self) -> bool {
        matches!(self, Self::Failed | Self::Dead)
    }
}

/// One delivery as its owner sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// Its id (sent as `TaskFlow-Delivery`).
    pub id: DeliveryId,
    /// The webhook it goes to.
    pub webhook_id: WebhookId,
    /// The event it carries (sent as `webhook-id`).
    pub event_id: EventId,
    /// The event's kind.
    pub event: TaskEventKind,
    /// Where it stands.
    pub status: DeliveryStatus,
    /// Attempts made since it was created or last retried by hand.
    pub attempts: u32,
    /// When the next attempt is due, while it is open.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// The HTTP status of the last answer.
    pub last_status_code: Option<u16>,
    /// The class of the last failure.
    pub last_error: Option<String>,
    /// How long the last attempt took.
    pub duration_ms: Option<u32>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// Why an attempt failed, as a short class safe to show the owner (never a raw internal message).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FailureClass {
    /// No answer within the timeout.
    Timeout,
    /// The receiver refused the connection.
    ConnectionRefused,
    /// The connection failed or broke otherwise.
    Connection,
    /// The name did not resolve.
    Dns,
    /// The TLS handshake failed.
    Tls,
    /// The receiver answered a redirect, which is not followed.
    Redirect(u16),
    /// The receiver answered another non-2xx status.
    Status(u16),
    /// The URL resolved only to addresses TaskFlow does not call (private, loopback, metadata, ...).
    AddressNotAllowed,
    /// Anything else.
    Other,
}

impl fmt::Display for FailureClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Timeout => f.write_str("timeout"),
            Self::ConnectionRefused => f.write_str("connection refused"),
            Self::Connection => f.write_str("connection error"),
            Self::Dns => f.write_str("dns"),
            Self::Tls => f.write_str("tls"),
            Self::Redirect(code) => write!(f, "redirect {code}"),
            Self::Status(code) => write!(f, "status {code}"),
            Self::AddressNotAllowed => f.write_str("address not allowed"),
            Self::Other => f.write_str("error"),
        }
    }
}

/// What one attempt came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// A 2xx answer.
    Succeeded {
        /// The status.
        status: u16,
        /// How long it took.
        duration_ms: u32,
    },
    /// 410 Gone: the receiver asks never to be called again.
    Gone {
        /// How long it took.
        duration_ms: u32,
    },
    /// Anything else.
    Failed {
        /// Why.
        class: FailureClass,
        /// The status, when there was an answer.
        status: Option<u16>,
        /// The receiver's `Retry-After`, honoured on 429 and 503 only.
        retry_after: Option<TimeDelta>,
        /// How long it took.
        duration_ms: u32,
    },
}

impl AttemptOutcome {
    /// Whether the attempt counts as a success for the receiver's circuit breaker.
    #[must_use]
    pub const fn is_success(&self) -> bool {
        matches!(self, Self::Succeeded { .. })
    }
}

/// When to try again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    base: TimeDelta,
    max_attempts: u32,
}

impl RetryPolicy {
    /// No wait is ever longer than this.
    pub const CAP: TimeDelta = TimeDelta::hours(10);
    /// The jitter: each wait is within ±20 % of its nominal value.
    pub const JITTER: f64 = 0.2;

    /// Waits of `base × 2^(attempt-1)`; `dead` after `max_attempts` (at least 1) attempts.
    #[must_use]
    pub fn new(base: TimeDelta, max_attempts: u32) -> Self {
        Self { base: base.max(TimeDelta::zero()), max_attempts: max_attempts.max(1) }
    }

    /// The attempt budget.
    #[must_use]
    pub const fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The wait after the `attempt`-th failed attempt (1-based), with `jitter` in `[-1, 1]` scaling the ±20 %.
    #[must_use]
    pub fn backoff(&self, attempt: u32, jitter: f64) -> TimeDelta {
        let exp = attempt.saturating_sub(1).min(40);
        let nominal_ms = (self.base.num_milliseconds() as f64) * 2f64.powi(exp as i32);
        let jittered = nominal_ms * (1.0 + Self::JITTER * jitter.clamp(-1.0, 1.0));
        let cap_ms = Self::CAP.num_milliseconds() as f64;
        TimeDelta::milliseconds(jittered.clamp(0.0, cap_ms) as i64)
    }

    /// When the next attempt is due after the `attempt`-th failed one at `now`, or `None` when none is left.
    /// A `retry_after` from the receiver replaces the backoff, up to [`Self::CAP`].
    #[must_use]
    pub fn next_attempt(
        &self,
        attempt: u32,
        retry_after: Option<TimeDelta>,
        jitter: f64,
        now: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        if attempt >= self.max_attempts {
            return None;
        }
        let wait = retry_after.map_or_else(|| self.backoff(attempt, jitter), |r| r.clamp(TimeDelta::zero(), Self::CAP));
        Some(now + wait)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_within_twenty_percent_and_stop_at_the_cap() {
        let policy = RetryPolicy::new(TimeDelta::seconds(5), 8);
        assert_eq!(policy.backoff(1, 0.0), TimeDelta::seconds(5));
        assert_eq!(policy.backoff(3, 0.0), TimeDelta::seconds(20));
        assert_eq!(policy.backoff(3, 1.0), TimeDelta::seconds(24));
        assert_eq!(policy.backoff(3, -1.0), TimeDelta::seconds(16));
        assert_eq!(policy.backoff(30, 1.0), RetryPolicy::CAP);
    }

    #[test]
    fn the_last_attempt_leaves_nothing_and_retry_after_wins_up_to_the_cap() {
        let policy = RetryPolicy::new(TimeDelta::seconds(5), 3);
        let now = DateTime::<Utc>::UNIX_EPOCH;
        assert_eq!(policy.next_attempt(3, None, 0.0, now), None);
        assert_eq!(policy.next_attempt(2, None, 0.0, now), Some(now + TimeDelta::seconds(10)));
        assert_eq!(policy.next_attempt(1, Some(TimeDelta::seconds(90)), 0.0, now), Some(now + TimeDelta::seconds(90)));
        assert_eq!(policy.next_attempt(1, Some(TimeDelta::days(3)), 0.0, now), Some(now + RetryPolicy::CAP));
    }

    #[test]
    fn failure_classes_read_as_short_labels() {
        assert_eq!(FailureClass::Status(500).to_string(), "status 500");
        assert_eq!(FailureClass::ConnectionRefused.to_string(), "connection refused");
        assert_eq!(DeliveryStatus::parse("dead"), Ok(DeliveryStatus::Dead));
        assert!(DeliveryStatus::parse("gone").is_err());
    }
}
