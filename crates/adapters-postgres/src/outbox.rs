//! The outbox's stored form (a JSON snapshot of the task) and its delivery side, [`OutboxReader`].

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, FromQueryResult};
use taskflow_domain::events::{DomainEvent, TaskEventKind};
use taskflow_domain::ports::OutboxReader;
use taskflow_domain::task::Task;
use taskflow_domain::{EventId, RepoError};
use uuid::Uuid;

use crate::error::{bounded, corrupt, map_db_err};
use crate::rows::{TaskRow, stmt};
use crate::storage::PgStorage;

/// The JSON snapshot of a task stored with its event.
pub(crate) fn snapshot(t: &Task) -> serde_json::Value {
    // A row of strings, numbers and timestamps always serialises.
    serde_json::to_value(TaskRow::from(t)).unwrap_or(serde_json::Value::Null)
}

fn task_of(payload: serde_json::Value) -> Result<Task, RepoError> {
    let row: TaskRow = serde_json::from_value(payload).map_err(|e| corrupt("event payload", e))?;
    Task::try_from(row)
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
        let rows = bounded(self.deadline, self.db.query_all_raw(stmt(sql, [limit.into()]))).await?;
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
        bounded(self.deadline, self.db.execute_raw(stmt(sql, [ids.into()]))).await?;
        Ok(())
    }
}
