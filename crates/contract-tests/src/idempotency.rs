//! The idempotency-store contract: claim, replay, mismatch, release, and keys scoped per owner.

use std::sync::Arc;
use std::time::Duration;

use crate::fixtures::{idempotency_key, response, user_id};
use taskflow_application::ports::{IdempotencyBegin, IdempotencyStore};

const DAY: Duration = Duration::from_secs(24 * 60 * 60);

/// A new key is claimed; while its request runs, the same request is told it is in progress.
pub async fn a_new_key_is_started_then_in_progress(store: Arc<dyn IdempotencyStore>) {
    // Arrange
    let (owner, key) = (user_id(), idempotency_key());

    // Act
    let first = store.begin(owner, &key, "fp-1", DAY).await.expect("begin");
    let second = store.begin(owner, &key, "fp-1", DAY).await.expect("begin");

    // Assert
    assert_eq!(first, IdempotencyBegin::Started, "the first request claims the key");
    assert_eq!(second, IdempotencyBegin::InProgress, "a retry while it runs is in progress");
}

/// Once completed, the same request gets the stored response.
pub async fn a_completed_key_replays_its_response(store: Arc<dyn IdempotencyStore>) {
    // Arrange
    let (owner, key) = (user_id(), idempotency_key());
    let stored = response(201, r#"{"id":"1"}"#);
    assert_eq!(store.begin(owner, &key, "fp", DAY).await.expect("begin"), IdempotencyBegin::Started, "claimed");

    // Act
    store.complete(owner, &key, &stored, DAY).await.expect("complete");
    let replay = store.begin(owner, &key, "fp", DAY).await.expect("begin");

    // Assert
    assert_eq!(replay, IdempotencyBegin::Completed(stored), "the response is replayed whole");
}

/// A different request under a used key is a mismatch, whether the first is running or done.
pub async fn a_different_fingerprint_is_a_mismatch_in_every_state(store: Arc<dyn IdempotencyStore>) {
    // Arrange
    let (owner, key) = (user_id(), idempotency_key());
    store.begin(owner, &key, "fp-a", DAY).await.expect("begin");

    // Act
    let while_running = store.begin(owner, &key, "fp-b", DAY).await.expect("begin");
    store.complete(owner, &key, &response(200, "{}"), DAY).await.expect("complete");
    let when_done = store.begin(owner, &key, "fp-b", DAY).await.expect("begin");

    // Assert
    assert_eq!(while_running, IdempotencyBegin::Mismatch, "mismatch wins over in-progress");
    assert_eq!(when_done, IdempotencyBegin::Mismatch, "mismatch wins over completed");
}

/// A released key can be claimed again, even by a different request.
pub async fn a_released_key_can_be_claimed_again(store: Arc<dyn IdempotencyStore>) {
    // Arrange
    let (owner, key) = (user_id(), idempotency_key());
    store.begin(owner, &key, "fp", DAY).await.expect("begin");

    // Act
    store.release(owner, &key).await.expect("release");
    let retry = store.begin(owner, &key, "fp-other", DAY).await.expect("begin");

    // Assert
    assert_eq!(retry, IdempotencyBegin::Started, "the retry claims the released key");
}

/// The same key of two owners are two keys.
pub async fn idempotency_keys_are_scoped_per_owner(store: Arc<dyn IdempotencyStore>) {
    // Arrange
    let (ann, bob, key) = (user_id(), user_id(), idempotency_key());
    store.begin(ann, &key, "fp-ann", DAY).await.expect("begin");
    store.complete(ann, &key, &response(201, "ann"), DAY).await.expect("complete");

    // Act
    let bobs = store.begin(bob, &key, "fp-bob", DAY).await.expect("begin");

    // Assert
    assert_eq!(bobs, IdempotencyBegin::Started, "another owner's key is independent");
}

/// Of concurrent first requests with one key, exactly one claims it.
pub async fn concurrent_begins_have_one_winner(store: Arc<dyn IdempotencyStore>) {
    // Arrange
    let (owner, key) = (user_id(), idempotency_key());

    // Act
    let racers = (0..10).map(|_| {
        let (store, key) = (Arc::clone(&store), key.clone());
        tokio::spawn(async move { store.begin(owner, &key, "fp", DAY).await })
    });
    let outcomes = futures::future::join_all(racers).await;

    // Assert
    let outcomes: Vec<_> = outcomes.into_iter().map(|o| o.expect("no panic").expect("begin")).collect();
    let started = outcomes.iter().filter(|o| **o == IdempotencyBegin::Started).count();
    assert_eq!(started, 1, "exactly one claims the key: {outcomes:?}");
    assert!(
        outcomes.iter().all(|o| matches!(o, IdempotencyBegin::Started | IdempotencyBegin::InProgress)),
        "others wait"
    );
}

/// The idempotency cases, for [`crate::idempotency_contract_tests`].
#[doc(hidden)]
/// A claim is a lease: when its request dies without completing or releasing, the key frees itself; a completed
/// key lives for the TTL given at completion, not the lease.
pub async fn a_claim_whose_lease_lapsed_can_be_taken_over_and_a_completed_key_outlives_it(
    store: Arc<dyn IdempotencyStore>,
) {
    // Arrange
    let (owner, key) = (user_id(), idempotency_key());
    let lease = Duration::from_millis(300);
    assert_eq!(store.begin(owner, &key, "fp", lease).await.expect("begin"), IdempotencyBegin::Started);
    // Act: the first request dies; the retry comes after the lease
    tokio::time::sleep(Duration::from_millis(450)).await;
    let retry = store.begin(owner, &key, "fp", lease).await.expect("begin");
    let stored = response(201, r#"{"id":"1"}"#);
    store.complete(owner, &key, &stored, Duration::from_secs(60)).await.expect("complete");
    tokio::time::sleep(Duration::from_millis(450)).await;
    let later = store.begin(owner, &key, "fp", lease).await.expect("begin");
    // Assert
    assert_eq!(retry, IdempotencyBegin::Started, "the lapsed claim was taken over");
    assert_eq!(later, IdempotencyBegin::Completed(stored), "the response outlives the claim's lease");
}

#[macro_export]
macro_rules! __idempotency_cases {
    ($factory:path) => {
        $crate::__contract_cases!(
            $factory,
            idempotency,
            [
                a_new_key_is_started_then_in_progress,
                a_completed_key_replays_its_response,
                a_different_fingerprint_is_a_mismatch_in_every_state,
                a_released_key_can_be_claimed_again,
                idempotency_keys_are_scoped_per_owner,
                concurrent_begins_have_one_winner,
                a_claim_whose_lease_lapsed_can_be_taken_over_and_a_completed_key_outlives_it,
            ]
        );
    };
}
