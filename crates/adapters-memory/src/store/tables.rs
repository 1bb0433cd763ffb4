//! The committed state and its indexes, kept consistent by the only methods that change it.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Utc};
use taskflow_domain::events::DomainEvent;
use taskflow_domain::ids::{EventId, TaskId, UserId};
use taskflow_domain::policy::TaskScope;
use taskflow_domain::ports::FeedPosition;
use taskflow_domain::task::Task;
use taskflow_domain::user::{EmailAddress, User};

use super::hooks::HookTables;

/// Committed users, tasks, the event log and tombstones of deleted users.
#[derive(Debug, Default)]
pub(crate) struct Tables {
    pub(crate) users: HashMap<UserId, User>,
    /// Unique index on the (already lower-cased) email.
    pub(crate) emails: HashMap<EmailAddress, UserId>,
    pub(crate) tasks: HashMap<TaskId, Task>,
    /// Index of task ids per owner, for owner-scoped reads and cascading deletes.
    pub(crate) by_owner: HashMap<UserId, HashSet<TaskId>>,
    /// The permanent event log by commit sequence, so the oldest come first. Dispatching marks, never removes.
    pub(crate) outbox: BTreeMap<u64, DomainEvent>,
    pub(crate) outbox_seq: HashMap<EventId, u64>,
    /// The sequence numbers of each task's events, ascending (the `(task_id, seq)` index).
    pub(crate) events_by_task: HashMap<TaskId, Vec<u64>>,
    /// The sequence numbers of events not dispatched yet (the relay's partial index).
    pub(crate) undispatched: BTreeSet<u64>,
    next_seq: u64,
    /// The feed: the sequence numbers of published events in publication order (position `n` is index `n - 1`).
    pub(crate) published: Vec<u64>,
    /// Each published event's position.
    pub(crate) positions: HashMap<u64, FeedPosition>,
    /// When each deleted user was deleted (until pruned).
    pub(crate) tombstones: HashMap<UserId, DateTime<Utc>>,
    /// Webhooks, their deliveries and the overdue marks.
    pub(crate) hooks: HookTables,
}

impl Tables {
    /// Inserts or replaces a user, moving the email index along.
    pub(crate) fn put_user(&mut self, user: User) {
        if let Some(old) = self.users.get(&user.id())
            && old.email() != user.email()
        {
            let old_email = old.email().clone();
            self.unindex_email(&old_email, user.id());
        }
        self.emails.insert(user.email().clone(), user.id());
        self.users.insert(user.id(), user);
    }

    /// Removes a user and every task of theirs.
    pub(crate) fn remove_user(&mut self, id: UserId) {
        if let Some(user) = self.users.remove(&id) {
            self.unindex_email(user.email(), id);
        }
        for task in self.by_owner.remove(&id).unwrap_or_default() {
            self.tasks.remove(&task);
            self.hooks.forget_task(task);
        }
        self.hooks.forget_owner(id);
    }

    /// Inserts or replaces a task, moving the owner index along.
    pub(crate) fn put_task(&mut self, task: Task) {
        if let Some((owner, id)) = self.tasks.get(&task.id()).map(|old| (old.owner(), old.id()))
            && owner != task.owner()
        {
            self.unindex(owner, id);
        }
        self.by_owner.entry(task.owner()).or_default().insert(task.id());
        self.tasks.insert(task.id(), task);
    }

    /// Removes a task.
    pub(crate) fn remove_task(&mut self, id: TaskId) {
        if let Some(old) = self.tasks.remove(&id) {
            self.unindex(old.owner(), id);
        }
        self.hooks.forget_task(id);
    }

    /// Frees `email` if `id` holds it: within one commit another user may already have taken it over.
    fn unindex_email(&mut self, email: &EmailAddress, id: UserId) {
        if self.emails.get(email) == Some(&id) {
            self.emails.remove(email);
        }
    }

