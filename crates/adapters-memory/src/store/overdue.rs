//! [`OverdueScan`] over the committed state: the marks play PostgreSQL's unique key on (task, due date).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use taskflow_domain::RepoError;
use taskflow_domain::events::DomainEvent;
use taskflow_domain::ids::EventId;
use taskflow_domain::ports::OverdueScan;
use taskflow_domain::task::Task;
use uuid::Uuid;

use super::InMemoryStore;
use crate::locks::write;

#[async_trait]
impl OverdueScan for InMemoryStore {
    async fn emit_overdue(&self, now: DateTime<Utc>, limit: usize) -> Result<usize, RepoError> {
        let mut tables = write(&self.shared.tables);
        let mut due: Vec<(DateTime<Utc>, Task)> = tables
            .tasks
            .values()
            .filter(|t| t.is_overdue(now))
            .filter_map(|t| t.due_date().map(|d| (d, t)))
            .filter(|(d, t)| !tables.hooks.overdue_marks.get(&t.id()).is_some_and(|marks| marks.contains(d)))
            .map(|(d, t)| (d, t.clone()))
            .collect();
        due.sort_unstable_by_key(|(d, t)| (*d, t.id()));
        due.truncate(limit);
        for (date, task) in &due {
            tables.hooks.overdue_marks.entry(task.id()).or_default().insert(*date);
            tables.push_event(DomainEvent::overdue(EventId::from_uuid(Uuid::now_v7()), task, now));
        }
        drop(tables);
        if !due.is_empty() {
            self.shared.work.notify_waiters();
        }
        Ok(due.len())
    }
}
