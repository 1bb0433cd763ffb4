//! Me: the caller's own account.

use taskflow_domain::policy::Actor;
use taskflow_domain::user::User;

use super::AuthService;
use crate::error::AppError;

impl AuthService {
    /// The caller's account.
    ///
    /// # Errors
    /// [`AppError::Unauthenticated`] when the account was deleted since the token was issued.
    #[tracing::instrument(name = "auth.me", skip_all, fields(user_id = %actor.user_id))]
    pub async fn me(&self, actor: Actor) -> Result<User, AppError> {
        self.deps.user_reads.get(actor.user_id).await?.ok_or(AppError::Unauthenticated)
    }
}
