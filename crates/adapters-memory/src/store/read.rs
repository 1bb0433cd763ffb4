//! The read models and the outbox reader over the committed state.

use std::time::Instant;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use taskflow_domain::RepoError;
use taskflow_domain::events::DomainEvent;
use taskflow_domain::ids::{EventId, TaskId, UserId};
use taskflow_domain::policy::TaskScope;
use taskflow_domain::ports::{EventFeed, EventLog, FeedPosition, OutboxReader, TaskReadModel, UserReadModel};
use taskflow_domain::query::{PageRequest, TaskPage, TaskQuery, TaskStats, TaskView};

use taskflow_domain::user::{EmailAddress, User};

use super::InMemoryStore;
use super::listing::{list, view};
use crate::locks::{read, write};
use taskflow_application::ports::{ComponentHealth, HealthProbe};

#[async_trait]
impl TaskReadModel for InMemoryStore {
    async fn get(&self, id: TaskId, scope: TaskScope) -> Result<Option<TaskView>, RepoError> {
        let tables = read(&self.shared.tables);
        tables.tasks.get(&id).filter(|t| scope.includes(t.owner())).map(|t| view(&tables, t)).transpose()
    }

    async fn list(&self, query: &TaskQuery) -> Result<TaskPage, RepoError> {
        list(&read(&self.shared.tables), query)
    }

    async fn stats(&self, scope: TaskScope, now: DateTime<Utc>) -> Result<TaskStats, RepoError> {
        let tables = read(&self.shared.tables);
        let mut stats = TaskStats::default();
        for task in tables.tasks_in(scope) {
            stats.total += 1;
            stats.overdue += u64::from(task.is_overdue(now));
            stats.by_status.count(task.status());
            stats.by_priority.count(task.priority());
        }
        Ok(stats)
    }
}

#[async_trait]
impl UserReadModel for InMemoryStore {
    async fn get(&self, id: UserId) -> Result<Option<User>, RepoError> {
        Ok(read(&self.shared.tables).users.get(&id).cloned())
    }

    async fn find_by_email(&self, email: &EmailAddress) -> Result<Option<User>, RepoError> {
        let tables = read(&self.shared.tables);
        Ok(tables.emails.get(email).and_then(|id| tables.users.get(id)).cloned())
    }

    async fn list(&self, page: PageRequest) -> Result<(Vec<User>, u64), RepoError> {
        let tables = read(&self.shared.tables);
        let mut users: Vec<&User> = tables.users.values().collect();
        users.sort_unstable_by_key(|u| (u.created_at(), u.id()));
        let offset = usize::try_from(page.offset()).unwrap_or(usize::MAX);
        let items = users.iter().skip(offset).take(page.limit as usize).map(|u| (*u).clone()).collect();
        Ok((items, users.len() as u64))
    }
}

#[async_trait]
impl OutboxReader for InMemoryStore {
    async fn pending(&self, limit: usize) -> Result<Vec<DomainEvent>, RepoError> {
        Ok(read(&self.shared.tables).pending(limit).cloned().collect())
    }

    async fn mark_dispatched(&self, ids: &[EventId]) -> Result<(), RepoError> {
        let mut tables = write(&self.shared.tables);
        for id in ids {
            tables.mark_dispatched(*id);
        }
        Ok(())
    }
}

#[async_trait]
impl EventLog for InMemoryStore {
    async fn history(&self, task: TaskId, after: Option<EventId>, limit: usize) -> Result<Vec<DomainEvent>, RepoError> {
        Ok(read(&self.shared.tables).history(task, after, limit))
    }
}

#[async_trait]
impl EventFeed for InMemoryStore {
    async fn head(&self) -> Result<FeedPosition, RepoError> {
        Ok(read(&self.shared.tables).feed_head())
    }

    async fn position_of(&self, id: EventId) -> Result<Option<FeedPosition>, RepoError> {
        Ok(read(&self.shared.tables).position_of(id))
    }

    async fn published(
        &self,
        after: FeedPosition,
        until: Option<FeedPosition>,
        owner: Option<UserId>,
        limit: usize,
    ) -> Result<Vec<(FeedPosition, DomainEvent)>, RepoError> {
        Ok(read(&self.shared.tables).published(after, until, owner, limit))
    }
}

#[async_trait]
impl HealthProbe for InMemoryStore {
    async fn check(&self) -> ComponentHealth {
        let started = Instant::now();
        drop(read(&self.shared.tables));
        ComponentHealth { up: true, kind: "in-memory", latency: started.elapsed() }
    }
}
