//! Create a webhook for the caller, with a new signing secret shown once.

use taskflow_domain::RepoError;
use taskflow_domain::policy::{Actor, TaskScope};
use taskflow_domain::webhook::{NewWebhook, Webhook, WebhookSecret};

use super::{MAX_WEBHOOKS_PER_USER, WebhookService};
use crate::error::AppError;

/// A new webhook and its signing secret: the only answer that carries the secret.
#[derive(Debug, Clone)]
pub struct CreatedWebhook {
    /// The webhook.
    pub webhook: Webhook,
    /// Its signing secret, to show the owner once.
    pub secret: WebhookSecret,
}

impl WebhookService {
    /// Creates an active webhook owned by the caller, after vetting its URL.
    ///
    /// # Errors
    /// [`AppError::Validation`] (`url`) when the URL's host is or resolves to a private, loopback or reserved
    /// address, or does not resolve; [`AppError::Conflict`] when the caller already has
    /// [`MAX_WEBHOOKS_PER_USER`] webhooks; [`AppError::Unauthenticated`] when the caller's account is gone.
    #[tracing::instrument(name = "webhooks.create", skip_all, fields(user_id = %actor.user_id))]
    pub async fn create_webhook(&self, actor: Actor, new: NewWebhook) -> Result<CreatedWebhook, AppError> {
        self.vet(&new.url).await?;
        // Checked before the insert, not atomically with it: two concurrent creations may pass a cap of 100 by
        // one. The cap guards against runaway clients, not against a precise count.
        if self.deps.webhooks.count(TaskScope::Owner(actor.user_id)).await? >= MAX_WEBHOOKS_PER_USER {
            return Err(AppError::Conflict("a user may have at most 100 webhooks; delete one first"));
        }
        let secret = self.deps.tokens.new_webhook_secret();
        let webhook =
            Webhook::new(new, self.deps.ids.webhook_id(), actor.user_id, secret.clone(), self.deps.clock.now());
        match self.deps.webhooks.insert(&webhook).await {
            // The caller's account was deleted since their token was issued.
            Err(RepoError::MissingReference) => return Err(AppError::Unauthenticated),
            other => other?,
        }
        Ok(CreatedWebhook { webhook, secret })
    }
}
