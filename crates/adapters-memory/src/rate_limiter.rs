//! [`InMemoryRateLimiter`]: the generic cell rate algorithm (GCRA), per key, in process memory.
//!
//! Each key stores one instant, its theoretical arrival time (TAT). With an emission interval `T = period / limit`
//! a request at `now` is allowed when `max(TAT, now) + T - now <= period`, which allows a burst of exactly `limit`
//! and then one request per `T`; allowing moves the TAT forward by `T`, refusing leaves it alone.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use taskflow_domain::RepoError;
use taskflow_domain::ports::Clock;

use crate::locks::lock;
use crate::time::Elapsed;
use taskflow_application::ports::{RateDecision, RateLimiter};

/// How many checks pass between two sweeps of keys that are back at full capacity.
const SWEEP_EVERY: u64 = 4096;

/// A GCRA rate limiter for one process.
#[derive(Debug, Default)]
pub struct InMemoryRateLimiter {
    time: Elapsed,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// Theoretical arrival time per key, on `time`.
    tats: HashMap<String, Duration>,
    checks: u64,
}

impl InMemoryRateLimiter {
    /// A limiter on the system's clock.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// A limiter on `clock` (a manual one in tests).
    #[must_use]
    pub fn with_clock(clock: Arc<dyn Clock>) -> Self {
        let time = Elapsed::on(clock);
        Self { time, state: Mutex::default() }
    }
}

/// Decides one request at `now` against a key whose TAT is `tat`; returns the decision and the new TAT.
fn decide(tat: Option<Duration>, now: Duration, limit: u32, period: Duration) -> (RateDecision, Option<Duration>) {
    if limit == 0 {
        let refused = RateDecision {
            allowed: false,
            limit,
            remaining: 0,
            reset_after: Duration::ZERO,
            retry_after: Some(period),
        };
        return (refused, None);
    }
    let interval = (period / limit).max(Duration::from_nanos(1));
    let tat = tat.unwrap_or(now).max(now);
    let new_tat = tat + interval;
    let debt = new_tat - now;
    if debt > period {
        let decision = RateDecision {
            allowed: false,
            limit,
            remaining: 0,
            reset_after: tat - now,
            retry_after: Some(debt - period),
        };
        return (decision, None);
    }
    let spare = (period - debt).as_nanos() / interval.as_nanos();
    let remaining = u32::try_from(spare).unwrap_or(u32::MAX).min(limit - 1);
    (RateDecision { allowed: true, limit, remaining, reset_after: debt, retry_after: None }, Some(new_tat))
}

#[async_trait]
impl RateLimiter for InMemoryRateLimiter {
    async fn check(&self, key: &str, limit: u32, period: Duration) -> Result<RateDecision, RepoError> {
        let now = self.time.elapsed();
        let mut state = lock(&self.state);
        state.checks += 1;
        if state.checks.is_multiple_of(SWEEP_EVERY) {
            state.tats.retain(|_, tat| *tat > now);
        }
        let (decision, new_tat) = decide(state.tats.get(key).copied(), now, limit, period);
        if let Some(tat) = new_tat {
            state.tats.insert(key.to_owned(), tat);
        }
        Ok(decision)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: Duration = Duration::from_secs(60);

    #[tokio::test]
    async fn a_burst_of_limit_is_allowed_then_one_per_interval() {
        // Arrange
        let time = Arc::new(taskflow_application::clock::ManualClock::new(chrono::DateTime::UNIX_EPOCH));
        let limiter = InMemoryRateLimiter::with_clock(time.clone());

        // Act
        let mut burst = Vec::new();
        for _ in 0..4 {
            burst.push(limiter.check("k", 3, MINUTE).await.expect("check"));
        }
        time.pass(Duration::from_secs(20));
        let after_interval = limiter.check("k", 3, MINUTE).await.expect("check");
        let right_after = limiter.check("k", 3, MINUTE).await.expect("check");

        // Assert
        assert_eq!(burst.iter().map(|d| d.allowed).collect::<Vec<_>>(), [true, true, true, false], "burst of 3");
        assert_eq!(burst.iter().map(|d| d.remaining).collect::<Vec<_>>(), [2, 1, 0, 0], "remaining counts down");
        assert_eq!(burst[0].reset_after, Duration::from_secs(20), "one request takes one interval to restore");
        assert_eq!(burst[2].reset_after, MINUTE, "a full burst takes the period to restore");
        assert_eq!(burst[3].retry_after, Some(Duration::from_secs(20)), "retry after one interval");
        assert!(after_interval.allowed, "one request is back after one interval");
        assert_eq!(right_after.retry_after, Some(Duration::from_secs(20)), "and only one");
    }

    #[tokio::test]
    async fn a_full_period_restores_the_whole_burst() {
        // Arrange
        let time = Arc::new(taskflow_application::clock::ManualClock::new(chrono::DateTime::UNIX_EPOCH));
        let limiter = InMemoryRateLimiter::with_clock(time.clone());
        for _ in 0..5 {
            limiter.check("k", 5, MINUTE).await.expect("check");
        }

        // Act
        time.pass(MINUTE);
        let decision = limiter.check("k", 5, MINUTE).await.expect("check");

        // Assert
        assert!(decision.allowed, "allowed again");
        assert_eq!(decision.remaining, 4, "the whole burst is back");
    }

    #[tokio::test]
    async fn a_zero_limit_refuses_everything() {
        let decision = InMemoryRateLimiter::new().check("k", 0, MINUTE).await.expect("check");
        assert!(!decision.allowed, "nothing is allowed");
        assert_eq!(decision.retry_after, Some(MINUTE), "retry after a period");
    }
}
