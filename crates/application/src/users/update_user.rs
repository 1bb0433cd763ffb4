//! Update a user: the user themself or an admin; only an admin changes roles.

use taskflow_domain::RepoError;
use taskflow_domain::UserId;
use taskflow_domain::policy::Actor;
use taskflow_domain::user::{EmailAddress, Password, Role, User, UserName, UserPatch};

use super::UserService;
use crate::error::AppError;

/// A validated change to a user. At least one member is set (the HTTP adapter refuses empty bodies).
#[derive(Debug, Clone, Default)]
pub struct UserUpdate {
    /// A new name.
    pub name: Option<UserName>,
    /// A new email.
    pub email: Option<EmailAddress>,
    /// A new password.
    pub password: Option<Password>,
    /// A new role (admins only).
    pub role: Option<Role>,
}

impl UserService {
    /// Applies `update` to user `id`. A password change revokes every refresh-token family of the user, so
    /// stolen sessions end with it.
    ///
    /// # Errors
    /// [`AppError::NotFound`] for an unknown or hidden user; [`AppError::Unauthenticated`] when it is the caller's
    /// own account and was deleted since their token was issued; [`AppError::Forbidden`] when a non-admin sets a
    /// role; [`AppError::Conflict`] when the new email is taken.
    #[tracing::instrument(name = "users.update", skip_all, fields(user_id = %actor.user_id, target = %id))]
    pub async fn update_user(&self, actor: Actor, id: UserId, update: UserUpdate) -> Result<User, AppError> {
        actor.may_access_user(id).map_err(|_| AppError::NotFound("user"))?;
        if update.role.is_some() {
            actor.may_administer()?;
        }
        let password_hash = match &update.password {
            Some(p) => Some(self.deps.hasher.hash(p).await?),
            None => None,
        };
        let password_changed = password_hash.is_some();
        let patch = UserPatch { email: update.email, name: update.name, role: update.role, password_hash };

        let tx = self.deps.uow.begin().await?;
        let Some(mut user) = tx.users().find_for_update(id).await? else {
            // The caller's own account was deleted since their token was issued: 401, as on /auth/me.
            return Err(if id == actor.user_id { AppError::Unauthenticated } else { AppError::NotFound("user") });
        };
        user.apply(patch, self.deps.clock.now());
        match tx.users().update(&user).await {
            Err(RepoError::Duplicate { .. }) => {
                return Err(AppError::Conflict("a user with this email already exists"));
            }
            other => other?,
        }
        // Sessions end before the new password takes effect: if revoking fails, nothing changes and the caller
        // retries; the reverse order could leave a stolen session alive after a password reset.
        if password_changed {
            self.deps.refresh_tokens.revoke_user(id).await?;
        }
        tx.commit().await?;
        // Task reads embed the owner's name and email.
        self.deps.read_cache.invalidate([id]).await;
        Ok(user)
    }
}
