//! Test wiring: every use case over the in-memory adapters, a clock the test drives, fast hashing.

use std::sync::Arc;

use crate::clock::ManualClock;
use crate::ids::SequentialIdGenerator;
use async_trait::async_trait;
use chrono::{TimeZone, Utc};
use taskflow_adapters_crypto::{Argon2PasswordHasher, PasetoTokenIssuer};
use taskflow_adapters_memory::InMemoryStore;
use taskflow_domain::RepoError;
use taskflow_domain::policy::Actor;
use taskflow_domain::ports::{Transaction, UnitOfWork};
use taskflow_domain::user::{EmailAddress, Password, Role, UserName};

use crate::Deps;
use crate::auth::{AuthService, AuthSettings, Registration, Session};
use crate::tasks::TaskService;
use crate::users::UserService;

/// The services under test and the adapters behind them.
pub struct World {
    pub store: InMemoryStore,
    pub clock: Arc<ManualClock>,
    pub deps: Deps,
    pub auth: AuthService,
    pub users: UserService,
    pub tasks: TaskService,
}

pub fn world() -> World {
    let store = InMemoryStore::new();
    let clock = Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 25, 9, 0, 0).unwrap()));
    let s = Arc::new(store.clone());
    let deps = Deps {
        clock: clock.clone(),
        ids: Arc::new(SequentialIdGenerator::starting_at(1)),
        uow: s.clone(),
        task_reads: s.clone(),
        user_reads: s.clone(),
        hasher: Arc::new(Argon2PasswordHasher::insecure_fast()),
        tokens: Arc::new(PasetoTokenIssuer::ephemeral()),
        refresh_tokens: s.clone(),
        events: s.clone(),
        read_cache: Arc::new(crate::cache::ReadCache::disabled()),
        revoked_users: Arc::new(crate::auth::RevokedUsers::new(s, chrono::Duration::minutes(15))),
        webhooks: Arc::new(MapWebhooks::default()),
        deliveries: Arc::new(ListedDeliveries::default()),
        webhook_sender: Arc::new(VettingSender::allowing()),
        webhook_breakers: Arc::new(ResetBreakers::default()),
    };
    with_deps(store, clock, deps)
}

pub fn with_deps(store: InMemoryStore, clock: Arc<ManualClock>, deps: Deps) -> World {
    let settings = AuthSettings { access_ttl: chrono::Duration::minutes(15), refresh_ttl: chrono::Duration::days(7) };
    World {
        auth: AuthService::new(deps.clone(), settings),
        users: UserService::new(deps.clone()),
        tasks: TaskService::new(deps.clone()),
        store,
        clock,
        deps,
    }
}

pub fn registration(email: &str) -> Registration {
    Registration {
        email: EmailAddress::parse(email).unwrap(),
        password: Password::parse("correct horse").unwrap(),
        name: UserName::parse("Test User").unwrap(),
    }
}

impl World {
    /// Registers a user and returns their session and actor.
    pub async fn user(&self, email: &str) -> (Session, Actor) {
        let session = self.auth.register(registration(email)).await.unwrap();
        let actor = Actor { user_id: session.user.id(), role: session.user.role() };
        (session, actor)
    }

    /// Registers a user and makes them an admin.
    pub async fn admin(&self, email: &str) -> Actor {
        let (_, me) = self.user(email).await;
        let root = Actor { role: Role::Admin, ..me };
        let update = crate::users::UserUpdate { role: Some(Role::Admin), ..Default::default() };
        self.users.update_user(root, me.user_id, update).await.unwrap();
        root
    }
}

/// A unit of work whose storage is down.
pub struct DownUnitOfWork;

#[async_trait]
impl UnitOfWork for DownUnitOfWork {
    async fn begin(&self) -> Result<Box<dyn Transaction>, RepoError> {
        Err(RepoError::unavailable(std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "connection refused")))
    }
}

/// A cache store for this crate's own tests: values in a map, expiring on the real clock. (The in-memory adapter
/// implements the application's ports from outside this crate, so this crate's unit tests cannot use it: they would
/// see the trait of another build of this crate.)
#[derive(Default)]
pub struct MapCacheStore {
    entries: std::sync::Mutex<std::collections::HashMap<String, (Vec<u8>, std::time::Instant)>>,
}

type Entries = std::collections::HashMap<String, (Vec<u8>, std::time::Instant)>;

impl MapCacheStore {
    fn entries(&self) -> std::sync::MutexGuard<'_, Entries> {
        let mut entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = std::time::Instant::now();
        entries.retain(|_, (_, expires)| *expires > now);
        entries
    }
}

fn counter(entries: &Entries, key: &str) -> u64 {
    entries.get(key).and_then(|(v, _)| std::str::from_utf8(v).ok()?.parse().ok()).unwrap_or(0)
}

