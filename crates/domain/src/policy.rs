//! The authorization policy: who may see and change what. Owners act on their own data; admins on everything.

use crate::ids::UserId;
use crate::user::{Role, User};

/// The authenticated caller of a use case: who calls, with what role. Every use case takes one, and the policy
/// below decides from it alone.
///
/// It comes from a verified access token (`AuthService::authenticate` in `taskflow-application`), from the
/// session a registration or login returns (`Session::actor`), or, in process, from a user: [`Actor::of`] (or
/// `Actor::from(&user)`) acts as that user with their current role. An embedder that trusts its caller may also
/// build one from its fields, say an admin actor for a user it knows to be an admin.
///
/// ```
/// use taskflow_domain::policy::{Actor, TaskScope};
/// use taskflow_domain::user::Role;
/// use taskflow_domain::UserId;
///
/// let me = Actor { user_id: UserId::from_uuid(uuid::Uuid::from_u128(7)), role: Role::User };
/// assert_eq!(me.task_scope(), TaskScope::Owner(me.user_id));
/// assert!(Actor { role: Role::Admin, ..me }.is_admin());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor {
    /// Who is calling.
    pub user_id: UserId,
    /// With what role (as carried by the access token).
    pub role: Role,
}

/// Which tasks a query or command may touch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskScope {
    /// Every task (admins).
    All,
    /// Only this user's tasks.
    Owner(UserId),
}

impl TaskScope {
    /// Whether a task owned by `owner` is inside the scope.
    #[must_use]
    pub fn includes(self, owner: UserId) -> bool {
        match self {
            Self::All => true,
            Self::Owner(id) => id == owner,
        }
    }
}

/// A decision the policy refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    /// The target exists but the caller may not know it does: report it as absent (404).
    #[error("not visible to the caller")]
    Hidden,
    /// The caller may see the target but lacks the role for this action (403).
    #[error("the caller's role does not allow this")]
    Forbidden,
}

impl From<&User> for Actor {
    fn from(user: &User) -> Self {
        Self::of(user)
    }
}

impl Actor {
    /// Acting as `user`, with the role they have now.
    #[must_use]
    pub fn of(user: &User) -> Self {
        Self { user_id: user.id(), role: user.role() }
    }

    /// Whether the caller is an admin.
    #[must_use]
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// The tasks the caller sees by default: their own, or all for an admin.
    #[must_use]
    pub fn task_scope(&self) -> TaskScope {
        if self.is_admin() { TaskScope::All } else { TaskScope::Owner(self.user_id) }
    }

    /// The scope for a listing that names an owner (`?userId=`): an admin may name anyone, a user only themself.
    ///
    /// # Errors
    /// [`Denied::Forbidden`] when a non-admin names another user.
    pub fn scope_for_owner(&self, owner: Option<UserId>) -> Result<TaskScope, Denied> {
        match owner {
            None => Ok(self.task_scope()),
            Some(id) if id == self.user_id || self.is_admin() => Ok(TaskScope::Owner(id)),
            Some(_) => Err(Denied::Forbidden),
        }
    }

    /// Who a new task belongs to: the caller, or another user when the caller is an admin.
    ///
    /// # Errors
    /// [`Denied::Forbidden`] when a non-admin names another user.
    pub fn owner_for_new_task(&self, requested: Option<UserId>) -> Result<UserId, Denied> {
        match requested {
            None => Ok(self.user_id),
            Some(id) if id == self.user_id || self.is_admin() => Ok(id),
            Some(_) => Err(Denied::Forbidden),
        }
    }

    /// Whether the caller may read or change the user `target` (themself, or anyone for an admin).
    ///
    /// # Errors
    /// [`Denied::Hidden`] for another user's account (it is reported as absent).
    pub fn may_access_user(&self, target: UserId) -> Result<(), Denied> {
        if self.is_admin() || target == self.user_id { Ok(()) } else { Err(Denied::Hidden) }
    }

    /// Whether the caller may list users, delete users and change roles.
    ///
    /// # Errors
    /// [`Denied::Forbidden`] for non-admins.
    pub fn may_administer(&self) -> Result<(), Denied> {
        if self.is_admin() { Ok(()) } else { Err(Denied::Forbidden) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn actor(role: Role) -> Actor {
        Actor { user_id: UserId::from_uuid(Uuid::now_v7()), role }
    }

    #[test]
    fn users_see_only_their_own_tasks() {
        let user = actor(Role::User);
        let other = UserId::from_uuid(Uuid::now_v7());
        assert_eq!(user.task_scope(), TaskScope::Owner(user.user_id));
        assert!(user.task_scope().includes(user.user_id));
        assert!(!user.task_scope().includes(other));
    }

    #[test]
    fn admins_see_every_task() {
        let admin = actor(Role::Admin);
        assert_eq!(admin.task_scope(), TaskScope::All);
        assert!(admin.task_scope().includes(UserId::from_uuid(Uuid::now_v7())));
    }

    #[test]
    fn naming_another_owner_needs_admin() {
        let user = actor(Role::User);
        let admin = actor(Role::Admin);
        let other = UserId::from_uuid(Uuid::now_v7());
        assert_eq!(user.scope_for_owner(Some(other)), Err(Denied::Forbidden));
        assert_eq!(user.scope_for_owner(Some(user.user_id)), Ok(TaskScope::Owner(user.user_id)));
        assert_eq!(admin.scope_for_owner(Some(other)), Ok(TaskScope::Owner(other)));
        assert_eq!(user.owner_for_new_task(Some(other)), Err(Denied::Forbidden));
        assert_eq!(user.owner_for_new_task(None), Ok(user.user_id));
        assert_eq!(admin.owner_for_new_task(Some(other)), Ok(other));
    }

    #[test]
    fn another_users_account_is_hidden_not_forbidden() {
        let user = actor(Role::User);
        let other = UserId::from_uuid(Uuid::now_v7());
        assert_eq!(user.may_access_user(other), Err(Denied::Hidden));
        assert_eq!(user.may_access_user(user.user_id), Ok(()));
        assert_eq!(actor(Role::Admin).may_access_user(other), Ok(()));
        assert_eq!(user.may_administer(), Err(Denied::Forbidden));
        assert_eq!(actor(Role::Admin).may_administer(), Ok(()));
    }
}
