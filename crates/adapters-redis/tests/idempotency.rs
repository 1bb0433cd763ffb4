//! The Redis idempotency store against the real server.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::Namespace;
use sha2::{Digest, Sha256};
use taskflow_adapters_redis::RedisIdempotencyStore;

use taskflow_application::ports::{IdempotencyBegin, IdempotencyKey, IdempotencyStore, StoredResponse};
use taskflow_domain::ids::UserId;

const DAY: Duration = Duration::from_secs(86_400);

fn key(raw: &str) -> IdempotencyKey {
    IdempotencyKey::parse(raw).unwrap()
}

fn user() -> UserId {
    UserId::from_uuid(uuid::Uuid::new_v4())
}

fn response() -> StoredResponse {
    StoredResponse {
        status: 201,
        headers: vec![("Location".into(), "/tasks/1".into()), ("ETag".into(), "\"1\"".into())],
        body: b"{\"id\":1}\xff\x00binary".to_vec(),
    }
}

#[tokio::test]
async fn a_new_key_is_started_and_a_second_begin_sees_it_in_progress() {
    // Arrange
    let ns = Namespace::new();
    let store = RedisIdempotencyStore::new(ns.client());
    let (owner, k) = (user(), key("k-1"));
    // Act
    let first = store.begin(owner, &k, "fp", DAY).await.unwrap();
    let second = store.begin(owner, &k, "fp", DAY).await.unwrap();
    // Assert
    assert_eq!(first, IdempotencyBegin::Started);
    assert_eq!(second, IdempotencyBegin::InProgress);
}

#[tokio::test]
async fn a_completed_key_replays_the_stored_response_byte_for_byte() {
    let ns = Namespace::new();
    let store = RedisIdempotencyStore::new(ns.client());
    let (owner, k) = (user(), key("k"));
    store.begin(owner, &k, "fp", DAY).await.unwrap();
    store.complete(owner, &k, &response(), DAY).await.unwrap();
    assert_eq!(store.begin(owner, &k, "fp", DAY).await.unwrap(), IdempotencyBegin::Completed(response()));
}

#[tokio::test]
async fn a_different_fingerprint_is_a_mismatch_whatever_the_state() {
    let ns = Namespace::new();
    let store = RedisIdempotencyStore::new(ns.client());
    let (owner, k) = (user(), key("k"));
    store.begin(owner, &k, "fp-a", DAY).await.unwrap();
    assert_eq!(store.begin(owner, &k, "fp-b", DAY).await.unwrap(), IdempotencyBegin::Mismatch, "in progress");
    store.complete(owner, &k, &response(), DAY).await.unwrap();
    assert_eq!(store.begin(owner, &k, "fp-b", DAY).await.unwrap(), IdempotencyBegin::Mismatch, "completed");
}

#[tokio::test]
async fn release_frees_an_in_progress_claim_for_a_retry() {
    let ns = Namespace::new();
    let store = RedisIdempotencyStore::new(ns.client());
    let (owner, k) = (user(), key("k"));
    store.begin(owner, &k, "fp", DAY).await.unwrap();
    store.release(owner, &k).await.unwrap();
    assert_eq!(store.begin(owner, &k, "fp", DAY).await.unwrap(), IdempotencyBegin::Started);
}

#[tokio::test]
async fn release_never_deletes_a_completed_response() {
    let ns = Namespace::new();
    let store = RedisIdempotencyStore::new(ns.client());
    let (owner, k) = (user(), key("k"));
    store.begin(owner, &k, "fp", DAY).await.unwrap();
    store.complete(owner, &k, &response(), DAY).await.unwrap();
    store.release(owner, &k).await.unwrap();
    assert!(matches!(store.begin(owner, &k, "fp", DAY).await.unwrap(), IdempotencyBegin::Completed(_)));
}

#[tokio::test]
async fn complete_after_release_does_not_resurrect_the_key() {
    let ns = Namespace::new();
    let store = RedisIdempotencyStore::new(ns.client());
    let (owner, k) = (user(), key("k"));
    store.begin(owner, &k, "fp", DAY).await.unwrap();
    store.release(owner, &k).await.unwrap();
    store.complete(owner, &k, &response(), DAY).await.unwrap();
    assert_eq!(store.begin(owner, &k, "fp", DAY).await.unwrap(), IdempotencyBegin::Started);
}

#[tokio::test]
async fn keys_are_per_owner() {
    let ns = Namespace::new();
    let store = RedisIdempotencyStore::new(ns.client());
    let k = key("same-key");
    assert_eq!(store.begin(user(), &k, "fp", DAY).await.unwrap(), IdempotencyBegin::Started);
    assert_eq!(store.begin(user(), &k, "other", DAY).await.unwrap(), IdempotencyBegin::Started);
}

#[tokio::test]
async fn the_redis_key_is_namespaced_by_owner_and_hashed_and_expires() {
    let ns = Namespace::new();
    let store = RedisIdempotencyStore::new(ns.client());
    let (owner, raw) = (user(), "weird key with spaces ~*?[]");
    store.begin(owner, &key(raw), "fp", Duration::from_secs(30)).await.unwrap();
    let expected = format!("{}:idem:{owner}:{}", ns.prefix, hex::encode(Sha256::digest(raw.as_bytes())));
    assert_eq!(ns.keys(), vec![expected.clone()]);
    let pttl = ns.pttl(&expected);
    assert!(pttl > 29_000 && pttl <= 30_000, "{pttl}");
}

#[tokio::test]
async fn a_claim_expires_after_its_ttl() {
    let ns = Namespace::new();
    let store = RedisIdempotencyStore::new(ns.client());
    let (owner, k) = (user(), key("k"));
    store.begin(owner, &k, "fp", Duration::from_millis(100)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(store.begin(owner, &k, "fp", DAY).await.unwrap(), IdempotencyBegin::Started);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_many_concurrent_begins_exactly_one_is_started() {
    let ns = Namespace::new();
    let store = Arc::new(RedisIdempotencyStore::new(ns.client()));
    let (owner, k) = (user(), key("race"));
    let calls = (0..30).map(|_| {
        let (store, k) = (store.clone(), k.clone());
        tokio::spawn(async move { store.begin(owner, &k, "fp", DAY).await.unwrap() })
    });
    let outcomes: Vec<_> = futures::future::join_all(calls).await.into_iter().map(Result::unwrap).collect();
    assert_eq!(outcomes.iter().filter(|o| **o == IdempotencyBegin::Started).count(), 1);
    assert!(outcomes.iter().all(|o| matches!(o, IdempotencyBegin::Started | IdempotencyBegin::InProgress)));
}
