//! The outbox: events appended in the unit of work that made them ([`EventOutbox`] on [`PgTransaction`]), stored
//! with a JSON snapshot of the task, and read back by the relay ([`OutboxReader`]).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, FromQueryResult, Value};
use taskflow_domain::events::{DomainEvent, TaskEventKind};
use taskflow_domain::ports::{EventOutbox, OutboxReader};
use taskflow_domain::task::Task;
use taskflow_domain::{EventId, RepoError};
use uuid::Uuid;

use crate::error::{bounded, corrupt, map_db_err};
use crate::rows::{stmt, tasks};
use crate::storage::PgStorage;
use crate::tx::PgTransaction;

/// The JSON snapshot of a task stored with its event.
pub(crate) fn snapshot(t: &Task) -> serde_json::Value {
    // A row of strings, numbers and timestamps always serialises.
    serde_json::to_value(tasks::Model::from(t.record())).unwrap_or(serde_json::Value::Null)
}

fn task_of(payload: serde_json::Value) -> Result<Task, RepoError> {
    let row: tasks::Model = serde_json::from_value(payload).map_err(|e| corrupt("event payload", e))?;
    Ok(Task::from_record(row.try_into()?))
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

/// Rows per outbox `INSERT` (6 parameters each, well under Postgres' 65,535).
const OUTBOX_CHUNK: usize = 5_000;

#[async_trait]
impl EventOutbox for PgTransaction {
    async fn append(&self, events: &[DomainEvent]) -> Result<(), RepoError> {
        for chunk in events.chunks(OUTBOX_CHUNK) {
            let mut sql =
                String::from("INSERT INTO outbox_events (id, kind, task_id, owner_id, payload, occurred_at) VALUES ");
            let mut values: Vec<Value> = Vec::with_capacity(chunk.len() * 6);
            for (i, e) in chunk.iter().enumerate() {
                let b = i * 6;
                if i > 0 {
                    sql.push_str(", ");
                }
                sql.push_str(&format!("(${}, ${}, ${}, ${}, ${}, ${})", b + 1, b + 2, b + 3, b + 4, b + 5, b + 6));
                values.extend([
                    e.id.as_uuid().into(),
                    e.kind.as_str().into(),
                    e.task.id().as_uuid().into(),
                    e.task.owner().as_uuid().into(),
                    snapshot(&e.task).into(),
                    e.occurred_at.into(),
                ]);
            }
            bounded(self.deadline, self.txn.execute_raw(stmt(sql, values))).await?;
        }
        Ok(())
    }
}
