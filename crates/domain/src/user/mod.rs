//! Users: the `User` entity. Its value objects live in [`values`] and are re-exported here.

mod values;

use chrono::{DateTime, Utc};

pub use values::*;

use crate::ids::UserId;

/// A registered user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    id: UserId,
    email: EmailAddress,
    name: UserName,
    role: Role,
    password_hash: PasswordHash,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

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
        Self {
            id,
            email: new.email,
            name: new.name,
            role: new.role,
            password_hash: new.password_hash,
            created_at: now,
            updated_at: now,
        }
    }

    /// Rebuilds a stored user without re-running creation rules (for adapters).
    #[must_use]
    #[allow(clippy::too_many_arguments)]
    pub fn from_parts(
        id: UserId,
        email: EmailAddress,
        name: UserName,
        role: Role,
        password_hash: PasswordHash,
        created_at: DateTime<Utc>,
        updated_at: DateTime<Utc>,
    ) -> Self {
        Self { id, email, name, role, password_hash, created_at, updated_at }
    }

    /// Applies a patch at `now`.
    pub fn apply(&mut self, patch: UserPatch, now: DateTime<Utc>) {
        if let Some(email) = patch.email {
            self.email = email;
        }
        if let Some(name) = patch.name {
            self.name = name;
        }
        if let Some(role) = patch.role {
            self.role = role;
        }
        if let Some(hash) = patch.password_hash {
            self.password_hash = hash;
        }
        self.updated_at = now;
    }

    /// The id.
    #[must_use]
    pub const fn id(&self) -> UserId {
        self.id
    }
    /// The login email.
    #[must_use]
    pub const fn email(&self) -> &EmailAddress {
        &self.email
    }
    /// The display name.
    #[must_use]
    pub const fn name(&self) -> &UserName {
        &self.name
    }
    /// The role.
    #[must_use]
    pub const fn role(&self) -> Role {
        self.role
    }
    /// The password hash.
    #[must_use]
    pub const fn password_hash(&self) -> &PasswordHash {
        &self.password_hash
    }
    /// When the user registered.
    #[must_use]
    pub const fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }
    /// When the user last changed.
    #[must_use]
    pub const fn updated_at(&self) -> DateTime<Utc> {
        self.updated_at
    }
}
