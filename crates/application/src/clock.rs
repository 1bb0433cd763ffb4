//! The clocks: the system's, for production, and a manual one for tests. Every part of TaskFlow that needs the
//! time (use cases, expiries, rate limits, circuit breakers) reads it from the domain's [`Clock`] port, so one
//! [`ManualClock`] drives them all in a test.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use taskflow_domain::ports::Clock;

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that shows a set time until it is moved; clones share the same time.
#[derive(Debug, Clone)]
pub struct ManualClock {
    now: Arc<Mutex<DateTime<Utc>>>,
}

impl ManualClock {
    /// A clock showing `start`.
    #[must_use]
    pub fn new(start: DateTime<Utc>) -> Self {
        Self { now: Arc::new(Mutex::new(start)) }
    }

    /// Sets the time.
    pub fn set(&self, at: DateTime<Utc>) {
        *lock(&self.now) = at;
    }

    /// Moves the time by `by` (backwards when negative) and returns the new time.
    pub fn advance(&self, by: TimeDelta) -> DateTime<Utc> {
        let mut now = lock(&self.now);
        *now += by;
        *now
    }

    /// Moves the time forward by `by`.
    pub fn pass(&self, by: Duration) {
        self.advance(TimeDelta::from_std(by).unwrap_or(TimeDelta::MAX));
    }
}

fn lock(now: &Mutex<DateTime<Utc>>) -> MutexGuard<'_, DateTime<Utc>> {
    now.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *lock(&self.now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told_and_clones_share_it() {
        let clock = ManualClock::new(DateTime::UNIX_EPOCH);
        let clone = clock.clone();
        assert_eq!(clone.now(), DateTime::UNIX_EPOCH);
        clock.advance(TimeDelta::seconds(90));
        assert_eq!(clone.now(), DateTime::UNIX_EPOCH + TimeDelta::seconds(90), "the clone sees the advance");
        clone.set(DateTime::UNIX_EPOCH);
        assert_eq!(clock.now(), DateTime::UNIX_EPOCH, "set is shared too");
    }
}
