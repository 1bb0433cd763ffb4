//! The webhook side of the committed state: subscriptions, their deliveries (with leases and attempt logs) and the
//! overdue marks, kept in [`super::tables::Tables`] so that relaying and cascading deletes see one consistent state.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use taskflow_domain::events::DomainEvent;
use taskflow_domain::ids::{DeliveryId, TaskId, UserId, WebhookId};
use taskflow_domain::ports::LeaseToken;
use taskflow_domain::webhook::{Delivery, Webhook};

/// One recorded attempt of a delivery (PostgreSQL's `delivery_attempts`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AttemptLog {
    pub(crate) attempt: u32,
    pub(crate) at: DateTime<Utc>,
    pub(crate) status_code: Option<u16>,
    pub(crate) error: Option<String>,
    pub(crate) duration_ms: u32,
}

/// A delivery with what only the queue sees: its current lease, its event and its attempt log.
///
/// While leased, `delivery.next_attempt_at` is the lease's expiry, so an expired lease makes it due again by the
/// same rule as any other due delivery.
#[derive(Debug, Clone)]
pub(crate) struct DeliveryRow {
    pub(crate) delivery: Delivery,
    pub(crate) lease: Option<LeaseToken>,
    pub(crate) event: DomainEvent,
    pub(crate) log: Vec<AttemptLog>,
}

/// Webhooks, deliveries and overdue marks.
#[derive(Debug, Default)]
pub(crate) struct HookTables {
    pub(crate) webhooks: HashMap<WebhookId, Webhook>,
    pub(crate) deliveries: HashMap<DeliveryId, DeliveryRow>,
    /// The unique key of the overdue scan: one `task.overdue` per (task, due date).
    pub(crate) overdue_marks: HashMap<TaskId, HashSet<DateTime<Utc>>>,
}

impl HookTables {
    /// Removes a webhook and every delivery of it (PostgreSQL's `ON DELETE CASCADE`).
    pub(crate) fn remove_webhook(&mut self, id: WebhookId) -> bool {
        let existed = self.webhooks.remove(&id).is_some();
        if existed {
            self.deliveries.retain(|_, row| row.delivery.webhook_id != id);
        }
        existed
    }

    /// Removes every webhook of a deleted user.
    pub(crate) fn forget_owner(&mut self, owner: UserId) {
        let ids: Vec<WebhookId> = self.webhooks.values().filter(|w| w.owner() == owner).map(Webhook::id).collect();
        for id in ids {
            self.remove_webhook(id);
        }
    }

    /// Removes the overdue marks of a deleted task.
    pub(crate) fn forget_task(&mut self, task: TaskId) {
        self.overdue_marks.remove(&task);
    }
}
