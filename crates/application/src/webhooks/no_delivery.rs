//! [`NoDelivery`]: the webhook sender and circuit breakers of a wiring that keeps webhooks but never sends them.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use taskflow_domain::breaker::{BreakerPolicy, BreakerState, CallKind, Permit};
use taskflow_domain::webhook::{AttemptOutcome, FailureClass, WebhookUrl};
use taskflow_domain::{RepoError, WebhookId};

use crate::breakers::BreakerStore;
use crate::ports::{OutgoingWebhook, UrlRefusal, WebhookSender};

/// Webhooks without delivery, the default of [`crate::DepsBuilder`]: every URL is accepted (no request is ever
/// made, so there is nothing to vet), every attempt fails at once as [`FailureClass::Other`] without a request,
/// and the breakers never trip. An embedder that runs the delivery jobs gives a real sender instead
/// (`HttpWebhookSender` of `taskflow-adapters-webhooks`) and the store's breakers.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoDelivery;

#[async_trait]
impl WebhookSender for NoDelivery {
    async fn send(&self, _: OutgoingWebhook<'_>) -> AttemptOutcome {
        AttemptOutcome::Failed { class: FailureClass::Other, status: None, retry_after: None, duration_ms: 0 }
    }

    async fn vet(&self, _: &WebhookUrl) -> Result<(), UrlRefusal> {
        Ok(())
    }
}

#[async_trait]
impl BreakerStore for NoDelivery {
    async fn permit(&self, _: WebhookId, _: &BreakerPolicy, _: DateTime<Utc>) -> Result<Permit, RepoError> {
        Ok(Permit::Call)
    }

    async fn record(
        &self,
        _: WebhookId,
        _: CallKind,
        _: bool,
        _: &BreakerPolicy,
        _: DateTime<Utc>,
    ) -> Result<BreakerState, RepoError> {
        Ok(BreakerState::CLOSED)
    }

    async fn state(&self, _: WebhookId) -> Result<BreakerState, RepoError> {
        Ok(BreakerState::CLOSED)
    }

    async fn reset(&self, _: WebhookId) -> Result<(), RepoError> {
        Ok(())
    }

    async fn open_count(&self, _: DateTime<Utc>) -> Result<u64, RepoError> {
        Ok(0)
    }
}
