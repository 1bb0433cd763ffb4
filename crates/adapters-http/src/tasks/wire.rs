//! A task on the wire: request bodies and query parameters, validated into the use cases' input, and the task as
//! responses show it. A new member of a task is added here once, in and out.

use serde::{Deserialize, Serialize};
use taskflow_application::FieldError;
use taskflow_application::domain::TaskId;
use taskflow_application::domain::UserId;
use taskflow_application::domain::query::{BatchAction, OwnerSummary, SearchTerm, SortField, SortOrder, TaskView};
use taskflow_application::domain::task::{NewTask, TaskDescription, TaskPatch, TaskPriority, TaskStatus, TaskTitle};
use taskflow_application::tasks::{BatchCommand, CreateTask, ListTasks, PagingRequest};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::dto::{double_option, page_and_limit, parse_limit, parse_timestamp, timestamp};
use crate::error::ApiError;
use crate::schemas::{
    BatchActionSchema, DescriptionSchema, LimitSchema, PageSchema, PriorityListSchema, SearchSchema, SortFieldSchema,
    SortOrderSchema, StatusListSchema, TaskPrioritySchema, TaskStatusSchema, TitleSchema,
};

/// A new task.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CreateTaskIn {
    /// 1 to 200 characters after trimming.
    #[schema(value_type = TitleSchema)]
    title: String,
    /// At most 10,000 characters after trimming.
    #[schema(value_type = Option<DescriptionSchema>)]
    description: Option<String>,
    /// `PENDING` (default), `IN_PROGRESS` or `COMPLETED`.
    #[schema(value_type = Option<TaskStatusSchema>)]
    status: Option<String>,
    /// `LOW`, `MEDIUM` (default) or `HIGH`.
    #[schema(value_type = Option<TaskPrioritySchema>)]
    priority: Option<String>,
    /// RFC 3339; returned in UTC.
    #[schema(format = DateTime)]
    due_date: Option<String>,
    /// The owner, when not the caller (admins only).
    #[schema(value_type = Option<Uuid>)]
    user_id: Option<String>,
}

/// A change to a task: at least one member. `null` clears `description` or `dueDate`; `null` for the others is 400.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(min_properties = 1)]
pub struct UpdateTaskIn {
    /// 1 to 200 characters after trimming.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = TitleSchema)]
    title: Option<Option<String>>,
    /// At most 10,000 characters after trimming, or `null` to clear.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<DescriptionSchema>)]
    description: Option<Option<String>>,
    /// New status.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = TaskStatusSchema)]
    status: Option<Option<String>>,
    /// New priority.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = TaskPrioritySchema)]
    priority: Option<Option<String>>,
    /// New due date, or `null` to clear.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    due_date: Option<Option<String>>,
}

/// A batch request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchIn {
    /// 1 to 1000 task ids; duplicates count once.
    #[schema(value_type = Vec<Uuid>, min_items = 1, max_items = 1000)]
    tasks: Vec<String>,
    /// `complete` or `delete`.
    #[schema(value_type = BatchActionSchema)]
    action: String,
}

/// Listing parameters; every one is validated.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
pub struct ListParams {
    /// One status or a comma-separated list.
    #[param(value_type = Option<StatusListSchema>)]
    status: Option<String>,
    /// One priority or a comma-separated list.
    #[param(value_type = Option<PriorityListSchema>)]
    priority: Option<String>,
    /// Case-insensitive substring of title or description (at most 200 characters).
    #[param(value_type = Option<SearchSchema>)]
    search: Option<String>,
    /// RFC 3339; only tasks due before.
    #[param(value_type = Option<String>, format = DateTime)]
    due_before: Option<String>,
    /// RFC 3339; only tasks due after.
    #[param(value_type = Option<String>, format = DateTime)]
    due_after: Option<String>,
    /// Only overdue tasks (`true`) or only the others (`false`).
    #[param(value_type = Option<bool>)]
    overdue: Option<String>,
    /// Another user's tasks (admins only).
    #[param(value_type = Option<Uuid>)]
    user_id: Option<String>,
    /// `createdAt` (default), `updatedAt`, `dueDate`, `priority`, `title`.
    #[param(value_type = Option<SortFieldSchema>)]
    sort: Option<String>,
    /// `desc` (default) or `asc`.
    #[param(value_type = Option<SortOrderSchema>)]
    order: Option<String>,
    /// Offset paging: page from 1 (default 1). Not with `cursor`.
    #[param(value_type = Option<PageSchema>)]
    page: Option<String>,
    /// 1 to 100 (default 20).
    #[param(value_type = Option<LimitSchema>)]
    limit: Option<String>,
    /// Keyset paging: empty for the first page, then the previous `nextCursor`. Not with `page`.
    cursor: Option<String>,
}

