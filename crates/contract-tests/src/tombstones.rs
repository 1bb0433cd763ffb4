//! The tombstone contract: deleting a user records `(id, when)` in the same unit of work and ends their refresh
//! tokens; the recent tombstones can be read and the old ones pruned.
//!
//! Run by [`crate::storage_contract_tests`]; every case takes fresh [`StoragePorts`].

use taskflow_domain::UserId;
use taskflow_domain::auth::{ConsumeOutcome, UserTombstone};

use crate::StoragePorts;
use crate::fixtures::{self, at, family, refresh_token, stored_user};

async fn delete_user(ports: &StoragePorts, id: UserId, minutes: i64) -> bool {
    let tx = ports.uow.begin().await.expect("begin");
    let existed = tx.users().delete(id, at(minutes)).await.expect("delete");
    tx.commit().await.expect("commit");
    existed
}

async fn sorted_since(ports: &StoragePorts, minutes: i64) -> Vec<UserTombstone> {
    let mut tombstones = ports.tombstones.deleted_since(at(minutes)).await.expect("deleted_since");
    tombstones.sort_by_key(|t| (t.deleted_at, t.user_id));
    tombstones
}

/// A deletion leaves a tombstone with its instant, visible once committed and not before.
pub async fn deleting_a_user_leaves_a_tombstone_once_committed(ports: StoragePorts) {
    // Arrange
    let ann = stored_user(&ports, "ann").await;
    let tx = ports.uow.begin().await.expect("begin");
    assert!(tx.users().delete(ann.id(), at(10)).await.expect("delete"), "ann existed");

    // Act
    let before_commit = sorted_since(&ports, 0).await;
    tx.commit().await.expect("commit");
    let after_commit = sorted_since(&ports, 0).await;

    // Assert
    assert_eq!(before_commit, vec![], "an uncommitted deletion leaves no tombstone yet");
    assert_eq!(after_commit, vec![UserTombstone { user_id: ann.id(), deleted_at: at(10) }], "one tombstone");
}

/// A deletion that is rolled back leaves the user and no tombstone; an unknown user gets none either.
pub async fn a_rolled_back_or_missed_deletion_leaves_no_tombstone(ports: StoragePorts) {
    // Arrange
    let ann = stored_user(&ports, "ann").await;

    // Act
    let tx = ports.uow.begin().await.expect("begin");
    assert!(tx.users().delete(ann.id(), at(10)).await.expect("delete"), "ann existed");
    drop(tx);
    let unknown = delete_user(&ports, fixtures::user_id(), 11).await;

    // Assert
    assert!(!unknown, "an unknown user did not exist");
    assert_eq!(sorted_since(&ports, 0).await, vec![], "no tombstone");
    assert!(ports.users.get(ann.id()).await.expect("get").is_some(), "ann is still there");
}

/// `deleted_since` returns the tombstones at or after its instant, and only those.
pub async fn deleted_since_returns_the_tombstones_from_that_instant_on(ports: StoragePorts) {
    // Arrange
    let users = [stored_user(&ports, "a").await, stored_user(&ports, "b").await, stored_user(&ports, "c").await];
    for (user, minutes) in users.iter().zip([5, 10, 15]) {
        assert!(delete_user(&ports, user.id(), minutes).await);
    }

    // Act
    let from_ten = sorted_since(&ports, 10).await;
    let after_all = sorted_since(&ports, 16).await;

    // Assert
    let expected = vec![
        UserTombstone { user_id: users[1].id(), deleted_at: at(10) },
        UserTombstone { user_id: users[2].id(), deleted_at: at(15) },
    ];
    assert_eq!(from_ten, expected, "the instant itself is included, earlier ones are not");
    assert_eq!(after_all, vec![], "nothing after the last deletion");
}

/// Pruning forgets the tombstones before its instant and keeps the others.
pub async fn prune_forgets_only_older_tombstones(ports: StoragePorts) {
    // Arrange
    let (ann, bob) = (stored_user(&ports, "ann").await, stored_user(&ports, "bob").await);
    assert!(delete_user(&ports, ann.id(), 5).await);
    assert!(delete_user(&ports, bob.id(), 10).await);

    // Act
    let pruned = ports.tombstones.prune(at(10)).await.expect("prune");
    let again = ports.tombstones.prune(at(10)).await.expect("prune again");

    // Assert
    assert_eq!((pruned, again), (1, 0), "one tombstone was older, then none");
    assert_eq!(sorted_since(&ports, 0).await, vec![UserTombstone { user_id: bob.id(), deleted_at: at(10) }]);
}

/// A deleted user's refresh tokens go with them: presenting one is like presenting a token never issued.
pub async fn deleting_a_user_ends_their_refresh_tokens(ports: StoragePorts) {
    // Arrange
    let (ann, bob) = (stored_user(&ports, "ann").await, stored_user(&ports, "bob").await);
    let anns = refresh_token(ann.id(), family());
    let bobs = refresh_token(bob.id(), family());
    for token in [&anns, &bobs] {
        ports.refresh_tokens.insert(token).await.expect("insert token");
    }

    // Act
    assert!(delete_user(&ports, ann.id(), 0).await);

    // Assert
    let anns_outcome = ports.refresh_tokens.consume(&anns.hash, at(1)).await.expect("consume");
    let bobs_outcome = ports.refresh_tokens.consume(&bobs.hash, at(1)).await.expect("consume");
    assert_eq!(anns_outcome, ConsumeOutcome::Unknown, "ann's token went with her");
    assert_eq!(bobs_outcome, ConsumeOutcome::Consumed(bobs), "bob's token still works");
    assert!(!ports.refresh_tokens.revoke_family_of(&anns.hash).await.expect("revoke"), "nothing left to revoke");
}

/// The tombstone cases, for [`crate::storage_contract_tests`].
#[doc(hidden)]
#[macro_export]
macro_rules! __tombstone_cases {
    ($factory:path) => {
        $crate::__contract_cases!(
            $factory,
            tombstones,
            [
                deleting_a_user_leaves_a_tombstone_once_committed,
                a_rolled_back_or_missed_deletion_leaves_no_tombstone,
                deleted_since_returns_the_tombstones_from_that_instant_on,
                prune_forgets_only_older_tombstones,
                deleting_a_user_ends_their_refresh_tokens,
            ]
        );
    };
}
