//! A deleted user's credentials, route by route, against the in-memory adapters (issue 7, point 5; ADR 0007).
//!
//! World `a` is the instance that deleted the user; world `b` is another instance over the same store whose set
//! of deleted users has not been refreshed yet.

use std::sync::Arc;

use chrono::Duration;
use claims::{assert_matches, assert_ok};
use taskflow_domain::UserId;
use taskflow_domain::ports::Clock as _;
use taskflow_domain::task::{NewTask, TaskTitle};
use taskflow_domain::user::UserName;

use super::UserUpdate;
use crate::auth::{RevokedUsers, Session};
use crate::error::AppError;
use crate::tasks::CreateTask;
use crate::test_support::{World, with_deps, world};

/// Another instance over `a`'s store and token key, with a set of deleted users of its own.
fn other_instance(a: &World) -> World {
    let revoked = Arc::new(RevokedUsers::new(Arc::new(a.store.clone()), Duration::minutes(15)));
    with_deps(a.store.clone(), a.clock.clone(), crate::Deps { revoked_users: revoked, ..a.deps.clone() })
}

fn rename() -> UserUpdate {
    UserUpdate { name: Some(UserName::parse("Still here?").unwrap()), ..Default::default() }
}

fn new_task() -> CreateTask {
    CreateTask { task: NewTask::new(TaskTitle::parse("t").unwrap()), user_id: None }
}

/// Ann (with a session and a task) deleted by an admin on `a`; returns her session.
async fn deleted_ann(a: &World) -> (Session, taskflow_domain::policy::Actor) {
    let admin = a.admin("root@example.com").await;
    let (session, ann) = a.user("ann@example.com").await;
    a.tasks.create_task(ann, new_task()).await.unwrap();
    assert_ok!(a.auth.authenticate(&session.access_token), "her token works before the deletion");
    a.users.delete_user(admin, ann.user_id).await.unwrap();
    (session, ann)
}

#[tokio::test]
async fn the_deleting_instance_refuses_the_deleted_users_access_token_at_once() {
    // Arrange
    let a = world();
    let (session, _) = deleted_ann(&a).await;
    // Act: every bearer route (GET /tasks, /tasks/stats, POST /tasks/batch, /users/{self}, ...) starts here
    let outcome = a.auth.authenticate(&session.access_token);
    // Assert
    assert_matches!(outcome, Err(AppError::Unauthenticated));
}

#[tokio::test]
async fn another_instance_refuses_it_from_its_next_refresh() {
    // Arrange
    let a = world();
    let b = other_instance(&a);
    let (session, _) = deleted_ann(&a).await;
    assert_ok!(b.auth.authenticate(&session.access_token), "the window: b has not refreshed yet");
    // Act
    let held = b.deps.revoked_users.refresh(b.clock.now()).await.unwrap();
    // Assert
    assert_eq!(held, 1, "b now knows of one deleted user");
    assert_matches!(b.auth.authenticate(&session.access_token), Err(AppError::Unauthenticated));
}

#[tokio::test]
async fn use_cases_that_read_the_callers_account_are_401_on_every_instance_at_once() {
    // Arrange: b has not refreshed, so these use cases see the actor as authenticated
    let a = world();
    let b = other_instance(&a);
    let (session, ann) = deleted_ann(&a).await;
    // Act + Assert
    assert_matches!(b.auth.me(ann).await, Err(AppError::Unauthenticated), "GET /auth/me");
    assert_matches!(b.users.get_user(ann, ann.user_id).await, Err(AppError::Unauthenticated), "GET /users/{{self}}");
    assert_matches!(
        b.users.update_user(ann, ann.user_id, rename()).await,
        Err(AppError::Unauthenticated),
        "PATCH /users/{{self}}"
    );
    assert_matches!(b.tasks.create_task(ann, new_task()).await, Err(AppError::Unauthenticated), "POST /tasks");
    assert_matches!(
        b.auth.logout(&session.refresh_token, Some(&session.access_token)).await,
        Err(AppError::Unauthenticated),
        "POST /auth/logout with her access token"
    );
    assert_matches!(b.auth.refresh(&session.refresh_token).await, Err(AppError::Unauthenticated), "refresh");
}

