//! Fault injection: the client talks to the shared Redis through a proxy that the test cuts, black-holes and
//! restores. With the link down, calls fail fast with `Unavailable`, the fallback limiter decides, the probe says
//! down; once the link is back (and the breaker's short cool-down is over) the same client works again.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use common::Namespace;
use common::proxy::TcpProxy;
use taskflow_adapters_redis::{
    BreakerState, FallbackRateLimiter, RedisCacheStore, RedisClient, RedisHealthProbe, RedisRateLimiter, RedisSettings,
};
use taskflow_application::ports::{CacheStore, HealthProbe, RateDecision, RateLimiter};
use taskflow_domain::error::RepoError;

const COOLDOWN: Duration = Duration::from_millis(300);
const MINUTE: Duration = Duration::from_secs(60);
/// "Well under a second": connect (200 ms) plus command (200 ms) timeouts, with slack for a loaded machine.
const SLOW_CALL: Duration = Duration::from_millis(700);

fn settings(ns: &Namespace, url: String) -> RedisSettings {
    RedisSettings {
        url,
        command_timeout: Duration::from_millis(200),
        connect_timeout: Duration::from_millis(200),
        breaker_failure_threshold: 3,
        breaker_cooldown: COOLDOWN,
        ..ns.settings()
    }
}

/// A per-instance stand-in that always allows and counts how often it was asked.
#[derive(Default)]
struct CountingLimiter(AtomicU32);

#[async_trait]
impl RateLimiter for CountingLimiter {
    async fn check(&self, _key: &str, limit: u32, period: Duration) -> Result<RateDecision, RepoError> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(RateDecision { allowed: true, limit, remaining: limit - 1, reset_after: period, retry_after: None })
    }
}

fn assert_unavailable<T: std::fmt::Debug>(result: Result<T, RepoError>, started: Instant, what: &str) {
    let elapsed = started.elapsed();
    assert!(matches!(result, Err(RepoError::Unavailable(_))), "{what}: {result:?}");
    assert!(elapsed < SLOW_CALL, "{what} took {elapsed:?}");
}

async fn wait_for_cooldown() {
    tokio::time::sleep(COOLDOWN + Duration::from_millis(50)).await;
}

#[tokio::test]
async fn a_cut_link_fails_fast_opens_the_breaker_and_everything_recovers_after_restore() {
    // Arrange
    let (ns, proxy) = (Namespace::new(), TcpProxy::start().await);
    let client = RedisClient::connect(&settings(&ns, proxy.url())).unwrap();
    let (cache, probe) = (RedisCacheStore::new(client.clone()), RedisHealthProbe::new(client.clone()));
    cache.set("k", b"v", MINUTE).await.unwrap();
    assert!(probe.check().await.up);

    // Act: cut
    proxy.cut();

    // Assert: each call fails quickly; after 3 failures the breaker fails them without touching the network
    for i in 0..3 {
        let started = Instant::now();
        assert_unavailable(cache.get("k").await, started, &format!("call {i} with the link cut"));
    }
    assert_eq!(client.breaker_state(), BreakerState::Open);
    let started = Instant::now();
    assert_unavailable(cache.incr("n", Duration::from_secs(60)).await, started, "call with the breaker open");
    assert!(started.elapsed() < Duration::from_millis(20), "fail fast while open: {:?}", started.elapsed());
    let health = probe.check().await;
    assert!(!health.up && health.kind == "redis", "{health:?}");

    // Act: restore, wait out the cool-down
    proxy.restore();
    wait_for_cooldown().await;

    // Assert: the same client works again and the probe closed the breaker
    assert_eq!(cache.get("k").await.unwrap().as_deref(), Some(&b"v"[..]));
    assert_eq!(client.breaker_state(), BreakerState::Closed);
    assert!(probe.check().await.up);
}

#[tokio::test]
async fn a_black_holed_link_times_out_within_the_budget_and_recovers() {
    let (ns, proxy) = (Namespace::new(), TcpProxy::start().await);
    let client = RedisClient::connect(&settings(&ns, proxy.url())).unwrap();
    let limiter = RedisRateLimiter::new(client.clone());
    assert!(limiter.check("k", 10, MINUTE).await.unwrap().allowed);

    proxy.blackhole();
    for i in 0..3 {
        let started = Instant::now();
        assert_unavailable(limiter.check("k", 10, MINUTE).await, started, &format!("black-holed call {i}"));
    }
    assert_eq!(client.breaker_state(), BreakerState::Open);

    proxy.restore();
    wait_for_cooldown().await;
    let d = limiter.check("k", 10, MINUTE).await.unwrap();
    assert_eq!(d.remaining, 8, "the shared count survived the outage: {d:?}");
    assert_eq!(client.breaker_state(), BreakerState::Closed);
}

