//! Get one webhook; another user's is reported as absent.

use taskflow_domain::WebhookId;
use taskflow_domain::policy::Actor;
use taskflow_domain::webhook::Webhook;

use super::WebhookService;
use crate::error::AppError;

impl WebhookService {
    /// The webhook `id`, if the caller may see it.
    ///
    /// # Errors
    /// [`AppError::NotFound`] when it does not exist or belongs to someone else and the caller is no admin.
    #[tracing::instrument(name = "webhooks.get", skip_all, fields(user_id = %actor.user_id, webhook_id = %id))]
    pub async fn get_webhook(&self, actor: Actor, id: WebhookId) -> Result<Webhook, AppError> {
        self.visible(actor, id).await
    }
}
