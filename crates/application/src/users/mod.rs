//! User use cases: list (admin), get, update, delete (admin).

mod delete_user;
mod get_user;
mod list_users;
mod provision_user;
mod update_user;

pub use provision_user::NewAccount;
pub use update_user::UserUpdate;

use crate::Deps;

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