#[tokio::test]
async fn the_fallback_limiter_decides_while_redis_is_down_and_the_shared_one_resumes_after() {
    // Arrange
    let (ns, proxy) = (Namespace::new(), TcpProxy::start().await);
    let client = RedisClient::connect(&settings(&ns, proxy.url())).unwrap();
    let fallback = Arc::new(CountingLimiter::default());
    let limiter = FallbackRateLimiter::new(Arc::new(RedisRateLimiter::new(client.clone())), fallback.clone());
    assert_eq!(limiter.check("u", 5, MINUTE).await.unwrap().remaining, 4);

    // Act + Assert: down, every request is decided by the fallback, quickly, never with an error
    proxy.cut();
    for i in 0..6 {
        let started = Instant::now();
        let decision = limiter.check("u", 5, MINUTE).await;
        assert!(decision.is_ok_and(|d| d.allowed), "request {i}");
        assert!(started.elapsed() < SLOW_CALL, "request {i} took {:?}", started.elapsed());
    }
    assert_eq!(fallback.0.load(Ordering::SeqCst), 6);
    assert!(limiter.is_degraded());

    // Act + Assert: back up, the shared count (one used before the outage) is what decides again
    proxy.restore();
    wait_for_cooldown().await;
    let d = limiter.check("u", 5, MINUTE).await.unwrap();
    assert_eq!(d.remaining, 3, "{d:?}");
    assert_eq!(fallback.0.load(Ordering::SeqCst), 6, "the fallback is no longer asked");
    assert!(!limiter.is_degraded());
}

#[tokio::test]
async fn the_client_starts_while_redis_is_down_and_connects_when_it_appears() {
    // Arrange: the link is cut before the client exists
    let (ns, proxy) = (Namespace::new(), TcpProxy::start().await);
    proxy.cut();

    // Act
    let client = RedisClient::connect(&settings(&ns, proxy.url()));

    // Assert
    let client = client.expect("connecting is lazy: startup never fails because Redis is down");
    let probe = RedisHealthProbe::new(client.clone());
    assert!(!probe.check().await.up);
    proxy.restore();
    assert!(probe.check().await.up, "one failure does not open the breaker");
    assert_eq!(client.breaker_state(), BreakerState::Closed);
}

#[tokio::test]
async fn an_unreachable_port_is_unavailable_not_a_panic_or_a_hang() {
    let ns = Namespace::new();
    // Bind then drop a listener to get a local port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let client = RedisClient::connect(&settings(&ns, format!("redis://127.0.0.1:{port}"))).unwrap();
    let started = Instant::now();
    assert_unavailable(RedisCacheStore::new(client).get("k").await, started, "connection refused");
}

#[test]
fn an_invalid_url_is_a_configuration_error() {
    let result = RedisClient::connect(&RedisSettings::new("not a url"));
    assert!(matches!(result, Err(RepoError::Unexpected(_))), "{result:?}");
}

#[tokio::test]
async fn once_redis_fails_no_request_is_decided_from_a_lease() {
    // Arrange: a busy key holds a lease (1,000 a minute: ten at a time), then the link is cut
    let ns = Namespace::new();
    let proxy = TcpProxy::start().await;
    let limiter = RedisRateLimiter::new(RedisClient::connect(&settings(&ns, proxy.url())).unwrap());
    assert!(limiter.check("busy", 1_000, MINUTE).await.unwrap().allowed);
    proxy.cut();

    // Act: another key finds Redis down; then the leased key asks again
    let other = limiter.check("other", 1_000, MINUTE).await;
    let leased = limiter.check("busy", 1_000, MINUTE).await;

    // Assert: the lease was dropped with the failure, so the fallback decides both (one outage, not a flap)
    assert!(matches!(other, Err(RepoError::Unavailable(_))), "{other:?}");
    assert!(matches!(leased, Err(RepoError::Unavailable(_))), "the lease is not spent after a failure: {leased:?}");
}
