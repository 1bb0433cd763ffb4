//! Task writes inside a unit of work: one statement per call.

use async_trait::async_trait;
use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Expr, ExprTrait, LockType, Query};
use taskflow_domain::policy::TaskScope;
use taskflow_domain::ports::TaskRepository;
use taskflow_domain::task::{Task, Version};
use taskflow_domain::{RepoError, TaskId};

use crate::error::bounded;
use crate::rows::{build, returning_task, scope_condition, select_tasks, task_from, task_values, tasks};
use crate::tx::PgTransaction;

/// Whether an UPDATE leaves the column alone: the key, the owner and the creation time never change.
pub(crate) const fn is_fixed(c: tasks::Column) -> bool {
    matches!(c, tasks::Column::Id | tasks::Column::UserId | tasks::Column::CreatedAt)
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
}
