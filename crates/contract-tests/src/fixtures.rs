//! Fixture builders: users and tasks with fixed, whole-second times, and helpers that store them.

use chrono::{DateTime, Duration, TimeZone, Utc};
use taskflow_domain::auth::{RefreshTokenHash, RefreshTokenRecord};
use taskflow_domain::ids::{FamilyId, TaskId, UserId};
use taskflow_domain::task::{NewTask, Task, TaskDescription, TaskPriority, TaskRecord, TaskStatus, TaskTitle};
use taskflow_domain::user::{EmailAddress, PasswordHash, Role, User, UserName, UserRecord};
use uuid::Uuid;

use crate::StoragePorts;
use taskflow_application::ports::{IdempotencyKey, StoredResponse};

/// The fixed instant every fixture is built around: 2026-11-25T09:00:00Z.
#[must_use]
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 9, 0, 0).single().unwrap_or_default()
}

/// `t0()` plus `minutes` (negative for earlier).
#[must_use]
pub fn at(minutes: i64) -> DateTime<Utc> {
    t0() + Duration::minutes(minutes)
}

/// A user with a unique email made from `tag`, created at `t0()`.
#[must_use]
pub fn user(tag: &str) -> User {
    user_at(tag, t0())
}

/// A user with a unique email made from `tag`, created at `created_at`.
#[must_use]
pub fn user_at(tag: &str, created_at: DateTime<Utc>) -> User {
    let id = UserId::from_uuid(Uuid::now_v7());
    let email = email(&format!("{tag}-{}", id.as_uuid().simple()));
    User::from_record(UserRecord {
        id,
        email,
        name: name(tag),
        role: Role::User,
        password_hash: PasswordHash::from_phc("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g".to_owned()),
        created_at,
        updated_at: created_at,
    })
}

/// A valid email address.
///
/// # Panics
/// When `local` does not make a valid address (a bug in the test).
#[must_use]
pub fn email(local: &str) -> EmailAddress {
    EmailAddress::parse(&format!("{local}@example.com")).expect("fixture email is valid")
}

/// A valid display name.
///
/// # Panics
/// When `raw` is not a valid name (a bug in the test).
#[must_use]
pub fn name(raw: &str) -> UserName {
    UserName::parse(raw).expect("fixture name is valid")
}

/// A task title.
///
/// # Panics
/// When `raw` is not a valid title (a bug in the test).
#[must_use]
pub fn title(raw: &str) -> TaskTitle {
    TaskTitle::parse(raw).expect("fixture title is valid")
}

/// A pending, medium-priority task of `owner` titled "Task", created (and last updated) at `at`.
#[must_use]
pub fn task(owner: UserId, at: DateTime<Utc>) -> Task {
    TaskSpec::new(owner, at).build()
}

