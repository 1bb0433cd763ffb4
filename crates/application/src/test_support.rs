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
        read_cache: Arc::new(crate::cache::ReadCache::disabled()),
        revoked_users: Arc::new(crate::auth::RevokedUsers::new(s, chrono::Duration::minutes(15))),
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
