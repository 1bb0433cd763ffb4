//! Chooses and builds the adapters behind every port from the configuration:
//! PostgreSQL or the in-memory store for data; Redis or in-process state for the limiter and cache.

use std::sync::{Arc, Weak};
use std::time::Duration;

use anyhow::Context as _;
use taskflow_adapters_crypto::{Argon2PasswordHasher, PasetoTokenIssuer};
use taskflow_adapters_memory::InMemoryBreakers;
use taskflow_adapters_memory::{InMemoryRateLimiter, InMemoryStore};
use taskflow_adapters_postgres::{PgSettings, PgStorage, PgWorkSignal};
use taskflow_adapters_redis::{
    FallbackRateLimiter, RedisCacheStore, RedisClient, RedisHealthProbe, RedisIdempotencyStore, RedisRateLimiter,
    RedisSettings,
};
use taskflow_adapters_webhooks::{HttpWebhookSender, WebhookSenderSettings};
use taskflow_application::Deps;
use taskflow_application::auth::RevokedUsers;
use taskflow_application::breakers::BreakerStore;
use taskflow_application::cache::{CachedTaskReadModel, ReadCache};
use taskflow_application::clock::SystemClock;
use taskflow_application::ids::UuidV7Generator;
use taskflow_application::ports::{JobLease, WebhookSender, WorkSignal};
use taskflow_domain::ports::{
    DeliveryQueue, EventFeed, EventLog, OverdueScan, RefreshTokenStore, TaskReadModel, UnitOfWork, UserReadModel,
    UserTombstones, WebhookRepository,
};

use crate::config::Config;
use taskflow_application::ports::{HealthProbe, IdempotencyStore, RateLimiter};

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
    /// What the background worker drives.
    pub jobs: JobPorts,
    /// The published events, read by the live event hub.
    pub feed: Arc<dyn EventFeed>,
    /// Wakes the live event hub when events were published (on any instance).
    pub feed_signal: Arc<dyn WorkSignal>,
    /// Readiness of the database.
    pub database_health: Arc<dyn HealthProbe>,
    /// Readiness of Redis (the in-process store when Redis is not configured).
    pub redis_health: Arc<dyn HealthProbe>,
}

/// The ports of the background worker.
#[derive(Clone)]
pub struct JobPorts {
    /// The delivery queue (and the relay into it).
    pub deliveries: Arc<dyn DeliveryQueue>,
    /// The overdue scan.
    pub overdue: Arc<dyn OverdueScan>,
    /// The scheduler role.
    pub lease: Arc<dyn JobLease>,
    /// Wake-ups of the relay: events appended.
    pub signal: Arc<dyn WorkSignal>,
    /// Wake-ups of the sender: deliveries made or made due.
    pub delivery_signal: Arc<dyn WorkSignal>,
    /// The receivers' circuit breakers, shared by every instance.
    pub breakers: Arc<dyn BreakerStore>,
    /// Posts deliveries (and vets webhook URLs).
    pub sender: Arc<dyn WebhookSender>,
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
    let sender: Arc<dyn WebhookSender> = Arc::new(
        HttpWebhookSender::new(WebhookSenderSettings::new(
            Duration::from_millis(config.webhook_timeout_ms),
            config.webhook_allow_private,
        ))
        .context("building the webhook sender")?,
    );

