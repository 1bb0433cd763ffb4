//! A small circuit breaker: after N consecutive failures, calls fail fast for a cool-down, then one probe decides.
//!
//! Written by hand rather than taken from `failsafe` so its state machine runs on the domain's [`Clock`] and can be
//! tested step by step on a manual clock, without sleeping.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
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

/// The error of a call refused because the breaker is open (or its probe is still in flight).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the Redis circuit breaker is open")]
pub struct BreakerOpen;

#[derive(Debug, Clone, Copy)]
enum Inner {
    Closed { failures: u32 },
    Open { until: DateTime<Utc> },
    HalfOpen,
}

/// A consecutive-failures circuit breaker. Cheap to share behind an `Arc`.
pub struct CircuitBreaker {
    threshold: u32,
    cooldown: Duration,
    clock: Arc<dyn Clock>,
    inner: Mutex<Inner>,
}

impl fmt::Debug for CircuitBreaker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CircuitBreaker")
            .field("threshold", &self.threshold)
            .field("cooldown", &self.cooldown)
            .field("state", &self.state())
            .finish_non_exhaustive()
    }
}

impl CircuitBreaker {
    /// A closed breaker that opens after `threshold` consecutive failures (at least 1) for `cooldown`.
    #[must_use]
    pub fn new(threshold: u32, cooldown: Duration, clock: Arc<dyn Clock>) -> Self {
        metrics::gauge!(REDIS_BREAKER_STATE).set(BreakerState::Closed.gauge_value());
        Self { threshold: threshold.max(1), cooldown, clock, inner: Mutex::new(Inner::Closed { failures: 0 }) }
    }

    /// The current state. An open breaker whose cool-down has ended still reads `Open` until a call probes it.
    #[must_use]
    pub fn state(&self) -> BreakerState {
        match *self.lock() {
            Inner::Closed { .. } => BreakerState::Closed,
            Inner::Open { .. } => BreakerState::Open,
            Inner::HalfOpen => BreakerState::HalfOpen,
        }
    }

    /// Asks to make a call. The returned permit must be resolved with [`Permit::success`] or [`Permit::failure`].
    ///
    /// # Errors
    /// [`BreakerOpen`] while the breaker is open, or half-open with its probe still in flight.
    pub fn try_acquire(&self) -> Result<Permit<'_>, BreakerOpen> {
        let mut inner = self.lock();
        match *inner {
            Inner::Closed { .. } => Ok(Permit { breaker: self, probe: false, resolved: false }),
            Inner::Open { until } if self.clock.now() >= until => {
                self.transition(&mut inner, Inner::HalfOpen);
                Ok(Permit { breaker: self, probe: true, resolved: false })
            }
            Inner::Open { .. } | Inner::HalfOpen => Err(BreakerOpen),
        }
    }

    fn on_success(&self, probe: bool) {
        let mut inner = self.lock();
        match *inner {
            Inner::HalfOpen if probe => self.transition(&mut inner, Inner::Closed { failures: 0 }),
            Inner::Closed { .. } => *inner = Inner::Closed { failures: 0 },
            // A call that started before the breaker opened says little about now; the probe decides.
            _ => {}
        }
    }

    fn on_failure(&self, probe: bool) {
        let mut inner = self.lock();
        match *inner {
            Inner::HalfOpen if probe => self.open(&mut inner),
            Inner::Closed { failures } if failures + 1 >= self.threshold => self.open(&mut inner),
            Inner::Closed { failures } => *inner = Inner::Closed { failures: failures + 1 },
            _ => {}
        }
    }

    /// A probe dropped unresolved (its caller went away): let the next call probe at once.
    fn on_abandoned_probe(&self) {
        let mut inner = self.lock();
        if matches!(*inner, Inner::HalfOpen) {
            let until = self.clock.now();
            self.transition(&mut inner, Inner::Open { until });
        }
    }

    fn open(&self, inner: &mut Inner) {
        let until = self.clock.now() + TimeDelta::from_std(self.cooldown).unwrap_or(TimeDelta::MAX);
        self.transition(inner, Inner::Open { until });
    }

    fn transition(&self, inner: &mut Inner, to: Inner) {
        *inner = to;
        let state = match to {
            Inner::Closed { .. } => BreakerState::Closed,
            Inner::Open { .. } => BreakerState::Open,
            Inner::HalfOpen => BreakerState::HalfOpen,
        };
        match state {
            BreakerState::Open => tracing::warn!(cooldown = ?self.cooldown, "Redis circuit breaker opened"),
            BreakerState::Closed => tracing::info!("Redis circuit breaker closed"),
            BreakerState::HalfOpen => tracing::debug!("Redis circuit breaker half-open: probing"),
        }
        metrics::gauge!(REDIS_BREAKER_STATE).set(state.gauge_value());
        metrics::counter!(REDIS_BREAKER_TRANSITIONS, "to" => state.as_str()).increment(1);
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // The state is a plain value: a panic elsewhere cannot leave it half-written.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Leave to make one call; report how it went.
#[derive(Debug)]
#[must_use = "a permit must be resolved with success() or failure()"]
pub struct Permit<'a> {
    breaker: &'a CircuitBreaker,
    probe: bool,
    resolved: bool,
}

impl Permit<'_> {
    /// Whether this call is the half-open probe.
    #[must_use]
    pub const fn is_probe(&self) -> bool {
        self.probe
    }

    /// The call reached Redis and got an answer.
    pub fn success(mut self) {
        self.resolved = true;
        self.breaker.on_success(self.probe);
    }

    /// The call failed for an infrastructure reason (timeout, connection, pool).
    pub fn failure(mut self) {
        self.resolved = true;
        self.breaker.on_failure(self.probe);
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        if !self.resolved && self.probe {
            self.breaker.on_abandoned_probe();
        }
    }
}

#[cfg(test)]
#[path = "breaker_tests.rs"]
mod tests;
