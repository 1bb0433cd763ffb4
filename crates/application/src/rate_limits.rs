//! Rate limits: the edge asks this service whether a request may go ahead, and never the limiter's store itself.

use std::sync::Arc;
use std::time::Duration;

use taskflow_domain::RepoError;

use crate::ports::{RateDecision, RateLimiter};

/// Decides requests against per-key limits, over whichever [`RateLimiter`] the deployment has (Redis shared by every
/// instance, or in-process).
pub struct RateLimitService {
    limiter: Arc<dyn RateLimiter>,
}

impl RateLimitService {
    /// A service over `limiter`.
    #[must_use]
    pub fn new(limiter: Arc<dyn RateLimiter>) -> Self {
        Self { limiter }
    }

    /// Counts one request against `key` (`limit` per `period`) and decides it.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] when no limiter could decide; the caller chooses to let the request through.
    pub async fn check(&self, key: &str, limit: u32, period: Duration) -> Result<RateDecision, RepoError> {
        self.limiter.check(key, limit, period).await
    }
}
