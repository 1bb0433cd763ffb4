//! The authentication use cases against the in-memory adapters.

use std::sync::Arc;

use claims::{assert_err, assert_matches, assert_ok};

use crate::error::AppError;
use crate::test_support::{DownUnitOfWork, registration, with_deps, world};

#[tokio::test]
async fn register_creates_a_user_role_account_and_a_session() {
    // Arrange
    let w = world();
    // Act
    let session = w.auth.register(registration("Ann@Example.com")).await.unwrap();
    // Assert
    assert_eq!(session.user.email().as_ref(), "ann@example.com");
    assert_eq!(session.user.role(), taskflow_domain::user::Role::User);
    assert_eq!(session.expires_in, 900);
    assert_ok!(w.auth.authenticate(&session.access_token));
}

#[tokio::test]
async fn register_with_a_taken_email_is_a_conflict() {
    let w = world();
    w.user("ann@example.com").await;
    let err = w.auth.register(registration("ANN@example.com")).await.unwrap_err();
    assert_matches!(err, AppError::Conflict(_));
}

#[tokio::test]
async fn login_succeeds_with_the_right_password_only() {
    let w = world();
    w.user("ann@example.com").await;
    assert_ok!(w.auth.login("ann@example.com", "correct horse").await);
    assert_matches!(w.auth.login("ann@example.com", "wrong horse!").await, Err(AppError::Unauthenticated));
}

#[tokio::test]
async fn login_answers_unknown_and_malformed_emails_like_a_wrong_password() {
    let w = world();
    for email in ["nobody@example.com", "not an email", ""] {
        assert_matches!(w.auth.login(email, "correct horse").await, Err(AppError::Unauthenticated), "{email:?}");
    }
}

#[tokio::test]
async fn refresh_rotates_the_token() {
    let w = world();
    let (session, _) = w.user("ann@example.com").await;
    let next = w.auth.refresh(&session.refresh_token).await.unwrap();
    assert_ne!(next.refresh_token, session.refresh_token);
    assert_ok!(w.auth.refresh(&next.refresh_token).await);
}

#[tokio::test]
async fn reusing_a_refresh_token_revokes_its_whole_family_but_not_other_logins() {
    // Arrange
    let w = world();
    let (first, _) = w.user("ann@example.com").await;
    let other_login = w.auth.login("ann@example.com", "correct horse").await.unwrap();
    let newest = w.auth.refresh(&first.refresh_token).await.unwrap();
    // Act: the consumed token comes back (stolen copy)
    let reuse = w.auth.refresh(&first.refresh_token).await;
    // Assert
    assert_matches!(reuse, Err(AppError::Unauthenticated));
    assert_matches!(
        w.auth.refresh(&newest.refresh_token).await,
        Err(AppError::Unauthenticated),
        "newest token of the family"
    );
    assert_ok!(w.auth.refresh(&other_login.refresh_token).await, "another login's family keeps working");
}

#[tokio::test]
async fn ten_parallel_refreshes_of_one_token_let_at_most_one_through() {
    let w = Arc::new(world());
    let (session, _) = w.user("ann@example.com").await;
    let attempts = (0..10).map(|_| {
        let w = w.clone();
        let token = session.refresh_token.clone();
        tokio::spawn(async move { w.auth.refresh(&token).await })
    });
    let results = futures::future::join_all(attempts).await;
    let wins = results.into_iter().filter(|r| matches!(r, Ok(Ok(_)))).count();
    assert_eq!(wins, 1, "exactly one refresh may consume the token");
}

#[tokio::test]
async fn logout_revokes_the_family_and_ignores_unknown_tokens() {
    let w = world();
    let (session, _) = w.user("ann@example.com").await;
    assert_ok!(w.auth.logout(&session.refresh_token, None).await);
    assert_matches!(w.auth.refresh(&session.refresh_token).await, Err(AppError::Unauthenticated));
    assert_ok!(w.auth.logout("never-issued", None).await);
}

