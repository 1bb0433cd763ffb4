//! Delete a webhook; its pending deliveries are cancelled with it.

use taskflow_domain::WebhookId;
use taskflow_domain::policy::Actor;

use super::WebhookService;
use crate::error::AppError;

impl WebhookService {
    /// Deletes webhook `id` and cancels its open deliveries (the repository does both atomically).
    ///
    /// # Errors
    /// [`AppError::NotFound`] for an unknown or hidden webhook.
    #[tracing::instrument(name = "webhooks.delete", skip_all, fields(user_id = %actor.user_id, webhook_id = %id))]
    pub async fn delete_webhook(&self, actor: Actor, id: WebhookId) -> Result<(), AppError> {
        if self.deps.webhooks.delete(id, actor.task_scope()).await? {
            Ok(())
        } else {
            Err(AppError::NotFound("webhook"))
        }
    }
}
