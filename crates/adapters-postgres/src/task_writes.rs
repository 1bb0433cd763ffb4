//! Task writes inside a unit of work: one statement per call, bulk calls included.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, Value};
use taskflow_domain::policy::TaskScope;
use taskflow_domain::ports::TaskRepository;
use taskflow_domain::query::BulkOutcome;
use taskflow_domain::task::{Task, Version};
use taskflow_domain::{RepoError, TaskId};
use uuid::Uuid;

use crate::error::{bounded, map_db_err};
use crate::rows::{TASK_COLUMNS, stmt, task_from, task_values};
use crate::tx::PgTransaction;

/// The scope as an extra `AND` clause on the `$n` parameter, and that parameter's value.
pub(crate) fn scope_clause(scope: TaskScope, n: usize) -> (String, Option<Value>) {
    match scope {
        TaskScope::All => (String::new(), None),
        TaskScope::Owner(owner) => (format!(" AND t.user_id = ${n}"), Some(owner.as_uuid().into())),
    }
}

fn uuids(ids: &[TaskId]) -> Value {
    ids.iter().map(TaskId::as_uuid).collect::<Vec<Uuid>>().into()
}

/// Orders found ids as first requested (the statement's own order is arbitrary).
fn in_request_order(ids: &[TaskId], mut found: Vec<TaskId>) -> Vec<TaskId> {
    let mut rank = HashMap::with_capacity(ids.len());
    for (i, id) in ids.iter().enumerate() {
        rank.entry(*id).or_insert(i);
    }
    found.sort_by_key(|id| rank.get(id).copied().unwrap_or(usize::MAX));
    found
}

#[async_trait]
impl TaskRepository for PgTransaction {
    async fn insert(&self, task: &Task) -> Result<(), RepoError> {
        let sql = format!(
            "INSERT INTO tasks ({}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            TASK_COLUMNS.replace("t.", "")
        );
        bounded(self.deadline, self.txn.execute_raw(stmt(sql, task_values(task)))).await?;
        Ok(())
    }

    async fn find_for_update(&self, id: TaskId, scope: TaskScope) -> Result<Option<Task>, RepoError> {
        let (clause, owner) = scope_clause(scope, 2);
        let sql = format!("SELECT {TASK_COLUMNS} FROM tasks t WHERE t.id = $1{clause} FOR UPDATE");
        let values = std::iter::once(id.as_uuid().into()).chain(owner);
        let row = bounded(self.deadline, self.txn.query_one_raw(stmt(sql, values))).await?;
        row.as_ref().map(task_from).transpose()
    }

    async fn update(&self, task: &Task, expected: Version) -> Result<(), RepoError> {
        // The version check is part of the UPDATE: no read-modify-write window.
        let sql = "UPDATE tasks SET title = $2, description = $3, status = $4, priority = $5, due_date = $6, \
                   completed_at = $7, updated_at = $10, version = $11 WHERE id = $1 AND version = $12";
        let mut values = task_values(task);
        values.push(expected.get().into());
        let done = bounded(self.deadline, self.txn.execute_raw(stmt(sql, values))).await?;
        if done.rows_affected() == 0 { Err(RepoError::Conflict) } else { Ok(()) }
    }

    async fn delete(&self, id: TaskId, scope: TaskScope) -> Result<Option<Task>, RepoError> {
        let (clause, owner) = scope_clause(scope, 2);
        let sql = format!("DELETE FROM tasks t WHERE t.id = $1{clause} RETURNING {TASK_COLUMNS}");
        let values = std::iter::once(id.as_uuid().into()).chain(owner);
        let row = bounded(self.deadline, self.txn.query_one_raw(stmt(sql, values))).await?;
        row.as_ref().map(task_from).transpose()
    }

    async fn complete_many(
        &self,
        ids: &[TaskId],
        scope: TaskScope,
        now: DateTime<Utc>,
    ) -> Result<BulkOutcome, RepoError> {
        // One statement: lock the visible ids (in id order, so concurrent batches cannot deadlock), complete the unfinished ones, and return every visible id with the
        // changed task's columns (NULL where nothing changed).
        let (clause, owner) = scope_clause(scope, 3);
        let sql = format!(
            "WITH visible AS (SELECT t.id, t.status FROM tasks t WHERE t.id = ANY($1){clause} \
                               ORDER BY t.id FOR UPDATE), \
             changed AS (UPDATE tasks t SET status = 'COMPLETED', completed_at = $2, updated_at = $2, \
                         version = t.version + 1 \
                         FROM visible v WHERE t.id = v.id AND v.status <> 'COMPLETED' RETURNING {TASK_COLUMNS}) \
             SELECT v.id AS found_id, t.* FROM visible v LEFT JOIN changed t ON t.id = v.id"
        );
        let values = [uuids(ids), now.into()].into_iter().chain(owner);
        let rows = bounded(self.deadline, self.txn.query_all_raw(stmt(sql, values))).await?;
        let mut found = Vec::with_capacity(rows.len());
        let mut changed = Vec::new();
        for row in &rows {
            found.push(TaskId::from_uuid(row.try_get::<Uuid>("", "found_id").map_err(map_db_err)?));
            if row.try_get::<Option<Uuid>>("", "id").map_err(map_db_err)?.is_some() {
                changed.push(task_from(row)?);
            }
        }
        Ok(BulkOutcome { found: in_request_order(ids, found), changed })
    }

    async fn delete_many(&self, ids: &[TaskId], scope: TaskScope) -> Result<BulkOutcome, RepoError> {
        let (clause, owner) = scope_clause(scope, 2);
        // Rows are locked in id order, like complete_many, so two batches over the same tasks cannot deadlock.
        let sql = format!(
            "DELETE FROM tasks t WHERE t.id IN \
               (SELECT t.id FROM tasks t WHERE t.id = ANY($1){clause} ORDER BY t.id FOR UPDATE) \
             RETURNING {TASK_COLUMNS}"
        );
        let values = std::iter::once(uuids(ids)).chain(owner);
        let rows = bounded(self.deadline, self.txn.query_all_raw(stmt(sql, values))).await?;
        let changed = rows.iter().map(task_from).collect::<Result<Vec<_>, _>>()?;
        let found = in_request_order(ids, changed.iter().map(Task::id).collect());
        Ok(BulkOutcome { found, changed })
    }
}
