//! Fail open to a per-instance limiter while the shared one is unavailable (see docs/adr/0004-redis-degradation.md).

use std::error::Error;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use taskflow_domain::error::RepoError;

use crate::metrics::{RATE_LIMIT_DEGRADED, RATE_LIMIT_FALLBACK};
use taskflow_application::ports::{RateDecision, RateLimiter};

/// A [`RateLimiter`] that asks `primary` (the shared Redis limiter) and, when it is unavailable, `fallback` (a
/// per-instance limiter such as the in-memory one), so Redis being down never fails a request.
///
/// The switch is logged once per outage (a warning when the fallback starts deciding, an info line when the primary
/// answers again), counted in `rate_limit_fallback_total` and shown by the `rate_limit_degraded` gauge.
pub struct FallbackRateLimiter {
    primary: Arc<dyn RateLimiter>,
    fallback: Arc<dyn RateLimiter>,
    degraded: AtomicBool,
}

impl fmt::Debug for FallbackRateLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FallbackRateLimiter").field("degraded", &self.is_degraded()).finish_non_exhaustive()
    }
}

impl FallbackRateLimiter {
    /// Uses `primary`, and `fallback` whenever `primary` returns [`RepoError::Unavailable`].
    #[must_use]
    pub fn new(primary: Arc<dyn RateLimiter>, fallback: Arc<dyn RateLimiter>) -> Self {
        Self { primary, fallback, degraded: AtomicBool::new(false) }
    }

    /// Whether the last decision was taken by the fallback.
    #[must_use]
    pub fn is_degraded(&self) -> bool {
        self.degraded.load(Ordering::Relaxed)
    }
}

#[async_trait]
impl RateLimiter for FallbackRateLimiter {
    /// # Errors
    /// Only errors that are not an outage of the primary ([`RepoError::Unexpected`], a bug), or an error of the
    /// fallback itself.
    async fn check(&self, key: &str, limit: u32, period: Duration) -> Result<RateDecision, RepoError> {
        match self.primary.check(key, limit, period).await {
            Err(RepoError::Unavailable(cause)) => {
                if !self.degraded.swap(true, Ordering::Relaxed) {
                    tracing::warn!(
                        error = %ErrorChain(cause.as_ref()),
                        "shared rate limiter unavailable: falling back to per-instance limits until it returns"
                    );
                    metrics::gauge!(RATE_LIMIT_DEGRADED).set(1.0);
                }
                metrics::counter!(RATE_LIMIT_FALLBACK).increment(1);
                self.fallback.check(key, limit, period).await
            }
            Ok(decision) => {
                if self.degraded.swap(false, Ordering::Relaxed) {
                    tracing::info!("shared rate limiter available again");
                    metrics::gauge!(RATE_LIMIT_DEGRADED).set(0.0);
                }
                Ok(decision)
            }
            Err(other) => Err(other),
        }
    }
}

/// Displays an error with its sources (`outer: inner: root`), so the one warning per outage says why.
struct ErrorChain<'a>(&'a (dyn Error + 'static));

impl fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(cause) = source {
            write!(f, ": {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}
