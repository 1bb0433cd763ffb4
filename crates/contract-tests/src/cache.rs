//! The cache contract: values with a time to live, and an atomic counter.

use std::sync::Arc;
use std::time::Duration;

use crate::fixtures::unique_key;
use taskflow_application::ports::CacheStore;

/// A stored value reads back; a missing key is `None`; a second set replaces the first.
pub async fn a_cached_value_reads_back_until_replaced(cache: Arc<dyn CacheStore>) {
    // Arrange
    let key = unique_key("value");

    // Act
    let before = cache.get(&key).await.expect("get");
    cache.set(&key, b"first", Duration::from_secs(60)).await.expect("set");
    let first = cache.get(&key).await.expect("get");
    cache.set(&key, b"\x00second\xff", Duration::from_secs(60)).await.expect("set");
    let second = cache.get(&key).await.expect("get");

    // Assert
    assert_eq!(before, None, "nothing before the first set");
    assert_eq!(first.as_deref(), Some(&b"first"[..]), "the stored bytes");
    assert_eq!(second.as_deref(), Some(&b"\x00second\xff"[..]), "the replacement, bytes kept exactly");
}

/// A value is gone after its time to live.
pub async fn a_cached_value_expires_after_its_ttl(cache: Arc<dyn CacheStore>) {
    // Arrange
    let (short, long) = (unique_key("short"), unique_key("long"));
    cache.set(&short, b"v", Duration::from_secs(1)).await.expect("set");
    cache.set(&long, b"v", Duration::from_secs(60)).await.expect("set");

    // Act
    tokio::time::sleep(Duration::from_millis(1_100)).await;

    // Assert
    assert_eq!(cache.get(&short).await.expect("get"), None, "expired after its ttl");
    assert_eq!(cache.get(&long).await.expect("get").as_deref(), Some(&b"v"[..]), "a longer ttl is still there");
}

/// `incr` starts from zero and counts up by one per call.
pub async fn incr_counts_up_from_zero(cache: Arc<dyn CacheStore>) {
    // Arrange
    let key = unique_key("counter");

    // Act
    let values = [
        cache.incr(&key, Duration::from_secs(60)).await.expect("incr"),
        cache.incr(&key, Duration::from_secs(60)).await.expect("incr"),
    ];

    // Assert
    assert_eq!(values, [1, 2], "1 then 2");
}

/// Concurrent increments never lose a count.
pub async fn incr_is_atomic_under_concurrency(cache: Arc<dyn CacheStore>) {
    // Arrange
    let key = unique_key("race");

    // Act
    let racers = (0..50).map(|_| {
        let (cache, key) = (Arc::clone(&cache), key.clone());
        tokio::spawn(async move { cache.incr(&key, Duration::from_secs(60)).await })
    });
    let mut values: Vec<u64> =
        futures::future::join_all(racers).await.into_iter().map(|r| r.expect("no panic").expect("incr")).collect();
    values.sort_unstable();

    // Assert
    assert_eq!(values, (1..=50).collect::<Vec<_>>(), "each call got its own value");
}

/// `incr_all` increments every counter it names once, absent ones from zero, each with the TTL given.
pub async fn incr_all_bumps_every_counter_once(cache: Arc<dyn CacheStore>) {
    // Arrange: one counter at 1, one absent, one with a short TTL
    let (counted, absent, lapsing) = (unique_key("counted"), unique_key("absent"), unique_key("lapsing"));
    cache.incr(&counted, Duration::from_secs(60)).await.expect("incr");

    // Act
    cache.incr_all(&[counted.clone(), absent.clone()], Duration::from_secs(60)).await.expect("incr_all");
    cache.incr_all(std::slice::from_ref(&lapsing), Duration::from_millis(300)).await.expect("incr_all");
    tokio::time::sleep(Duration::from_millis(450)).await;

    // Assert
    assert_eq!(cache.incr(&counted, Duration::from_secs(60)).await.expect("incr"), 3, "1, bumped, then this");
    assert_eq!(cache.incr(&absent, Duration::from_secs(60)).await.expect("incr"), 2, "from zero");
    assert_eq!(cache.incr(&lapsing, Duration::from_secs(60)).await.expect("incr"), 1, "lapsed with its TTL");
}

/// The cache cases, for [`crate::cache_contract_tests`].
#[doc(hidden)]
/// A generation-keyed read sees the value stored under the current generation, and nothing after a bump.
pub async fn a_generational_read_follows_the_generation(cache: Arc<dyn CacheStore>) {
    // Arrange: generation 0 has a value
    let ttl = Duration::from_secs(60);
    cache.set("list:u1:g0:abc", b"old", ttl).await.expect("set works");
    // Act
    let before = cache.get_generational("gen:u1", "list:u1:g", ":abc").await.expect("read works");
    let bumped = cache.incr("gen:u1", Duration::from_secs(60)).await.expect("incr works");
    let after = cache.get_generational("gen:u1", "list:u1:g", ":abc").await.expect("read works");
    cache.set("list:u1:g1:abc", b"new", ttl).await.expect("set works");
    let refilled = cache.get_generational("gen:u1", "list:u1:g", ":abc").await.expect("read works");
    // Assert
    assert_eq!(before, (0, Some(b"old".to_vec())), "an absent generation counts as 0");
    assert_eq!(bumped, 1);
    assert_eq!(after, (1, None), "after a bump the old value is unreachable");
    assert_eq!(refilled, (1, Some(b"new".to_vec())));
}

/// A counter lives for the TTL of its last increment, then counts from zero again.
pub async fn a_counter_lapses_after_its_ttl_and_restarts_from_zero(cache: Arc<dyn CacheStore>) {
    // Arrange
    let key = unique_key("lapsing");
    let ttl = Duration::from_millis(300);
    cache.incr(&key, ttl).await.expect("incr");
    cache.incr(&key, ttl).await.expect("incr");
    // Act
    tokio::time::sleep(Duration::from_millis(450)).await;
    let restarted = cache.incr(&key, ttl).await.expect("incr");
    // Assert
    assert_eq!(restarted, 1, "the counter expired with its TTL");
}

#[macro_export]
macro_rules! __cache_cases {
    ($factory:path) => {
        $crate::__contract_cases!(
            $factory,
            cache,
            [
                a_cached_value_reads_back_until_replaced,
                a_cached_value_expires_after_its_ttl,
                incr_counts_up_from_zero,
                incr_is_atomic_under_concurrency,
                a_generational_read_follows_the_generation,
                a_counter_lapses_after_its_ttl_and_restarts_from_zero,
                incr_all_bumps_every_counter_once,
            ]
        );
    };
}
