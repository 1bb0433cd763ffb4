//! The ports: what TaskFlow needs from the outside world, as object-safe traits the adapters implement.
//!
//! Every adapter (in-memory, PostgreSQL, Redis, crypto) implements these, and `taskflow-contract-tests` checks that
//! they all behave alike. Absence is `Ok(None)`; the use cases decide what it means.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::auth::{AccessClaims, ConsumeOutcome, NewRefreshToken, RefreshTokenHash, RefreshTokenRecord, UserTombstone};
use crate::error::RepoError;
use crate::events::{Deletion, DomainEvent};
use crate::ids::{EventId, FamilyId, TaskId, UserId, WebhookId};
use crate::policy::TaskScope;
use crate::query::{OwnerSummary, PageRequest, TaskPage, TaskQuery, TaskStats, TaskView};
use crate::task::{Task, Version};
use crate::user::{EmailAddress, Password, PasswordHash, User};

pub use crate::webhook::ports::{
    AttemptRecord, ClaimedDelivery, DeliveryQueue, LeaseToken, OverdueScan, QueueFigures, RelayOutcome, RetryOutcome,
    WebhookRepository,
};

/// The source of "now". No code in `domain` or `application` reads the system clock directly.
pub trait Clock: Send + Sync {
    /// The current instant.
    fn now(&self) -> DateTime<Utc>;
}

/// The source of new ids, so tests can fix them.
pub trait IdGenerator: Send + Sync {
    /// A new task id.
    fn task_id(&self) -> TaskId;
    /// A new user id.
    fn user_id(&self) -> UserId;
    /// A new refresh-token family id.
    fn family_id(&self) -> FamilyId;
    /// A new event id.
    fn event_id(&self) -> EventId;
    /// A new webhook id.
    fn webhook_id(&self) -> WebhookId;
}

/// Hashes and verifies passwords. Implementations do the CPU-heavy work off the async threads.
#[async_trait]
pub trait PasswordHasher: Send + Sync {
    /// Hashes a new password with a fresh salt.
    ///
    /// # Errors
    /// [`RepoError::Unexpected`] when hashing fails; [`RepoError::Unavailable`] when password work is saturated
    /// (the caller should retry later).
    async fn hash(&self, password: &Password) -> Result<PasswordHash, RepoError>;

    /// Whether `password` matches `hash`.
    ///
    /// # Errors
    /// [`RepoError::Unexpected`] when the hash cannot be read; [`RepoError::Unavailable`] when password work is
    /// saturated.
    async fn verify(&self, password: &Password, hash: &PasswordHash) -> Result<bool, RepoError>;

    /// Spends the same time as [`Self::verify`]; used for unknown emails so that login time does not reveal which
    /// emails are registered.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] when password work is saturated, exactly as [`Self::verify`] would be, so that a
    /// saturated login answers the same for known and unknown emails.
    async fn verify_dummy(&self, password: &Password) -> Result<(), RepoError>;
}

/// Why an access token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Malformed, tampered with, or signed with another key.
    #[error("the token is invalid")]
    Invalid,
    /// Past its expiry.
    #[error("the token has expired")]
    Expired,
}

/// Issues and checks access tokens, and makes refresh-token secrets.
pub trait TokenIssuer: Send + Sync {
    /// Issues an access token asserting `claims`.
    ///
    /// # Errors
    /// [`RepoError::Unexpected`] when signing or encrypting fails.
    fn issue_access(&self, claims: &AccessClaims) -> Result<String, RepoError>;

    /// Checks an access token at `now` and returns what it asserts.
    ///
    /// # Errors
    /// [`TokenError::Invalid`] or [`TokenError::Expired`].
    fn verify_access(&self, token: &str, now: DateTime<Utc>) -> Result<AccessClaims, TokenError>;

    /// A new refresh-token secret (at least 256 random bits) and its hash.
    fn new_refresh_token(&self) -> NewRefreshToken;