    fn unindex(&mut self, owner: UserId, id: TaskId) {
        if let Some(ids) = self.by_owner.get_mut(&owner) {
            ids.remove(&id);
            if ids.is_empty() {
                self.by_owner.remove(&owner);
            }
        }
    }

    /// Appends an event to the log (an event id already logged is kept once).
    pub(crate) fn push_event(&mut self, event: DomainEvent) {
        if self.outbox_seq.contains_key(&event.id) {
            return;
        }
        self.next_seq += 1;
        let seq = self.next_seq;
        self.outbox_seq.insert(event.id, seq);
        self.events_by_task.entry(event.task.id()).or_default().push(seq);
        self.undispatched.insert(seq);
        self.outbox.insert(seq, event);
    }

    /// Marks an event dispatched; it stays in the log.
    pub(crate) fn mark_dispatched(&mut self, id: EventId) {
        if let Some(seq) = self.outbox_seq.get(&id) {
            self.undispatched.remove(seq);
        }
    }

    /// Marks an event relayed and publishes it to the feed, after every event published before; it stays in the log.
    pub(crate) fn publish(&mut self, id: EventId) {
        if let Some(&seq) = self.outbox_seq.get(&id)
            && self.undispatched.remove(&seq)
        {
            self.published.push(seq);
            self.positions.insert(seq, FeedPosition::new(self.published.len() as u64));
        }
    }

    /// The last published position.
    pub(crate) fn feed_head(&self) -> FeedPosition {
        FeedPosition::new(self.published.len() as u64)
    }

    /// Where event `id` was published.
    pub(crate) fn position_of(&self, id: EventId) -> Option<FeedPosition> {
        self.outbox_seq.get(&id).and_then(|seq| self.positions.get(seq)).copied()
    }

    /// Up to `limit` published events in `(after, until]` of `owner`'s tasks (see `EventFeed::published`).
    pub(crate) fn published(
        &self,
        after: FeedPosition,
        until: Option<FeedPosition>,
        owner: Option<UserId>,
        limit: usize,
    ) -> Vec<(FeedPosition, DomainEvent)> {
        let start = usize::try_from(after.get()).unwrap_or(usize::MAX).min(self.published.len());
        let end = until
            .map_or(self.published.len(), |u| usize::try_from(u.get()).unwrap_or(usize::MAX).min(self.published.len()));
        (start..end.max(start))
            .filter_map(|i| self.outbox.get(&self.published[i]).map(|e| (FeedPosition::new(i as u64 + 1), e)))
            .filter(|(_, e)| owner.is_none_or(|o| e.task.owner() == o))
            .take(limit)
            .map(|(p, e)| (p, e.clone()))
            .collect()
    }

    /// Up to `limit` undispatched events, oldest first.
    pub(crate) fn pending(&self, limit: usize) -> impl Iterator<Item = &DomainEvent> {
        self.undispatched.iter().take(limit).filter_map(|seq| self.outbox.get(seq))
    }

    /// Up to `limit` events of `task` after the event `after` (see `EventLog::history`).
    pub(crate) fn history(&self, task: TaskId, after: Option<EventId>, limit: usize) -> Vec<DomainEvent> {
        let after_seq = match after {
            None => 0,
            Some(id) => match self.outbox_seq.get(&id) {
                Some(seq) => *seq,
                None => return Vec::new(),
            },
        };
        let seqs = self.events_by_task.get(&task).map_or(&[][..], Vec::as_slice);
        let start = seqs.partition_point(|s| *s <= after_seq);
        seqs[start..].iter().take(limit).filter_map(|seq| self.outbox.get(seq)).cloned().collect()
    }

    /// The committed tasks within `scope`, through the owner index when the scope is one owner.
    pub(crate) fn tasks_in(&self, scope: TaskScope) -> Box<dyn Iterator<Item = &Task> + '_> {
        match scope {
            TaskScope::All => Box::new(self.tasks.values()),
            TaskScope::Owner(owner) => {
                Box::new(self.by_owner.get(&owner).into_iter().flatten().filter_map(|id| self.tasks.get(id)))
            }
        }
    }
}
