//! Users: the `User` entity. Its value objects live in the `values` module and are re-exported here.

mod values;

use chrono::{DateTime, Utc};

pub use values::*;

use crate::ids::UserId;

/// A user's stored state: every member, already validated. The one shape adapters convert to and from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    /// The id.
    pub id: UserId,
    /// The login email.
    pub email: EmailAddress,
    /// The display name.
    pub name: UserName,
    /// The role.
    pub role: Role,
    /// The password hash.
    pub password_hash: PasswordHash,
    /// When the user registered.
    pub created_at: DateTime<Utc>,
    /// When the user last changed.
    pub updated_at: DateTime<Utc>,
}

/// A registered user: their stored state, changed only through [`User::apply`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User(UserRecord);

/// What it takes to create a user.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// The login email.
    pub email: EmailAddress,
    /// The display name.
    pub name: UserName,
    /// The role; registration always gives [`Role::User`].
    pub role: Role,
    /// The hash of the chosen password.
    pub password_hash: PasswordHash,
}

/// A change to a user; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct UserPatch {
    /// A new email.
    pub email: Option<EmailAddress>,
    /// A new name.
    pub name: Option<UserName>,
    /// A new role (admins only; the policy checks).
    pub role: Option<Role>,
    /// The hash of a new password.
    pub password_hash: Option<PasswordHash>,
}

impl UserPatch {
    /// Whether the patch changes nothing.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.email.is_none() && self.name.is_none() && self.role.is_none() && self.password_hash.is_none()
    }
}

impl User {
    /// Creates a user at `now`.
    #[must_use]
    pub fn new(new: NewUser, id: UserId, now: DateTime<Utc>) -> Self {
        Self(UserRecord {
            id,
            email: new.email,
            name: new.name,
            role: new.role,
            password_hash: new.password_hash,
            created_at: now,
            updated_at: now,
        })
    }

    /// Rebuilds a stored user without re-running creation rules (for adapters).
    #[must_use]
    pub const fn from_record(record: UserRecord) -> Self {
        Self(record)
    }

    /// The user's stored state, for adapters to write.
    #[must_use]
    pub const fn record(&self) -> &UserRecord {
        &self.0
    }

    /// Applies a patch at `now`.
    pub fn apply(&mut self, patch: UserPatch, now: DateTime<Utc>) {
        if let Some(email) = patch.email {
            self.0.email = email;
        }
        if let Some(name) = patch.name {
            self.0.name = name;
        }
        if let Some(role) = patch.role {
            self.0.role = role;
        }
        if let Some(hash) = patch.password_hash {
            self.0.password_hash = hash;
        }
        self.0.updated_at = now;
    }

    /// The id.
    #[must_use]
    pub const fn id(&self) -> UserId {
        self.0.id
    }
    /// The login email.
    #[must_use]
    pub const fn email(&self) -> &EmailAddress {
        &self.0.email
    }
    /// The display name.
    #[must_use]
    pub const fn name(&self) -> &UserName {
        &self.0.name
    }
    /// The role.
    #[must_use]
    pub const fn role(&self) -> Role {
        self.0.role
    }
    /// The password hash.
    #[must_use]
    pub const fn password_hash(&self) -> &PasswordHash {
        &self.0.password_hash
    }
    /// When the user registered.
    #[must_use]
    pub const fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When the user last changed.
    #[must_use]
    pub const fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}
