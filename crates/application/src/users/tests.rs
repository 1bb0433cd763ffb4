//! The user use cases against the in-memory adapters.

use claims::{assert_matches, assert_ok};
use taskflow_domain::query::PageRequest;
use taskflow_domain::user::{EmailAddress, Password, Role};

use super::UserUpdate;
use crate::error::AppError;
use crate::test_support::world;

#[tokio::test]
async fn only_admins_list_users() {
    let w = world();
    let admin = w.admin("root@example.com").await;
    let (_, ann) = w.user("ann@example.com").await;
    assert_matches!(w.users.list_users(ann, PageRequest { page: 1, limit: 10 }).await, Err(AppError::Forbidden));
    let (users, total) = w.users.list_users(admin, PageRequest { page: 1, limit: 1 }).await.unwrap();
    assert_eq!((users.len(), total), (1, 2));
}

#[tokio::test]
async fn another_users_account_is_not_found_for_non_admins() {
    let w = world();
    let (_, ann) = w.user("ann@example.com").await;
    let (_, bob) = w.user("bob@example.com").await;
    assert_matches!(w.users.get_user(ann, bob.user_id).await, Err(AppError::NotFound(_)));
    assert_ok!(w.users.get_user(ann, ann.user_id).await);
    let rename =
        UserUpdate { name: Some(taskflow_domain::user::UserName::parse("Evil").unwrap()), ..Default::default() };
    assert_matches!(w.users.update_user(ann, bob.user_id, rename).await, Err(AppError::NotFound(_)));
}

#[tokio::test]
async fn only_admins_change_roles() {
    let w = world();
    let (_, ann) = w.user("ann@example.com").await;
    let promote = UserUpdate { role: Some(Role::Admin), ..Default::default() };
    assert_matches!(w.users.update_user(ann, ann.user_id, promote).await, Err(AppError::Forbidden));
    assert_eq!(w.users.get_user(ann, ann.user_id).await.unwrap().role(), Role::User);
}

#[tokio::test]
async fn changing_to_a_taken_email_is_a_conflict() {
    let w = world();
    let (_, ann) = w.user("ann@example.com").await;
    w.user("bob@example.com").await;
    let update = UserUpdate { email: Some(EmailAddress::parse("bob@example.com").unwrap()), ..Default::default() };
    assert_matches!(w.users.update_user(ann, ann.user_id, update).await, Err(AppError::Conflict(_)));
}

#[tokio::test]
async fn a_password_change_ends_the_users_sessions_and_takes_effect() {
    let w = world();
    let (session, ann) = w.user("ann@example.com").await;
    let update = UserUpdate { password: Some(Password::parse("a brand new one").unwrap()), ..Default::default() };
    w.users.update_user(ann, ann.user_id, update).await.unwrap();
    assert_matches!(w.auth.refresh(&session.refresh_token).await, Err(AppError::Unauthenticated));
    assert_matches!(w.auth.login("ann@example.com", "correct horse").await, Err(AppError::Unauthenticated));
    assert_ok!(w.auth.login("ann@example.com", "a brand new one").await);
}

#[tokio::test]
async fn only_admins_delete_users_and_unknown_users_are_not_found() {
    let w = world();
    let admin = w.admin("root@example.com").await;
    let (_, ann) = w.user("ann@example.com").await;
    assert_matches!(w.users.delete_user(ann, admin.user_id).await, Err(AppError::Forbidden));
    assert_ok!(w.users.delete_user(admin, ann.user_id).await);
    assert_matches!(w.users.delete_user(admin, ann.user_id).await, Err(AppError::NotFound(_)));
}
