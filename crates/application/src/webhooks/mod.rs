//! Webhook use cases: create, list, get, update and delete subscriptions; list a webhook's deliveries and retry
//! one by hand. A user sees only their own webhooks (another user's is reported as absent); an admin sees all.

mod create_webhook;
mod delete_webhook;
mod get_webhook;
mod list_deliveries;
mod list_webhooks;
mod no_delivery;
mod retry_delivery;
mod update_webhook;

pub use create_webhook::CreatedWebhook;
pub use list_deliveries::{DeliveryList, ListDeliveries};
pub use no_delivery::NoDelivery;

use taskflow_domain::WebhookId;
use taskflow_domain::policy::Actor;
use taskflow_domain::webhook::{Webhook, WebhookUrl};

use crate::Deps;
use crate::error::AppError;

/// The most webhooks one user may hold; creating one more is a conflict.
pub const MAX_WEBHOOKS_PER_USER: u64 = 100;

/// The webhook use cases.
#[derive(Clone)]
pub struct WebhookService {
    deps: Deps,
}

impl WebhookService {
    /// A service over `deps`.
    #[must_use]
    pub fn new(deps: Deps) -> Self {
        Self { deps }
    }

    /// The webhook `id` if the caller may see it.
    async fn visible(&self, actor: Actor, id: WebhookId) -> Result<Webhook, AppError> {
        self.deps.webhooks.get(id, actor.task_scope()).await?.ok_or(AppError::NotFound("webhook"))
    }

    /// Refuses a URL whose host is, or resolves to, an address TaskFlow does not call: 400 on `url`.
    async fn vet(&self, url: &WebhookUrl) -> Result<(), AppError> {
        self.deps.webhook_sender.vet(url).await.map_err(|refusal| AppError::invalid("url", refusal))
    }
}

#[cfg(test)]
mod tests;
