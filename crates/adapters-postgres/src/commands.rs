//! The single-task commands' units of work, each one statement (see `UnitOfWork` in the domain): the task write and
//! its events commit together because they are one statement, so no `BEGIN` or `COMMIT` travels, and a conditional
//! write takes no lock. The statements carry out what the domain decided (the task's new columns, the events with
//! their snapshots); they decide nothing.

use sea_orm::{ConnectionTrait, Value};
use taskflow_domain::RepoError;
use taskflow_domain::TaskId;
use taskflow_domain::events::{Deletion, DomainEvent};
use taskflow_domain::policy::TaskScope;
use taskflow_domain::ports::TaskWrite;
use taskflow_domain::query::OwnerSummary;
use taskflow_domain::task::{Task, Version};
use uuid::Uuid;

use crate::error::{bounded, corrupt};
use crate::outbox::{APPENDED_COLUMNS, deletion_row, event_row};
use crate::read::Sql;
use crate::rows::{owner_from, task_column_list, task_from, task_values, tasks};
use crate::storage::PgStorage;
use crate::task_writes::is_fixed;

/// `(p1, p2, ...)` binding `values`.
fn row_of(sql: &mut Sql, values: impl IntoIterator<Item = Value>) -> String {
    let placeholders: Vec<String> = values.into_iter().map(|v| sql.bind(v)).collect();
    format!("({})", placeholders.join(", "))
}

/// A CTE named `appended` inserting `events` (guarded by `guard`, an SQL condition, when given). It sends no
/// `NOTIFY`: the caller wakes the relays once the statement has returned (`wake.rs`).
fn append_ctes(sql: &mut Sql, events: &[DomainEvent], guard: Option<&str>) -> String {
    if events.is_empty() {
        return "appended AS (SELECT 1 WHERE false)".to_owned();
    }
    let rows: Vec<String> = events.iter().map(|e| row_of(sql, event_row(e))).collect();
    let source = match guard {
        None => format!("VALUES {}", rows.join(", ")),
        Some(guard) => format!("SELECT * FROM (VALUES {}) v WHERE {guard}", rows.join(", ")),
    };
    format!("appended AS (INSERT INTO outbox_events ({APPENDED_COLUMNS}) {source} RETURNING 1)")
}

/// The scope as an extra `AND` clause, its owner bound in `sql`.
fn scope_clause(scope: TaskScope, sql: &mut Sql) -> String {
    match scope {
        TaskScope::All => String::new(),
        TaskScope::Owner(owner) => format!(" AND t.user_id = {}", sql.bind(owner.as_uuid())),
    }
}

fn uuids(ids: &[TaskId]) -> Value {
    ids.iter().map(TaskId::as_uuid).collect::<Vec<Uuid>>().into()
}

fn count_of(row: Option<&sea_orm::QueryResult>, column: &str) -> Result<i64, RepoError> {
    let row = row.ok_or_else(|| corrupt("command result", "no row"))?;
    row.try_get::<i64>("", column).map_err(|e| corrupt("command result", e))
}

impl PgStorage {
    /// `INSERT` the task and its events, and read the owner's summary, in one statement. A missing owner fails the
    /// task's foreign key, which fails the whole statement.
    pub(crate) async fn create_task_now(&self, task: &Task, events: &[DomainEvent]) -> Result<OwnerSummary, RepoError> {
        let mut sql = Sql::default();
        let (columns, values): (Vec<tasks::Column>, Vec<Value>) = task_values(task).into_iter().unzip();
        let columns: Vec<String> = columns.into_iter().map(|c| sea_orm::IdenStatic::as_str(&c).to_owned()).collect();
        let row = row_of(&mut sql, values);
        let appended = append_ctes(&mut sql, events, None);
        let text = format!(
            "WITH created AS (INSERT INTO tasks ({}) VALUES {row} RETURNING user_id), {appended} \
             SELECT u.name AS owner_name, u.email AS owner_email FROM created c JOIN users u ON u.id = c.user_id",
            columns.join(", ")
        );
        let row = bounded(self.deadline, self.held.query_one_raw(sql.into_statement(text))).await?;
        // The insert succeeded, so the owner exists in this statement's snapshot.
        let row = row.ok_or(RepoError::MissingReference)?;
        if !events.is_empty() {
            self.wake_relays();
        }
        owner_from(&row, task.owner())
    }

    /// `UPDATE` the task if it is still at `expected`, and append its events only if it was, in one statement.
    pub(crate) async fn update_task_now(
        &self,
        task: &Task,
        expected: Version,
        events: &[DomainEvent],
    ) -> Result<(), RepoError> {
        let mut sql = Sql::default();
        let sets: Vec<String> = task_values(task)
            .into_iter()
            .filter(|(c, _)| !is_fixed(*c))
            .map(|(c, v)| format!("{} = {}", sea_orm::IdenStatic::as_str(&c), sql.bind(v)))
            .collect();
        let (id, version) = (sql.bind(task.id().as_uuid()), sql.bind(expected.get()));
        let appended = append_ctes(&mut sql, events, Some("EXISTS (SELECT 1 FROM changed)"));
        let text = format!(
            "WITH changed AS (UPDATE tasks SET {} WHERE id = {id} AND version = {version} RETURNING 1), {appended} \
             SELECT (SELECT count(*) FROM changed) AS changed",
            sets.join(", ")
        );
        let row = bounded(self.deadline, self.held.query_one_raw(sql.into_statement(text))).await?;
        if count_of(row.as_ref(), "changed")? == 0 {
            return Err(RepoError::Conflict);
        }
        if !events.is_empty() {
            self.wake_relays();
        }
        Ok(())
    }

