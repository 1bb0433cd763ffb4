//! The outbox, which is also the permanent event log: events appended in the unit of work that made them
//! ([`EventOutbox`] on [`PgTransaction`]), each with a JSON snapshot of the task, its actor and its changes; read
//! back by the relay ([`OutboxReader`]) and by task ([`EventLog`]). Relaying marks a row, never deletes it.

use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{ConnectionTrait, DeriveIden, FromQueryResult, QueryResult, Value};
use serde_json::{Map, Value as Json, json};
use taskflow_domain::events::{Deletion, DomainEvent, TaskEventKind};
use taskflow_domain::ports::{EventLog, EventOutbox, OutboxReader};
use taskflow_domain::task::{ChangeValue, FieldChange, Task, TaskChanges, TaskField};
use taskflow_domain::{EventId, RepoError, TaskId, UserId};
use uuid::Uuid;

use crate::error::{bounded, corrupt, map_db_err};
use crate::read::Sql;
use crate::rows::{build, stmt, task_columns, tasks};
use crate::storage::PgStorage;
use crate::tx::PgTransaction;

/// The channel every append notifies, on commit, to wake the workers' relays (`LISTEN taskflow_work`).
pub const WORK_CHANNEL: &str = "taskflow_work";

/// The channel notified, on commit, when deliveries are made or made due again (a relay that fanned events out to
/// webhooks, a release, a retry), to wake the workers' senders (`LISTEN taskflow_deliveries`). Apart from
/// [`WORK_CHANNEL`], so that a committed task wakes no sender when no webhook wants its event.
pub const DELIVERY_CHANNEL: &str = "taskflow_deliveries";

/// The channel every relay that published events notifies, on commit, to wake live event streams
/// (`LISTEN taskflow_events`).
pub const FEED_CHANNEL: &str = "taskflow_events";

/// The JSON snapshot of a task stored with its event.
pub(crate) fn snapshot(t: &Task) -> Json {
    // A row of strings, numbers and timestamps always serialises.
    serde_json::to_value(tasks::Model::from(t.record())).unwrap_or(Json::Null)
}

/// `lower_snake` as `lowerCamel`, the snapshot's key for a `tasks` column (`#[serde(rename_all = "camelCase")]`).
fn camel_case(snake: &str) -> String {
    let mut parts = snake.split('_');
    let mut camel = parts.next().unwrap_or_default().to_owned();
    for part in parts {
        let mut chars = part.chars();
        camel.extend(chars.next().map(|c| c.to_ascii_uppercase()));
        camel.push_str(chars.as_str());
    }
    camel
}

/// [`snapshot`] made by the database from the `tasks` row `alias` (a row being deleted, or found overdue): the same
/// keys, and values that read back as the same task (`jsonb` writes a `timestamptz` in RFC 3339 at the column's
/// microseconds).
pub(crate) fn snapshot_sql(alias: &str) -> String {
    let pairs: Vec<String> = task_columns()
        .map(|c| {
            let column = sea_orm::IdenStatic::as_str(&c);
            format!("'{}', {alias}.{column}", camel_case(column))
        })
        .collect();
    format!("jsonb_build_object({})", pairs.join(", "))
}

/// The values of the event `deletion` makes of the `tasks` row `alias` as it is deleted, in the order of
/// [`APPENDED_COLUMNS`]: the decided parts bound in `sql`, the task's own read from the row.
pub(crate) fn deletion_row(deletion: &Deletion, alias: &str, sql: &mut Sql) -> String {
    let (id, kind) = (sql.bind(deletion.id.as_uuid()), sql.bind(Deletion::KIND.as_str()));
    let (at, actor) = (sql.bind(deletion.at), sql.bind(deletion.actor.as_uuid()));
    let changes = sql.bind(changes_json(&TaskChanges::none()));
    let snapshot = snapshot_sql(alias);
    format!("{id}, {kind}, {alias}.id, {alias}.user_id, {snapshot}, {at}, {actor}, {alias}.version, {changes}")
}

fn task_of(payload: Json) -> Result<Task, RepoError> {
    let row: tasks::Model = serde_json::from_value(payload).map_err(|e| corrupt("event payload", e))?;
    Ok(Task::from_record(row.try_into()?))
}

