//! The Argon2 password hasher, through the `PasswordHasher` port.

use std::sync::Arc;

use claims::assert_matches;

use taskflow_adapters_crypto::Argon2PasswordHasher;
use taskflow_domain::error::RepoError;
use taskflow_domain::ports::PasswordHasher;
use taskflow_domain::user::{Password, PasswordHash};

fn hasher() -> Arc<dyn PasswordHasher> {
    Arc::new(Argon2PasswordHasher::insecure_fast())
}

fn password(raw: &str) -> Password {
    Password::parse(raw).unwrap()
}

#[tokio::test]
async fn a_hashed_password_verifies() {
    let hasher = hasher();
    let hash = hasher.hash(&password("correct horse battery")).await.unwrap();
    assert!(hasher.verify(&password("correct horse battery"), &hash).await.unwrap());
}

#[tokio::test]
async fn a_wrong_password_does_not_verify() {
    let hasher = hasher();
    let hash = hasher.hash(&password("correct horse battery")).await.unwrap();
    assert!(!hasher.verify(&password("correct horse battery!"), &hash).await.unwrap());
    assert!(!hasher.verify(&password("Correct horse battery"), &hash).await.unwrap());
}

#[tokio::test]
async fn hashes_are_salted_so_one_password_hashes_differently_each_time() {
    let hasher = hasher();
    let first = hasher.hash(&password("same password")).await.unwrap();
    let second = hasher.hash(&password("same password")).await.unwrap();
    assert_ne!(first.as_phc(), second.as_phc());
    assert!(hasher.verify(&password("same password"), &first).await.unwrap());
    assert!(hasher.verify(&password("same password"), &second).await.unwrap());
}

#[tokio::test]
async fn the_default_hasher_uses_argon2id_with_the_owasp_parameters() {
    let hasher = Argon2PasswordHasher::new();
    let hash = hasher.hash(&password("owasp params")).await.unwrap();
    assert!(hash.as_phc().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "unexpected PHC prefix");
    assert!(hasher.verify(&password("owasp params"), &hash).await.unwrap());
}

#[tokio::test]
async fn a_hash_made_with_other_parameters_still_verifies() {
    let old = Argon2PasswordHasher::with_params(64, 1, 1).unwrap().hash(&password("rotated costs")).await.unwrap();
    assert!(hasher().verify(&password("rotated costs"), &old).await.unwrap());
}

#[tokio::test]
async fn a_malformed_stored_hash_is_an_unexpected_error_not_a_panic() {
    let hasher = hasher();
    for stored in [
        "",
        "not a hash",
        "$argon2id$v=19$m=abc,t=2,p=1$c2FsdHNhbHQ$aGFzaA",
        "$argon2id$v=19$m=19456,t=2,p=1$",
        "$argon2id$v=19$m=1,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
        "$pbkdf2-sha256$i=1000$c2FsdHNhbHQ$aGFzaGhhc2g",
    ] {
        let result = hasher.verify(&password("whatever pw"), &PasswordHash::from_phc(stored.to_owned())).await;
        assert_matches!(result, Err(RepoError::Unexpected(_)), "{stored:?}");
    }
}

#[tokio::test]
async fn the_dummy_verification_returns() {
    let hasher = hasher();
    hasher.verify_dummy(&password("unknown email password")).await.unwrap();
    hasher.verify_dummy(&Password::presented("").unwrap()).await.unwrap();
}

#[tokio::test(flavor = "current_thread")]
async fn hashing_works_on_a_single_threaded_runtime() {
    let hasher = hasher();
    let hash = hasher.hash(&password("single thread")).await.unwrap();
    assert!(hasher.verify(&password("single thread"), &hash).await.unwrap());
}

fn bounded_hasher(concurrency: usize, queue: usize) -> Argon2PasswordHasher {
    // Costs high enough (tens of milliseconds) that a hash never finishes between being handed to a worker and
    // its caller's next look, which would free its place early; low enough to keep the test quick.
    Argon2PasswordHasher::with_params(32 * 1024, 2, 1)
        .unwrap()
        .with_limits(taskflow_adapters_crypto::PasswordWorkLimits { concurrency, queue })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_work_beyond_the_workers_and_their_queue_is_refused_as_unavailable_and_memory_is_reused() {
    // Arrange: 2 workers and 3 places in the queue; 20 logins arrive at once
    let hasher = bounded_hasher(2, 3);
    let pw = password("correct horse");
    let stored = hasher.hash(&pw).await.unwrap();
    let before = hasher.work_areas_allocated();

    // Act
    let attempts = (0..20).map(|_| hasher.verify(&pw, &stored));
    let outcomes = futures::future::join_all(attempts).await;

    // Assert: exactly workers + queue were served, the rest refused at once as unavailable (503 at the edge)
    let served = outcomes.iter().filter(|o| matches!(o, Ok(true))).count();
    let refused = outcomes.iter().filter(|o| matches!(o, Err(RepoError::Unavailable(_)))).count();
    assert_eq!((served, refused), (5, 15), "{outcomes:?}");
    assert!(before <= 2 && hasher.work_areas_allocated() <= 2, "one reused work area per worker, never one per call");

    // And the bound is a bound on what is in flight, not a budget: later logins are served again.
    let again = futures::future::join_all((0..5).map(|_| hasher.verify(&pw, &stored))).await;
    assert!(again.iter().all(|o| matches!(o, Ok(true))), "{again:?}");
    assert!(hasher.work_areas_allocated() <= 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callers_cancelled_while_waiting_or_working_give_their_places_back() {
    // Arrange
    let hasher = bounded_hasher(1, 2);
    let pw = password("correct horse");
    let stored = hasher.hash(&pw).await.unwrap();

    // Act: fill the workers and the queue, then drop every caller (clients gone) before they finish
    for _ in 0..10 {
        let batch = futures::future::join_all((0..3).map(|_| hasher.verify(&pw, &stored)));
        let _ = tokio::time::timeout(std::time::Duration::from_millis(1), batch).await;
    }

    // Assert: the places came back, so a full set is admitted again
    let outcomes = futures::future::join_all((0..3).map(|_| hasher.verify(&pw, &stored))).await;
    assert!(outcomes.iter().all(|o| matches!(o, Ok(true))), "{outcomes:?}");
    assert_eq!(hasher.work_areas_allocated(), 1, "one worker, one work area, however many callers came and went");
}

#[tokio::test]
async fn an_unknown_email_is_refused_like_a_known_one_when_password_work_is_saturated() {
    // Arrange: no queue, and the one worker busy with a known email's verification
    let hasher = bounded_hasher(1, 0);
    let pw = password("correct horse");
    let stored = hasher.hash(&pw).await.unwrap();
    let mut known = Box::pin(hasher.verify(&pw, &stored));
    assert!(futures::poll!(&mut known).is_pending(), "the known email's verification is running");

    // Act
    let unknown = hasher.verify_dummy(&pw).await;

    // Assert
    assert!(matches!(unknown, Err(RepoError::Unavailable(_))), "{unknown:?}");
    assert!(matches!(known.await, Ok(true)));
}
