//! The refresh-token contract: single use, reuse detection that revokes the family, expiry and revocation.
//!
//! Run by [`crate::storage_contract_tests`]; every case takes fresh [`StoragePorts`].

use std::sync::Arc;

use chrono::Duration;
use taskflow_domain::auth::{ConsumeOutcome, RefreshTokenHash, RefreshTokenRecord};

use crate::StoragePorts;
use crate::fixtures::{family, refresh_token, stored_user, t0};

async fn stored_token(ports: &StoragePorts, record: RefreshTokenRecord) -> RefreshTokenRecord {
    ports.refresh_tokens.insert(&record).await.expect("insert token");
    record
}

async fn consume(ports: &StoragePorts, hash: &RefreshTokenHash) -> ConsumeOutcome {
    ports.refresh_tokens.consume(hash, t0() + Duration::minutes(1)).await.expect("consume")
}

/// A valid token is consumed once and returns its record.
pub async fn a_refresh_token_is_consumed_once(ports: StoragePorts) {
    // Arrange
    let ann = stored_user(&ports, "ann").await;
    let token = stored_token(&ports, refresh_token(ann.id(), family())).await;

    // Act
    let outcome = consume(&ports, &token.hash).await;

    // Assert
    assert_eq!(outcome, ConsumeOutcome::Consumed(token), "the first presentation consumes the token");
}

/// Presenting a consumed token again is reuse: the family is revoked, so its newer token stops working.
pub async fn reusing_a_refresh_token_revokes_its_family(ports: StoragePorts) {
    // Arrange
    let ann = stored_user(&ports, "ann").await;
    let fam = family();
    let first = stored_token(&ports, refresh_token(ann.id(), fam)).await;
    assert!(matches!(consume(&ports, &first.hash).await, ConsumeOutcome::Consumed(_)), "rotation");
    let second = stored_token(&ports, refresh_token(ann.id(), fam)).await;
    let other_login = stored_token(&ports, refresh_token(ann.id(), family())).await;

    // Act
    let reused = consume(&ports, &first.hash).await;
    let newer = consume(&ports, &second.hash).await;
    let other = consume(&ports, &other_login.hash).await;

    // Assert
    assert_eq!(reused, ConsumeOutcome::Reused { family: fam }, "the second presentation is reuse");
    assert_eq!(newer, ConsumeOutcome::Revoked, "the newer token of the family is revoked");
    assert_eq!(other, ConsumeOutcome::Consumed(other_login), "another family of the same user is unaffected");
}

/// Of ten concurrent presentations of one valid token, exactly one consumes it.
pub async fn ten_concurrent_refresh_token_consumers_have_one_winner(ports: StoragePorts) {
    // Arrange
    let ann = stored_user(&ports, "ann").await;
    let token = stored_token(&ports, refresh_token(ann.id(), family())).await;
    let store = Arc::clone(&ports.refresh_tokens);

    // Act
    let racers = (0..10).map(|_| {
        let store = Arc::clone(&store);
        let hash = token.hash.clone();
        tokio::spawn(async move { store.consume(&hash, t0() + Duration::minutes(1)).await })
    });
    let outcomes = futures::future::join_all(racers).await;

    // Assert
    let mut winners = 0;
    for outcome in outcomes {
        match outcome.expect("no panic").expect("consume") {
            ConsumeOutcome::Consumed(record) => {
                winners += 1;
                assert_eq!(record, token, "the winner gets the record");
            }
            ConsumeOutcome::Reused { .. } | ConsumeOutcome::Revoked => {}
            other => panic!("a losing consumer sees reuse or revocation, got {other:?}"),
        }
    }
    assert_eq!(winners, 1, "exactly one consumer wins");
}

/// A token past its expiry is refused as expired.
pub async fn an_expired_refresh_token_is_refused(ports: StoragePorts) {
    // Arrange
    let ann = stored_user(&ports, "ann").await;
    let token = stored_token(&ports, refresh_token(ann.id(), family())).await;

    // Act
    let outcome = ports.refresh_tokens.consume(&token.hash, token.expires_at + Duration::seconds(1)).await;

    // Assert
    assert_eq!(outcome.expect("consume"), ConsumeOutcome::Expired, "past expiry");
}

/// An unknown hash is reported as unknown, and revoking its family finds nothing.
pub async fn an_unknown_refresh_token_is_unknown(ports: StoragePorts) {
    // Arrange
    let hash = RefreshTokenHash::from_hex("00".repeat(32));

    // Act
    let outcome = consume(&ports, &hash).await;
    let revoked = ports.refresh_tokens.revoke_family_of(&hash).await.expect("revoke");

    // Assert
    assert_eq!(outcome, ConsumeOutcome::Unknown, "never stored");
    assert!(!revoked, "revoke_family_of reports that no such token exists");
}

/// Logging out revokes the whole family, tokens inserted later included, and no other family.
pub async fn revoke_family_of_revokes_only_that_family(ports: StoragePorts) {
    // Arrange
    let ann = stored_user(&ports, "ann").await;
    let (fam, other_fam) = (family(), family());
    let a = stored_token(&ports, refresh_token(ann.id(), fam)).await;
    let b = stored_token(&ports, refresh_token(ann.id(), fam)).await;
    let other = stored_token(&ports, refresh_token(ann.id(), other_fam)).await;

    // Act
    let existed = ports.refresh_tokens.revoke_family_of(&a.hash).await.expect("revoke");
    let late = stored_token(&ports, refresh_token(ann.id(), fam)).await;

    // Assert
    assert!(existed, "the token existed");
    assert_eq!(consume(&ports, &a.hash).await, ConsumeOutcome::Revoked, "the presented token is revoked");
    assert_eq!(consume(&ports, &b.hash).await, ConsumeOutcome::Revoked, "its sibling is revoked");
    assert_eq!(consume(&ports, &late.hash).await, ConsumeOutcome::Revoked, "a token added to a revoked family");
    assert_eq!(consume(&ports, &other.hash).await, ConsumeOutcome::Consumed(other), "the other login still works");
}

/// Revoking a user revokes every one of their families and nobody else's.
pub async fn revoke_user_revokes_every_family_of_that_user_only(ports: StoragePorts) {
    // Arrange
    let ann = stored_user(&ports, "ann").await;
    let bob = stored_user(&ports, "bob").await;
    let ann_tokens = [
        stored_token(&ports, refresh_token(ann.id(), family())).await,
        stored_token(&ports, refresh_token(ann.id(), family())).await,
    ];
    let bobs = stored_token(&ports, refresh_token(bob.id(), family())).await;

    // Act
    ports.refresh_tokens.revoke_user(ann.id()).await.expect("revoke user");

    // Assert
    for token in &ann_tokens {
        assert_eq!(consume(&ports, &token.hash).await, ConsumeOutcome::Revoked, "ann's logins are revoked");
    }
    assert_eq!(consume(&ports, &bobs.hash).await, ConsumeOutcome::Consumed(bobs), "bob's login still works");
}

/// The refresh-token cases, for [`crate::storage_contract_tests`].
#[doc(hidden)]
#[macro_export]
macro_rules! __refresh_token_cases {
    ($factory:path) => {
        $crate::__contract_cases!(
            $factory,
            refresh_tokens,
            [
                a_refresh_token_is_consumed_once,
                reusing_a_refresh_token_revokes_its_family,
                ten_concurrent_refresh_token_consumers_have_one_winner,
                an_expired_refresh_token_is_refused,
                an_unknown_refresh_token_is_unknown,
                revoke_family_of_revokes_only_that_family,
                revoke_user_revokes_every_family_of_that_user_only,
            ]
        );
    };
}
