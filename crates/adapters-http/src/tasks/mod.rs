//! `/tasks`: create, get, update, delete, list, stats, batch, and a task's history.

pub(crate) mod history;
pub(crate) mod wire;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Serialize;
use taskflow_application::domain::TaskId;
use taskflow_application::domain::query::{BatchAction, TaskView};
use taskflow_application::domain::task::Version;
use utoipa::ToSchema;
use uuid::Uuid;

pub use wire::{BatchIn, CreateTaskIn, ListParams, StatsParams, TaskOut, UpdateTaskIn};

use crate::AppState;
use crate::dto::Paged;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery, CurrentUser, IdPath};
use crate::idempotency::idempotent;
use crate::schemas::{BatchActionSchema, IdempotencyKeySchema};

pub fn routes(state: &AppState) -> Router<AppState> {
    // Idempotency-Key applies to the two POSTs only; a GET carrying one is an ordinary GET.
    let once = || axum::middleware::from_fn_with_state(state.clone(), idempotent);
    Router::new()
        .route("/tasks", get(list_tasks).merge(post(create_task).layer(once())))
        .route("/tasks/stats", get(task_stats))
        .route("/tasks/batch", post(batch_tasks).layer(once()))
        .route("/tasks/{id}", get(get_task).patch(update_task).delete(delete_task))
        .route("/tasks/{id}/history", get(history::task_history))
}

/// A single task with its `ETag`.
fn task_response(status: StatusCode, view: &TaskView) -> Response {
    let etag = format!("\"{}\"", view.task.version());
    let mut response = (status, Json(TaskOut::from(view))).into_response();
    if let Ok(v) = HeaderValue::from_str(&etag) {
        response.headers_mut().insert(header::ETAG, v);
    }
    response
}

/// Reads `If-Match: "<version>"`. `*` matches any version; anything that is not one of our tags cannot match.
fn if_match(headers: &HeaderMap) -> Result<Option<Version>, ApiError> {
    let Some(raw) = headers.get(header::IF_MATCH) else { return Ok(None) };
    let stale = || ApiError::new(StatusCode::PRECONDITION_FAILED, "If-Match does not name a version of this task");
    let raw = raw.to_str().map_err(|_| stale())?.trim();
    if raw == "*" {
        return Ok(None);
    }
    let n = raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')).ok_or_else(stale)?;
    n.parse::<i64>().ok().and_then(|n| Version::new(n).ok()).map(Some).ok_or_else(stale)
}

/// Create a task. Accepts `Idempotency-Key`.
#[utoipa::path(post, path = "/tasks", tag = "tasks", request_body = CreateTaskIn, security(("bearer" = [])),
    params(("Idempotency-Key" = Option<IdempotencyKeySchema>, Header,
        description = "Makes retries safe: the first answer is replayed for the same key and body.")),
    responses((status = 201, description = "Created (or replayed, with `Idempotent-Replayed: true`).", body = TaskOut,
        headers(("Location" = String), ("ETag" = String), ("Idempotent-Replayed" = String, description = "`true` when the answer is a replay."))),
    (status = 403, description = "`userId` names another user and the caller is no admin.", body = Problem),
    (status = 404, description = "`userId` names no user.", body = Problem),
    (status = 409, description = "A request with this `Idempotency-Key` is still in progress.", body = Problem),
    (status = 422, description = "This `Idempotency-Key` was used with a different request.", body = Problem)))]
pub async fn create_task(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    ApiJson(body): ApiJson<CreateTaskIn>,
) -> ApiResult<Response> {
    let view = state.tasks.create_task(actor, body.try_into_domain()?).await?;
    let mut response = task_response(StatusCode::CREATED, &view);
    if let Ok(v) = HeaderValue::from_str(&format!("/tasks/{}", view.task.id())) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    Ok(response)
}

/// A task (404 if it is not the caller's and the caller is no admin).
#[utoipa::path(get, path = "/tasks/{id}", tag = "tasks", params(("id" = Uuid, Path)), security(("bearer" = [])),
    responses((status = 200, description = "The task.", body = TaskOut, headers(("ETag" = String))),
    (status = 404, description = "No such task, or not the caller's and the caller is no admin.", body = Problem)))]
pub async fn get_task(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    IdPath(id): IdPath,
) -> ApiResult<Response> {
    let view = state.tasks.get_task(actor, TaskId::from_uuid(id)).await?;
    Ok(task_response(StatusCode::OK, &view))
}

/// Update a task; with `If-Match: "<version>"` only if it is still at that version.
#[utoipa::path(patch, path = "/tasks/{id}", tag = "tasks", params(("id" = Uuid, Path),
    ("If-Match" = Option<String>, Header, description = "\"<version>\" from the ETag")), request_body = UpdateTaskIn,
    security(("bearer" = [])), responses((status = 200, description = "The updated task.", body = TaskOut, headers(("ETag" = String))),
    (status = 404, description = "No such task, or not the caller's and the caller is no admin.", body = Problem),
    (status = 412, description = "`If-Match` does not name the current version.", body = Problem)))]
