//! Send a failed or dead delivery back to `pending` with a fresh attempt budget.

use taskflow_domain::policy::Actor;
use taskflow_domain::ports::RetryOutcome;
use taskflow_domain::webhook::{Delivery, DeliveryStatus};
use taskflow_domain::{DeliveryId, WebhookId};

use super::WebhookService;
use crate::error::AppError;

/// Why a delivery in `status` cannot be retried, for the client.
const fn not_retryable(status: DeliveryStatus) -> &'static str {
    match status {
        DeliveryStatus::Pending => "the delivery is pending; only a failed or dead delivery can be retried",
        DeliveryStatus::Succeeded => "the delivery succeeded; only a failed or dead delivery can be retried",
        DeliveryStatus::Cancelled => "the delivery was cancelled; only a failed or dead delivery can be retried",
        DeliveryStatus::Failed | DeliveryStatus::Dead => "the delivery changed meanwhile; retry the request",
    }
}

impl WebhookService {
    /// Retries delivery `delivery` of webhook `id` now, if the caller may see the webhook.
    ///
    /// # Errors
    /// [`AppError::NotFound`] for an unknown or hidden webhook, or a delivery that is not this webhook's;
    /// [`AppError::Conflict`] for a delivery that is neither `failed` nor `dead`.
    #[tracing::instrument(name = "webhooks.retry", skip_all,
        fields(user_id = %actor.user_id, webhook_id = %id, delivery_id = %delivery))]
    pub async fn retry_delivery(
        &self,
        actor: Actor,
        id: WebhookId,
        delivery: DeliveryId,
    ) -> Result<Delivery, AppError> {
        let webhook = self.visible(actor, id).await?;
        match self.deps.deliveries.retry(webhook.id(), delivery, self.deps.clock.now()).await? {
            None => Err(AppError::NotFound("delivery")),
            Some(RetryOutcome::Retried(delivery)) => Ok(delivery),
            Some(RetryOutcome::NotRetryable(status)) => Err(AppError::Conflict(not_retryable(status))),
        }
    }
}
