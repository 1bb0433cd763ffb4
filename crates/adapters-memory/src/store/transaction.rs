//! [`InMemoryTransaction`]: a unit of work that stages its writes over the committed state.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use taskflow_domain::RepoError;
use taskflow_domain::auth::UserTombstone;
use taskflow_domain::events::DomainEvent;
use taskflow_domain::ids::{TaskId, UserId};
use taskflow_domain::ports::{EventOutbox, TaskRepository, Transaction, UserRepository};
use taskflow_domain::task::Task;
use taskflow_domain::user::{EmailAddress, User};
use tokio::sync::OwnedMutexGuard;

use super::Shared;
use crate::locks::{lock, read, write};

/// The writes of one unit of work, not yet visible to anyone else. `None` marks a deletion.
#[derive(Debug, Default)]
pub(crate) struct Staged {
    pub(crate) users: HashMap<UserId, Option<User>>,
    pub(crate) tasks: HashMap<TaskId, Option<Task>>,
    pub(crate) events: Vec<DomainEvent>,
    pub(crate) tombstones: Vec<UserTombstone>,
}

/// An open unit of work on an [`super::InMemoryStore`].
///
/// It holds the store's writer lock from `begin` until it is committed or dropped, so units of work run one at a
/// time and what one reads stays true until it commits. Dropping it discards every staged write and event.
pub struct InMemoryTransaction {
    pub(crate) shared: Arc<Shared>,
    pub(crate) staged: Mutex<Staged>,
    _writer: OwnedMutexGuard<()>,
}

impl InMemoryTransaction {
    pub(crate) fn new(shared: Arc<Shared>, writer: OwnedMutexGuard<()>) -> Self {
        Self { shared, staged: Mutex::new(Staged::default()), _writer: writer }
    }

    /// The task as this unit sees it: staged if it wrote it, committed otherwise.
    pub(crate) fn effective_task(&self, staged: &Staged, id: TaskId) -> Option<Task> {
        match staged.tasks.get(&id) {
            Some(task) => task.clone(),
            None => read(&self.shared.tables).tasks.get(&id).cloned(),
        }
    }

    /// The user as this unit sees it.
    pub(crate) fn effective_user(&self, staged: &Staged, id: UserId) -> Option<User> {
        match staged.users.get(&id) {
            Some(user) => user.clone(),
            None => read(&self.shared.tables).users.get(&id).cloned(),
        }
    }

    /// Whether a user other than `except` has `email`, as this unit sees it.
    pub(crate) fn email_taken(&self, staged: &Staged, email: &EmailAddress, except: UserId) -> bool {
        let staged_clash = staged.users.values().flatten().any(|u| u.email() == email && u.id() != except);
        let committed_clash = read(&self.shared.tables)
            .emails
            .get(email)
            .is_some_and(|&id| id != except && !staged.users.contains_key(&id));
        staged_clash || committed_clash
    }

    /// The ids of every task of `owner`, as this unit sees them.
    pub(crate) fn task_ids_of(&self, staged: &Staged, owner: UserId) -> Vec<TaskId> {
        let mut ids: Vec<TaskId> = read(&self.shared.tables)
            .by_owner
            .get(&owner)
            .into_iter()
            .flatten()
            .filter(|id| !staged.tasks.contains_key(id))
            .copied()
            .collect();
        ids.extend(staged.tasks.values().flatten().filter(|t| t.owner() == owner).map(Task::id));
        ids
    }
}

#[async_trait]
impl Transaction for InMemoryTransaction {
    fn tasks(&self) -> &dyn TaskRepository {
        self
    }

    fn users(&self) -> &dyn UserRepository {
        self
    }

    fn outbox(&self) -> &dyn EventOutbox {
        self
    }

    async fn commit(self: Box<Self>) -> Result<(), RepoError> {
        let staged = std::mem::take(&mut *lock(&self.staged));
        let mut tables = write(&self.shared.tables);
        let mut deleted_users = Vec::new();
        for (id, user) in staged.users {
            match user {
                Some(user) => tables.put_user(user),
                None => deleted_users.push(id),
            }
        }
        for (id, task) in staged.tasks {
            match task {
                Some(task) => tables.put_task(task),
                None => tables.remove_task(id),
            }
        }
        // Users go last, taking any task of theirs with them (their tasks are staged as deleted already).
        for id in &deleted_users {
            tables.remove_user(*id);
        }
        for tombstone in staged.tombstones {
            tables.tombstones.insert(tombstone.user_id, tombstone.deleted_at);
        }
        let appended = !staged.events.is_empty();
        for event in staged.events {
            tables.push_event(event);
        }
        drop(tables);
        // Like a NOTIFY sent inside the transaction: delivered once the events are visible, and only then.
        if appended {
            self.shared.work.notify_waiters();
        }
        // Like PostgreSQL's ON DELETE CASCADE: a deleted user's refresh tokens go with them. The refresh table has
        // its own lock, never taken while holding the tables' one.
        if !deleted_users.is_empty() {
            let mut refresh = lock(&self.shared.refresh);
            for id in deleted_users {
                refresh.forget_user(id);
            }
        }
        Ok(())
        // The writer lock is released when `self` drops.
    }
}

#[async_trait]
impl EventOutbox for InMemoryTransaction {
    async fn append(&self, events: &[DomainEvent]) -> Result<(), RepoError> {
        lock(&self.staged).events.extend_from_slice(events);
        Ok(())
    }
}
