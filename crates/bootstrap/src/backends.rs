//! Chooses and builds the adapters behind every port from the configuration:
//! PostgreSQL or the in-memory store for data; Redis or in-process state for the limiter and cache.

use std::sync::{Arc, Weak};
use std::time::Duration;

use anyhow::Context as _;
use taskflow_adapters_crypto::{Argon2PasswordHasher, PasetoTokenIssuer};
use taskflow_adapters_memory::{InMemoryRateLimiter, InMemoryStore, SystemClock, UuidV7Generator};
use taskflow_adapters_postgres::{PgSettings, PgStorage};
use taskflow_adapters_redis::{
    FallbackRateLimiter, RedisCacheStore, RedisClient, RedisHealthProbe, RedisIdempotencyStore, RedisRateLimiter,
    RedisSettings,
};
use taskflow_application::Deps;
use taskflow_application::auth::RevokedUsers;
use taskflow_application::cache::{CachedTaskReadModel, ReadCache};
use taskflow_domain::ports::{
    HealthProbe, IdempotencyStore, OutboxReader, RateLimiter, RefreshTokenStore, TaskReadModel, UnitOfWork,
    UserReadModel, UserTombstones,
};

use crate::config::Config;

/// Where the data lives.
#[derive(Clone)]
pub enum Storage {
    /// The embedded in-memory store (no `DATABASE_URL`).
    Memory(InMemoryStore),
    /// PostgreSQL.
    Postgres(PgStorage),
}

/// Every adapter, wired to its port.
#[derive(Clone)]
pub struct Backends {
    /// The ports of the use cases.
    pub deps: Deps,
    /// The data store itself (for seeding and migrations).
    pub storage: Storage,
    /// The rate limiter (shared through Redis when configured, falling back to this instance's).
    pub limiter: Arc<dyn RateLimiter>,
    /// Idempotency keys (PostgreSQL, else Redis, else in-process).
    pub idempotency: Arc<dyn IdempotencyStore>,
    /// The outbox, for the background relay.
    pub outbox: Arc<dyn OutboxReader>,
    /// Readiness of the database.
    pub database_health: Arc<dyn HealthProbe>,
    /// Readiness of Redis (the in-process store when Redis is not configured).
    pub redis_health: Arc<dyn HealthProbe>,
}

fn token_issuer(config: &Config) -> anyhow::Result<PasetoTokenIssuer> {
    match &config.token_key {
        Some(key) => PasetoTokenIssuer::from_hex(key.expose()).context("TOKEN_KEY"),
        None => {
            tracing::warn!(
                "TOKEN_KEY is not set: using an ephemeral key; tokens stop working at restart and are not shared \
                 between instances"
            );
            Ok(PasetoTokenIssuer::ephemeral())
        }
    }
}