#[async_trait]
impl crate::ports::CacheStore for MapCacheStore {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, RepoError> {
        Ok(self.entries().get(key).map(|(v, _)| v.clone()))
    }

    async fn set(&self, key: &str, value: &[u8], ttl: std::time::Duration) -> Result<(), RepoError> {
        self.entries().insert(key.to_owned(), (value.to_vec(), std::time::Instant::now() + ttl));
        Ok(())
    }

    async fn incr(&self, key: &str, ttl: std::time::Duration) -> Result<u64, RepoError> {
        let mut entries = self.entries();
        let next = counter(&entries, key) + 1;
        entries.insert(key.to_owned(), (next.to_string().into_bytes(), std::time::Instant::now() + ttl));
        Ok(next)
    }

    async fn get_generational(
        &self,
        generation_key: &str,
        key_prefix: &str,
        key_suffix: &str,
    ) -> Result<(u64, Option<Vec<u8>>), RepoError> {
        let entries = self.entries();
        let generation = counter(&entries, generation_key);
        Ok((generation, entries.get(&format!("{key_prefix}{generation}{key_suffix}")).map(|(v, _)| v.clone())))
    }
}

/// A webhook sender for this crate's own tests (the application owns the port: see [`MapCacheStore`]): `vet`
/// refuses every URL with `refusal` when one is set and counts its calls; `send` always succeeds.
#[derive(Debug, Default)]
pub struct VettingSender {
    refusal: Option<crate::ports::UrlRefusal>,
    pub vetted: std::sync::atomic::AtomicUsize,
}

impl VettingSender {
    /// Accepts every URL (`AllowAllUrls`).
    pub fn allowing() -> Self {
        Self::default()
    }

    /// Refuses every URL with `refusal`.
    pub fn refusing(refusal: crate::ports::UrlRefusal) -> Self {
        Self { refusal: Some(refusal), ..Self::default() }
    }
}

#[async_trait]
impl crate::ports::WebhookSender for VettingSender {
    async fn send(&self, _: crate::ports::OutgoingWebhook<'_>) -> taskflow_domain::webhook::AttemptOutcome {
        taskflow_domain::webhook::AttemptOutcome::Succeeded { status: 200, duration_ms: 0 }
    }

    async fn vet(&self, _: &taskflow_domain::webhook::WebhookUrl) -> Result<(), crate::ports::UrlRefusal> {
        self.vetted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.refusal.map_or(Ok(()), Err)
    }
}

fn locked<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Webhooks in a list, honouring scopes (no owner check: every owner exists).
#[derive(Debug, Default)]
pub struct MapWebhooks(std::sync::Mutex<Vec<taskflow_domain::webhook::Webhook>>);

#[async_trait]
impl taskflow_domain::ports::WebhookRepository for MapWebhooks {
    async fn insert(&self, hook: &taskflow_domain::webhook::Webhook) -> Result<(), RepoError> {
        locked(&self.0).push(hook.clone());
        Ok(())
    }
    async fn get(
        &self,
        id: taskflow_domain::WebhookId,
        scope: taskflow_domain::policy::TaskScope,
    ) -> Result<Option<taskflow_domain::webhook::Webhook>, RepoError> {
        Ok(locked(&self.0).iter().find(|h| h.id() == id && scope.includes(h.owner())).cloned())
    }
    async fn list(
        &self,
        scope: taskflow_domain::policy::TaskScope,
    ) -> Result<Vec<taskflow_domain::webhook::Webhook>, RepoError> {
        Ok(locked(&self.0).iter().filter(|h| scope.includes(h.owner())).cloned().collect())
    }
    async fn count(&self, scope: taskflow_domain::policy::TaskScope) -> Result<u64, RepoError> {
        Ok(locked(&self.0).iter().filter(|h| scope.includes(h.owner())).count() as u64)
    }
    async fn update(&self, hook: &taskflow_domain::webhook::Webhook) -> Result<bool, RepoError> {
        let mut hooks = locked(&self.0);
        let found = hooks.iter_mut().find(|h| h.id() == hook.id());
        Ok(found.map(|h| *h = hook.clone()).is_some())
    }
    async fn delete(
        &self,
        id: taskflow_domain::WebhookId,
        scope: taskflow_domain::policy::TaskScope,
    ) -> Result<bool, RepoError> {
        let mut hooks = locked(&self.0);
        let before = hooks.len();
        hooks.retain(|h| !(h.id() == id && scope.includes(h.owner())));
        Ok(hooks.len() < before)
    }
}

/// Deliveries a test puts in place; lists and retries them as the port says. Relaying, claiming and the rest do
/// nothing: the workers are not under test here.
#[derive(Debug, Default)]
pub struct ListedDeliveries(pub std::sync::Mutex<Vec<taskflow_domain::webhook::Delivery>>);

