//! The Redis GCRA limiter against the real server: counts, headers and exactness under concurrency.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::Namespace;
use taskflow_adapters_redis::{RedisClient, RedisRateLimiter};
use taskflow_application::ports::RateLimiter;

const MINUTE: Duration = Duration::from_secs(60);

#[tokio::test]
async fn first_request_is_allowed_with_limit_minus_one_remaining() {
    // Arrange
    let ns = Namespace::new();
    let limiter = RedisRateLimiter::new(ns.client());
    // Act
    let d = limiter.check("user:1", 10, MINUTE).await.unwrap();
    // Assert
    assert!(d.allowed);
    assert_eq!((d.limit, d.remaining, d.retry_after), (10, 9, None));
    assert_eq!(d.reset_after, Duration::from_secs(6), "one emission interval to be fully restored");
}

#[tokio::test]
async fn remaining_counts_down_to_zero_then_requests_are_refused_with_retry_after() {
    let ns = Namespace::new();
    let limiter = RedisRateLimiter::new(ns.client());
    for expected in (0..5).rev() {
        let d = limiter.check("ip:10.0.0.1", 5, MINUTE).await.unwrap();
        assert!(d.allowed, "request leaving {expected} must be allowed");
        assert_eq!(d.remaining, expected);
    }
    let refused = limiter.check("ip:10.0.0.1", 5, MINUTE).await.unwrap();
    assert!(!refused.allowed);
    assert_eq!(refused.remaining, 0);
    let retry = refused.retry_after.expect("a refusal says when to retry");
    assert!(retry > Duration::from_secs(11) && retry <= Duration::from_secs(12), "one interval (12 s): {retry:?}");
    assert!(refused.reset_after > Duration::from_secs(59) && refused.reset_after <= MINUTE, "{refused:?}");
}

#[tokio::test]
async fn a_refused_request_is_allowed_again_after_retry_after() {
    let ns = Namespace::new();
    let limiter = RedisRateLimiter::new(ns.client());
    let period = Duration::from_millis(600);
    for _ in 0..3 {
        assert!(limiter.check("k", 3, period).await.unwrap().allowed);
    }
    let refused = limiter.check("k", 3, period).await.unwrap();
    assert!(!refused.allowed);
    tokio::time::sleep(refused.retry_after.unwrap() + Duration::from_millis(20)).await;
    let again = limiter.check("k", 3, period).await.unwrap();
    assert!(again.allowed, "{again:?}");
    assert_eq!(again.remaining, 0, "only one interval has passed");
}

#[tokio::test]
async fn refused_requests_do_not_consume_capacity() {
    let ns = Namespace::new();
    let limiter = RedisRateLimiter::new(ns.client());
    let period = Duration::from_millis(400);
    assert!(limiter.check("k", 1, period).await.unwrap().allowed);
    for _ in 0..5 {
        assert!(!limiter.check("k", 1, period).await.unwrap().allowed);
    }
    tokio::time::sleep(period + Duration::from_millis(20)).await;
    assert!(limiter.check("k", 1, period).await.unwrap().allowed, "refusals must not push the next slot back");
}

#[tokio::test]
async fn keys_are_limited_independently() {
    let ns = Namespace::new();
    let limiter = RedisRateLimiter::new(ns.client());
    assert!(limiter.check("a", 1, MINUTE).await.unwrap().allowed);
    assert!(!limiter.check("a", 1, MINUTE).await.unwrap().allowed);
    assert!(limiter.check("b", 1, MINUTE).await.unwrap().allowed);
}

#[tokio::test]
async fn a_zero_limit_refuses_everything() {
    let ns = Namespace::new();
    let limiter = RedisRateLimiter::new(ns.client());
    let d = limiter.check("k", 0, MINUTE).await.unwrap();
    assert!(!d.allowed);
    assert_eq!((d.remaining, d.retry_after), (0, Some(MINUTE)));
}

#[tokio::test]
async fn the_key_is_namespaced_and_expires_when_the_limit_is_restored() {
    let ns = Namespace::new();
    let limiter = RedisRateLimiter::new(ns.client());
    limiter.check("user:7", 10, MINUTE).await.unwrap();
    let key = format!("{}:rl:user:7", ns.prefix);
    assert_eq!(ns.keys(), vec![key.clone()]);
    let pttl = ns.pttl(&key);
    assert!(pttl > 0 && pttl <= 6_000, "expires after one interval, not never: {pttl}");
}

/// 50 callers at once, spread over `instances` clients (pools) of several connections each.
async fn allowed_among_concurrent_callers(ns: &Namespace, instances: usize, limit: u32) -> usize {
    let limiters: Vec<Arc<RedisRateLimiter>> = (0..instances)
        .map(|_| {
            let settings = ns.settings();
            Arc::new(RedisRateLimiter::new(RedisClient::connect(&settings).unwrap()))
        })
        .collect();
    let barrier = Arc::new(tokio::sync::Barrier::new(50));
    let calls = (0..50).map(|i| {
        let limiter = limiters[i % instances].clone();
        let barrier = barrier.clone();
        tokio::spawn(async move {
            barrier.wait().await;
            limiter.check("shared", limit, MINUTE).await.unwrap().allowed
        })
    });
    let results = futures::future::join_all(calls).await;
    results.into_iter().map(|r| r.unwrap()).filter(|allowed| *allowed).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_callers_on_several_connections_get_exactly_the_limit() {
    let ns = Namespace::new();
    assert_eq!(allowed_among_concurrent_callers(&ns, 1, 17).await, 17);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_callers_across_two_instances_get_exactly_the_limit_together() {
    let ns = Namespace::new();
    assert_eq!(allowed_among_concurrent_callers(&ns, 2, 23).await, 23);
}
