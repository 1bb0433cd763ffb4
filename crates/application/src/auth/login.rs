//! Login: the same answer, in about the same time, for an unknown email and a wrong password.

use taskflow_domain::user::{EmailAddress, Password};

use super::{AuthService, Session};
use crate::error::AppError;

impl AuthService {
    /// Checks credentials and opens a new session (a new refresh-token family).
    ///
    /// Malformed emails, unknown emails and wrong passwords all give [`AppError::Unauthenticated`] after one
    /// password verification, so neither the answer nor its timing tells which emails are registered.
    ///
    /// # Errors
    /// [`AppError::Unauthenticated`]; [`AppError::Unavailable`] when storage is down.
    #[tracing::instrument(name = "auth.login", skip_all)]
    pub async fn login(&self, email: &str, password: &str) -> Result<Session, AppError> {
        let Some(password) = Password::presented(password) else {
            return Err(AppError::Unauthenticated);
        };
        let user = match EmailAddress::parse(email) {
            Ok(email) => self.deps.user_reads.find_by_email(&email).await?,
            Err(_) => None,
        };
        let Some(user) = user else {
            self.deps.hasher.verify_dummy(&password).await?;
            return Err(AppError::Unauthenticated);
        };
        // An account provisioned without a password: refused like an unknown email, in the same time.
        if user.password_hash().is_locked() {
            self.deps.hasher.verify_dummy(&password).await?;
            return Err(AppError::Unauthenticated);
        }
        if !self.deps.hasher.verify(&password, user.password_hash()).await? {
            return Err(AppError::Unauthenticated);
        }
        tracing::info!(user_id = %user.id(), "user logged in");
        self.open_session(user, self.deps.ids.family_id()).await
    }
}
