//! Change a webhook's URL, events, description or state.

use taskflow_domain::WebhookId;
use taskflow_domain::policy::Actor;
use taskflow_domain::webhook::{Webhook, WebhookPatch};

use super::WebhookService;
use crate::error::AppError;

impl WebhookService {
    /// Applies `patch` to webhook `id`; a new URL is vetted as at creation, and `active: true` closes the
    /// receiver's circuit breaker.
    ///
    /// # Errors
    /// [`AppError::Validation`] (`body`) for a patch that changes nothing, (`url`) for a URL that is refused;
    /// [`AppError::NotFound`] for an unknown or hidden webhook (or one deleted meanwhile).
    #[tracing::instrument(name = "webhooks.update", skip_all, fields(user_id = %actor.user_id, webhook_id = %id))]
    pub async fn update_webhook(&self, actor: Actor, id: WebhookId, patch: WebhookPatch) -> Result<Webhook, AppError> {
        if patch == WebhookPatch::default() {
            return Err(AppError::invalid("body", "name at least one field to change"));
        }
        let mut webhook = self.visible(actor, id).await?;
        if let Some(url) = patch.url.as_ref().filter(|url| *url != webhook.url()) {
            self.vet(url).await?;
        }
        let reactivated = patch.active == Some(true);
        if webhook.apply(patch, self.deps.clock.now()) && !self.deps.webhooks.update(&webhook).await? {
            return Err(AppError::NotFound("webhook"));
        }
        // The contract: setting `active: true` also closes the receiver's circuit breaker, so an owner who fixed
        // their receiver is not kept waiting for the cool-down.
        if reactivated {
            self.deps.webhook_breakers.reset(id).await?;
        }
        Ok(webhook)
    }
}