#[async_trait]
impl taskflow_domain::ports::DeliveryQueue for ListedDeliveries {
    async fn relay(
        &self,
        _: usize,
        _: chrono::DateTime<Utc>,
    ) -> Result<taskflow_domain::ports::RelayOutcome, RepoError> {
        Ok(taskflow_domain::ports::RelayOutcome::default())
    }
    async fn claim_skipping(
        &self,
        _: usize,
        _: chrono::DateTime<Utc>,
        _: chrono::TimeDelta,
        _: &[taskflow_domain::WebhookId],
    ) -> Result<Vec<taskflow_domain::ports::ClaimedDelivery>, RepoError> {
        Ok(Vec::new())
    }
    async fn finish(&self, _: &[taskflow_domain::ports::AttemptRecord]) -> Result<(), RepoError> {
        Ok(())
    }
    async fn release(
        &self,
        _: &[(taskflow_domain::DeliveryId, taskflow_domain::ports::LeaseToken)],
        _: chrono::DateTime<Utc>,
    ) -> Result<(), RepoError> {
        Ok(())
    }
    async fn list(
        &self,
        webhook: taskflow_domain::WebhookId,
        status: Option<taskflow_domain::webhook::DeliveryStatus>,
        page: taskflow_domain::query::PageRequest,
    ) -> Result<(Vec<taskflow_domain::webhook::Delivery>, u64), RepoError> {
        let mut matching: Vec<_> = locked(&self.0)
            .iter()
            .filter(|d| d.webhook_id == webhook && status.is_none_or(|s| d.status == s))
            .cloned()
            .collect();
        matching.sort_by_key(|d| std::cmp::Reverse((d.created_at, d.id.as_uuid())));
        let total = matching.len() as u64;
        let skip = usize::try_from(page.offset()).unwrap_or(usize::MAX);
        Ok((matching.into_iter().skip(skip).take(page.limit as usize).collect(), total))
    }
    async fn retry(
        &self,
        webhook: taskflow_domain::WebhookId,
        delivery: taskflow_domain::DeliveryId,
        now: chrono::DateTime<Utc>,
    ) -> Result<Option<taskflow_domain::ports::RetryOutcome>, RepoError> {
        use taskflow_domain::ports::RetryOutcome;
        let mut all = locked(&self.0);
        let Some(d) = all.iter_mut().find(|d| d.webhook_id == webhook && d.id == delivery) else { return Ok(None) };
        if !d.status.is_retryable() {
            return Ok(Some(RetryOutcome::NotRetryable(d.status)));
        }
        d.status = taskflow_domain::webhook::DeliveryStatus::Pending;
        d.attempts = 0;
        d.next_attempt_at = Some(now);
        d.updated_at = now;
        Ok(Some(RetryOutcome::Retried(d.clone())))
    }
    async fn prune(&self, _: chrono::DateTime<Utc>, _: usize) -> Result<u64, RepoError> {
        Ok(0)
    }
    async fn figures(&self) -> Result<taskflow_domain::ports::QueueFigures, RepoError> {
        Ok(taskflow_domain::ports::QueueFigures::default())
    }
}

/// Breakers that are always closed and remember which receivers were reset.
#[derive(Default)]
pub struct ResetBreakers {
    pub resets: std::sync::Mutex<Vec<taskflow_domain::WebhookId>>,
}

#[async_trait::async_trait]
impl crate::breakers::BreakerStore for ResetBreakers {
    async fn permit(
        &self,
        _: taskflow_domain::WebhookId,
        _: &taskflow_domain::breaker::BreakerPolicy,
        _: chrono::DateTime<Utc>,
    ) -> Result<taskflow_domain::breaker::Permit, taskflow_domain::RepoError> {
        Ok(taskflow_domain::breaker::Permit::Call)
    }
    async fn record(
        &self,
        _: taskflow_domain::WebhookId,
        _: taskflow_domain::breaker::CallKind,
        _: bool,
        _: &taskflow_domain::breaker::BreakerPolicy,
        _: chrono::DateTime<Utc>,
    ) -> Result<taskflow_domain::breaker::BreakerState, taskflow_domain::RepoError> {
        Ok(taskflow_domain::breaker::BreakerState::CLOSED)
    }
    async fn state(
        &self,
        _: taskflow_domain::WebhookId,
    ) -> Result<taskflow_domain::breaker::BreakerState, taskflow_domain::RepoError> {
        Ok(taskflow_domain::breaker::BreakerState::CLOSED)
    }
    async fn reset(&self, id: taskflow_domain::WebhookId) -> Result<(), taskflow_domain::RepoError> {
        self.resets.lock().unwrap().push(id);
        Ok(())
    }
    async fn open_count(&self, _: chrono::DateTime<Utc>) -> Result<u64, taskflow_domain::RepoError> {
        Ok(0)
    }
}
