//! The cached form of read results. Domain types carry no wire format (G15), so the cache has its own, and a
//! value that no longer decodes (after an upgrade) is simply a miss.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use taskflow_domain::query::{
    KeysetPosition, OwnerSummary, PriorityCounts, SortValue, StatusCounts, TaskPage, TaskStats, TaskView,
};
use taskflow_domain::task::{Task, TaskDescription, TaskPriority, TaskRecord, TaskStatus, TaskTitle, Version};
use taskflow_domain::user::{EmailAddress, UserName};
use taskflow_domain::{TaskId, UserId};
use uuid::Uuid;

#[derive(Serialize, Deserialize)]
struct CachedView {
    id: Uuid,
    title: String,
    description: Option<String>,
    status: String,
    priority: String,
    due: Option<DateTime<Utc>>,
    completed: Option<DateTime<Utc>>,
    created: DateTime<Utc>,
    updated: DateTime<Utc>,
    version: i64,
    owner: Uuid,
    owner_name: String,
    owner_email: String,
}

#[derive(Serialize, Deserialize)]
enum CachedSortValue {
    Time(DateTime<Utc>),
    MaybeTime(Option<DateTime<Utc>>),
    Rank(i16),
    Text(String),
}

#[derive(Serialize, Deserialize)]
struct CachedPage {
    items: Vec<CachedView>,
    total: Option<u64>,
    next: Option<(CachedSortValue, Uuid)>,
}

#[derive(Serialize, Deserialize)]
struct CachedStats {
    total: u64,
    overdue: u64,
    /// Pending, in progress, completed.
    by_status: [u64; 3],
    /// Low, medium, high.
    by_priority: [u64; 3],
}

fn view_out(v: &TaskView) -> CachedView {
    let t = v.task.record();
    CachedView {
        id: t.id.as_uuid(),
        title: t.title.to_string(),
        description: t.description.as_ref().map(|d| d.as_ref().to_owned()),
        status: t.status.as_str().to_owned(),
        priority: t.priority.as_str().to_owned(),
        due: t.due_date,
        completed: t.completed_at,
        created: t.created_at,
        updated: t.updated_at,
        version: t.version.get(),
        owner: t.owner.as_uuid(),
        owner_name: v.owner.name.to_string(),
        owner_email: v.owner.email.to_string(),
    }
}

fn view_in(c: CachedView) -> Option<TaskView> {
    let owner = UserId::from_uuid(c.owner);
    let task = Task::from_record(TaskRecord {
        id: TaskId::from_uuid(c.id),
        title: TaskTitle::parse(&c.title).ok()?,
        description: c.description.map(|d| TaskDescription::parse(&d)).transpose().ok()?,
        status: TaskStatus::parse(&c.status).ok()?,
        priority: TaskPriority::parse(&c.priority).ok()?,
        due_date: c.due,
        completed_at: c.completed,
        owner,
        created_at: c.created,
        updated_at: c.updated,
        version: Version::new(c.version).ok()?,
    });
    let owner = OwnerSummary {
        id: owner,
        name: UserName::parse(&c.owner_name).ok()?,
        email: EmailAddress::parse(&c.owner_email).ok()?,
    };
    Some(TaskView { task, owner })
}

/// Encodes a page.
pub fn encode_page(p: &TaskPage) -> Vec<u8> {
    let next = p.next.as_ref().map(|pos| {
        let value = match &pos.value {
            SortValue::Time(t) => CachedSortValue::Time(*t),
            SortValue::MaybeTime(t) => CachedSortValue::MaybeTime(*t),
            SortValue::Rank(r) => CachedSortValue::Rank(*r),
            SortValue::Text(s) => CachedSortValue::Text(s.clone()),
        };
        (value, pos.id.as_uuid())
    });
    let page = CachedPage { items: p.items.iter().map(view_out).collect(), total: p.total, next };
    serde_json::to_vec(&page).unwrap_or_default()
}

/// Decodes a page.
pub fn decode_page(bytes: &[u8]) -> Option<TaskPage> {
    let c: CachedPage = serde_json::from_slice(bytes).ok()?;
    let items = c.items.into_iter().map(view_in).collect::<Option<Vec<_>>>()?;
    let next = c.next.map(|(value, id)| KeysetPosition {
        value: match value {
            CachedSortValue::Time(t) => SortValue::Time(t),
            CachedSortValue::MaybeTime(t) => SortValue::MaybeTime(t),
            CachedSortValue::Rank(r) => SortValue::Rank(r),
            CachedSortValue::Text(s) => SortValue::Text(s),
        },
        id: TaskId::from_uuid(id),
    });
    Some(TaskPage { items, total: c.total, next })
}

/// Encodes stats.
pub fn encode_stats(s: &TaskStats) -> Vec<u8> {
    let (st, pr) = (s.by_status, s.by_priority);
    let c = CachedStats {
        total: s.total,
        overdue: s.overdue,
        by_status: [st.pending, st.in_progress, st.completed],
        by_priority: [pr.low, pr.medium, pr.high],
    };
    serde_json::to_vec(&c).unwrap_or_default()
}

/// Decodes stats.
pub fn decode_stats(bytes: &[u8]) -> Option<TaskStats> {
    let c: CachedStats = serde_json::from_slice(bytes).ok()?;
    let ([pending, in_progress, completed], [low, medium, high]) = (c.by_status, c.by_priority);
    Some(TaskStats {
        total: c.total,
        overdue: c.overdue,
        by_status: StatusCounts { pending, in_progress, completed },
        by_priority: PriorityCounts { low, medium, high },
    })
}