    /// The hash of a presented refresh-token secret.
    fn hash_refresh_token(&self, secret: &str) -> RefreshTokenHash;

    /// A new webhook signing secret (32 random bytes).
    fn new_webhook_secret(&self) -> crate::webhook::WebhookSecret;
}

/// Stores refresh tokens (as hashes) grouped in families, one family per login.
#[async_trait]
pub trait RefreshTokenStore: Send + Sync {
    /// Stores a new token. If its family was revoked meanwhile, the token is stored but can never be consumed.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] or [`RepoError::Unexpected`].
    async fn insert(&self, record: &RefreshTokenRecord) -> Result<(), RepoError>;

    /// Atomically consumes a token at `now`. Of any number of concurrent calls with one valid token, exactly one
    /// gets [`ConsumeOutcome::Consumed`]. Presenting an already consumed token revokes its family and returns
    /// [`ConsumeOutcome::Reused`]; tokens of a revoked family give [`ConsumeOutcome::Revoked`].
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] or [`RepoError::Unexpected`].
    async fn consume(&self, hash: &RefreshTokenHash, now: DateTime<Utc>) -> Result<ConsumeOutcome, RepoError>;

    /// Revokes the family of the token with this hash; returns whether such a token existed.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] or [`RepoError::Unexpected`].
    async fn revoke_family_of(&self, hash: &RefreshTokenHash) -> Result<bool, RepoError>;

    /// Revokes every family of a user (on a password change; a deletion removes them with the user).
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] or [`RepoError::Unexpected`].
    async fn revoke_user(&self, user: UserId) -> Result<(), RepoError>;
}

/// The tombstones of deleted users, written by [`UserRepository::delete`]. Every instance reads the recent ones
/// periodically, so that access tokens of deleted users are refused without a query per request.
#[async_trait]
pub trait UserTombstones: Send + Sync {
    /// The tombstones of users deleted at or after `since`, in no particular order.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] or [`RepoError::Unexpected`].
    async fn deleted_since(&self, since: DateTime<Utc>) -> Result<Vec<UserTombstone>, RepoError>;

    /// Forgets the tombstones of users deleted before `before`; returns how many were forgotten.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] or [`RepoError::Unexpected`].
    async fn prune(&self, before: DateTime<Utc>) -> Result<u64, RepoError>;
}

/// Opens units of work: one per command, spanning all its writes and the events it records.
///
/// Besides [`UnitOfWork::begin`], the single-task commands have units of work of their own, each one write with its
/// events. Their provided implementations compose `begin` and the repositories, so an adapter is correct without
/// them; an adapter overrides them to do each in one statement (PostgreSQL does: one round trip instead of five).
/// Either way the domain decides what is written: the adapter only carries it out.
#[async_trait]
pub trait UnitOfWork: Send + Sync {
    /// Starts a unit of work.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] when storage cannot be reached.
    async fn begin(&self) -> Result<Box<dyn Transaction>, RepoError>;

    /// Stores a new `task` and its `events` in one unit of work, and returns the summary of the owner it names.
    ///
    /// # Errors
    /// [`RepoError::MissingReference`] when the owner does not exist (nothing is stored); [`RepoError::Unavailable`].
    async fn create_task(&self, task: &Task, events: &[DomainEvent]) -> Result<OwnerSummary, RepoError> {
        let tx = self.begin().await?;
        let owner = tx.users().find_for_update(task.owner()).await?.ok_or(RepoError::MissingReference)?;
        tx.tasks().insert(task).await?;
        tx.outbox().append(events).await?;
        tx.commit().await?;
        Ok(OwnerSummary::of(&owner))
    }

    /// The task `id` within `scope` as committed now, with its owner: what a command reads before it decides a
    /// change, which [`UnitOfWork::update_task`] then writes only if the task is still at that version. Never
    /// served from a cache.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] or [`RepoError::Unexpected`].
    async fn read_task(&self, id: TaskId, scope: TaskScope) -> Result<Option<TaskView>, RepoError> {
        let tx = self.begin().await?;
        let Some(task) = tx.tasks().find_for_update(id, scope).await? else { return Ok(None) };
        let owner = tx.users().find_for_update(task.owner()).await?.ok_or(RepoError::MissingReference)?;
        Ok(Some(TaskView { owner: OwnerSummary::of(&owner), task }))
    }