#[tokio::test]
async fn logout_with_a_deleted_users_token_is_401_but_an_expired_token_does_not_stop_a_logout() {
    // Arrange
    let a = world();
    let (deleted, _) = deleted_ann(&a).await;
    let (bob, _) = a.user("bob@example.com").await;
    // Act
    let deleted_logout = a.auth.logout(&deleted.refresh_token, Some(&deleted.access_token)).await;
    a.clock.advance(Duration::minutes(16));
    let expired_logout = a.auth.logout(&bob.refresh_token, Some(&bob.access_token)).await;
    // Assert
    assert_matches!(deleted_logout, Err(AppError::Unauthenticated));
    assert_ok!(expired_logout, "an expired access token is ignored: logout needs none");
    assert_matches!(a.auth.refresh(&bob.refresh_token).await, Err(AppError::Unauthenticated), "bob's family ended");
    assert_ok!(a.auth.logout(&deleted.refresh_token, None).await, "without an access token nothing tells");
}

#[tokio::test]
async fn an_admin_asking_for_a_deleted_user_still_gets_404() {
    let a = world();
    let admin = a.admin("root@example.com").await;
    let (_, ann) = a.user("ann@example.com").await;
    a.users.delete_user(admin, ann.user_id).await.unwrap();
    assert_matches!(a.users.get_user(admin, ann.user_id).await, Err(AppError::NotFound(_)));
    assert_matches!(a.users.update_user(admin, ann.user_id, rename()).await, Err(AppError::NotFound(_)));
}

#[tokio::test]
async fn deleted_users_are_forgotten_once_their_tokens_have_expired() {
    // Arrange
    let a = world();
    let (session, ann) = deleted_ann(&a).await;
    let horizon = a.deps.revoked_users.horizon();
    // Act: just before and just after the horizon
    a.clock.advance(horizon - Duration::seconds(1));
    let inside = a.deps.revoked_users.refresh(a.clock.now()).await.unwrap();
    a.clock.advance(Duration::seconds(2));
    let outside = a.deps.revoked_users.refresh(a.clock.now()).await.unwrap();
    let pruned = a.deps.revoked_users.prune_stored(a.clock.now()).await.unwrap();
    // Assert
    assert_eq!((inside, outside, pruned), (1, 0, 1), "kept for the horizon, then forgotten here and in storage");
    assert!(!a.deps.revoked_users.contains(ann.user_id));
    assert_matches!(a.auth.authenticate(&session.access_token), Err(AppError::Unauthenticated), "long expired");
}

#[tokio::test]
async fn a_refresh_merges_and_keeps_what_this_instance_added_meanwhile() {
    // Arrange: a deletion this instance recorded that the store does not show (yet)
    let a = world();
    let local = UserId::from_uuid(uuid::Uuid::now_v7());
    a.deps.revoked_users.insert(local, a.clock.now());
    // Act
    let held = a.deps.revoked_users.refresh(a.clock.now()).await.unwrap();
    // Assert
    assert_eq!(held, 1);
    assert!(a.deps.revoked_users.contains(local), "a refresh never drops a recent entry");
}

#[tokio::test]
async fn without_refreshes_the_set_still_holds_only_one_horizon_of_deletions() {
    // Arrange: a deletion recorded, then another one more than a horizon later, and no refresh in between (an
    // embedding whose process runs no refresh loop)
    let a = world();
    let horizon = a.deps.revoked_users.horizon();
    let (old, new) = (UserId::from_uuid(uuid::Uuid::now_v7()), UserId::from_uuid(uuid::Uuid::now_v7()));
    a.deps.revoked_users.insert(old, a.clock.now());
    // Act
    a.deps.revoked_users.insert(new, a.clock.now() + horizon + Duration::seconds(1));
    // Assert
    assert!(!a.deps.revoked_users.contains(old), "forgotten once a horizon has passed");
    assert!(a.deps.revoked_users.contains(new));
}
