//! The outbox's stored form (a JSON snapshot of the task) and its delivery side, [`OutboxReader`].

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, FromQueryResult};
use serde::{Deserialize, Serialize};
use taskflow_domain::events::{DomainEvent, TaskEventKind};
use taskflow_domain::ports::OutboxReader;
use taskflow_domain::task::{Task, TaskDescription, TaskPriority, TaskStatus, TaskTitle, Version};
use taskflow_domain::{EventId, RepoError, TaskId, UserId};
use uuid::Uuid;

use crate::error::{corrupt, map_db_err};
use crate::rows::stmt;
use crate::storage::PgStorage;

/// The task as stored in `outbox_events.payload` (camelCase, like the API's `Task`).
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TaskSnapshot {
    id: Uuid,
    title: String,
    description: Option<String>,
    status: String,
    priority: String,
    due_date: Option<DateTime<Utc>>,
    completed_at: Option<DateTime<Utc>>,
    user_id: Uuid,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    version: i64,
}

/// The JSON snapshot of a task stored with its event.
pub(crate) fn snapshot(t: &Task) -> serde_json::Value {
    let s = TaskSnapshot {
        id: t.id().as_uuid(),
        title: t.title().as_ref().to_owned(),
        description: t.description().map(|d| d.as_ref().to_owned()),
        status: t.status().as_str().to_owned(),
        priority: t.priority().as_str().to_owned(),
        due_date: t.due_date(),
        completed_at: t.completed_at(),
        user_id: t.owner().as_uuid(),
        created_at: t.created_at(),
        updated_at: t.updated_at(),
        version: t.version().get(),
    };
    // A struct of strings, numbers and timestamps always serialises.
    serde_json::to_value(s).unwrap_or(serde_json::Value::Null)
}

fn task_of(payload: serde_json::Value) -> Result<Task, RepoError> {
    let s: TaskSnapshot = serde_json::from_value(payload).map_err(|e| corrupt("event payload", e))?;
    Ok(Task::from_parts(
        TaskId::from_uuid(s.id),
        TaskTitle::parse(&s.title).map_err(|e| corrupt("event task title", e))?,
        s.description.map(|d| TaskDescription::parse(&d)).transpose().map_err(|e| corrupt("event description", e))?,
        TaskStatus::parse(&s.status).map_err(|e| corrupt("event task status", e))?,
        TaskPriority::parse(&s.priority).map_err(|e| corrupt("event task priority", e))?,
        s.due_date,
        s.completed_at,
        UserId::from_uuid(s.user_id),
        s.created_at,
        s.updated_at,
        Version::new(s.version).map_err(|e| corrupt("event task version", e))?,
    ))
}

/// One `outbox_events` row.
#[derive(Debug, FromQueryResult)]
struct EventRow {
    id: Uuid,
    kind: String,
    payload: serde_json::Value,
    occurred_at: DateTime<Utc>,
}

#[async_trait]
impl OutboxReader for PgStorage {
    async fn pending(&self, limit: usize) -> Result<Vec<DomainEvent>, RepoError> {
        let sql = "SELECT id, kind, payload, occurred_at FROM outbox_events WHERE dispatched_at IS NULL \
                   ORDER BY occurred_at, seq LIMIT $1";
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self.db.query_all_raw(stmt(sql, [limit.into()])).await.map_err(map_db_err)?;
        rows.iter()
            .map(|row| {
                let r = EventRow::from_query_result(row, "").map_err(map_db_err)?;
                Ok(DomainEvent {
                    id: EventId::from_uuid(r.id),
                    kind: TaskEventKind::parse(&r.kind).map_err(|e| corrupt("event kind", e))?,
                    task: task_of(r.payload)?,
                    occurred_at: r.occurred_at,
                })
            })
            .collect()
    }

    async fn mark_dispatched(&self, ids: &[EventId]) -> Result<(), RepoError> {
        let ids: Vec<Uuid> = ids.iter().map(EventId::as_uuid).collect();
        let sql = "UPDATE outbox_events SET dispatched_at = now() WHERE id = ANY($1) AND dispatched_at IS NULL";
        self.db.execute_raw(stmt(sql, [ids.into()])).await.map_err(map_db_err)?;
        Ok(())
    }
}
