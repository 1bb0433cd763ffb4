//! The `tasks` and `users` tables as SeaORM entities, and the one mapping between each row and the domain's record
//! ([`TaskRecord`], [`UserRecord`]).
//!
//! Statements name columns through the entities' `Column` enums (sea-query identifiers): SELECT and RETURNING lists
//! are every column of the entity, INSERT and UPDATE pair each column with its value, so no statement depends on
//! the order of its bind parameters. A new task member is a field of [`tasks::Model`] and a line in each conversion
//! below.

use sea_orm::sea_query::{Alias, Expr, ExprTrait, IntoIden, Query, ReturningClause, SelectStatement};
use sea_orm::{DbBackend, FromQueryResult, Iterable, ModelTrait, QueryResult, Statement, StatementBuilder, Value};
use taskflow_domain::policy::TaskScope;
use taskflow_domain::query::{OwnerSummary, TaskView};
use taskflow_domain::task::{Task, TaskDescription, TaskPriority, TaskRecord, TaskStatus, TaskTitle, Version};
use taskflow_domain::user::{EmailAddress, PasswordHash, Role, User, UserName, UserRecord};
use taskflow_domain::{RepoError, TaskId, UserId};

use crate::error::{corrupt, map_db_err};

/// The `tasks` table. The generated `priority_rank` column is left out: it is never written and only filters and
/// sorts (see `read::listing`).
pub(crate) mod tasks {
    use chrono::{DateTime, Utc};
    use sea_orm::entity::prelude::*;
    use serde::{Deserialize, Serialize};

    /// One `tasks` row; also the task snapshot stored with each outbox event (serialised in camelCase, like the
    /// API's `Task`).
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
    #[sea_orm(table_name = "tasks")]
    #[serde(rename_all = "camelCase")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub title: String,
        pub description: Option<String>,
        pub status: String,
        pub priority: String,
        pub due_date: Option<DateTime<Utc>>,
        pub completed_at: Option<DateTime<Utc>>,
        pub user_id: Uuid,
        pub created_at: DateTime<Utc>,
        pub updated_at: DateTime<Utc>,
        pub version: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The `users` table.
pub(crate) mod users {
    use chrono::{DateTime, Utc};
    use sea_orm::entity::prelude::*;

    /// One `users` row.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "users")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub email: String,
        pub name: String,
        pub role: String,
        pub password_hash: String,
        pub created_at: DateTime<Utc>,
        pub updated_at: DateTime<Utc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

impl From<&TaskRecord> for tasks::Model {
    fn from(t: &TaskRecord) -> Self {
        Self {
            id: t.id.as_uuid(),
            title: t.title.as_ref().to_owned(),
            description: t.description.as_ref().map(|d| d.as_ref().to_owned()),
            status: t.status.as_str().to_owned(),
            priority: t.priority.as_str().to_owned(),
            due_date: t.due_date,
            completed_at: t.completed_at,
            user_id: t.owner.as_uuid(),
            created_at: t.created_at,
            updated_at: t.updated_at,
            version: t.version.get(),
        }
    }
}

impl TryFrom<tasks::Model> for TaskRecord {
    type Error = RepoError;

    fn try_from(r: tasks::Model) -> Result<Self, Self::Error> {
        Ok(Self {
            id: TaskId::from_uuid(r.id),
            title: TaskTitle::parse(&r.title).map_err(|e| corrupt("task title", e))?,
            description: r
                .description
                .map(|d| TaskDescription::parse(&d))
                .transpose()
                .map_err(|e| corrupt("description", e))?,
            status: TaskStatus::parse(&r.status).map_err(|e| corrupt("task status", e))?,
            priority: TaskPriority::parse(&r.priority).map_err(|e| corrupt("task priority", e))?,
            due_date: r.due_date,
            completed_at: r.completed_at,
            owner: UserId::from_uuid(r.user_id),
            created_at: r.created_at,
            updated_at: r.updated_at,
            version: Version::new(r.version).map_err(|e| corrupt("task version", e))?,
        })
    }
}

impl From<&UserRecord> for users::Model {
    fn from(u: &UserRecord) -> Self {
        Self {
            id: u.id.as_uuid(),
            email: u.email.as_ref().to_owned(),
            name: u.name.as_ref().to_owned(),
            role: u.role.as_str().to_owned(),
            password_hash: u.password_hash.as_phc().to_owned(),
            created_at: u.created_at,
            updated_at: u.updated_at,
        }
    }
}

impl TryFrom<users::Model> for UserRecord {
    type Error = RepoError;

