//! Users: uniqueness of emails, updates, cascading deletes and the paged listing.

use taskflow_domain::RepoError;
use taskflow_domain::policy::TaskScope;
use taskflow_domain::query::PageRequest;
use taskflow_domain::user::{Role, UserPatch};

use crate::StoragePorts;
use crate::fixtures::{self, at, insert_tasks, insert_users, stored_user};

/// A committed user is found by id and by email.
pub async fn a_stored_user_can_be_read_by_id_and_by_email(ports: StoragePorts) {
    // Arrange
    let user = fixtures::user("ann");

    // Act
    insert_users(&ports, std::slice::from_ref(&user)).await;

    // Assert
    let by_id = ports.users.get(user.id()).await.expect("get");
    assert_eq!(by_id.as_ref(), Some(&user), "the user read by id is the one stored");
    let by_email = ports.users.find_by_email(user.email()).await.expect("find_by_email");
    assert_eq!(by_email.as_ref(), Some(&user), "the user read by email is the one stored");
    let other = fixtures::email("nobody");
    assert_eq!(ports.users.find_by_email(&other).await.expect("find_by_email"), None, "unknown email is None");
}

/// Two users may not share an email.
pub async fn a_second_user_with_the_same_email_is_a_duplicate(ports: StoragePorts) {
    // Arrange
    let first = stored_user(&ports, "ann").await;
    let second = taskflow_domain::user::User::from_record(taskflow_domain::user::UserRecord {
        id: fixtures::user_id(),
        name: fixtures::name("Other Ann"),
        role: Role::User,
        created_at: at(1),
        updated_at: at(1),
        ..first.record().clone()
    });

    // Act
    let tx = ports.uow.begin().await.expect("begin");
    let result = tx.users().insert(&second).await;
    drop(tx);

    // Assert
    match result {
        Err(RepoError::Duplicate { constraint }) => {
            assert_eq!(constraint, "users_email_key", "the broken rule is named");
        }
        other => panic!("expected Duplicate, got {other:?}"),
    }
    assert_eq!(ports.users.get(second.id()).await.expect("get"), None, "the second user was not stored");
}

/// A committed update is what the read side returns.
pub async fn updating_a_user_is_visible_after_commit(ports: StoragePorts) {
    // Arrange
    let user = stored_user(&ports, "ann").await;
    let new_email = fixtures::email(&format!("renamed-{}", user.id().as_uuid().simple()));

    // Act
    let tx = ports.uow.begin().await.expect("begin");
    let mut locked = tx.users().find_for_update(user.id()).await.expect("find").expect("the user exists");
    locked.apply(
        UserPatch { email: Some(new_email.clone()), name: Some(fixtures::name("Ann B")), ..UserPatch::default() },
        at(5),
    );
    tx.users().update(&locked).await.expect("update");
    tx.commit().await.expect("commit");

    // Assert
    let read = ports.users.get(user.id()).await.expect("get").expect("still there");
    assert_eq!(read, locked, "the update was stored whole");
    assert_eq!(ports.users.find_by_email(user.email()).await.expect("find"), None, "the old email is free");
    assert_eq!(ports.users.find_by_email(&new_email).await.expect("find").map(|u| u.id()), Some(user.id()));
}

/// Changing an email to one another user has is refused.
pub async fn updating_a_user_to_a_taken_email_is_a_duplicate(ports: StoragePorts) {
    // Arrange
    let ann = stored_user(&ports, "ann").await;
    let bob = stored_user(&ports, "bob").await;

    // Act
    let tx = ports.uow.begin().await.expect("begin");
    let mut locked = tx.users().find_for_update(bob.id()).await.expect("find").expect("bob exists");
    locked.apply(UserPatch { email: Some(ann.email().clone()), ..UserPatch::default() }, at(1));
    let result = tx.users().update(&locked).await;
    drop(tx);

    // Assert
    assert!(
        matches!(result, Err(RepoError::Duplicate { ref constraint }) if constraint == "users_email_key"),
        "expected Duplicate(users_email_key), got {result:?}"
    );
    assert_eq!(ports.users.get(bob.id()).await.expect("get"), Some(bob), "bob is unchanged");
}

/// Deleting a user takes their tasks with them, and only theirs.
pub async fn deleting_a_user_deletes_their_tasks(ports: StoragePorts) {
    // Arrange
    let ann = stored_user(&ports, "ann").await;
    let bob = stored_user(&ports, "bob").await;
    let ann_tasks: Vec<_> = (0..3).map(|i| fixtures::task(ann.id(), at(i))).collect();
    let bob_task = fixtures::task(bob.id(), at(0));
    insert_tasks(&ports, &ann_tasks).await;
    insert_tasks(&ports, std::slice::from_ref(&bob_task)).await;

    // Act
    let tx = ports.uow.begin().await.expect("begin");
    let existed = tx.users().delete(ann.id(), at(5)).await.expect("delete");
    tx.commit().await.expect("commit");

    // Assert
    assert!(existed, "delete reports that the user existed");
    assert_eq!(ports.users.get(ann.id()).await.expect("get"), None, "the user is gone");
    for task in &ann_tasks {
        assert_eq!(ports.tasks.get(task.id(), TaskScope::All).await.expect("get"), None, "her tasks are gone");
    }
    assert!(ports.tasks.get(bob_task.id(), TaskScope::All).await.expect("get").is_some(), "bob's task stays");
    assert_eq!(ports.users.find_by_email(ann.email()).await.expect("find"), None, "her email is free");
}

/// Deleting a user that does not exist reports `false`.
pub async fn deleting_an_unknown_user_reports_false(ports: StoragePorts) {
    // Act
    let tx = ports.uow.begin().await.expect("begin");
    let existed = tx.users().delete(fixtures::user_id(), at(5)).await.expect("delete");
    tx.commit().await.expect("commit");

    // Assert
    assert!(!existed, "an unknown user did not exist");
}

/// Users come oldest first (ties on id), paged, with the total count.
pub async fn users_are_listed_oldest_first_with_paging_and_total(ports: StoragePorts) {
    // Arrange: five users, two of them created at the same instant
    let mut users: Vec<_> =
        [3, 1, 2, 2, 0].iter().enumerate().map(|(i, m)| fixtures::user_at(&format!("u{i}"), at(*m))).collect();
    insert_users(&ports, &users).await;
    users.sort_by_key(|u| (u.created_at(), u.id()));

    // Act
    let first = ports.users.list(PageRequest { page: 1, limit: 2 }).await.expect("page 1");
    let second = ports.users.list(PageRequest { page: 2, limit: 2 }).await.expect("page 2");
    let third = ports.users.list(PageRequest { page: 3, limit: 2 }).await.expect("page 3");
    let past = ports.users.list(PageRequest { page: 4, limit: 2 }).await.expect("page 4");

    // Assert
    let ids = |page: &(Vec<taskflow_domain::user::User>, u64)| page.0.iter().map(|u| u.id()).collect::<Vec<_>>();
    let expected: Vec<_> = users.iter().map(|u| u.id()).collect();
    assert_eq!(ids(&first), expected[0..2], "page 1 holds the two oldest");
    assert_eq!(ids(&second), expected[2..4], "page 2 follows page 1");
    assert_eq!(ids(&third), expected[4..5], "page 3 holds the newest");
    assert!(past.0.is_empty(), "a page past the end is empty");
    for page in [&first, &second, &third, &past] {
        assert_eq!(page.1, 5, "every page carries the real total");
    }
}
