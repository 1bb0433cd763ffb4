//! A monotonic time source that tests can move forward.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Monotonic time for expiries and rate limits: the time since the clock was made, plus any time it was advanced
/// by. A [`MonotonicClock::manual`] clock stands still until advanced, so tests need no sleeping.
///
/// Clones share the same time.
#[derive(Debug, Clone)]
pub struct MonotonicClock {
    origin: Option<Instant>,
    offset_nanos: Arc<AtomicU64>,
}

impl MonotonicClock {
    /// A clock that follows the system's monotonic time.
    #[must_use]
    pub fn system() -> Self {
        Self { origin: Some(Instant::now()), offset_nanos: Arc::default() }
    }

    /// A clock that moves only when [`Self::advance`] is called.
    #[must_use]
    pub fn manual() -> Self {
        Self { origin: None, offset_nanos: Arc::default() }
    }

    /// The time elapsed since the clock was made, advances included.
    #[must_use]
    pub fn elapsed(&self) -> Duration {
        let real = self.origin.map_or(Duration::ZERO, |o| o.elapsed());
        real + Duration::from_nanos(self.offset_nanos.load(Ordering::Acquire))
    }

    /// Moves the clock (and every clone of it) forward.
    pub fn advance(&self, by: Duration) {
        let nanos = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        self.offset_nanos.fetch_add(nanos, Ordering::AcqRel);
    }
}

impl Default for MonotonicClock {
    fn default() -> Self {
        Self::system()
    }
}
