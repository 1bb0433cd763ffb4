//! [`OverdueScan`]: one statement finds overdue tasks without a mark for their current due date (through the
//! partial index `tasks_overdue_idx`), marks them (the primary key of `overdue_marks` makes a racing scan's insert
//! do nothing), and appends one `task.overdue` event per new mark (a system event: no actor, no changes, the task's
//! version), waking workers.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
use taskflow_domain::RepoError;
use taskflow_domain::ports::OverdueScan;

use crate::error::{bounded, map_db_err};
use crate::outbox::{WORK_CHANNEL, snapshot_sql};
use crate::read::Sql;
use crate::storage::PgStorage;

#[async_trait]
impl OverdueScan for PgStorage {
    async fn emit_overdue(&self, now: DateTime<Utc>, limit: usize) -> Result<usize, RepoError> {
        if limit == 0 {
            return Ok(0);
        }
        let mut sql = Sql::default();
        let now = sql.bind(now);
        let limit = sql.bind(i64::try_from(limit).unwrap_or(i64::MAX));
        // The conditions repeat the partial index's predicate so the planner can use it.
        let text = format!(
            "WITH due AS ( \
                SELECT t.id, t.due_date FROM tasks t \
                WHERE t.status <> 'COMPLETED' AND t.due_date IS NOT NULL AND t.due_date < {now} \
                  AND NOT EXISTS ( \
                      SELECT 1 FROM overdue_marks m WHERE m.task_id = t.id AND m.due_date = t.due_date) \
                ORDER BY t.due_date, t.id LIMIT {limit} \
             ), marked AS ( \
                INSERT INTO overdue_marks (task_id, due_date, marked_at) SELECT id, due_date, {now} FROM due \
                ON CONFLICT DO NOTHING \
                RETURNING task_id \
             ), appended AS ( \
                INSERT INTO outbox_events (id, kind, task_id, owner_id, payload, occurred_at, actor_id, version) \
                SELECT gen_random_uuid(), 'task.overdue', t.id, t.user_id, {snapshot}, {now}, NULL, t.version \
                FROM marked m JOIN tasks t ON t.id = m.task_id \
                RETURNING 1 \
             ), woke AS ( \
                SELECT pg_notify('{WORK_CHANNEL}', '') WHERE EXISTS (SELECT 1 FROM appended) \
             ) \
             SELECT (SELECT count(*) FROM appended) AS emitted, (SELECT count(*) FROM woke) AS woke",
            snapshot = snapshot_sql("t"),
        );
        let row = bounded(self.deadline, self.db.query_one_raw(sql.into_statement(text))).await?;
        let emitted: Option<i64> = row.map(|r| r.try_get("", "emitted")).transpose().map_err(map_db_err)?;
        Ok(emitted.and_then(|n| usize::try_from(n).ok()).unwrap_or(0))
    }
}
