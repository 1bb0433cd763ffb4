//! [`App`]: every use case an embedder calls, over one set of ports.

use taskflow_domain::policy::Actor;

use crate::Deps;
use crate::auth::{AuthService, AuthSettings};
use crate::tasks::TaskService;
use crate::users::UserService;
use crate::webhooks::WebhookService;

/// The use cases of TaskFlow over one [`Deps`]: what the HTTP adapter serves, callable in process. Cheap to clone
/// (every clone shares the same ports).
///
/// Live event streams, readiness, rate limits and idempotency keys are edge concerns of a server and are not here;
/// build their services from the same `Deps` when needed.
#[derive(Clone)]
pub struct App {
    /// Register, log in, refresh, log out, `me`, and authenticating access tokens.
    pub auth: AuthService,
    /// List, get, update and delete users.
    pub users: UserService,
    /// Create, get, update, delete, list, count, batch and history of tasks.
    pub tasks: TaskService,
    /// Webhook subscriptions and their deliveries.
    pub webhooks: WebhookService,
    /// The ports every service above shares.
    pub deps: Deps,
}

impl App {
    /// Every use case over `deps`, with the default token lifetimes ([`AuthSettings::default`]).
    #[must_use]
    pub fn new(deps: Deps) -> Self {
        Self::with_settings(deps, AuthSettings::default())
    }

    /// Every use case over `deps`, with these token lifetimes.
    #[must_use]
    pub fn with_settings(deps: Deps, auth: AuthSettings) -> Self {
        Self {
            auth: AuthService::new(deps.clone(), auth),
            users: UserService::new(deps.clone()),
            tasks: TaskService::new(deps.clone()),
            webhooks: WebhookService::new(deps.clone()),
            deps,
        }
    }

    /// The actor of a verified access token: [`AuthService::authenticate`].
    ///
    /// # Errors
    /// [`crate::AppError::Unauthenticated`] for a token that is malformed, expired or of a deleted user.
    pub fn actor(&self, access_token: &str) -> Result<Actor, crate::AppError> {
        self.auth.authenticate(access_token)
    }
}