    /// Writes `task`, changed from version `expected`, and its `events` in one unit of work.
    ///
    /// # Errors
    /// [`RepoError::Conflict`] when the stored task is no longer at `expected` (or is gone): nothing is written.
    async fn update_task(&self, task: &Task, expected: Version, events: &[DomainEvent]) -> Result<(), RepoError> {
        let tx = self.begin().await?;
        tx.tasks().update(task, expected).await?;
        tx.outbox().append(events).await?;
        tx.commit().await
    }

    /// Deletes the task `id` within `scope` and records `deletion`'s event of it, as it was last, in one unit of
    /// work. Returns the task deleted; `None` (nothing written) when there is no such task in `scope`.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] or [`RepoError::Unexpected`]: nothing is written.
    async fn delete_task(&self, id: TaskId, scope: TaskScope, deletion: &Deletion) -> Result<Option<Task>, RepoError> {
        let tx = self.begin().await?;
        let Some(task) = tx.tasks().delete(id, scope).await? else { return Ok(None) };
        tx.outbox().append(&[deletion.event(&task)]).await?;
        tx.commit().await?;
        Ok(Some(task))
    }

    /// The tasks among `ids` within `scope` as committed now (in no particular order; the others are missing or
    /// not visible): what a batch reads before it decides its changes, which [`UnitOfWork::write_tasks`] then
    /// writes only if every task is still at the version read. Never served from a cache.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] or [`RepoError::Unexpected`].
    async fn read_tasks(&self, ids: &[TaskId], scope: TaskScope) -> Result<Vec<Task>, RepoError> {
        let tx = self.begin().await?;
        let mut seen = std::collections::HashSet::with_capacity(ids.len());
        let mut found = Vec::with_capacity(ids.len());
        for id in ids.iter().filter(|id| seen.insert(**id)) {
            found.extend(tx.tasks().find_for_update(*id, scope).await?);
        }
        Ok(found)
    }

    /// Carries out every one of `writes` (one per task) and appends the `events`, all in one unit of work, if every
    /// task is still at the version it was read at; otherwise writes nothing, for the caller to read again.
    /// Returns the ids written: all of them, or none.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] or [`RepoError::Unexpected`]: nothing is written.
    async fn write_tasks(&self, writes: &[TaskWrite], events: &[DomainEvent]) -> Result<Vec<TaskId>, RepoError> {
        let tx = self.begin().await?;
        for write in writes {
            let task = write.task();
            let stored = tx.tasks().find_for_update(task.id(), TaskScope::Owner(task.owner())).await?;
            if stored.is_none_or(|stored| stored.version() != write.expected()) {
                return Ok(Vec::new());
            }
        }
        for write in writes {
            match write {
                TaskWrite::Update { task, expected } => tx.tasks().update(task, *expected).await?,
                TaskWrite::Delete(task) => {
                    tx.tasks().delete(task.id(), TaskScope::Owner(task.owner())).await?;
                }
            }
        }
        tx.outbox().append(events).await?;
        tx.commit().await?;
        Ok(writes.iter().map(|w| w.task().id()).collect())
    }
}

/// One task write of a batch, decided by the domain from the task as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskWrite {
    /// Store `task`, changed from version `expected`.
    Update {
        /// The task as changed.
        task: Task,
        /// The version it was read at.
        expected: Version,
    },
    /// Delete the task, as read (at its current version).
    Delete(Task),
}

impl TaskWrite {
    /// The task written (as changed, or as read for a delete).
    #[must_use]
    pub fn task(&self) -> &Task {
        match self {
            Self::Update { task, .. } | Self::Delete(task) => task,
        }
    }

