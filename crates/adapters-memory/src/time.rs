//! Elapsed time on the domain's clock, for the expiries and rate limits of the in-process stores.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use taskflow_application::clock::SystemClock;
use taskflow_domain::ports::Clock;

/// The time since this was made, read on a [`Clock`] (a manual one in tests, so nothing needs to sleep).
#[derive(Clone)]
pub(crate) struct Elapsed {
    clock: Arc<dyn Clock>,
    origin: DateTime<Utc>,
}

impl Elapsed {
    /// Elapsed time on `clock` from now on.
    pub(crate) fn on(clock: Arc<dyn Clock>) -> Self {
        let origin = clock.now();
        Self { clock, origin }
    }

    /// The time since the origin; a clock set back reads as no time having passed, never as a negative.
    pub(crate) fn elapsed(&self) -> Duration {
        (self.clock.now() - self.origin).to_std().unwrap_or_default()
    }
}

impl Default for Elapsed {
    fn default() -> Self {
        Self::on(Arc::new(SystemClock))
    }
}

impl fmt::Debug for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Elapsed").field("origin", &self.origin).finish_non_exhaustive()
    }
}
