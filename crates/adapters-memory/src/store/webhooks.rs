//! [`WebhookRepository`] over the committed state.

use async_trait::async_trait;
use taskflow_domain::RepoError;
use taskflow_domain::ids::WebhookId;
use taskflow_domain::policy::TaskScope;
use taskflow_domain::ports::WebhookRepository;
use taskflow_domain::webhook::Webhook;

use super::InMemoryStore;
use crate::locks::{read, write};

#[async_trait]
impl WebhookRepository for InMemoryStore {
    async fn insert(&self, hook: &Webhook) -> Result<(), RepoError> {
        let mut tables = write(&self.shared.tables);
        if !tables.users.contains_key(&hook.owner()) {
            return Err(RepoError::MissingReference);
        }
        if tables.hooks.webhooks.contains_key(&hook.id()) {
            return Err(RepoError::Duplicate { constraint: "webhooks_pkey".to_owned() });
        }
        tables.hooks.webhooks.insert(hook.id(), hook.clone());
        Ok(())
    }

    async fn get(&self, id: WebhookId, scope: TaskScope) -> Result<Option<Webhook>, RepoError> {
        let tables = read(&self.shared.tables);
        Ok(tables.hooks.webhooks.get(&id).filter(|w| scope.includes(w.owner())).cloned())
    }

    async fn list(&self, scope: TaskScope) -> Result<Vec<Webhook>, RepoError> {
        let tables = read(&self.shared.tables);
        let mut hooks: Vec<Webhook> =
            tables.hooks.webhooks.values().filter(|w| scope.includes(w.owner())).cloned().collect();
        hooks.sort_unstable_by_key(|w| (w.created_at(), w.id()));
        Ok(hooks)
    }

    async fn count(&self, scope: TaskScope) -> Result<u64, RepoError> {
        let tables = read(&self.shared.tables);
        Ok(tables.hooks.webhooks.values().filter(|w| scope.includes(w.owner())).count() as u64)
    }

    async fn update(&self, hook: &Webhook) -> Result<bool, RepoError> {
        let mut tables = write(&self.shared.tables);
        match tables.hooks.webhooks.get_mut(&hook.id()) {
            Some(stored) => {
                *stored = hook.clone();
                Ok(true)
            }
            None => Ok(false),
        }
    }

    async fn delete(&self, id: WebhookId, scope: TaskScope) -> Result<bool, RepoError> {
        let mut tables = write(&self.shared.tables);
        if !tables.hooks.webhooks.get(&id).is_some_and(|w| scope.includes(w.owner())) {
            return Ok(false);
        }
        // Its deliveries go with it, open ones included, so none of them can be attempted any more.
        Ok(tables.hooks.remove_webhook(id))
    }
}
