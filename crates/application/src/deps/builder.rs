//! [`DepsBuilder`]: `Deps` from the ports an embedder brings, with a default for every other one.

use std::sync::Arc;

use taskflow_domain::ports::{
    Clock, DeliveryQueue, EventLog, IdGenerator, PasswordHasher, RefreshTokenStore, TaskReadModel, TokenIssuer,
    UnitOfWork, UserReadModel, UserTombstones, WebhookRepository,
};

use super::Deps;
use crate::app::App;
use crate::auth::{AuthSettings, NoCredentials, RevokedUsers};
use crate::breakers::BreakerStore;
use crate::cache::ReadCache;
use crate::clock::SystemClock;
use crate::ids::UuidV7Generator;
use crate::ports::WebhookSender;
use crate::webhooks::NoDelivery;

/// A port [`DepsBuilder::build`] has no default for and was not given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("Deps::builder() was not given a {0} (set it, or use `store` for every storage port at once)")]
pub struct MissingPort(pub &'static str);

/// Builds [`Deps`]: set the ports you bring, and the others get a default.
///
/// - `uow`, `task_reads`, `user_reads`, `refresh_tokens`, `tombstones`, `events`, `webhooks`, `deliveries`: no
///   default; one call to [`Self::store`] sets them all (`tombstones` is needed only for the default
///   `revoked_users`).
/// - `hasher`, `tokens`: [`NoCredentials`] (no registration, login or token: accounts are provisioned with
///   [`crate::users::UserService::provision_user`]).
/// - `clock`: [`SystemClock`]; `ids`: [`UuidV7Generator`].
/// - `read_cache`: [`ReadCache::disabled`] (every read goes to the read model).
/// - `revoked_users`: an empty [`RevokedUsers`] over `tombstones`, for the access-token lifetime of [`Self::auth`].
/// - `webhook_sender`, `webhook_breakers`: [`NoDelivery`] (webhooks are kept, never sent).
/// - `auth`, the token lifetimes of [`App`]: [`AuthSettings::default`].
///
/// Every setter replaces what an earlier call set, so a harness starts from a complete wiring and swaps one port.
#[derive(Default)]
#[must_use]
pub struct DepsBuilder {
    clock: Option<Arc<dyn Clock>>,
    ids: Option<Arc<dyn IdGenerator>>,
    uow: Option<Arc<dyn UnitOfWork>>,
    task_reads: Option<Arc<dyn TaskReadModel>>,
    user_reads: Option<Arc<dyn UserReadModel>>,
    hasher: Option<Arc<dyn PasswordHasher>>,
    tokens: Option<Arc<dyn TokenIssuer>>,
    refresh_tokens: Option<Arc<dyn RefreshTokenStore>>,
    tombstones: Option<Arc<dyn UserTombstones>>,
    events: Option<Arc<dyn EventLog>>,
    webhooks: Option<Arc<dyn WebhookRepository>>,
    deliveries: Option<Arc<dyn DeliveryQueue>>,
    read_cache: Option<Arc<ReadCache>>,
    revoked_users: Option<Arc<RevokedUsers>>,
    webhook_sender: Option<Arc<dyn WebhookSender>>,
    webhook_breakers: Option<Arc<dyn BreakerStore>>,
    auth: AuthSettings,
}

/// One setter per port.
macro_rules! setters {
    ($($(#[$doc:meta])* $name:ident: $port:ty;)*) => {
        $(
            $(#[$doc])*
            pub fn $name(mut self, port: $port) -> Self {
                self.$name = Some(port);
                self
            }
        )*
    };
}

impl DepsBuilder {
    /// Every storage port from one store (as the in-memory and PostgreSQL stores implement them all): units of
    /// work, both read models, refresh tokens, tombstones, the event log, webhooks and their deliveries.
    pub fn store<S>(self, store: Arc<S>) -> Self
    where
        S: UnitOfWork
            + TaskReadModel
            + UserReadModel
            + RefreshTokenStore
            + UserTombstones
            + EventLog
            + WebhookRepository
            + DeliveryQueue
            + 'static,
    {
        self.uow(store.clone())
            .task_reads(store.clone())
            .user_reads(store.clone())
            .refresh_tokens(store.clone())
            .tombstones(store.clone())
            .events(store.clone())
            .webhooks(store.clone())
            .deliveries(store)
    }

    setters! {
        /// "Now" (default: the system clock).
        clock: Arc<dyn Clock>;
        /// New ids (default: UUIDv7).
        ids: Arc<dyn IdGenerator>;
        /// Units of work for commands.
        uow: Arc<dyn UnitOfWork>;
        /// The task read side.
        task_reads: Arc<dyn TaskReadModel>;
        /// The user read side.
        user_reads: Arc<dyn UserReadModel>;
        /// Password hashing (registering and logging in; default: [`NoCredentials`]).
        hasher: Arc<dyn PasswordHasher>;
        /// Access tokens, refresh-token and webhook secrets (default: [`NoCredentials`]).
        tokens: Arc<dyn TokenIssuer>;
        /// Refresh-token families.
        refresh_tokens: Arc<dyn RefreshTokenStore>;
        /// The tombstones of deleted users (the default `revoked_users` reads them).
        tombstones: Arc<dyn UserTombstones>;
        /// The event log (task history).
        events: Arc<dyn EventLog>;
        /// Webhook subscriptions.
        webhooks: Arc<dyn WebhookRepository>;
        /// Webhook deliveries.
        deliveries: Arc<dyn DeliveryQueue>;
        /// The shared read cache (default: disabled).
        read_cache: Arc<ReadCache>;
        /// The recently deleted users (default: an empty set over `tombstones`).
        revoked_users: Arc<RevokedUsers>;
        /// Vets webhook URLs and sends deliveries (default: [`NoDelivery`]).
        webhook_sender: Arc<dyn WebhookSender>;
        /// The receivers' circuit breakers (default: [`NoDelivery`], never tripped).
        webhook_breakers: Arc<dyn BreakerStore>;
    }

    /// The token lifetimes: of the [`App`] that [`Self::build_app`] makes, and the horizon of the default
    /// `revoked_users`.
    pub fn auth(mut self, settings: AuthSettings) -> Self {
        self.auth = settings;
        self
    }

    /// The ports, with the defaults filled in.
    ///
    /// # Errors
    /// [`MissingPort`] naming the first port that has no default and was not given.
    pub fn build(self) -> Result<Deps, MissingPort> {
        fn given<T: ?Sized>(port: Option<Arc<T>>, name: &'static str) -> Result<Arc<T>, MissingPort> {
            port.ok_or(MissingPort(name))
        }
        let no_delivery = Arc::new(NoDelivery);
        let revoked_users = match self.revoked_users {
            Some(revoked) => revoked,
            None => Arc::new(RevokedUsers::new(given(self.tombstones, "tombstones")?, self.auth.access_ttl)),
        };
        Ok(Deps {
            uow: given(self.uow, "uow")?,
            task_reads: given(self.task_reads, "task_reads")?,
            user_reads: given(self.user_reads, "user_reads")?,
            refresh_tokens: given(self.refresh_tokens, "refresh_tokens")?,
            events: given(self.events, "events")?,
            webhooks: given(self.webhooks, "webhooks")?,
            deliveries: given(self.deliveries, "deliveries")?,
            hasher: self.hasher.unwrap_or_else(|| Arc::new(NoCredentials)),
            tokens: self.tokens.unwrap_or_else(|| Arc::new(NoCredentials)),
            clock: self.clock.unwrap_or_else(|| Arc::new(SystemClock)),
            ids: self.ids.unwrap_or_else(|| Arc::new(UuidV7Generator)),
            read_cache: self.read_cache.unwrap_or_else(|| Arc::new(ReadCache::disabled())),
            revoked_users,
            webhook_sender: self.webhook_sender.unwrap_or_else(|| no_delivery.clone()),
            webhook_breakers: self.webhook_breakers.unwrap_or(no_delivery),
        })
    }

    /// Every use case over the built ports, with the token lifetimes of [`Self::auth`].
    ///
    /// # Errors
    /// As [`Self::build`].
    pub fn build_app(self) -> Result<App, MissingPort> {
        let settings = self.auth;
        Ok(App::with_settings(self.build()?, settings))
    }
}
