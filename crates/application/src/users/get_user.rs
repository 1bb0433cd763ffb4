//! Get one user: the user themself or an admin; anyone else is told it does not exist.

use taskflow_domain::UserId;
use taskflow_domain::policy::Actor;
use taskflow_domain::user::User;

use super::UserService;
use crate::error::AppError;

impl UserService {
    /// The user `id`.
    ///
    /// # Errors
    /// [`AppError::NotFound`] when it does not exist or is another user's account and the caller is no admin;
    /// [`AppError::Unauthenticated`] when it is the caller's own account and was deleted since their token was
    /// issued.
    #[tracing::instrument(name = "users.get", skip_all, fields(user_id = %actor.user_id, target = %id))]
    pub async fn get_user(&self, actor: Actor, id: UserId) -> Result<User, AppError> {
        actor.may_access_user(id).map_err(|_| AppError::NotFound("user"))?;
        match self.deps.user_reads.get(id).await? {
            Some(user) => Ok(user),
            // The caller's credentials name an account that is gone: a credentials problem, as on /auth/me.
            None if id == actor.user_id => Err(AppError::Unauthenticated),
            None => Err(AppError::NotFound("user")),
        }
    }
}
