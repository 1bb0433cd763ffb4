//! List users (admins only).

use taskflow_domain::policy::Actor;
use taskflow_domain::query::PageRequest;
use taskflow_domain::user::User;

use super::UserService;
use crate::error::AppError;

impl UserService {
    /// One page of users, oldest first, and the total.
    ///
    /// # Errors
    /// [`AppError::Forbidden`] for non-admins; [`AppError::Unavailable`] when storage is down.
    #[tracing::instrument(name = "users.list", skip_all, fields(user_id = %actor.user_id))]
    pub async fn list_users(&self, actor: Actor, page: PageRequest) -> Result<(Vec<User>, u64), AppError> {
        actor.may_administer()?;
        Ok(self.deps.user_reads.list(page).await?)
    }
}
