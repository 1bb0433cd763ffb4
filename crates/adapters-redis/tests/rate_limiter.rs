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

/// 1,000 a minute: a share of 10 requests is leased at once, one interval is 60 ms.
const BUSY: u32 = 1_000;

#[tokio::test]
async fn a_busy_key_takes_a_share_of_its_limit_at_once_and_spends_it_without_asking_again() {
    // Arrange
    let ns = Namespace::new();
    let limiter = RedisRateLimiter::new(ns.client());
    let key = format!("{}:rl:user:busy", ns.prefix);

    // Act: the first request leases ten, the next nine spend them, the eleventh leases again
    let first = limiter.check("user:busy", BUSY, MINUTE).await.unwrap();
    let after_lease = ns.pttl(&key);
    let mut remaining = vec![first.remaining];
    for _ in 0..9 {
        remaining.push(limiter.check("user:busy", BUSY, MINUTE).await.unwrap().remaining);
    }
    let after_spending = ns.pttl(&key);
    let eleventh = limiter.check("user:busy", BUSY, MINUTE).await.unwrap();

    // Assert
    assert!(after_lease > 500 && after_lease <= 600, "ten intervals taken in Redis at once: {after_lease} ms");
    assert!(after_spending <= after_lease, "the nine were spent without Redis: {after_spending} ms");
    assert_eq!(remaining, (990..=999).rev().collect::<Vec<_>>(), "the headers count down as before");
    assert!(eleventh.allowed);
    assert_eq!(eleventh.remaining, 989);
    assert!(ns.pttl(&key) > 1_000, "the eleventh took the next share");
}

#[tokio::test]
async fn instances_spending_leases_together_admit_exactly_the_limit() {
    // Arrange: 300 an hour (a share of 3, an interval of 12 s: nothing refills during the test), two instances
    let ns = Namespace::new();
    let instances: Vec<RedisRateLimiter> =
        (0..2).map(|_| RedisRateLimiter::new(RedisClient::connect(&ns.settings()).unwrap())).collect();
    let hour = Duration::from_secs(3_600);

    // Act: the instances take turns, 400 requests in all
    let mut allowed = 0;
    for i in 0..400 {
        allowed += usize::from(instances[i % 2].check("shared", 300, hour).await.unwrap().allowed);
    }

    // Assert
    assert_eq!(allowed, 300, "every request was admitted by Redis before it was spent");
}

#[tokio::test]
async fn leases_are_bounded_in_keys_and_in_time() {
    // Arrange: room for one leased key, spendable for 100 ms
    let ns = Namespace::new();
    let limiter = RedisRateLimiter::with_lease_bounds(ns.client(), 1, Duration::from_millis(100));
    let (a, b) = (format!("{}:rl:a", ns.prefix), format!("{}:rl:b", ns.prefix));

    // Act
    limiter.check("a", BUSY, MINUTE).await.unwrap();
    limiter.check("b", BUSY, MINUTE).await.unwrap();
    let leased_at = std::time::Instant::now();
    let (a_leased, b_single) = (ns.pttl(&a), ns.pttl(&b));
    tokio::time::sleep(Duration::from_millis(150)).await;
    limiter.check("a", BUSY, MINUTE).await.unwrap();
    let waited = i64::try_from(leased_at.elapsed().as_millis()).unwrap();
    let a_after = ns.pttl(&a);

    // Assert
    assert!(a_leased > 500, "the first key leased ten: {a_leased} ms");
    assert!(b_single > 0 && b_single <= 60, "no room for a second lease: one interval taken, {b_single} ms");
    // Spent from the lease, the key would only have aged; asked again, Redis took back the nine left unspent and
    // granted ten more: one interval (60 ms) later than aged.
    assert!(a_after > a_leased - waited + 30, "an expired lease is not spent: {a_leased} -> {a_after} ms in {waited}");
}

#[tokio::test]
async fn a_slow_client_across_instances_is_charged_only_what_it_spent() {
    // Arrange: 2,000 a minute (a share of 20, an interval of 30 ms); leases live 5 ms, so every request of a client
    // sending one every 10 ms finds its instance's lease expired, 19 of its 20 requests unspent
    let ns = Namespace::new();
    let instances: Vec<RedisRateLimiter> = (0..2)
        .map(|_| {
            let client = RedisClient::connect(&ns.settings()).unwrap();
            RedisRateLimiter::with_lease_bounds(client, 100, Duration::from_millis(5))
        })
        .collect();

    // Act: 150 requests, taking turns; leases never given back would charge 3,000, far over the limit
    let mut refused = 0;
    for i in 0..150 {
        refused += usize::from(!instances[i % 2].check("slow", 2_000, MINUTE).await.unwrap().allowed);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    // Assert
    assert_eq!(refused, 0, "what expired leases left unspent was given back");
}