    /// The version the task must still be at.
    #[must_use]
    pub fn expected(&self) -> Version {
        match self {
            Self::Update { expected, .. } => *expected,
            Self::Delete(task) => task.version(),
        }
    }
}

/// An open unit of work. Dropping it without [`Transaction::commit`] rolls every write back.
#[async_trait]
pub trait Transaction: Send + Sync {
    /// The tasks, as seen and changed inside this unit of work.
    fn tasks(&self) -> &dyn TaskRepository;
    /// The users, as seen and changed inside this unit of work.
    fn users(&self) -> &dyn UserRepository;
    /// The event outbox, written in this unit of work.
    fn outbox(&self) -> &dyn EventOutbox;

    /// Makes every write of the unit visible at once.
    ///
    /// # Errors
    /// [`RepoError::Conflict`] when a concurrent change makes the unit impossible; [`RepoError::Unavailable`].
    async fn commit(self: Box<Self>) -> Result<(), RepoError>;
}

/// Task writes inside a unit of work.
#[async_trait]
pub trait TaskRepository: Send + Sync {
    /// Stores a new task.
    ///
    /// # Errors
    /// [`RepoError::MissingReference`] when its owner does not exist.
    async fn insert(&self, task: &Task) -> Result<(), RepoError>;

    /// The task with this id within `scope`, locked for change until the unit ends.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] or [`RepoError::Unexpected`].
    async fn find_for_update(&self, id: TaskId, scope: TaskScope) -> Result<Option<Task>, RepoError>;

    /// Stores a changed task, provided the stored version is still `expected`.
    ///
    /// # Errors
    /// [`RepoError::Conflict`] when the stored version is not `expected` (or the task is gone).
    async fn update(&self, task: &Task, expected: Version) -> Result<(), RepoError>;

    /// Deletes the task with this id within `scope`; returns it as it was, or `None` when there was none.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] or [`RepoError::Unexpected`].
    async fn delete(&self, id: TaskId, scope: TaskScope) -> Result<Option<Task>, RepoError>;
}

/// User writes inside a unit of work.
#[async_trait]
pub trait UserRepository: Send + Sync {
    /// Stores a new user.
    ///
    /// # Errors
    /// [`RepoError::Duplicate`] when the email is taken (emails are unique case-insensitively).
    async fn insert(&self, user: &User) -> Result<(), RepoError>;

    /// The user with this id, locked for change until the unit ends.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] or [`RepoError::Unexpected`].
    async fn find_for_update(&self, id: UserId) -> Result<Option<User>, RepoError>;

    /// Stores a changed user.
    ///
    /// # Errors
    /// [`RepoError::Duplicate`] when the new email is taken.
    async fn update(&self, user: &User) -> Result<(), RepoError>;

    /// Deletes a user with all their tasks and refresh tokens (so every session of theirs ends), and records a
    /// [`UserTombstone`] `(id, at)` in the same unit of work, readable through [`UserTombstones`] once committed.
    /// Returns whether the user existed (no tombstone is written when not).
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] or [`RepoError::Unexpected`].
    async fn delete(&self, id: UserId, at: DateTime<Utc>) -> Result<bool, RepoError>;
}

/// The transactional outbox: events written in the same unit of work as the change they describe.
#[async_trait]
pub trait EventOutbox: Send + Sync {
    /// Records events.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] or [`RepoError::Unexpected`].
    async fn append(&self, events: &[DomainEvent]) -> Result<(), RepoError>;
}

/// The task read side (CQRS): whole queries answered in one or two statements.
#[async_trait]
pub trait TaskReadModel: Send + Sync {
    /// One task with its owner, if it exists within `scope`.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] or [`RepoError::Unexpected`].
    async fn get(&self, id: TaskId, scope: TaskScope) -> Result<Option<TaskView>, RepoError>;

