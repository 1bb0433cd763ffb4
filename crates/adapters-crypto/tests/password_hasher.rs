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
    hasher.verify_dummy(&password("unknown email password")).await;
    hasher.verify_dummy(&Password::presented("").unwrap()).await;
}

#[tokio::test(flavor = "current_thread")]
async fn hashing_works_on_a_single_threaded_runtime() {
    let hasher = hasher();
    let hash = hasher.hash(&password("single thread")).await.unwrap();
    assert!(hasher.verify(&password("single thread"), &hash).await.unwrap());
}
