//! Register: create a `user`-role account and log it in.

use taskflow_domain::user::{EmailAddress, NewUser, Password, Role, User, UserName};

use super::{AuthService, Session};
use crate::error::{AppError, FieldError};

/// A validated registration.
#[derive(Debug, Clone)]
pub struct Registration {
    /// The login email.
    pub email: EmailAddress,
    /// The password, meeting the policy.
    pub password: Password,
    /// The display name.
    pub name: UserName,
}

impl Registration {
    /// Validates the three members at once.
    ///
    /// # Errors
    /// [`AppError::Validation`] listing every invalid member (`email`, `password`, `name`).
    pub fn parse(email: &str, password: &str, name: &str) -> Result<Self, AppError> {
        let (email, password, name) = (EmailAddress::parse(email), Password::parse(password), UserName::parse(name));
        match (email, password, name) {
            (Ok(email), Ok(password), Ok(name)) => Ok(Self { email, password, name }),
            (email, password, name) => {
                let errors = [
                    email.err().map(|e| FieldError::new("email", e)),
                    password.err().map(|e| FieldError::new("password", e)),
                    name.err().map(|e| FieldError::new("name", e)),
                ];
                Err(AppError::Validation(errors.into_iter().flatten().collect()))
            }
        }
    }
}

impl AuthService {
    /// Registers a new user (always with the `user` role) and opens a session.
    ///
    /// # Errors
    /// [`AppError::Conflict`] when the email is taken; [`AppError::Unavailable`] when storage is down.
    #[tracing::instrument(name = "auth.register", skip_all)]
    pub async fn register(&self, registration: Registration) -> Result<Session, AppError> {
        let password_hash = self.deps.hasher.hash(&registration.password).await?;
        let now = self.deps.clock.now();
        let user = User::new(
            NewUser { email: registration.email, name: registration.name, role: Role::User, password_hash },
            self.deps.ids.user_id(),
            now,
        );
        crate::users::store_new_user(&self.deps, &user).await?;
        tracing::info!(user_id = %user.id(), "user registered");
        self.open_session(user, self.deps.ids.family_id()).await
    }
}
