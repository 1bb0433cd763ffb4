//! User use cases: list (admin), get, update, delete (admin).

mod delete_user;
mod get_user;
mod list_users;
mod provision_user;
mod update_user;

pub use provision_user::NewAccount;
pub use update_user::UserUpdate;

use taskflow_domain::RepoError;
use taskflow_domain::user::User;

use crate::Deps;
use crate::error::AppError;

/// The user use cases.
#[derive(Clone)]
pub struct UserService {
    deps: Deps,
}

impl UserService {
    /// A service over `deps`.
    #[must_use]
    pub fn new(deps: Deps) -> Self {
        Self { deps }
    }
}

#[cfg(test)]
mod deleted_tests;
#[cfg(test)]
mod tests;

/// Stores a new `user` in its own unit of work; a taken email is a conflict. Registration and provisioning share it.
pub(crate) async fn store_new_user(deps: &Deps, user: &User) -> Result<(), AppError> {
    let tx = deps.uow.begin().await?;
    match tx.users().insert(user).await {
        Err(RepoError::Duplicate { .. }) => return Err(AppError::Conflict("a user with this email already exists")),
        other => other?,
    }
    Ok(tx.commit().await?)
}