    /// `DELETE` the task within `scope` and append the event `deletion` makes of the row deleted, in one statement.
    pub(crate) async fn delete_task_now(
        &self,
        id: TaskId,
        scope: TaskScope,
        deletion: &Deletion,
    ) -> Result<Option<Task>, RepoError> {
        let mut sql = Sql::default();
        let id = sql.bind(id.as_uuid());
        let clause = scope_clause(scope, &mut sql);
        let event = deletion_row(deletion, "d", &mut sql);
        let text = format!(
            "WITH deleted AS (DELETE FROM tasks t WHERE t.id = {id}{clause} RETURNING {returning}), \
             appended AS (INSERT INTO outbox_events ({APPENDED_COLUMNS}) SELECT {event} FROM deleted d RETURNING 1) \
             SELECT {columns} FROM deleted d",
            returning = task_column_list("t"),
            columns = task_column_list("d"),
        );
        let row = bounded(self.deadline, self.held.query_one_raw(sql.into_statement(text))).await?;
        let deleted = row.as_ref().map(task_from).transpose()?;
        if deleted.is_some() {
            self.wake_relays();
        }
        Ok(deleted)
    }

    /// The tasks among `ids` within `scope`, in one statement.
    pub(crate) async fn read_tasks_now(&self, ids: &[TaskId], scope: TaskScope) -> Result<Vec<Task>, RepoError> {
        let mut sql = Sql::default();
        let ids_p = sql.bind(uuids(ids));
        let clause = scope_clause(scope, &mut sql);
        let text = format!("SELECT {} FROM tasks t WHERE t.id = ANY({ids_p}){clause}", task_column_list("t"));
        let rows = bounded(self.deadline, self.held.query_all_raw(sql.into_statement(text))).await?;
        rows.iter().map(task_from).collect()
    }

    /// Every write, if every task is still at its expected version, and the events, in one statement; else
    /// nothing. Updates and deletes are joined to the tasks by id, the events to what was written.
    pub(crate) async fn write_tasks_now(
        &self,
        writes: &[TaskWrite],
        events: &[DomainEvent],
    ) -> Result<Vec<TaskId>, RepoError> {
        if writes.is_empty() {
            return Ok(Vec::new());
        }
        let mut sql = Sql::default();
        // Every row to write is locked first, in id order and only if still at its version: two batches over the
        // same tasks (in any order) then queue instead of deadlocking. Unless every one is (`complete`), nothing
        // is written: the batch is one unit.
        let keys: Vec<String> = writes
            .iter()
            .map(|w| row_of(&mut sql, [Value::from(w.task().id().as_uuid()), Value::from(w.expected().get())]))
            .collect();
        let mut ctes = vec![format!(
            "keys (id, expected) AS (VALUES {}), \
             locked AS (SELECT t.id FROM tasks t JOIN keys k ON t.id = k.id AND t.version = k.expected \
                        ORDER BY t.id FOR UPDATE OF t), \
             complete AS (SELECT count(*) = {} AS yes FROM locked)",
            keys.join(", "),
            writes.len()
        )];
        let updates: Vec<&Task> = writes
            .iter()
            .filter_map(|w| match w {
                TaskWrite::Update { task, .. } => Some(task),
                TaskWrite::Delete(_) => None,
            })
            .collect();
        let deletes: Vec<TaskId> = writes
            .iter()
            .filter_map(|w| match w {
                TaskWrite::Delete(task) => Some(task.id()),
                TaskWrite::Update { .. } => None,
            })
            .collect();
        let mut written = Vec::new();
        if let Some(first) = updates.first() {
            let names: Vec<&str> = task_values(first)
                .into_iter()
                .filter(|(c, _)| !is_fixed(*c))
                .map(|(c, _)| sea_orm::IdenStatic::as_str(&c))
                .collect();
            let rows: Vec<String> = updates
                .iter()
                .map(|task| {
                    let values = task_values(task).into_iter().filter(|(c, _)| !is_fixed(*c)).map(|(_, v)| v);
                    row_of(&mut sql, std::iter::once(Value::from(task.id().as_uuid())).chain(values))
                })
                .collect();
            let sets: Vec<String> = names.iter().map(|n| format!("{n} = i.{n}")).collect();
            ctes.push(format!(
                "updating (id, {}) AS (VALUES {}), \
                 updated AS (UPDATE tasks t SET {} FROM updating i \
                             WHERE t.id = i.id AND t.id IN (SELECT id FROM locked) AND (SELECT yes FROM complete) \
                             RETURNING t.id)",
                names.join(", "),
                rows.join(", "),
                sets.join(", ")
            ));
            written.push("SELECT id FROM updated");
        }
        if !deletes.is_empty() {
            let ids = sql.bind(uuids(&deletes));
            ctes.push(format!(
                "deleted AS (DELETE FROM tasks t WHERE t.id = ANY({ids}) AND t.id IN (SELECT id FROM locked) \
                             AND (SELECT yes FROM complete) RETURNING t.id)"
            ));
            written.push("SELECT id FROM deleted");
        }
        ctes.push(format!("written AS ({})", written.join(" UNION ALL ")));
        ctes.push(append_ctes(&mut sql, events, Some("(SELECT yes FROM complete)")));
        let text = format!("WITH {} SELECT id FROM written", ctes.join(", "));
        let rows = bounded(self.deadline, self.held.query_all_raw(sql.into_statement(text))).await?;
        let written: Vec<TaskId> = rows
            .iter()
            .map(|row| row.try_get::<Uuid>("", "id").map(TaskId::from_uuid).map_err(|e| corrupt("written id", e)))
            .collect::<Result<_, _>>()?;
        if !written.is_empty() && !events.is_empty() {
            self.wake_relays();
        }
        Ok(written)
    }
}