    fn try_from(r: users::Model) -> Result<Self, Self::Error> {
        Ok(Self {
            id: UserId::from_uuid(r.id),
            email: EmailAddress::parse(&r.email).map_err(|e| corrupt("email", e))?,
            name: UserName::parse(&r.name).map_err(|e| corrupt("user name", e))?,
            role: Role::parse(&r.role).map_err(|e| corrupt("role", e))?,
            password_hash: PasswordHash::from_phc(r.password_hash),
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

/// Builds a sea-query statement for PostgreSQL (numbered parameters, each bound to its own value).
pub(crate) fn build(statement: &impl StatementBuilder) -> Statement {
    DbBackend::Postgres.build(statement)
}

/// A Postgres statement with positional parameters, for the few statements written as text.
pub(crate) fn stmt(sql: impl Into<String>, values: impl IntoIterator<Item = Value>) -> Statement {
    Statement::from_sql_and_values(DbBackend::Postgres, sql, values)
}

/// Every `tasks` column, as identifiers.
pub(crate) fn task_columns() -> impl Iterator<Item = tasks::Column> {
    tasks::Column::iter()
}

/// Every `tasks` column qualified by `alias` (`t.id, t.title, ...`), for statements written as text; made from
/// the same identifiers as every other task statement.
pub(crate) fn task_column_list(alias: &str) -> String {
    task_columns().map(|c| format!("{alias}.{}", c.into_iden())).collect::<Vec<_>>().join(", ")
}

/// Each `tasks` column paired with its value for `task`.
pub(crate) fn task_values(task: &Task) -> Vec<(tasks::Column, Value)> {
    let row = tasks::Model::from(task.record());
    task_columns().map(|c| (c, row.get(c))).collect()
}

/// Each `users` column paired with its value for `user`.
pub(crate) fn user_values(user: &User) -> Vec<(users::Column, Value)> {
    let row = users::Model::from(user.record());
    users::Column::iter().map(|c| (c, row.get(c))).collect()
}

/// `RETURNING` every `tasks` column.
pub(crate) fn returning_task() -> ReturningClause {
    Query::returning().columns(task_columns())
}

/// `SELECT` every `tasks` column `FROM tasks`.
pub(crate) fn select_tasks() -> SelectStatement {
    Query::select().columns(task_columns().map(|c| (tasks::Entity.into_iden(), c))).from(tasks::Entity).to_owned()
}

/// `SELECT` every `users` column `FROM users`.
pub(crate) fn select_users() -> SelectStatement {
    Query::select().columns(users::Column::iter()).from(users::Entity).to_owned()
}

/// `SELECT` every `tasks` column with the owner's name and email (`owner_name`, `owner_email`), `FROM tasks JOIN
/// users`.
pub(crate) fn select_views() -> SelectStatement {
    let owner = |c: users::Column| Expr::col((users::Entity, c));
    select_tasks()
        .expr_as(owner(users::Column::Name), Alias::new("owner_name"))
        .expr_as(owner(users::Column::Email), Alias::new("owner_email"))
        .inner_join(users::Entity, owner(users::Column::Id).equals((tasks::Entity, tasks::Column::UserId)))
        .to_owned()
}

/// Restricts a task statement to `scope` (nothing for [`TaskScope::All`]).
pub(crate) fn scope_condition(scope: TaskScope) -> Option<sea_orm::sea_query::SimpleExpr> {
    match scope {
        TaskScope::All => None,
        TaskScope::Owner(owner) => Some(Expr::col((tasks::Entity, tasks::Column::UserId)).eq(owner.as_uuid())),
    }
}

/// The owner columns joined into task reads.
#[derive(Debug, FromQueryResult)]
struct OwnerCols {
    owner_name: String,
    owner_email: String,
}

/// Reads a task from a result row.
pub(crate) fn task_from(row: &QueryResult) -> Result<Task, RepoError> {
    let model = tasks::Model::from_query_result(row, "").map_err(map_db_err)?;
    Ok(Task::from_record(model.try_into()?))
}

/// Reads a task with its owner (`owner_name`, `owner_email`) from a result row.
pub(crate) fn view_from(row: &QueryResult) -> Result<TaskView, RepoError> {
    let task = task_from(row)?;
    let owner = owner_from(row, task.owner())?;
    Ok(TaskView { task, owner })
}

/// Reads the summary of user `id` from a row's `owner_name` and `owner_email`.
pub(crate) fn owner_from(row: &QueryResult, id: UserId) -> Result<OwnerSummary, RepoError> {
    let o = OwnerCols::from_query_result(row, "").map_err(map_db_err)?;
    Ok(OwnerSummary {
        id,
        name: UserName::parse(&o.owner_name).map_err(|e| corrupt("user name", e))?,
        email: EmailAddress::parse(&o.owner_email).map_err(|e| corrupt("email", e))?,
    })
}

/// Reads a user from a result row.
pub(crate) fn user_from(row: &QueryResult) -> Result<User, RepoError> {
    let model = users::Model::from_query_result(row, "").map_err(map_db_err)?;
    Ok(User::from_record(model.try_into()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_lists_come_from_the_entity() {
        assert_eq!(
            task_column_list("t"),
            "t.id, t.title, t.description, t.status, t.priority, t.due_date, t.completed_at, t.user_id, \
             t.created_at, t.updated_at, t.version"
        );
    }

    #[test]
    fn the_outbox_snapshot_keeps_its_camel_case_members() {
        // Events already stored were written with these names: the row that serialises them must keep them.
        let row = tasks::Model {
            id: uuid::Uuid::nil(),
            title: "t".to_owned(),
            description: None,
            status: "PENDING".to_owned(),
            priority: "LOW".to_owned(),
            due_date: None,
            completed_at: None,
            user_id: uuid::Uuid::nil(),
            created_at: chrono::DateTime::UNIX_EPOCH,
            updated_at: chrono::DateTime::UNIX_EPOCH,
            version: 1,
        };
        let json = serde_json::to_value(&row).expect("serialises");
        let mut keys: Vec<&str> = json.as_object().expect("an object").keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "completedAt",
                "createdAt",
                "description",
                "dueDate",
                "id",
                "priority",
                "status",
                "title",
                "updatedAt",
                "userId",
                "version"
            ]
        );
    }
}
