//! The Redis cache store against the real server.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::Namespace;
use taskflow_adapters_redis::RedisCacheStore;
use taskflow_application::ports::CacheStore;

#[tokio::test]
async fn a_missing_key_is_none() {
    let ns = Namespace::new();
    let cache = RedisCacheStore::new(ns.client());
    assert_eq!(cache.get("nothing").await.unwrap(), None);
}

#[tokio::test]
async fn a_value_set_is_read_back_byte_for_byte_under_the_namespaced_key() {
    // Arrange
    let ns = Namespace::new();
    let cache = RedisCacheStore::new(ns.client());
    let value = b"\x00\xffbytes".to_vec();
    // Act
    cache.set("task:1", &value, Duration::from_secs(30)).await.unwrap();
    // Assert
    assert_eq!(cache.get("task:1").await.unwrap(), Some(value));
    assert_eq!(ns.keys(), vec![format!("{}:cache:task:1", ns.prefix)]);
}

#[tokio::test]
async fn a_value_expires_after_its_ttl() {
    let ns = Namespace::new();
    let cache = RedisCacheStore::new(ns.client());
    cache.set("k", b"v", Duration::from_millis(80)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(cache.get("k").await.unwrap(), None);
}

#[tokio::test]
async fn set_overwrites_and_a_zero_ttl_is_accepted() {
    let ns = Namespace::new();
    let cache = RedisCacheStore::new(ns.client());
    cache.set("k", b"one", Duration::from_secs(30)).await.unwrap();
    cache.set("k", b"two", Duration::from_secs(30)).await.unwrap();
    assert_eq!(cache.get("k").await.unwrap().as_deref(), Some(&b"two"[..]));
    cache.set("z", b"v", Duration::ZERO).await.unwrap();
}

#[tokio::test]
async fn incr_starts_from_zero_and_counts_up() {
    let ns = Namespace::new();
    let cache = RedisCacheStore::new(ns.client());
    assert_eq!(cache.incr("gen:user", Duration::from_secs(60)).await.unwrap(), 1);
    assert_eq!(cache.incr("gen:user", Duration::from_secs(60)).await.unwrap(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_increments_are_never_lost() {
    let ns = Namespace::new();
    let cache = Arc::new(RedisCacheStore::new(ns.client()));
    let calls = (0..40).map(|_| {
        let cache = cache.clone();
        tokio::spawn(async move { cache.incr("gen", Duration::from_secs(60)).await.unwrap() })
    });
    let mut values: Vec<u64> = futures::future::join_all(calls).await.into_iter().map(Result::unwrap).collect();
    values.sort_unstable();
    assert_eq!(values, (1..=40).collect::<Vec<_>>());
}
