//! Rows as the database returns them, and the hand-written mapping to and from domain types.

use chrono::{DateTime, Utc};
use sea_orm::{DbBackend, FromQueryResult, QueryResult, Statement, Value};
use serde::{Deserialize, Serialize};
use taskflow_domain::query::{OwnerSummary, TaskView};
use taskflow_domain::task::{Task, TaskDescription, TaskPriority, TaskStatus, TaskTitle, Version};
use taskflow_domain::user::{EmailAddress, PasswordHash, Role, User, UserName};
use taskflow_domain::{RepoError, TaskId, UserId};
use uuid::Uuid;

use crate::error::{corrupt, map_db_err};

/// The `tasks` columns every task query selects, qualified by the alias `t`.
pub(crate) const TASK_COLUMNS: &str = "t.id, t.title, t.description, t.status, t.priority, t.due_date, \
     t.completed_at, t.user_id, t.created_at, t.updated_at, t.version";

/// The `users` columns every user query selects.
pub(crate) const USER_COLUMNS: &str = "id, email, name, role, password_hash, created_at, updated_at";

/// A Postgres statement with positional parameters.
pub(crate) fn stmt(sql: impl Into<String>, values: impl IntoIterator<Item = Value>) -> Statement {
    Statement::from_sql_and_values(DbBackend::Postgres, sql, values)
}

/// One `tasks` row; also the task snapshot stored with each outbox event (serialised in camelCase, like the API's
/// `Task`).
#[derive(Debug, FromQueryResult, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TaskRow {
    id: Uuid,
    title: String,
    description: Option<String>,
    status: String,
    priority: String,
    due_date: Option<DateTime<Utc>>,
    completed_at: Option<DateTime<Utc>>,
    user_id: Uuid,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    version: i64,
}

impl From<&Task> for TaskRow {
    fn from(t: &Task) -> Self {
        Self {
            id: t.id().as_uuid(),
            title: t.title().as_ref().to_owned(),
            description: t.description().map(|d| d.as_ref().to_owned()),
            status: t.status().as_str().to_owned(),
            priority: t.priority().as_str().to_owned(),
            due_date: t.due_date(),
            completed_at: t.completed_at(),
            user_id: t.owner().as_uuid(),
            created_at: t.created_at(),
            updated_at: t.updated_at(),
            version: t.version().get(),
        }
    }
}

impl TryFrom<TaskRow> for Task {
    type Error = RepoError;

    fn try_from(r: TaskRow) -> Result<Self, Self::Error> {
        Ok(Self::from_parts(
            TaskId::from_uuid(r.id),
            TaskTitle::parse(&r.title).map_err(|e| corrupt("task title", e))?,
            r.description.map(|d| TaskDescription::parse(&d)).transpose().map_err(|e| corrupt("description", e))?,
            TaskStatus::parse(&r.status).map_err(|e| corrupt("task status", e))?,
            TaskPriority::parse(&r.priority).map_err(|e| corrupt("task priority", e))?,
            r.due_date,
            r.completed_at,
            UserId::from_uuid(r.user_id),
            r.created_at,
            r.updated_at,
            Version::new(r.version).map_err(|e| corrupt("task version", e))?,
        ))
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
    TaskRow::from_query_result(row, "").map_err(map_db_err)?.try_into()
}

/// Reads a task with its owner (`owner_name`, `owner_email`) from a result row.
pub(crate) fn view_from(row: &QueryResult) -> Result<TaskView, RepoError> {
    let task = task_from(row)?;
    let o = OwnerCols::from_query_result(row, "").map_err(map_db_err)?;
    let owner = OwnerSummary {
        id: task.owner(),
        name: UserName::parse(&o.owner_name).map_err(|e| corrupt("user name", e))?,
        email: EmailAddress::parse(&o.owner_email).map_err(|e| corrupt("email", e))?,
    };
    Ok(TaskView { task, owner })
}

/// The values of a task's columns, in [`TASK_COLUMNS`] order.
pub(crate) fn task_values(t: &Task) -> Vec<Value> {
    vec![
        t.id().as_uuid().into(),
        t.title().as_ref().into(),
        t.description().map(|d| d.as_ref().to_owned()).into(),
        t.status().as_str().into(),
        t.priority().as_str().into(),
        t.due_date().into(),
        t.completed_at().into(),
        t.owner().as_uuid().into(),
        t.created_at().into(),
        t.updated_at().into(),
        t.version().get().into(),
    ]
}

/// One `users` row.
#[derive(Debug, FromQueryResult)]
pub(crate) struct UserRow {
    id: Uuid,
    email: String,
    name: String,
    role: String,
    password_hash: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<UserRow> for User {
    type Error = RepoError;

    fn try_from(r: UserRow) -> Result<Self, Self::Error> {
        Ok(Self::from_parts(
            UserId::from_uuid(r.id),
            EmailAddress::parse(&r.email).map_err(|e| corrupt("email", e))?,
            UserName::parse(&r.name).map_err(|e| corrupt("user name", e))?,
            Role::parse(&r.role).map_err(|e| corrupt("role", e))?,
            PasswordHash::from_phc(r.password_hash),
            r.created_at,
            r.updated_at,
        ))
    }
}

/// Reads a user from a result row.
pub(crate) fn user_from(row: &QueryResult) -> Result<User, RepoError> {
    UserRow::from_query_result(row, "").map_err(map_db_err)?.try_into()
}

/// The values of a user's columns, in [`USER_COLUMNS`] order.
pub(crate) fn user_values(u: &User) -> Vec<Value> {
    vec![
        u.id().as_uuid().into(),
        u.email().as_ref().into(),
        u.name().as_ref().into(),
        u.role().as_str().into(),
        u.password_hash().as_phc().into(),
        u.created_at().into(),
        u.updated_at().into(),
    ]
}
