//! Task writes inside a unit of work: one statement per call, bulk calls included.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, LockType, Query};
use sea_orm::{ConnectionTrait, Value};
use taskflow_domain::policy::TaskScope;
use taskflow_domain::ports::TaskRepository;
use taskflow_domain::query::BulkOutcome;
use taskflow_domain::task::{Task, TaskStatus, Version};
use taskflow_domain::{RepoError, TaskId};
use uuid::Uuid;

use crate::error::{bounded, corrupt, map_db_err};
use crate::read::Sql;
use crate::rows::{
    build, returning_task, scope_condition, select_tasks, task_column_list, task_from, task_values, tasks,
};
use crate::tx::PgTransaction;

/// Whether an UPDATE leaves the column alone: the key, the owner and the creation time never change.
const fn is_fixed(c: tasks::Column) -> bool {
    matches!(c, tasks::Column::Id | tasks::Column::UserId | tasks::Column::CreatedAt)
}

/// The scope as an extra `AND` clause, its owner bound in `sql`.
pub(crate) fn scope_clause(scope: TaskScope, sql: &mut Sql) -> String {
    match scope {
        TaskScope::All => String::new(),
        TaskScope::Owner(owner) => format!(" AND t.user_id = {}", sql.bind(owner.as_uuid())),
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
        let (columns, values): (Vec<_>, Vec<_>) = task_values(task).into_iter().unzip();
        let insert = Query::insert()
            .into_table(tasks::Entity)
            .columns(columns)
            .values(values.into_iter().map(Expr::val))
            .map_err(|e| RepoError::unexpected(e.to_string()))?
            .to_owned();
        bounded(self.deadline, self.txn.execute_raw(build(&insert))).await?;
        Ok(())
    }

    async fn find_for_update(&self, id: TaskId, scope: TaskScope) -> Result<Option<Task>, RepoError> {
        let select = select_tasks()
            .and_where(Expr::col((tasks::Entity, tasks::Column::Id)).eq(id.as_uuid()))
            .and_where_option(scope_condition(scope))
            .lock(LockType::Update)
            .to_owned();
        let row = bounded(self.deadline, self.txn.query_one_raw(build(&select))).await?;
        row.as_ref().map(task_from).transpose()
    }

    async fn update(&self, task: &Task, expected: Version) -> Result<(), RepoError> {
        // The version check is part of the UPDATE: no read-modify-write window.
        let changes = task_values(task).into_iter().filter(|(c, _)| !is_fixed(*c)).map(|(c, v)| (c, Expr::val(v)));
        let update = Query::update()
            .table(tasks::Entity)
            .values(changes)
            .and_where(Expr::col(tasks::Column::Id).eq(task.id().as_uuid()))
            .and_where(Expr::col(tasks::Column::Version).eq(expected.get()))
            .to_owned();
        let done = bounded(self.deadline, self.txn.execute_raw(build(&update))).await?;
        if done.rows_affected() == 0 { Err(RepoError::Conflict) } else { Ok(()) }
    }

    async fn delete(&self, id: TaskId, scope: TaskScope) -> Result<Option<Task>, RepoError> {
        let delete = Query::delete()
            .from_table(tasks::Entity)
            .and_where(Expr::col((tasks::Entity, tasks::Column::Id)).eq(id.as_uuid()))
            .and_where_option(scope_condition(scope))
            .returning(returning_task())
            .to_owned();
        let row = bounded(self.deadline, self.txn.query_one_raw(build(&delete))).await?;
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
        // Placeholders are taken as values are bound (see [`Sql`]), so no text depends on a parameter's position.
        let mut sql = Sql::default();
        let (ids_p, now_p) = (sql.bind(uuids(ids)), sql.bind(now));
        let clause = scope_clause(scope, &mut sql);
        let columns = task_column_list("t");
        let text = format!(
            "WITH visible AS (SELECT t.id, t.status FROM tasks t WHERE t.id = ANY({ids_p}){clause} \
                               ORDER BY t.id FOR UPDATE), \
             changed AS (UPDATE tasks t SET status = 'COMPLETED', completed_at = {now_p}, updated_at = {now_p}, \
                         version = t.version + 1 \
                         FROM visible v WHERE t.id = v.id AND v.status <> 'COMPLETED' RETURNING {columns}) \
             SELECT v.id AS found_id, v.status AS previous_status, t.* FROM visible v LEFT JOIN changed t ON t.id = v.id"
        );
        let rows = bounded(self.deadline, self.txn.query_all_raw(sql.into_statement(text))).await?;
        let mut found = Vec::with_capacity(rows.len());
        let mut changed = Vec::new();
        let mut previous_status = Vec::new();
        for row in &rows {
            found.push(TaskId::from_uuid(row.try_get::<Uuid>("", "found_id").map_err(map_db_err)?));
            if row.try_get::<Option<Uuid>>("", "id").map_err(map_db_err)?.is_some() {
                changed.push(task_from(row)?);
                let previous: String = row.try_get("", "previous_status").map_err(map_db_err)?;
                previous_status.push(TaskStatus::parse(&previous).map_err(|e| corrupt("task status", e))?);
            }
        }
        Ok(BulkOutcome { found: in_request_order(ids, found), changed, previous_status })
    }

    async fn delete_many(&self, ids: &[TaskId], scope: TaskScope) -> Result<BulkOutcome, RepoError> {
        let mut sql = Sql::default();
        let ids_p = sql.bind(uuids(ids));
        let clause = scope_clause(scope, &mut sql);
        let columns = task_column_list("t");
        // Rows are locked in id order, like complete_many, so two batches over the same tasks cannot deadlock.
        let text = format!(
            "DELETE FROM tasks t WHERE t.id IN \
               (SELECT t.id FROM tasks t WHERE t.id = ANY({ids_p}){clause} ORDER BY t.id FOR UPDATE) \
             RETURNING {columns}"
        );
        let rows = bounded(self.deadline, self.txn.query_all_raw(sql.into_statement(text))).await?;
        let changed = rows.iter().map(task_from).collect::<Result<Vec<_>, _>>()?;
        let found = in_request_order(ids, changed.iter().map(Task::id).collect());
        Ok(BulkOutcome { found, changed, previous_status: Vec::new() })
    }
}
