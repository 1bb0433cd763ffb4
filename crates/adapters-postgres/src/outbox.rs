//! The outbox: events appended in the unit of work that made them ([`EventOutbox`] on [`PgTransaction`]), stored
//! with a JSON snapshot of the task, and read back by the relay ([`OutboxReader`]).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{ConnectionTrait, DeriveIden, FromQueryResult, Value};
use taskflow_domain::events::{DomainEvent, TaskEventKind};
use taskflow_domain::ports::{EventOutbox, OutboxReader};
use taskflow_domain::task::Task;
use taskflow_domain::{EventId, RepoError};
use uuid::Uuid;

use crate::error::{bounded, corrupt, map_db_err};
use crate::rows::{build, stmt, tasks};
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

/// The `outbox_events` columns an event is written to.
#[derive(Clone, Copy, DeriveIden)]
enum OutboxEvents {
    Table,
    Id,
    Kind,
    TaskId,
    OwnerId,
    Payload,
    OccurredAt,
}

#[async_trait]
impl EventOutbox for PgTransaction {
    async fn append(&self, events: &[DomainEvent]) -> Result<(), RepoError> {
        use OutboxEvents as C;
        for chunk in events.chunks(OUTBOX_CHUNK) {
            let mut insert = Query::insert()
                .into_table(C::Table)
                .columns([C::Id, C::Kind, C::TaskId, C::OwnerId, C::Payload, C::OccurredAt])
                .to_owned();
            for e in chunk {
                let row: [Value; 6] = [
                    e.id.as_uuid().into(),
                    e.kind.as_str().into(),
                    e.task.id().as_uuid().into(),
                    e.task.owner().as_uuid().into(),
                    snapshot(&e.task).into(),
                    e.occurred_at.into(),
                ];
                insert.values(row.map(Expr::val)).map_err(|err| RepoError::unexpected(err.to_string()))?;
            }
            bounded(self.deadline, self.txn.execute_raw(build(&insert))).await?;
        }
        Ok(())
    }
}