/// Builds every adapter. With `DATABASE_URL`, connects to PostgreSQL (migrations are the caller's business);
/// with `REDIS_URL`, connects lazily to Redis, so a Redis outage at start only degrades the service.
///
/// # Errors
/// When PostgreSQL cannot be reached or the token key is invalid.
pub async fn build(config: &Config) -> anyhow::Result<Backends> {
    let clock = Arc::new(SystemClock);
    let ids = Arc::new(UuidV7Generator);
    let hasher = Arc::new(Argon2PasswordHasher::new());
    let tokens = Arc::new(token_issuer(config)?);
    let local_limiter: Arc<dyn RateLimiter> = Arc::new(InMemoryRateLimiter::new());

    let data = match &config.database_url {
        None => {
            tracing::info!("DATABASE_URL is not set: using the embedded in-memory store (data is lost at exit)");
            let store = InMemoryStore::new();
            Data::over(Storage::Memory(store.clone()), Arc::new(store))
        }
        Some(url) => {
            let settings = PgSettings {
                max_connections: config.database_max_connections,
                acquire_timeout: Duration::from_millis(config.database_acquire_timeout_ms),
                statement_timeout: Duration::from_millis(config.database_statement_timeout_ms),
                ..PgSettings::new(url.expose())
            };
            let pg = taskflow_adapters_postgres::connect(&settings).await.context("connecting to DATABASE_URL")?;
            tracing::info!(max_connections = settings.max_connections, "connected to PostgreSQL");
            Data::over(Storage::Postgres(pg.clone()), Arc::new(pg))
        }
    };
    let Data {
        storage,
        uow,
        task_reads,
        user_reads,
        refresh_tokens,
        tombstones,
        idempotency,
        outbox,
        health: database_health,
    } = data;
    let access_ttl = chrono::Duration::seconds(i64::from(config.access_token_ttl_secs));
    let mut deps = Deps {
        clock,
        ids,
        uow,
        task_reads,
        user_reads,
        hasher,
        tokens,
        refresh_tokens,
        read_cache: Arc::new(ReadCache::disabled()),
        revoked_users: Arc::new(RevokedUsers::new(tombstones, access_ttl)),
    };

    let (limiter, idempotency, redis_health): (Arc<dyn RateLimiter>, Arc<dyn IdempotencyStore>, Arc<dyn HealthProbe>) =
        match &config.redis_url {
            None => {
                tracing::info!("REDIS_URL is not set: rate limits and idempotency keys are per instance");
                (local_limiter, idempotency, Arc::new(InProcess))
            }
            Some(url) => {
                let settings = RedisSettings::new(url.expose()).with_key_prefix(config.redis_key_prefix.clone());
                let client = RedisClient::connect(&settings).context("REDIS_URL")?;
                let cache = Arc::new(ReadCache::new(
                    Arc::new(RedisCacheStore::new(client.clone())),
                    Duration::from_secs(u64::from(config.cache_ttl_secs)),
                ));
                tokio::spawn(resync_cache(Arc::downgrade(&cache)));
                deps.task_reads = Arc::new(CachedTaskReadModel::new(deps.task_reads.clone(), cache.clone()));
                deps.read_cache = cache;
                let shared: Arc<dyn RateLimiter> = Arc::new(RedisRateLimiter::new(client.clone()));
                let limiter = Arc::new(FallbackRateLimiter::new(shared, local_limiter));
                // Keys already live in PostgreSQL when it is configured; Redis holds them only otherwise.
                let idempotency: Arc<dyn IdempotencyStore> = match storage {
                    Storage::Postgres(_) => idempotency,
                    Storage::Memory(_) => Arc::new(RedisIdempotencyStore::new(client.clone())),
                };
                (limiter, idempotency, Arc::new(RedisHealthProbe::new(client)))
            }
        };

    Ok(Backends { deps, storage, limiter, idempotency, outbox, database_health, redis_health })
}

/// How often an instance retries the cache invalidations it owes (nothing to do when it owes none).
const CACHE_RESYNC_PERIOD: Duration = Duration::from_secs(1);

/// Delivers owed cache invalidations as soon as Redis takes them, even on an instance that gets no traffic, so
/// that other instances stop reading entries its writes made stale; ends once the instance drops its cache.
async fn resync_cache(cache: Weak<ReadCache>) {
    loop {
        tokio::time::sleep(CACHE_RESYNC_PERIOD).await;
        let Some(cache) = cache.upgrade() else { break };
        cache.resync().await;
    }
}

/// The data ports, all served by one store.
struct Data {
    storage: Storage,
    uow: Arc<dyn UnitOfWork>,
    task_reads: Arc<dyn TaskReadModel>,
    user_reads: Arc<dyn UserReadModel>,
    refresh_tokens: Arc<dyn RefreshTokenStore>,
    tombstones: Arc<dyn UserTombstones>,
    idempotency: Arc<dyn IdempotencyStore>,
    outbox: Arc<dyn OutboxReader>,
    health: Arc<dyn HealthProbe>,
}

impl Data {
    fn over<S>(storage: Storage, store: Arc<S>) -> Self
    where
        S: UnitOfWork
            + TaskReadModel
            + UserReadModel
            + RefreshTokenStore
            + UserTombstones
            + IdempotencyStore
            + OutboxReader
            + HealthProbe
            + 'static,
    {
        Self {
            storage,
            uow: store.clone(),
            task_reads: store.clone(),
            user_reads: store.clone(),
            refresh_tokens: store.clone(),
            tombstones: store.clone(),
            idempotency: store.clone(),
            outbox: store.clone(),
            health: store,
        }
    }
}

/// Without Redis, limiter and keys live in this process: `checks.redis` reports that in-process state, which is
/// always up (the contract asks for the key in every mode).
struct InProcess;

#[async_trait::async_trait]
impl HealthProbe for InProcess {
    async fn check(&self) -> taskflow_domain::ports::ComponentHealth {
        taskflow_domain::ports::ComponentHealth { up: true, kind: "in-memory", latency: Duration::ZERO }
    }
}