/// Stats parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
pub struct StatsParams {
    /// Another user's tasks (admins only).
    #[param(value_type = Option<Uuid>)]
    user_id: Option<String>,
}

/// Collects field errors while parsing.
#[derive(Default)]
struct Errors(Vec<FieldError>);

impl Errors {
    fn take<T, E: ToString>(&mut self, field: &str, r: Result<T, E>) -> Option<T> {
        r.map_err(|e| self.0.push(FieldError::new(field, e))).ok()
    }

    /// A member that may be absent but not `null`.
    fn non_null<T, E: ToString>(
        &mut self,
        field: &str,
        raw: Option<Option<String>>,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Option<T> {
        match raw {
            None => None,
            Some(None) => self.take(field, Err::<T, _>("must not be null")),
            Some(Some(v)) => self.take(field, parse(&v)),
        }
    }

    /// A member that may be absent (`None`), cleared (`Some(None)`) or set.
    fn nullable<T, E: ToString>(
        &mut self,
        field: &str,
        raw: Option<Option<String>>,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Option<Option<T>> {
        match raw {
            None => None,
            Some(None) => Some(None),
            Some(Some(v)) => self.take(field, parse(&v)).map(Some),
        }
    }

    fn finish<T>(self, value: impl FnOnce() -> T) -> Result<T, ApiError> {
        if self.0.is_empty() { Ok(value()) } else { Err(ApiError::validation(self.0)) }
    }
}

fn uuid(raw: &str) -> Result<Uuid, &'static str> {
    Uuid::parse_str(raw).map_err(|_| "must be a UUID")
}

fn list<T, E: ToString>(raw: &str, parse: impl Fn(&str) -> Result<T, E>) -> Result<Vec<T>, String> {
    raw.split(',').map(|v| parse(v.trim()).map_err(|e| e.to_string())).collect()
}

impl CreateTaskIn {
    pub fn try_into_domain(self) -> Result<CreateTask, ApiError> {
        let mut e = Errors::default();
        let title = e.take("title", TaskTitle::parse(&self.title));
        let description = self.description.and_then(|d| e.take("description", TaskDescription::parse(&d)));
        let status = self.status.and_then(|s| e.take("status", TaskStatus::parse(&s)));
        let priority = self.priority.and_then(|p| e.take("priority", TaskPriority::parse(&p)));
        let due_date = self.due_date.and_then(|d| e.take("dueDate", parse_timestamp(&d)));
        let user_id = self.user_id.and_then(|u| e.take("userId", uuid(&u))).map(UserId::from_uuid);
        let Some(title) = title else { return Err(ApiError::validation(e.0)) };
        e.finish(|| CreateTask {
            task: NewTask {
                title,
                description,
                status: status.unwrap_or_default(),
                priority: priority.unwrap_or_default(),
                due_date,
            },
            user_id,
        })
    }
}

impl UpdateTaskIn {
    pub fn try_into_domain(self) -> Result<TaskPatch, ApiError> {
        let mut e = Errors::default();
        let patch = TaskPatch {
            title: e.non_null("title", self.title, TaskTitle::parse),
            description: e.nullable("description", self.description, TaskDescription::parse),
            status: e.non_null("status", self.status, TaskStatus::parse),
            priority: e.non_null("priority", self.priority, TaskPriority::parse),
            due_date: e.nullable("dueDate", self.due_date, parse_timestamp),
        };
        e.finish(|| patch)
    }
}

impl BatchIn {
    pub fn try_into_domain(self) -> Result<BatchCommand, ApiError> {
        let mut e = Errors::default();
        let action = match self.action.as_str() {
            "complete" => Some(BatchAction::Complete),
            "delete" => Some(BatchAction::Delete),
            _ => e.take("action", Err::<BatchAction, _>("must be complete or delete")),
        };
        let ids: Vec<TaskId> = self
            .tasks
            .iter()
            .enumerate()
            .filter_map(|(i, raw)| e.take(&format!("tasks[{i}]"), uuid(raw)).map(TaskId::from_uuid))
            .collect();
        let Some(action) = action else { return Err(ApiError::validation(e.0)) };
        e.finish(|| ())?;
        Ok(BatchCommand::new(ids, action)?)
    }
}

impl ListParams {
    pub fn try_into_domain(self) -> Result<ListTasks, ApiError> {
        let mut e = Errors::default();
        let statuses = self.status.and_then(|s| e.take("status", list(&s, TaskStatus::parse))).unwrap_or_default();
        let priorities =
            self.priority.and_then(|p| e.take("priority", list(&p, TaskPriority::parse))).unwrap_or_default();
        let search = self.search.and_then(|s| e.take("search", SearchTerm::parse(&s))).flatten();
        let due_before = self.due_before.and_then(|d| e.take("dueBefore", parse_timestamp(&d)));
        let due_after = self.due_after.and_then(|d| e.take("dueAfter", parse_timestamp(&d)));
        let overdue = self.overdue.and_then(|o| match o.as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => e.take("overdue", Err::<bool, _>("must be true or false")),
        });
        let owner = self.user_id.and_then(|u| e.take("userId", uuid(&u))).map(UserId::from_uuid);
        let sort = self.sort.map_or(Some(SortField::CreatedAt), |s| e.take("sort", SortField::parse(&s)));
        let order = match self.order.as_deref() {
            None | Some("desc") => Some(SortOrder::Desc),
            Some("asc") => Some(SortOrder::Asc),
            Some(_) => e.take("order", Err::<SortOrder, _>("must be asc or desc")),
        };
        let paging = match (self.cursor, self.page) {
            (Some(_), Some(_)) => e.take("cursor", Err::<PagingRequest, _>("use either cursor or page, not both")),
            (Some(cursor), None) => e
                .take("limit", parse_limit(self.limit.as_deref()).map_err(|f| f.message))
                .map(|limit| PagingRequest::Keyset { cursor: Some(cursor).filter(|c| !c.is_empty()), limit }),
            (None, page) => match page_and_limit(page.as_deref(), self.limit.as_deref()) {
                Ok((page, limit)) => Some(PagingRequest::Offset { page, limit }),
                Err(errors) => {
                    e.0.extend(errors);
                    None
                }
            },
        };
        match (sort, order, paging) {
            (Some(sort), Some(order), Some(paging)) => e.finish(|| ListTasks {
                owner,
                statuses,
                priorities,
                search,
                due_before,
                due_after,
                overdue,
                sort,
                order,
                paging,
            }),
            _ => Err(ApiError::validation(e.0)),
        }
    }
}