pub async fn update_task(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    IdPath(id): IdPath,
    headers: HeaderMap,
    ApiJson(body): ApiJson<UpdateTaskIn>,
) -> ApiResult<Response> {
    let patch = body.try_into_domain()?;
    let view = state.tasks.update_task(actor, TaskId::from_uuid(id), patch, if_match(&headers)?).await?;
    Ok(task_response(StatusCode::OK, &view))
}

/// Delete a task.
#[utoipa::path(delete, path = "/tasks/{id}", tag = "tasks", params(("id" = Uuid, Path)), security(("bearer" = [])),
    responses((status = 204, description = "Deleted."),
    (status = 404, description = "No such task, or not the caller's and the caller is no admin.", body = Problem)))]
pub async fn delete_task(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    IdPath(id): IdPath,
) -> ApiResult<StatusCode> {
    state.tasks.delete_task(actor, TaskId::from_uuid(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// List tasks: filters, sort, offset (`page`) or keyset (`cursor`) paging.
#[utoipa::path(get, path = "/tasks", tag = "tasks", params(ListParams), security(("bearer" = [])),
    responses((status = 200, description = "A page of tasks.", body = Paged<TaskOut>),
    (status = 403, description = "`userId` names another user and the caller is no admin.", body = Problem)))]
pub async fn list_tasks(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    ApiQuery(params): ApiQuery<ListParams>,
) -> ApiResult<Json<Paged<TaskOut>>> {
    let list = state.tasks.list_tasks(actor, params.try_into_domain()?).await?;
    Ok(Json(Paged { data: list.items.iter().map(TaskOut::from).collect(), meta: list.meta.into() }))
}

/// Counts per status.
#[derive(Debug, Serialize, ToSchema)]
pub struct ByStatus {
    #[serde(rename = "PENDING")]
    pending: u64,
    #[serde(rename = "IN_PROGRESS")]
    in_progress: u64,
    #[serde(rename = "COMPLETED")]
    completed: u64,
}

/// Counts per priority.
#[derive(Debug, Serialize, ToSchema)]
pub struct ByPriority {
    #[serde(rename = "LOW")]
    low: u64,
    #[serde(rename = "MEDIUM")]
    medium: u64,
    #[serde(rename = "HIGH")]
    high: u64,
}

/// Task counts over the caller's visible tasks.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StatsOut {
    total: u64,
    overdue: u64,
    by_status: ByStatus,
    by_priority: ByPriority,
}

/// Counts over the caller's visible tasks (or one user's, for admins).
#[utoipa::path(get, path = "/tasks/stats", tag = "tasks", params(StatsParams), security(("bearer" = [])),
    responses((status = 200, description = "The counts.", body = StatsOut),
    (status = 403, description = "`userId` names another user and the caller is no admin.", body = Problem)))]
pub async fn task_stats(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    ApiQuery(params): ApiQuery<StatsParams>,
) -> ApiResult<Json<StatsOut>> {
    let s = state.tasks.task_stats(actor, params.owner()?).await?;
    Ok(Json(StatsOut {
        total: s.total,
        overdue: s.overdue,
        by_status: ByStatus {
            pending: s.by_status.pending,
            in_progress: s.by_status.in_progress,
            completed: s.by_status.completed,
        },
        by_priority: ByPriority { low: s.by_priority.low, medium: s.by_priority.medium, high: s.by_priority.high },
    }))
}

/// One id a batch could not act on.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchFailure {
    id: Uuid,
    /// Always `not_found` (also for tasks the caller may not see).
    #[schema(value_type = String, pattern = "^not_found$", example = "not_found")]
    reason: &'static str,
}

/// What a batch did.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchOut {
    #[schema(value_type = BatchActionSchema)]
    action: &'static str,
    requested: usize,
    succeeded: Vec<Uuid>,
    failed: Vec<BatchFailure>,
}

/// Complete or delete up to 1000 tasks in one transaction. Accepts `Idempotency-Key`.
#[utoipa::path(post, path = "/tasks/batch", tag = "tasks", request_body = BatchIn, security(("bearer" = [])),
    params(("Idempotency-Key" = Option<IdempotencyKeySchema>, Header,
        description = "Makes retries safe: the first answer is replayed for the same key and body.")),
    responses((status = 200, description = "What was done (or replayed, with `Idempotent-Replayed: true`).", body = BatchOut,
        headers(("Idempotent-Replayed" = String, description = "`true` when the answer is a replay."))),
    (status = 409, description = "A request with this `Idempotency-Key` is still in progress.", body = Problem),
    (status = 422, description = "This `Idempotency-Key` was used with a different request.", body = Problem)))]
pub async fn batch_tasks(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    ApiJson(body): ApiJson<BatchIn>,
) -> ApiResult<Json<BatchOut>> {
    let result = state.tasks.batch(actor, body.try_into_domain()?).await?;
    Ok(Json(BatchOut {
        action: match result.action {
            BatchAction::Complete => "complete",
            BatchAction::Delete => "delete",
        },
        requested: result.requested,
        succeeded: result.succeeded.iter().map(TaskId::as_uuid).collect(),
        failed: result.not_found.iter().map(|id| BatchFailure { id: id.as_uuid(), reason: "not_found" }).collect(),
    }))
}
