//! The ports a use case may call, bundled once so services are built in one line, and [`DepsBuilder`], which
//! fills every port it is not given with a default.

mod builder;

pub use builder::{DepsBuilder, MissingPort};

use std::sync::Arc;

use crate::auth::RevokedUsers;
use crate::cache::ReadCache;
use crate::ports::WebhookSender;

use taskflow_domain::ports::{
    Clock, DeliveryQueue, EventLog, IdGenerator, PasswordHasher, RefreshTokenStore, TaskReadModel, TokenIssuer,
    UnitOfWork, UserReadModel, WebhookRepository,
};

/// Every port the use cases need. Cheap to clone.
///
/// Build it with [`Deps::builder`], which needs only the storage ports (and, to register and log in, a password
/// hasher and a token issuer) and defaults the rest; the in-memory wiring of `taskflow-embedded` fills every port.
/// The members are public so that a test can also swap one port of a built `Deps` with struct update syntax.
#[derive(Clone)]
pub struct Deps {
    /// "Now".
    pub clock: Arc<dyn Clock>,
    /// New ids.
    pub ids: Arc<dyn IdGenerator>,
    /// Units of work for commands.
    pub uow: Arc<dyn UnitOfWork>,
    /// The task read side.
    pub task_reads: Arc<dyn TaskReadModel>,
    /// The user read side.
    pub user_reads: Arc<dyn UserReadModel>,
    /// Password hashing.
    pub hasher: Arc<dyn PasswordHasher>,
    /// Access tokens and refresh-token secrets.
    pub tokens: Arc<dyn TokenIssuer>,
    /// Refresh-token families.
    pub refresh_tokens: Arc<dyn RefreshTokenStore>,
    /// The shared read cache, invalidated by every command after it commits.
    pub read_cache: Arc<ReadCache>,
    /// The recently deleted users, whose access tokens are refused (shared by every service of the instance).
    pub revoked_users: Arc<RevokedUsers>,
    /// The permanent event log, read by task (the task history).
    pub events: Arc<dyn EventLog>,
    /// Webhook subscriptions.
    pub webhooks: Arc<dyn WebhookRepository>,
    /// Webhook deliveries (listing and retrying them by hand).
    pub deliveries: Arc<dyn DeliveryQueue>,
    /// Vets webhook URLs (and sends deliveries, for the workers).
    pub webhook_sender: Arc<dyn WebhookSender>,
    /// The receivers' circuit breakers (re-activating a webhook closes its breaker).
    pub webhook_breakers: Arc<dyn crate::breakers::BreakerStore>,
}

impl Deps {
    /// A builder with no port set yet: see [`DepsBuilder`] for which ports have defaults.
    pub fn builder() -> DepsBuilder {
        DepsBuilder::default()
    }
}

#[cfg(test)]
mod tests;
