//! List a webhook's deliveries, newest first, in offset pages.

use taskflow_domain::WebhookId;
use taskflow_domain::policy::Actor;
use taskflow_domain::query::PageRequest;
use taskflow_domain::webhook::{Delivery, DeliveryStatus};

use super::WebhookService;
use crate::FieldError;
use crate::error::AppError;
use crate::tasks::PageMeta;

/// A validated request for a page of deliveries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListDeliveries {
    /// Only deliveries in this status.
    pub status: Option<DeliveryStatus>,
    /// 1-based page.
    pub page: u32,
    /// 1..=100.
    pub limit: u32,
}

impl Default for ListDeliveries {
    fn default() -> Self {
        Self { status: None, page: 1, limit: 20 }
    }
}

/// One page of deliveries.
#[derive(Debug, Clone)]
pub struct DeliveryList {
    /// The deliveries, newest first.
    pub items: Vec<Delivery>,
    /// Paging facts (always [`PageMeta::Offset`]).
    pub meta: PageMeta,
}

impl WebhookService {
    /// One page of webhook `id`'s deliveries, if the caller may see the webhook.
    ///
    /// # Errors
    /// [`AppError::NotFound`] for an unknown or hidden webhook; [`AppError::Validation`] (`page`, `limit`) for a
    /// page below 1 or a limit outside 1..=100.
    #[tracing::instrument(name = "webhooks.deliveries", skip_all, fields(user_id = %actor.user_id, webhook_id = %id))]
    pub async fn list_deliveries(
        &self,
        actor: Actor,
        id: WebhookId,
        req: ListDeliveries,
    ) -> Result<DeliveryList, AppError> {
        let mut errors = Vec::new();
        if req.page < 1 {
            errors.push(FieldError::new("page", "must be an integer >= 1"));
        }
        if !(1..=100).contains(&req.limit) {
            errors.push(FieldError::new("limit", "must be an integer from 1 to 100"));
        }
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        let webhook = self.visible(actor, id).await?;
        let page = PageRequest { page: req.page, limit: req.limit };
        let (items, total) = self.deps.deliveries.list(webhook.id(), req.status, page).await?;
        let meta = PageMeta::Offset {
            page: req.page,
            limit: req.limit,
            total,
            total_pages: total.div_ceil(u64::from(req.limit)),
        };
        Ok(DeliveryList { items, meta })
    }
}