    /// One page of a listing: filtered, sorted and paged by the adapter, never in memory by the caller.
    /// `total` is set for offset paging only; `next` for keyset paging only, `None` on the last page.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] or [`RepoError::Unexpected`].
    async fn list(&self, query: &TaskQuery) -> Result<TaskPage, RepoError>;

    /// Counts over the tasks within `scope` at `now`.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] or [`RepoError::Unexpected`].
    async fn stats(&self, scope: TaskScope, now: DateTime<Utc>) -> Result<TaskStats, RepoError>;
}

/// The user read side.
#[async_trait]
pub trait UserReadModel: Send + Sync {
    /// The user with this id.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] or [`RepoError::Unexpected`].
    async fn get(&self, id: UserId) -> Result<Option<User>, RepoError>;

    /// The user with this email.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] or [`RepoError::Unexpected`].
    async fn find_by_email(&self, email: &EmailAddress) -> Result<Option<User>, RepoError>;

    /// One page of users, oldest first (ties on id), and the total count.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] or [`RepoError::Unexpected`].
    async fn list(&self, page: PageRequest) -> Result<(Vec<User>, u64), RepoError>;
}

/// Reads the outbox for delivery (the write side is [`EventOutbox`], inside units of work).
#[async_trait]
pub trait OutboxReader: Send + Sync {
    /// Up to `limit` undispatched events, oldest first.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] or [`RepoError::Unexpected`].
    async fn pending(&self, limit: usize) -> Result<Vec<DomainEvent>, RepoError>;

    /// Marks events as dispatched so [`Self::pending`] no longer returns them.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] or [`RepoError::Unexpected`].
    async fn mark_dispatched(&self, ids: &[EventId]) -> Result<(), RepoError>;
}

/// The permanent event log, read by task (the task history). Relaying an event marks it; nothing deletes it.
#[async_trait]
pub trait EventLog: Send + Sync {
    /// Up to `limit` committed events of `task`, oldest first (in commit order), starting right after the event
    /// `after` (from the first when `None`). The events of a deleted task stay readable; each carries its task
    /// snapshot, so `event.task.owner()` says whose it is. An `after` that is not in the log gives an empty page.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] or [`RepoError::Unexpected`].
    async fn history(&self, task: TaskId, after: Option<EventId>, limit: usize) -> Result<Vec<DomainEvent>, RepoError>;
}

/// Where an event stands in the feed of published events: the order in which the relay published them, which for
/// the events of one task is their commit order. Positions only grow; [`FeedPosition::START`] is before the first.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FeedPosition(u64);

impl FeedPosition {
    /// Before every event.
    pub const START: Self = Self(0);

    /// The position numbered `n`.
    #[must_use]
    pub const fn new(n: u64) -> Self {
        Self(n)
    }

    /// Its number.
    #[must_use]
    pub const fn get(self) -> u64 {
        self.0
    }
}

/// The feed of every task's events in publication order, read by live event streams. An event joins the feed when
/// the relay publishes it ([`DeliveryQueue::relay`]), which numbers it after every event published before: a reader
/// that has seen position `p` has seen every event up to `p`, and no event ever appears behind it later.
#[async_trait]
pub trait EventFeed: Send + Sync {
    /// The position of the last published event ([`FeedPosition::START`] when none is).
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] or [`RepoError::Unexpected`].
    async fn head(&self) -> Result<FeedPosition, RepoError>;

    /// Where the event `id` was published; `None` when it is unknown or not published yet.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] or [`RepoError::Unexpected`].
    async fn position_of(&self, id: EventId) -> Result<Option<FeedPosition>, RepoError>;

    /// Up to `limit` published events after `after` and up to `until` (inclusive; no bound when `None`), of the
    /// tasks of `owner` (every task when `None`), in feed order, each with its position.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] or [`RepoError::Unexpected`].
    async fn published(
        &self,
        after: FeedPosition,
        until: Option<FeedPosition>,
        owner: Option<UserId>,
        limit: usize,
    ) -> Result<Vec<(FeedPosition, DomainEvent)>, RepoError>;
}