/// A task under construction; every field has a plain default.
#[derive(Debug, Clone)]
pub struct TaskSpec {
    id: TaskId,
    owner: UserId,
    title: String,
    description: Option<String>,
    status: TaskStatus,
    priority: TaskPriority,
    due: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TaskSpec {
    /// A pending, medium-priority task of `owner` titled "Task", created and updated at `at`.
    #[must_use]
    pub fn new(owner: UserId, at: DateTime<Utc>) -> Self {
        Self {
            id: TaskId::from_uuid(Uuid::now_v7()),
            owner,
            title: "Task".to_owned(),
            description: None,
            status: TaskStatus::Pending,
            priority: TaskPriority::Medium,
            due: None,
            created_at: at,
            updated_at: at,
        }
    }

    /// Sets the id.
    #[must_use]
    pub fn id(mut self, id: TaskId) -> Self {
        self.id = id;
        self
    }

    /// Sets the title.
    #[must_use]
    pub fn title(mut self, title: &str) -> Self {
        title.clone_into(&mut self.title);
        self
    }

    /// Sets the description.
    #[must_use]
    pub fn description(mut self, description: &str) -> Self {
        self.description = Some(description.to_owned());
        self
    }

    /// Sets the status (a completed task is completed at its update time).
    #[must_use]
    pub fn status(mut self, status: TaskStatus) -> Self {
        self.status = status;
        self
    }

    /// Sets the priority.
    #[must_use]
    pub fn priority(mut self, priority: TaskPriority) -> Self {
        self.priority = priority;
        self
    }

    /// Sets the due date.
    #[must_use]
    pub fn due(mut self, due: Option<DateTime<Utc>>) -> Self {
        self.due = due;
        self
    }

    /// Sets the last update time.
    #[must_use]
    pub fn updated(mut self, at: DateTime<Utc>) -> Self {
        self.updated_at = at;
        self
    }

    /// Builds the task, at version 1.
    ///
    /// # Panics
    /// When the title or description is invalid (a bug in the test).
    #[must_use]
    pub fn build(self) -> Task {
        let new = NewTask {
            description: self.description.map(|d| TaskDescription::parse(&d).expect("fixture description is valid")),
            status: self.status,
            priority: self.priority,
            due_date: self.due,
            ..NewTask::new(title(&self.title))
        };
        // Created by the domain's own rule, then moved to the chosen update time (when a completed task was
        // completed, too).
        let created = Task::new(new, self.owner, self.id, self.created_at).into_record();
        let completed_at = created.completed_at.map(|_| self.updated_at);
        Task::from_record(TaskRecord { completed_at, updated_at: self.updated_at, ..created })
    }
}

/// Stores users in one committed unit of work.
///
/// # Panics
/// When storage refuses them.
pub async fn insert_users(ports: &StoragePorts, users: &[User]) {
    let tx = ports.uow.begin().await.expect("begin");
    for user in users {
        tx.users().insert(user).await.expect("insert user");
    }
    tx.commit().await.expect("commit users");
}

/// Stores tasks in one committed unit of work.
///
/// # Panics
/// When storage refuses them.
pub async fn insert_tasks(ports: &StoragePorts, tasks: &[Task]) {
    let tx = ports.uow.begin().await.expect("begin");
    for task in tasks {
        tx.tasks().insert(task).await.expect("insert task");
    }
    tx.commit().await.expect("commit tasks");
}

/// A stored user with a unique email made from `tag`.
pub async fn stored_user(ports: &StoragePorts, tag: &str) -> User {
    let user = user(tag);
    insert_users(ports, std::slice::from_ref(&user)).await;
    user
}

/// A refresh-token record of `user` in `family`, issued at `t0()` and valid for a day.
#[must_use]
pub fn refresh_token(user: UserId, family: FamilyId) -> RefreshTokenRecord {
    RefreshTokenRecord {
        hash: RefreshTokenHash::from_hex(Uuid::new_v4().simple().to_string()),
        family,
        user_id: user,
        issued_at: t0(),
        expires_at: t0() + Duration::days(1),
    }
}

/// A new family id.
#[must_use]
pub fn family() -> FamilyId {
    FamilyId::from_uuid(Uuid::now_v7())
}

/// A new user id (for stores that do not check that users exist).
#[must_use]
pub fn user_id() -> UserId {
    UserId::from_uuid(Uuid::now_v7())
}

/// A unique idempotency key.
///
/// # Panics
/// Never: the key is printable ASCII.
#[must_use]
pub fn idempotency_key() -> IdempotencyKey {
    IdempotencyKey::parse(&format!("key-{}", Uuid::new_v4())).expect("fixture key is valid")
}

/// A stored response to replay.
#[must_use]
pub fn response(status: u16, body: &str) -> StoredResponse {
    StoredResponse {
        status,
        headers: vec![("content-type".to_owned(), "application/json".to_owned())],
        body: body.as_bytes().to_vec(),
    }
}

/// A key unique to one test, for stores shared by many.
#[must_use]
pub fn unique_key(prefix: &str) -> String {
    format!("{prefix}:{}", Uuid::new_v4().simple())
}
