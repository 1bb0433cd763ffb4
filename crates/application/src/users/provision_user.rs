//! Provision a user: an account made in process, without a password, for a program that authenticates its users
//! itself and acts as them.

use taskflow_domain::user::{EmailAddress, NewUser, PasswordHash, Role, User, UserName};

use super::UserService;
use crate::error::AppError;

/// An account to provision.
#[derive(Debug, Clone)]
pub struct NewAccount {
    /// The email (unique, as for registered users).
    pub email: EmailAddress,
    /// The display name.
    pub name: UserName,
    /// The role.
    pub role: Role,
}

impl UserService {
    /// Creates an account with no password ([`PasswordHash::locked`]): it never logs in, and the program acts as it
    /// in process with `Actor::of(&user)`. Needs no password hasher, so an embedder without the crypto adapter
    /// can own tasks. Trusted: no caller is checked (any role may be given), and it is not served over HTTP.
    ///
    /// # Errors
    /// [`AppError::Conflict`] when the email is taken; [`AppError::Unavailable`] when storage is down.
    #[tracing::instrument(name = "users.provision", skip_all)]
    pub async fn provision_user(&self, account: NewAccount) -> Result<User, AppError> {
        let new = NewUser {
            email: account.email,
            name: account.name,
            role: account.role,
            password_hash: PasswordHash::locked(),
        };
        let user = User::new(new, self.deps.ids.user_id(), self.deps.clock.now());
        super::store_new_user(&self.deps, &user).await?;
        tracing::info!(user_id = %user.id(), "user provisioned");
        Ok(user)
    }
}