/// One side of a change as JSON: `null`, a string, or an instant as RFC 3339 UTC to the microsecond, the precision
/// of the task's own timestamp columns, so that a change reads back as the instant the task holds.
fn value_json(value: &ChangeValue) -> Json {
    match value {
        ChangeValue::Null => Json::Null,
        ChangeValue::Text(text) => Json::String(text.clone()),
        ChangeValue::Time(at) => Json::String(at.to_rfc3339_opts(SecondsFormat::Micros, true)),
    }
}

/// `{"<field>": {"from": .., "to": ..}}`. `jsonb` keeps no key order; reading puts the fields back in order.
fn changes_json(changes: &TaskChanges) -> Json {
    let fields: Map<String, Json> = changes
        .iter()
        .map(|c| (c.field.as_str().to_owned(), json!({ "from": value_json(&c.from), "to": value_json(&c.to) })))
        .collect();
    Json::Object(fields)
}

/// Reads one side of a change back; the field says whether a string is text or an instant.
fn change_value(field: TaskField, json: &Json) -> Result<ChangeValue, RepoError> {
    match json {
        Json::Null => Ok(ChangeValue::Null),
        Json::String(s) if field.is_time() => DateTime::parse_from_rfc3339(s)
            .map(|at| ChangeValue::Time(at.with_timezone(&Utc)))
            .map_err(|e| corrupt("event change time", e)),
        Json::String(s) => Ok(ChangeValue::Text(s.clone())),
        other => Err(corrupt("event change value", other)),
    }
}

fn changes_of(json: &Json) -> Result<TaskChanges, RepoError> {
    let fields = json.as_object().ok_or_else(|| corrupt("event changes", json))?;
    let changes = fields
        .iter()
        .map(|(name, sides)| {
            let field = TaskField::parse(name).map_err(|e| corrupt("event change field", e))?;
            let side = |key: &str| sides.get(key).ok_or_else(|| corrupt("event change", sides)).map(|v| (field, v));
            let (from, to) = (side("from")?, side("to")?);
            Ok(FieldChange { field, from: change_value(from.0, from.1)?, to: change_value(to.0, to.1)? })
        })
        .collect::<Result<Vec<_>, RepoError>>()?;
    Ok(TaskChanges::new(changes))
}

/// The `outbox_events` columns an event is rebuilt from (by [`event_from`]), in every statement that reads events.
pub(crate) const EVENT_COLUMNS: [&str; 6] = ["id", "kind", "payload", "occurred_at", "actor_id", "changes"];

/// [`EVENT_COLUMNS`] as a select list.
fn event_columns() -> String {
    EVENT_COLUMNS.join(", ")
}

/// One `outbox_events` row.
#[derive(Debug, FromQueryResult)]
struct EventRow {
    id: Uuid,
    kind: String,
    payload: Json,
    occurred_at: DateTime<Utc>,
    actor_id: Option<Uuid>,
    changes: Json,
}

/// Rebuilds an event from a row holding [`EVENT_COLUMNS`], each named `{prefix}{column}`.
pub(crate) fn event_from(row: &QueryResult, prefix: &str) -> Result<DomainEvent, RepoError> {
    let r = EventRow::from_query_result(row, prefix).map_err(map_db_err)?;
    Ok(DomainEvent {
        id: EventId::from_uuid(r.id),
        kind: TaskEventKind::parse(&r.kind).map_err(|e| corrupt("event kind", e))?,
        task: task_of(r.payload)?,
        occurred_at: r.occurred_at,
        actor: r.actor_id.map(UserId::from_uuid),
        changes: changes_of(&r.changes)?,
    })
}

fn limit_value(limit: usize) -> Value {
    i64::try_from(limit).unwrap_or(i64::MAX).into()
}

#[async_trait]
impl OutboxReader for PgStorage {
    async fn pending(&self, limit: usize) -> Result<Vec<DomainEvent>, RepoError> {
        let sql =
            format!("SELECT {} FROM outbox_events WHERE dispatched_at IS NULL ORDER BY seq LIMIT $1", event_columns());
        let rows = bounded(self.deadline, self.db.query_all_raw(stmt(sql, [limit_value(limit)]))).await?;
        rows.iter().map(|row| event_from(row, "")).collect()
    }

    async fn mark_dispatched(&self, ids: &[EventId]) -> Result<(), RepoError> {
        let ids: Vec<Uuid> = ids.iter().map(EventId::as_uuid).collect();
        let sql = "UPDATE outbox_events SET dispatched_at = now() WHERE id = ANY($1) AND dispatched_at IS NULL";
        bounded(self.deadline, self.db.execute_raw(stmt(sql, [ids.into()]))).await?;
        Ok(())
    }
}