#[tokio::test]
async fn an_expired_access_token_is_refused() {
    let w = world();
    let (session, _) = w.user("ann@example.com").await;
    w.clock.advance(chrono::Duration::minutes(16));
    assert_matches!(w.auth.authenticate(&session.access_token), Err(AppError::Unauthenticated));
    assert_err!(w.auth.authenticate("v4.local.garbage"));
}

#[tokio::test]
async fn me_fails_once_the_account_is_deleted() {
    let w = world();
    let admin = w.admin("root@example.com").await;
    let (_, ann) = w.user("ann@example.com").await;
    assert_ok!(w.auth.me(ann).await);
    w.users.delete_user(admin, ann.user_id).await.unwrap();
    assert_matches!(w.auth.me(ann).await, Err(AppError::Unauthenticated));
}

#[tokio::test]
async fn a_role_change_applies_from_the_next_refresh() {
    let w = world();
    let admin = w.admin("root@example.com").await;
    let (session, ann) = w.user("ann@example.com").await;
    let update = crate::users::UserUpdate { role: Some(taskflow_domain::user::Role::Admin), ..Default::default() };
    w.users.update_user(admin, ann.user_id, update).await.unwrap();
    let before = w.auth.authenticate(&session.access_token).unwrap();
    let after = w.auth.refresh(&session.refresh_token).await.unwrap();
    assert_eq!(before.role, taskflow_domain::user::Role::User, "the old token keeps its role until it lapses");
    assert_eq!(w.auth.authenticate(&after.access_token).unwrap().role, taskflow_domain::user::Role::Admin);
}

#[tokio::test]
async fn register_reports_storage_down_as_unavailable() {
    let base = world();
    let deps = crate::Deps { uow: Arc::new(DownUnitOfWork), ..base.deps.clone() };
    let w = with_deps(base.store.clone(), base.clock.clone(), deps);
    assert_matches!(w.auth.register(registration("ann@example.com")).await, Err(AppError::Unavailable(_)));
}

/// Counts verifications, real and dummy.
struct CountingHasher {
    inner: Arc<dyn taskflow_domain::ports::PasswordHasher>,
    verifications: std::sync::atomic::AtomicUsize,
}

#[async_trait::async_trait]
impl taskflow_domain::ports::PasswordHasher for CountingHasher {
    async fn hash(
        &self,
        password: &taskflow_domain::user::Password,
    ) -> Result<taskflow_domain::user::PasswordHash, taskflow_domain::RepoError> {
        self.inner.hash(password).await
    }
    async fn verify(
        &self,
        password: &taskflow_domain::user::Password,
        hash: &taskflow_domain::user::PasswordHash,
    ) -> Result<bool, taskflow_domain::RepoError> {
        self.verifications.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.inner.verify(password, hash).await
    }
    async fn verify_dummy(&self, password: &taskflow_domain::user::Password) -> Result<(), taskflow_domain::RepoError> {
        self.verifications.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.inner.verify_dummy(password).await
    }
}

#[tokio::test]
async fn every_login_attempt_costs_exactly_one_password_verification() {
    // Arrange
    let base = world();
    let hasher = Arc::new(CountingHasher { inner: base.deps.hasher.clone(), verifications: Default::default() });
    let deps = crate::Deps { hasher: hasher.clone(), ..base.deps.clone() };
    let w = with_deps(base.store.clone(), base.clock.clone(), deps);
    w.user("ann@example.com").await;
    // Act + Assert: known email with a wrong password, unknown email, malformed email, right password
    for (email, password, why) in [
        ("ann@example.com", "wrong horse!", "wrong password"),
        ("nobody@example.com", "correct horse", "unknown email"),
        ("not an email", "correct horse", "malformed email"),
        ("ann@example.com", "correct horse", "right password"),
    ] {
        let before = hasher.verifications.load(std::sync::atomic::Ordering::SeqCst);
        let _ = w.auth.login(email, password).await;
        let spent = hasher.verifications.load(std::sync::atomic::Ordering::SeqCst) - before;
        assert_eq!(spent, 1, "{why}: the same work, so timing does not tell which emails exist");
    }
}
