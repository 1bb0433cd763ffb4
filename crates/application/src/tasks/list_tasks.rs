//! List tasks: filters, sort and paging, all done by the read side.

use chrono::{DateTime, Utc};
use taskflow_domain::UserId;
use taskflow_domain::policy::Actor;
use taskflow_domain::query::{Paging, SearchTerm, SortField, SortOrder, TaskFilter, TaskQuery, TaskView};
use taskflow_domain::task::{TaskPriority, TaskStatus};

use super::TaskService;
use crate::cursor;
use crate::error::AppError;

/// How the client asked to page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PagingRequest {
    /// `page` and `limit`.
    Offset {
        /// 1-based page.
        page: u32,
        /// 1..=100.
        limit: u32,
    },
    /// `cursor` (empty for the first page) and `limit`.
    Keyset {
        /// The previous page's `nextCursor`, or `None` for the first page.
        cursor: Option<String>,
        /// 1..=100.
        limit: u32,
    },
}

impl PagingRequest {
    /// The default page size.
    pub const DEFAULT_LIMIT: u32 = 20;
}

/// The first page of 20, by offset (`page=1&limit=20`).
impl Default for PagingRequest {
    fn default() -> Self {
        Self::Offset { page: 1, limit: Self::DEFAULT_LIMIT }
    }
}

/// A validated listing request. The default is the service's: every visible task, no filter, newest first
/// ([`SortField::CreatedAt`], [`SortOrder::Desc`]), the first page of 20. Narrow it with struct update syntax:
///
/// ```
/// use taskflow_application::domain::query::SortField;
/// use taskflow_application::domain::task::TaskStatus;
/// use taskflow_application::tasks::ListTasks;
///
/// let open_by_due_date =
///     ListTasks { statuses: vec![TaskStatus::Pending], sort: SortField::DueDate, ..ListTasks::default() };
/// assert_eq!(open_by_due_date.order.as_str(), "desc");
/// ```
#[derive(Debug, Clone, Default)]
pub struct ListTasks {
    /// Only this user's tasks (admins; a user may name themself).
    pub owner: Option<UserId>,
    /// Any of these statuses.
    pub statuses: Vec<TaskStatus>,
    /// Any of these priorities.
    pub priorities: Vec<TaskPriority>,
    /// Title or description contains this.
    pub search: Option<SearchTerm>,
    /// Due before.
    pub due_before: Option<DateTime<Utc>>,
    /// Due after.
    pub due_after: Option<DateTime<Utc>>,
    /// Overdue or not.
    pub overdue: Option<bool>,
    /// Sort field.
    pub sort: SortField,
    /// Sort direction.
    pub order: SortOrder,
    /// Paging.
    pub paging: PagingRequest,
}

/// The paging facts of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageMeta {
    /// Offset paging.
    Offset {
        /// The page.
        page: u32,
        /// The page size.
        limit: u32,
        /// Matching tasks.
        total: u64,
        /// Pages in all.
        total_pages: u64,
    },
    /// Keyset paging.
    Keyset {
        /// The page size.
        limit: u32,
        /// The cursor of the next page, `None` on the last.
        next_cursor: Option<String>,
    },
}

/// One page of tasks.
#[derive(Debug, Clone)]
pub struct TaskList {
    /// The tasks.
    pub items: Vec<TaskView>,
    /// Paging facts.
    pub meta: PageMeta,
}

impl TaskService {
    /// One page of the caller's visible tasks.
    ///
    /// # Errors
    /// [`AppError::Forbidden`] when a non-admin names another owner; [`AppError::Validation`] (`cursor`) for a
    /// cursor that is not ours or belongs to another query.
    #[tracing::instrument(name = "tasks.list", skip_all, fields(user_id = %actor.user_id))]
    pub async fn list_tasks(&self, actor: Actor, req: ListTasks) -> Result<TaskList, AppError> {
        let filter = TaskFilter {
            scope: actor.scope_for_owner(req.owner)?,
            statuses: req.statuses,
            priorities: req.priorities,
            search: req.search,
            due_before: req.due_before,
            due_after: req.due_after,
            overdue: req.overdue,
        };
        let paging = match &req.paging {
            PagingRequest::Offset { page, limit } => Paging::Offset { page: *page, limit: *limit },
            PagingRequest::Keyset { cursor: None, limit } => Paging::Keyset { after: None, limit: *limit },
            PagingRequest::Keyset { cursor: Some(c), limit } => {
                let after =
                    cursor::decode(c, req.sort, req.order, &filter).map_err(|e| AppError::invalid("cursor", e))?;
                Paging::Keyset { after: Some(after), limit: *limit }
            }
        };
        let query = TaskQuery { filter, sort: req.sort, order: req.order, paging, now: self.deps.clock.now() };
        let page = self.deps.task_reads.list(&query).await?;
        let meta = match req.paging {
            PagingRequest::Offset { page: number, limit } => {
                let total = page.total.unwrap_or(0);
                PageMeta::Offset { page: number, limit, total, total_pages: total.div_ceil(u64::from(limit)) }
            }
            PagingRequest::Keyset { limit, .. } => PageMeta::Keyset {
                limit,
                next_cursor: page.next.map(|p| cursor::encode(&p, query.sort, query.order, &query.filter)),
            },
        };
        Ok(TaskList { items: page.items, meta })
    }
}
