//! List the webhooks the caller may see.

use taskflow_domain::policy::Actor;
use taskflow_domain::webhook::Webhook;

use super::WebhookService;
use crate::error::AppError;

impl WebhookService {
    /// The caller's webhooks (every webhook for an admin), oldest first.
    ///
    /// # Errors
    /// [`AppError::Unavailable`] when the store is down.
    #[tracing::instrument(name = "webhooks.list", skip_all, fields(user_id = %actor.user_id))]
    pub async fn list_webhooks(&self, actor: Actor) -> Result<Vec<Webhook>, AppError> {
        Ok(self.deps.webhooks.list(actor.task_scope()).await?)
    }
}
