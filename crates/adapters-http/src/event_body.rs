//! Events in their published form: a webhook's body carries the task exactly as `GET /tasks/:id` shows it.

use serde::Serialize;
use taskflow_application::domain::events::DomainEvent;
use taskflow_application::domain::query::{OwnerSummary, TaskView};
use taskflow_application::ports::EventEncoder;
use uuid::Uuid;

use crate::dto::timestamp;
use crate::tasks::wire::TaskOut;

/// The JSON encoder of events, for the background jobs.
#[derive(Debug, Clone, Copy, Default)]
pub struct JsonEventEncoder;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WebhookBody {
    id: Uuid,
    #[serde(rename = "type")]
    kind: &'static str,
    occurred_at: String,
    data: WebhookData,
}

#[derive(Serialize)]
struct WebhookData {
    task: TaskOut,
}

impl EventEncoder for JsonEventEncoder {
    fn webhook_body(&self, event: &DomainEvent, owner: &OwnerSummary) -> Vec<u8> {
        let view = TaskView { task: event.task.clone(), owner: owner.clone() };
        let body = WebhookBody {
            id: event.id.as_uuid(),
            kind: event.kind.as_str(),
            occurred_at: timestamp(event.occurred_at),
            data: WebhookData { task: TaskOut::from(&view) },
        };
        // Strings, numbers and timestamps always serialise.
        serde_json::to_vec(&body).unwrap_or_default()
    }
}