    let data = match &config.database_url {
        None => {
            tracing::info!("DATABASE_URL is not set: using the embedded in-memory store (data is lost at exit)");
            let store = InMemoryStore::new();
            let (signal, breakers): (Arc<dyn WorkSignal>, Arc<dyn BreakerStore>) =
                (Arc::new(store.clone()), Arc::new(InMemoryBreakers::new()));
            let signals = Signals {
                work: signal,
                deliveries: Arc::new(store.delivery_signal()),
                feed: Arc::new(store.feed_signal()),
            };
            Data::over(Storage::Memory(store.clone()), Arc::new(store), signals, breakers, sender)
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
            // The listener ends when the last handle is dropped.
            let listener = PgWorkSignal::listen(&pg, &tokio_util::sync::CancellationToken::new());
            let signals = Signals {
                deliveries: Arc::new(listener.deliveries()),
                feed: Arc::new(listener.feed()),
                work: Arc::new(listener),
            };
            let breakers: Arc<dyn BreakerStore> = Arc::new(pg.clone());
            Data::over(Storage::Postgres(pg.clone()), Arc::new(pg), signals, breakers, sender)
        }
    };
    let Data {
        storage,
        uow,
        task_reads,
        user_reads,
        refresh_tokens,
        events,
        tombstones,
        idempotency,
        webhooks,
        jobs,
        feed,
        feed_signal,
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
        events,
        read_cache: Arc::new(ReadCache::disabled()),
        revoked_users: Arc::new(RevokedUsers::new(tombstones, access_ttl)),
        webhooks,
        deliveries: Arc::clone(&jobs.deliveries),
        webhook_sender: Arc::clone(&jobs.sender),
        webhook_breakers: Arc::clone(&jobs.breakers),
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
                warn_if_unreachable(&client, url.expose()).await;
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

    Ok(Backends { deps, storage, limiter, idempotency, jobs, feed, feed_signal, database_health, redis_health })
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

/// Says so at start when Redis does not answer (one PING, bounded by the client's timeouts): the service then runs
/// degraded until Redis returns, which it picks up by itself. The address is logged without credentials.
async fn warn_if_unreachable(client: &RedisClient, url: &str) {
    if !RedisHealthProbe::new(client.clone()).check().await.up {
        tracing::warn!(
            redis = %redis_address(url),
            "Redis is unreachable: serving degraded (no shared cache, per-instance rate limits) until it answers"
        );
    }
}

/// `scheme://host:port/db` of a Redis URL: no user, password or query parameters, so it is safe to log.
fn redis_address(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("redis", url));
    let rest = rest.split(['?', '#']).next().unwrap_or_default();
    let (authority, path) = rest.split_once('/').map_or((rest, ""), |(a, p)| (a, p));
    let host = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    if path.is_empty() { format!("{scheme}://{host}") } else { format!("{scheme}://{host}/{path}") }
}

/// The data ports, all served by one store.
struct Data {
    storage: Storage,
    uow: Arc<dyn UnitOfWork>,
    task_reads: Arc<dyn TaskReadModel>,
    user_reads: Arc<dyn UserReadModel>,
    refresh_tokens: Arc<dyn RefreshTokenStore>,
    events: Arc<dyn EventLog>,
    tombstones: Arc<dyn UserTombstones>,
    idempotency: Arc<dyn IdempotencyStore>,
    webhooks: Arc<dyn WebhookRepository>,
    /// The worker's ports, but the sender (which does not depend on the store).
    jobs: JobPorts,
    feed: Arc<dyn EventFeed>,
    feed_signal: Arc<dyn WorkSignal>,
    health: Arc<dyn HealthProbe>,
}

/// The wake-ups of one store: relays', senders', and live event streams'.
struct Signals {
    work: Arc<dyn WorkSignal>,
    deliveries: Arc<dyn WorkSignal>,
    feed: Arc<dyn WorkSignal>,
}

impl Data {
    fn over<S>(
        storage: Storage,
        store: Arc<S>,
        signals: Signals,
        breakers: Arc<dyn BreakerStore>,
        sender: Arc<dyn WebhookSender>,
    ) -> Self
    where
        S: UnitOfWork
            + TaskReadModel
            + UserReadModel
            + RefreshTokenStore
            + EventLog
            + UserTombstones
            + IdempotencyStore
            + WebhookRepository
            + DeliveryQueue
            + OverdueScan
            + JobLease
            + EventFeed
            + HealthProbe
            + 'static,
    {
        Self {
            storage,
            uow: store.clone(),
            task_reads: store.clone(),
            user_reads: store.clone(),
            refresh_tokens: store.clone(),
            events: store.clone(),
            tombstones: store.clone(),
            idempotency: store.clone(),
            webhooks: store.clone(),
            jobs: JobPorts {
                deliveries: store.clone(),
                overdue: store.clone(),
                lease: store.clone(),
                signal: signals.work,
                delivery_signal: signals.deliveries,
                breakers,
                sender,
            },
            feed: store.clone(),
            feed_signal: signals.feed,
            health: store,
        }
    }
}

/// Without Redis, limiter and keys live in this process: `checks.redis` reports that in-process state, which is
/// always up (the contract asks for the key in every mode).
struct InProcess;

#[async_trait::async_trait]
impl HealthProbe for InProcess {
    async fn check(&self) -> taskflow_application::ports::ComponentHealth {
        taskflow_application::ports::ComponentHealth { up: true, kind: "in-memory", latency: Duration::ZERO }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;
    use crate::test_log::Sink;

    #[test]
    fn the_logged_redis_address_has_no_credentials() {
        for (url, address) in [
            ("redis://:hunter2@10.0.0.5:6380/2", "redis://10.0.0.5:6380/2"),
            ("rediss://app:hunter2@cache.internal:6379", "rediss://cache.internal:6379"),
            ("redis://127.0.0.1:6379/0?password=hunter2", "redis://127.0.0.1:6379/0"),
            ("redis://127.0.0.1", "redis://127.0.0.1"),
        ] {
            assert_eq!(redis_address(url), address, "{url}");
        }
    }

    /// The warnings `build` logs with `REDIS_URL=url` (in-memory storage).
    async fn warnings_at_start(url: &str) -> String {
        let sink = Sink::default();
        let subscriber =
            tracing_subscriber::fmt().with_max_level(tracing::Level::WARN).with_ansi(false).with_writer(sink.clone());
        let _guard = tracing::subscriber::set_default(subscriber.finish());
        let config = Config {
            redis_url: Some(Secret::from(url.to_owned())),
            token_key: Some(Secret::from("ab".repeat(32))),
            ..Config::default()
        };
        build(&config).await.expect("Redis being down does not stop the start");
        String::from_utf8(sink.0.lock().unwrap().clone()).unwrap()
    }

    #[tokio::test]
    async fn unreachable_redis_at_start_is_a_warning_naming_its_address_without_password() {
        // Arrange: nothing listens on port 1.
        let url = "redis://:hunter2@127.0.0.1:1/0";

        // Act
        let log = warnings_at_start(url).await;

        // Assert
        assert!(log.contains("WARN") && log.contains("Redis is unreachable"), "no warning: {log}");
        assert!(log.contains("degraded"), "{log}");
        assert!(log.contains("redis://127.0.0.1:1/0"), "the address is not named: {log}");
        assert!(!log.contains("hunter2"), "the password was logged: {log}");
    }

    #[tokio::test]
    async fn reachable_redis_at_start_is_not_a_warning() {
        let log = warnings_at_start(&taskflow_adapters_redis::testing::redis_url()).await;
        assert!(!log.contains("Redis is unreachable"), "{log}");
    }
}
