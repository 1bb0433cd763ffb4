//! User writes inside an [`InMemoryTransaction`]: unique emails, and cascading deletes that leave a tombstone.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use taskflow_domain::RepoError;
use taskflow_domain::auth::UserTombstone;
use taskflow_domain::ids::UserId;
use taskflow_domain::ports::UserRepository;
use taskflow_domain::user::User;

use super::transaction::InMemoryTransaction;
use crate::locks::lock;

/// The name of the unique rule on emails, as the PostgreSQL schema names it.
const EMAIL_KEY: &str = "users_email_key";

fn duplicate_email() -> RepoError {
    RepoError::Duplicate { constraint: EMAIL_KEY.to_owned() }
}

#[async_trait]
impl UserRepository for InMemoryTransaction {
    async fn insert(&self, user: &User) -> Result<(), RepoError> {
        let mut staged = lock(&self.staged);
        if self.effective_user(&staged, user.id()).is_some() {
            return Err(RepoError::Duplicate { constraint: "users_pkey".to_owned() });
        }
        if self.email_taken(&staged, user.email(), user.id()) {
            return Err(duplicate_email());
        }
        staged.users.insert(user.id(), Some(user.clone()));
        Ok(())
    }

    async fn find_for_update(&self, id: UserId) -> Result<Option<User>, RepoError> {
        Ok(self.effective_user(&lock(&self.staged), id))
    }

    async fn update(&self, user: &User) -> Result<(), RepoError> {
        let mut staged = lock(&self.staged);
        // Like an UPDATE that matches no row: the user is gone, so the change cannot apply.
        if self.effective_user(&staged, user.id()).is_none() {
            return Err(RepoError::Conflict);
        }
        if self.email_taken(&staged, user.email(), user.id()) {
            return Err(duplicate_email());
        }
        staged.users.insert(user.id(), Some(user.clone()));
        Ok(())
    }

    async fn delete(&self, id: UserId, at: DateTime<Utc>) -> Result<bool, RepoError> {
        let mut staged = lock(&self.staged);
        if self.effective_user(&staged, id).is_none() {
            return Ok(false);
        }
        for task in self.task_ids_of(&staged, id) {
            staged.tasks.insert(task, None);
        }
        staged.users.insert(id, None);
        staged.tombstones.push(UserTombstone { user_id: id, deleted_at: at });
        Ok(true)
    }
}