impl StatsParams {
    pub fn owner(self) -> Result<Option<UserId>, ApiError> {
        let mut e = Errors::default();
        let owner = self.user_id.and_then(|u| e.take("userId", uuid(&u))).map(UserId::from_uuid);
        e.finish(|| owner)
    }
}

/// The owner embedded in a task.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaskOwnerOut {
    /// Id.
    pub id: Uuid,
    /// Name.
    pub name: String,
    /// Email.
    pub email: String,
}

impl From<&OwnerSummary> for TaskOwnerOut {
    fn from(o: &OwnerSummary) -> Self {
        Self { id: o.id.as_uuid(), name: o.name.to_string(), email: o.email.to_string() }
    }
}

/// A task.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TaskOut {
    /// Id.
    pub id: Uuid,
    /// Title.
    pub title: String,
    /// Description.
    pub description: Option<String>,
    /// `PENDING`, `IN_PROGRESS` or `COMPLETED`.
    #[schema(value_type = TaskStatusSchema)]
    pub status: &'static str,
    /// `LOW`, `MEDIUM` or `HIGH`.
    #[schema(value_type = TaskPrioritySchema)]
    pub priority: &'static str,
    /// Due date.
    #[schema(format = DateTime)]
    pub due_date: Option<String>,
    /// Set while the task is `COMPLETED`.
    #[schema(format = DateTime)]
    pub completed_at: Option<String>,
    /// Owner id.
    pub user_id: Uuid,
    /// Owner.
    pub user: TaskOwnerOut,
    /// Creation time.
    #[schema(format = DateTime)]
    pub created_at: String,
    /// Last change.
    #[schema(format = DateTime)]
    pub updated_at: String,
    /// Starts at 1, grows by 1 on every change; sent as `ETag`.
    #[schema(minimum = 1)]
    pub version: i64,
}

impl From<&TaskView> for TaskOut {
    fn from(v: &TaskView) -> Self {
        let t = &v.task;
        Self {
            id: t.id().as_uuid(),
            title: t.title().to_string(),
            description: t.description().map(|d| d.as_ref().to_owned()),
            status: t.status().as_str(),
            priority: t.priority().as_str(),
            due_date: t.due_date().map(timestamp),
            completed_at: t.completed_at().map(timestamp),
            user_id: t.owner().as_uuid(),
            user: TaskOwnerOut::from(&v.owner),
            created_at: timestamp(t.created_at()),
            updated_at: timestamp(t.updated_at()),
            version: t.version().get(),
        }
    }
}
