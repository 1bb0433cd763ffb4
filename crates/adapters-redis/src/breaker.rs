//! The Redis client's circuit breaker: after N consecutive failures, calls fail fast for a cool-down, then one probe
//! decides.
//!
//! The state machine is the domain's ([`taskflow_domain::breaker`], shared with the webhook sender); this file only
//! keeps its state in process behind a mutex, reads the [`Clock`], resolves permits (a probe dropped unresolved lets
//! the next call probe at once) and records the metrics.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use chrono::TimeDelta;
use taskflow_domain::breaker::{self, BreakerPhase, BreakerPolicy, CallKind};
use taskflow_domain::ports::Clock;

use crate::metrics::{REDIS_BREAKER_STATE, REDIS_BREAKER_TRANSITIONS};

/// The breaker's state, for metrics and readiness.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    /// Calls go through; failures are being counted.
    Closed,
    /// Calls fail fast until the cool-down ends.
    Open,
    /// The cool-down ended: one probe call is in flight and decides.
    HalfOpen,
}

impl BreakerState {
    /// The value of the `redis_breaker_state` gauge: 0 closed, 1 half-open, 2 open.
    #[must_use]
    pub const fn gauge_value(self) -> f64 {
        match self {
            Self::Closed => 0.0,
            Self::HalfOpen => 1.0,
            Self::Open => 2.0,
        }
    }

    /// A lower-case name for logs and labels.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Closed => "closed",
            Self::HalfOpen => "half_open",
            Self::Open => "open",
        }
    }
}

impl From<BreakerPhase> for BreakerState {
    fn from(phase: BreakerPhase) -> Self {
        match phase {
            BreakerPhase::Closed => Self::Closed,
            BreakerPhase::Open => Self::Open,
            BreakerPhase::HalfOpen => Self::HalfOpen,
        }
    }
}

/// The error of a call refused because the breaker is open (or its probe is still in flight).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the Redis circuit breaker is open")]
pub struct BreakerOpen;

/// A consecutive-failures circuit breaker. Cheap to share behind an `Arc`.
pub struct CircuitBreaker {
    policy: BreakerPolicy,
    clock: Arc<dyn Clock>,
    inner: Mutex<breaker::BreakerState>,
}

impl fmt::Debug for CircuitBreaker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CircuitBreaker")
            .field("policy", &self.policy)
            .field("state", &self.state())
            .finish_non_exhaustive()
    }
}

impl CircuitBreaker {
    /// A closed breaker that opens after `threshold` consecutive failures (at least 1) for `cooldown`. A probe
    /// that has not reported within a cool-down is presumed lost (see [`Self::with_probe_timeout`]).
    #[must_use]
    pub fn new(threshold: u32, cooldown: Duration, clock: Arc<dyn Clock>) -> Self {
        metrics::gauge!(REDIS_BREAKER_STATE).set(BreakerState::Closed.gauge_value());
        let cooldown = delta(cooldown);
        Self {
            policy: BreakerPolicy::new(threshold, cooldown, cooldown),
            clock,
            inner: Mutex::new(breaker::BreakerState::CLOSED),
        }
    }

    /// The same breaker, letting another probe through once a probe has been out for `timeout` without
    /// reporting. A dropped probe already lets the next call probe at once; this bounds a probe that is neither
    /// resolved nor dropped, so it should be the longest one call can take.
    #[must_use]
    pub fn with_probe_timeout(mut self, timeout: Duration) -> Self {
        self.policy = BreakerPolicy::new(self.policy.threshold(), self.policy.cooldown(), delta(timeout));
        self
    }

    /// The current state. An open breaker whose cool-down has ended still reads `Open` until a call probes it.
    #[must_use]
    pub fn state(&self) -> BreakerState {
        self.lock().phase().into()
    }

    /// Asks to make a call. The returned permit must be resolved with [`Permit::success`] or [`Permit::failure`].
    ///
    /// # Errors
    /// [`BreakerOpen`] while the breaker is open, or half-open with its probe still in flight.
    pub fn try_acquire(&self) -> Result<Permit<'_>, BreakerOpen> {
        let now = self.clock.now();
        let kind = self.apply(|s| s.permit(&self.policy, now)).kind().ok_or(BreakerOpen)?;
        Ok(Permit { breaker: self, kind, resolved: false })
    }

    fn on_success(&self, kind: CallKind) {
        self.apply(|s| ((), s.on_success(kind)));
    }

    fn on_failure(&self, kind: CallKind) {
        let now = self.clock.now();
        self.apply(|s| ((), s.on_failure(kind, &self.policy, now)));
    }

    /// A probe dropped unresolved (its caller went away): let the next call probe at once.
    fn on_abandoned_probe(&self) {
        let now = self.clock.now();
        self.apply(|s| ((), s.on_abandoned_probe(now)));
    }

    /// Runs one transition of the machine under the lock, and reports a change of phase.
    fn apply<T>(&self, step: impl FnOnce(breaker::BreakerState) -> (T, breaker::BreakerState)) -> T {
        let mut inner = self.lock();
        let before = inner.phase();
        let (out, next) = step(*inner);
        *inner = next;
        if next.phase() != before {
            self.report(next.phase().into());
        }
        out
    }

    fn report(&self, state: BreakerState) {
        match state {
            BreakerState::Open => tracing::warn!(cooldown = ?self.policy.cooldown(), "Redis circuit breaker opened"),
            BreakerState::Closed => tracing::info!("Redis circuit breaker closed"),
            BreakerState::HalfOpen => tracing::debug!("Redis circuit breaker half-open: probing"),
        }
        metrics::gauge!(REDIS_BREAKER_STATE).set(state.gauge_value());
        metrics::counter!(REDIS_BREAKER_TRANSITIONS, "to" => state.as_str()).increment(1);
    }

    fn lock(&self) -> MutexGuard<'_, breaker::BreakerState> {
        // The state is a plain value: a panic elsewhere cannot leave it half-written.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A `Duration` as a `TimeDelta`, saturating.
fn delta(d: Duration) -> TimeDelta {
    TimeDelta::from_std(d).unwrap_or(TimeDelta::MAX)
}

/// Leave to make one call; report how it went.
#[derive(Debug)]
#[must_use = "a permit must be resolved with success() or failure()"]
pub struct Permit<'a> {
    breaker: &'a CircuitBreaker,
    kind: CallKind,
    resolved: bool,
}

impl Permit<'_> {
    /// Whether this call is the half-open probe.
    #[must_use]
    pub const fn is_probe(&self) -> bool {
        matches!(self.kind, CallKind::Probe)
    }

    /// The call reached Redis and got an answer.
    pub fn success(mut self) {
        self.resolved = true;
        self.breaker.on_success(self.kind);
    }

    /// The call failed for an infrastructure reason (timeout, connection, pool).
    pub fn failure(mut self) {
        self.resolved = true;
        self.breaker.on_failure(self.kind);
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        if !self.resolved && self.is_probe() {
            self.breaker.on_abandoned_probe();
        }
    }
}

#[cfg(test)]
#[path = "breaker_tests.rs"]
mod tests;