#[async_trait]
impl EventLog for PgStorage {
    async fn history(&self, task: TaskId, after: Option<EventId>, limit: usize) -> Result<Vec<DomainEvent>, RepoError> {
        // One range scan of (task_id, seq); the keyset's seq comes from the primary key. An unknown `after`
        // makes the comparison NULL, so the page is empty.
        let task = Value::from(task.as_uuid());
        let columns = event_columns();
        let statement = match after {
            None => stmt(
                format!("SELECT {columns} FROM outbox_events WHERE task_id = $1 ORDER BY seq LIMIT $2"),
                [task, limit_value(limit)],
            ),
            Some(after) => stmt(
                format!(
                    "SELECT {columns} FROM outbox_events WHERE task_id = $1 \
                     AND seq > (SELECT seq FROM outbox_events WHERE id = $2) ORDER BY seq LIMIT $3"
                ),
                [task, after.as_uuid().into(), limit_value(limit)],
            ),
        };
        let rows = bounded(self.deadline, self.db.query_all_raw(statement)).await?;
        rows.iter().map(|row| event_from(row, "")).collect()
    }
}

/// The `outbox_events` columns an event is written to, in the order of [`event_row`].
pub(crate) const APPENDED_COLUMNS: &str =
    "id, kind, task_id, owner_id, payload, occurred_at, actor_id, version, changes";

/// The values of one appended event, in the order of [`APPENDED_COLUMNS`].
pub(crate) fn event_row(e: &DomainEvent) -> [Value; 9] {
    [
        e.id.as_uuid().into(),
        e.kind.as_str().into(),
        e.task.id().as_uuid().into(),
        e.task.owner().as_uuid().into(),
        snapshot(&e.task).into(),
        e.occurred_at.into(),
        e.actor.map(|a| a.as_uuid()).into(),
        e.version().get().into(),
        changes_json(&e.changes).into(),
    ]
}

/// Rows per outbox `INSERT` (9 parameters each, well under Postgres' 65,535).
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
    ActorId,
    Version,
    Changes,
}

#[async_trait]
impl EventOutbox for PgTransaction {
    async fn append(&self, events: &[DomainEvent]) -> Result<(), RepoError> {
        use OutboxEvents as C;
        for chunk in events.chunks(OUTBOX_CHUNK) {
            let mut insert = Query::insert()
                .into_table(C::Table)
                .columns([
                    C::Id,
                    C::Kind,
                    C::TaskId,
                    C::OwnerId,
                    C::Payload,
                    C::OccurredAt,
                    C::ActorId,
                    C::Version,
                    C::Changes,
                ])
                .to_owned();
            for e in chunk {
                insert.values(event_row(e).map(Expr::val)).map_err(|err| RepoError::unexpected(err.to_string()))?;
            }
            // The wake-up rides on the INSERT itself: no extra round trip, and PostgreSQL delivers a NOTIFY only
            // when (and if) the transaction commits. Identical notifications of one transaction are folded into one.
            let mut statement = build(&insert);
            statement.sql = format!(
                "WITH appended AS ({} RETURNING 1) \
                 SELECT pg_notify('{WORK_CHANNEL}', '') FROM (SELECT 1 FROM appended LIMIT 1) AS any_row",
                statement.sql
            );
            bounded(self.deadline, self.txn.execute_raw(statement)).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn the_databases_snapshot_has_the_keys_of_the_services() {
        let row = tasks::Model {
            id: Uuid::nil(),
            title: "t".into(),
            description: None,
            status: "PENDING".into(),
            priority: "LOW".into(),
            due_date: None,
            completed_at: None,
            user_id: Uuid::nil(),
            created_at: DateTime::UNIX_EPOCH,
            updated_at: DateTime::UNIX_EPOCH,
            version: 1,
        };
        let Json::Object(serialised) = serde_json::to_value(row).unwrap() else { panic!("an object") };
        let services: BTreeSet<String> = serialised.keys().cloned().collect();
        let sql = snapshot_sql("d");
        let databases: BTreeSet<String> = sql.split('\'').skip(1).step_by(2).map(str::to_owned).collect();
        assert_eq!(databases, services, "{sql}");
    }
}
