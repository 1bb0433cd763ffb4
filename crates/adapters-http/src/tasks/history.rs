//! `GET /tasks/{id}/history`: a task's events, oldest first, keyset-paged, each with its actor, the version it
//! produced and the members it changed (`from`, `to`).

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use taskflow_application::domain::TaskId;
use taskflow_application::domain::events::DomainEvent;
use taskflow_application::domain::task::{ChangeValue, FieldChange, TaskChanges, TaskField};
use taskflow_application::tasks::{PageMeta, TaskHistory};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::AppState;
use crate::dto::{parse_limit, timestamp};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiQuery, CurrentUser, IdPath};
use crate::schemas::{EventTypeSchema, LimitSchema};

/// History parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
pub struct HistoryParams {
    /// Empty or absent for the first page, then the previous page's `nextCursor`.
    cursor: Option<String>,
    /// 1 to 100 (default 20).
    #[param(value_type = Option<LimitSchema>)]
    limit: Option<String>,
}

/// One member that changed: its value before and after (`null` where it had none; RFC 3339 UTC for times,
/// the wire names for status and priority).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = FieldChange)]
pub struct FieldChangeOut {
    /// The value before the change (`null` for every member of `task.created`).
    #[schema(required = true)]
    from: Option<String>,
    /// The value after the change.
    #[schema(required = true)]
    to: Option<String>,
}

/// The members a change touched, in this order; absent members did not change. `task.created` lists every
/// member, `task.deleted` and `task.overdue` none.
#[derive(Debug, Default, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = TaskChanges)]
pub struct ChangesOut {
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = FieldChangeOut)]
    title: Option<FieldChangeOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = FieldChangeOut)]
    description: Option<FieldChangeOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = FieldChangeOut)]
    status: Option<FieldChangeOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = FieldChangeOut)]
    priority: Option<FieldChangeOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = FieldChangeOut)]
    due_date: Option<FieldChangeOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = FieldChangeOut)]
    completed_at: Option<FieldChangeOut>,
}

fn value(v: &ChangeValue) -> Option<String> {
    match v {
        ChangeValue::Null => None,
        ChangeValue::Text(s) => Some(s.clone()),
        ChangeValue::Time(t) => Some(timestamp(*t)),
    }
}

impl From<&TaskChanges> for ChangesOut {
    fn from(changes: &TaskChanges) -> Self {
        let mut out = Self::default();
        for FieldChange { field, from, to } in changes {
            let change = Some(FieldChangeOut { from: value(from), to: value(to) });
            // A struct member per field: serialised in the order of `TaskField`, whatever order the map is read in.
            match field {
                TaskField::Title => out.title = change,
                TaskField::Description => out.description = change,
                TaskField::Status => out.status = change,
                TaskField::Priority => out.priority = change,
                TaskField::DueDate => out.due_date = change,
                TaskField::CompletedAt => out.completed_at = change,
            }
        }
        out
    }
}

/// One entry of a task's history.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Event)]
pub struct EventOut {
    /// The event's id (webhook deliveries carry the same one).
    id: Uuid,
    /// What happened.
    #[serde(rename = "type")]
    #[schema(value_type = EventTypeSchema)]
    kind: &'static str,
    /// When.
    #[schema(format = DateTime)]
    occurred_at: String,
    /// The task.
    task_id: Uuid,
    /// Who made the change; `null` for `task.overdue`, which no one makes.
    #[schema(required = true)]
    actor_id: Option<Uuid>,
    /// The task's version after the change (for `task.deleted`, its last; `task.overdue` changes none).
    #[schema(minimum = 1)]
    version: i64,
    /// The members that changed.
    changes: ChangesOut,
}

impl From<&DomainEvent> for EventOut {
    fn from(e: &DomainEvent) -> Self {
        Self {
            id: e.id.as_uuid(),
            kind: e.kind.as_str(),
            occurred_at: timestamp(e.occurred_at),
            task_id: e.task.id().as_uuid(),
            actor_id: e.actor.map(|a| a.as_uuid()),
            version: e.version().get(),
            changes: ChangesOut::from(&e.changes),
        }
    }
}

/// Paging facts of a history page.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = HistoryPage)]
pub struct HistoryMetaOut {
    /// The page size.
    #[schema(value_type = LimitSchema)]
    limit: u32,
    /// The next page's cursor; `null` on the last page.
    #[schema(required = true)]
    next_cursor: Option<String>,
}

/// A page of a task's history.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = TaskHistory)]
pub struct HistoryOut {
    /// The events, oldest first.
    data: Vec<EventOut>,
    /// Paging facts.
    meta: HistoryMetaOut,
}

impl From<&TaskHistory> for HistoryOut {
    fn from(h: &TaskHistory) -> Self {
        let (limit, next_cursor) = match &h.meta {
            PageMeta::Keyset { limit, next_cursor } => (*limit, next_cursor.clone()),
            // The use case pages a history by keyset only.
            PageMeta::Offset { limit, .. } => (*limit, None),
        };
        Self { data: h.events.iter().map(EventOut::from).collect(), meta: HistoryMetaOut { limit, next_cursor } }
    }
}

/// A task's history: every change (and overdue notice), oldest first, with who made it and what it changed.
/// Readable by whoever may see the task; after its deletion, by its owner and admins only.
#[utoipa::path(get, path = "/tasks/{id}/history", tag = "tasks", params(("id" = Uuid, Path), HistoryParams),
    security(("bearer" = [])),
    responses((status = 200, description = "A page of the task's events, oldest first.", body = HistoryOut),
    (status = 404, description = "No such task (nor deleted one), or not the caller's and the caller is no admin.",
        body = Problem)))]
pub async fn task_history(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    IdPath(id): IdPath,
    ApiQuery(params): ApiQuery<HistoryParams>,
) -> ApiResult<Json<HistoryOut>> {
    let limit = parse_limit(params.limit.as_deref()).map_err(|e| ApiError::validation(vec![e]))?;
    // `cursor=` asks for the first page, as in keyset listings.
    let cursor = params.cursor.filter(|c| !c.is_empty());
    let history = state.tasks.task_history(actor, TaskId::from_uuid(id), cursor.as_deref(), limit).await?;
    Ok(Json(HistoryOut::from(&history)))
}
