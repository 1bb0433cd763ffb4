//! The rate-limiter contract: a burst of exactly `limit`, then refusals that say when to retry.
//!
//! Periods are long (a minute) so that no request is replenished while a case runs, except in the one case that
//! waits for replenishment on purpose (about 150 ms).

use std::sync::Arc;
use std::time::Duration;

use crate::fixtures::unique_key;
use taskflow_application::ports::RateLimiter;

const MINUTE: Duration = Duration::from_secs(60);

/// `limit` requests in a burst are allowed, counting `remaining` down; the next is refused.
pub async fn exactly_limit_requests_are_allowed_then_refused(limiter: Arc<dyn RateLimiter>) {
    // Arrange
    let key = unique_key("burst");

    // Act
    let mut decisions = Vec::new();
    for _ in 0..6 {
        decisions.push(limiter.check(&key, 5, MINUTE).await.expect("check"));
    }

    // Assert
    for (i, d) in decisions[..5].iter().enumerate() {
        assert!(d.allowed, "request {} of 5 is allowed", i + 1);
        assert_eq!(d.limit, 5, "the limit is reported");
        assert_eq!(d.remaining, 4 - u32::try_from(i).expect("small"), "remaining after request {}", i + 1);
        assert_eq!(d.retry_after, None, "no retry_after on an allowed request");
        assert!(d.reset_after <= MINUTE, "reset_after is at most the period");
        assert!(d.reset_after > Duration::ZERO, "a used limit needs time to reset");
    }
    let refused = decisions[5];
    assert!(!refused.allowed, "request 6 is refused");
    assert_eq!(refused.remaining, 0, "nothing remains when refused");
    let retry = refused.retry_after.expect("a refusal says when to retry");
    assert!(retry > Duration::ZERO && retry <= MINUTE / 5, "one request comes back within period/limit: {retry:?}");
    assert!(refused.reset_after <= MINUTE, "reset_after is at most the period");
}

/// Refused requests do not use up capacity: the limiter stays refused, not deeper in debt.
pub async fn refused_requests_do_not_extend_the_wait(limiter: Arc<dyn RateLimiter>) {
    // Arrange
    let key = unique_key("refused");
    for _ in 0..2 {
        assert!(limiter.check(&key, 2, MINUTE).await.expect("check").allowed, "within the burst");
    }

    // Act
    let first = limiter.check(&key, 2, MINUTE).await.expect("check");
    for _ in 0..10 {
        limiter.check(&key, 2, MINUTE).await.expect("check");
    }
    let later = limiter.check(&key, 2, MINUTE).await.expect("check");

    // Assert
    assert!(!first.allowed && !later.allowed, "both refused");
    let (a, b) = (first.retry_after.expect("retry"), later.retry_after.expect("retry"));
    assert!(b <= a, "refusals did not push the retry time back: {a:?} then {b:?}");
}

/// Each key has its own budget.
pub async fn rate_limit_keys_are_independent(limiter: Arc<dyn RateLimiter>) {
    // Arrange
    let (busy, idle) = (unique_key("busy"), unique_key("idle"));
    for _ in 0..3 {
        limiter.check(&busy, 3, MINUTE).await.expect("check");
    }

    // Act
    let busy_again = limiter.check(&busy, 3, MINUTE).await.expect("check");
    let idle_first = limiter.check(&idle, 3, MINUTE).await.expect("check");

    // Assert
    assert!(!busy_again.allowed, "the busy key is exhausted");
    assert!(idle_first.allowed, "another key is not affected");
    assert_eq!(idle_first.remaining, 2, "the other key has its full budget");
}

/// Capacity comes back at `period / limit` per request.
pub async fn capacity_is_replenished_over_time(limiter: Arc<dyn RateLimiter>) {
    // Arrange: 10 per second, so one request comes back every 100 ms
    let key = unique_key("refill");
    for _ in 0..10 {
        assert!(limiter.check(&key, 10, Duration::from_secs(1)).await.expect("check").allowed, "burst");
    }
    let refused = limiter.check(&key, 10, Duration::from_secs(1)).await.expect("check");
    assert!(!refused.allowed, "the burst is used up");

    // Act
    tokio::time::sleep(Duration::from_millis(150)).await;
    let after = limiter.check(&key, 10, Duration::from_secs(1)).await.expect("check");

    // Assert
    assert!(after.allowed, "one request is allowed again after period/limit");
    assert!(after.remaining <= 1, "far from the full budget (timing may add one): {}", after.remaining);
}

/// The rate-limiter cases, for [`crate::rate_limiter_contract_tests`].
#[doc(hidden)]
#[macro_export]
macro_rules! __rate_limiter_cases {
    ($factory:path) => {
        $crate::__contract_cases!(
            $factory,
            rate_limiter,
            [
                exactly_limit_requests_are_allowed_then_refused,
                refused_requests_do_not_extend_the_wait,
                rate_limit_keys_are_independent,
                capacity_is_replenished_over_time,
            ]
        );
    };
}
