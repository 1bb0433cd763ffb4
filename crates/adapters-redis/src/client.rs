//! The Redis client: every call goes through [`RedisClient::execute`], which applies the timeouts, the circuit
//! breaker, the error mapping and the latency metrics.
//!
//! All calls share one multiplexed connection (redis-rs pipelines concurrent commands on it), opened on first use
//! and opened again after it fails. There is no pool: a pool of multiplexed connections only added a recycle check
//! (`UNWATCH` + `PING`) before every command, so a cache hit took two round trips instead of one.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use deadpool_redis::redis::aio::MultiplexedConnection;
use deadpool_redis::redis::{AsyncConnectionConfig, Client, ErrorKind, RedisError, RedisResult};
use taskflow_domain::error::RepoError;

use taskflow_application::clock::SystemClock;
use taskflow_domain::ports::Clock;

use crate::breaker::{BreakerState, CircuitBreaker};
use crate::metrics::{REDIS_COMMAND_DURATION, REDIS_ERRORS};
use crate::settings::RedisSettings;

/// The connection a call's closure runs its commands on.
pub type Connection = MultiplexedConnection;

/// A future borrowing the connection, as returned by the closures given to [`RedisClient::execute`].
pub type ConnFuture<'c, T> = Pin<Box<dyn Future<Output = RedisResult<T>> + Send + 'c>>;

/// A shared handle on the Redis connection and its circuit breaker. Cloning is cheap; clones share both.
#[derive(Clone)]
pub struct RedisClient {
    inner: Arc<Inner>,
}

struct Inner {
    client: Client,
    config: AsyncConnectionConfig,
    /// The shared connection, once opened; emptied when it fails, so that the next call opens a new one. Locked only
    /// to copy the handle in or out, never across an await.
    connection: std::sync::Mutex<Option<(u64, MultiplexedConnection)>>,
    /// Held by the one call opening a connection, so that callers that find none wait for it instead of each
    /// opening one.
    opening: tokio::sync::Mutex<()>,
    breaker: CircuitBreaker,
    settings: RedisSettings,
}

impl fmt::Debug for RedisClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisClient")
            .field("key_prefix", &self.inner.settings.key_prefix)
            .field("breaker", &self.breaker_state())
            .finish_non_exhaustive()
    }
}

impl RedisClient {
    /// Creates the client without opening any connection, so the service starts (degraded) while Redis is down.
    ///
    /// # Errors
    /// [`RepoError::Unexpected`] when the URL or the pool settings are invalid.
    pub fn connect(settings: &RedisSettings) -> Result<Self, RepoError> {
        Self::connect_with_clock(settings, Arc::new(SystemClock))
    }

    /// [`Self::connect`] with the circuit breaker on another clock (for tests).
    ///
    /// # Errors
    /// [`RepoError::Unexpected`] when the URL or the pool settings are invalid.
    pub fn connect_with_clock(settings: &RedisSettings, clock: Arc<dyn Clock>) -> Result<Self, RepoError> {
        // The connection-level timeouts are a second line of defence behind the per-call timeout below.
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(settings.connect_timeout))
            .set_response_timeout(Some(settings.command_timeout));
        let client = Client::open(settings.url.as_str()).map_err(RepoError::unexpected)?;
        let breaker = CircuitBreaker::new(settings.breaker_failure_threshold, settings.breaker_cooldown, clock)
            .with_probe_timeout(settings.connect_timeout + settings.command_timeout);
        let (connection, opening) = (std::sync::Mutex::new(None), tokio::sync::Mutex::new(()));
        let settings = settings.clone();
        Ok(Self { inner: Arc::new(Inner { client, config, connection, opening, breaker, settings }) })
    }

    /// The circuit breaker's current state, for metrics and readiness.
    #[must_use]
    pub fn breaker_state(&self) -> BreakerState {
        self.inner.breaker.state()
    }

    /// The settings this client was built with.
    #[must_use]
    pub fn settings(&self) -> &RedisSettings {
        &self.inner.settings
    }

    /// `{key_prefix}:{kind}:{rest}`: every key this crate writes is built here.
    #[must_use]
    pub fn key(&self, kind: &str, rest: &str) -> String {
        format!("{}:{kind}:{rest}", self.inner.settings.key_prefix)
    }

    /// Runs one Redis operation on the shared connection, behind the circuit breaker and within the timeouts: at most
    /// `connect_timeout` to open the connection when there is none, then `command_timeout`.
    /// `op` names the operation in metrics. The closure must own what it sends (move the command in).
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] when the breaker is open, no connection can be had in time, the command times out
    /// or the server cannot serve it (I/O, loading, read-only, out of memory); [`RepoError::Unexpected`] when Redis
    /// answered but not as expected (a script or type error), which is a bug rather than an outage.
    pub async fn execute<T, F>(&self, op: &'static str, f: F) -> Result<T, RepoError>
    where
        F: for<'c> FnOnce(&'c mut Connection) -> ConnFuture<'c, T>,
    {
        let Ok(permit) = self.inner.breaker.try_acquire() else {
            metrics::counter!(REDIS_ERRORS, "op" => op, "kind" => "breaker_open").increment(1);
            return Err(RepoError::unavailable(crate::breaker::BreakerOpen));
        };
        let started = Instant::now();
        let outcome = self.run(f).await;
        metrics::histogram!(REDIS_COMMAND_DURATION, "op" => op).record(started.elapsed().as_secs_f64());
        match outcome {
            Ok(value) => {
                permit.success();
                Ok(value)
            }
            Err(failure) => {
                metrics::counter!(REDIS_ERRORS, "op" => op, "kind" => failure.kind()).increment(1);
                if failure.is_outage() {
                    permit.failure();
                    tracing::debug!(op, error = %failure, "Redis call failed");
                    Err(RepoError::unavailable(failure))
                } else {
                    // Redis answered, so it is up; the answer is what is wrong.
                    permit.success();
                    Err(RepoError::unexpected(failure))
                }
            }
        }
    }

    async fn run<T, F>(&self, f: F) -> Result<T, Failure>
    where
        F: for<'c> FnOnce(&'c mut Connection) -> ConnFuture<'c, T>,
    {
        let settings = &self.inner.settings;
        let (opened, mut conn) = self.connection().await?;
        let outcome = match tokio::time::timeout(settings.command_timeout, f(&mut conn)).await {
            Ok(result) => result.map_err(Failure::Command),
            // A reply that arrives later is matched to its dropped request by the multiplexer and discarded.
            Err(_) => Err(Failure::Timeout),
        };
        // A failed or silent connection is replaced at the next call.
        let broken = match &outcome {
            Err(Failure::Command(e)) => is_connection_error(e),
            Err(Failure::Timeout) => true,
            _ => false,
        };
        if broken {
            self.forget(opened);
        }
        outcome
    }

    /// The shared connection and the number of its opening, opened if there is none.
    async fn connection(&self) -> Result<(u64, MultiplexedConnection), Failure> {
        // The common case: a copy of the handle, under a lock held for no await.
        if let Some(current) = self.current() {
            return Ok(current);
        }
        let settings = &self.inner.settings;
        let opening = async {
            let _opening = self.inner.opening.lock().await;
            if let Some(current) = self.current() {
                return Ok(current);
            }
            let conn = self
                .inner
                .client
                .get_multiplexed_async_connection_with_config(&self.inner.config)
                .await
                .map_err(Failure::Connect)?;
            let opened = OPENINGS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            *self.slot() = Some((opened, conn.clone()));
            Ok((opened, conn))
        };
        tokio::time::timeout(settings.connect_timeout, opening).await.unwrap_or(Err(Failure::Timeout))
    }

    /// Drops the shared connection if it is still the one of opening `opened`, so that the next call opens a new one
    /// (another call may have replaced it already).
    fn forget(&self, opened: u64) {
        let mut slot = self.slot();
        if slot.as_ref().is_some_and(|(n, _)| *n == opened) {
            *slot = None;
        }
    }

    fn slot(&self) -> std::sync::MutexGuard<'_, Option<(u64, MultiplexedConnection)>> {
        // Only a handle is kept there: a panic elsewhere cannot leave it half-written.
        self.inner.connection.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn current(&self) -> Option<(u64, MultiplexedConnection)> {
        self.slot().clone()
    }
}

/// Numbers the connections opened, so that a call forgets only the connection that failed it.
static OPENINGS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Why one call failed, kept as the source of the [`RepoError`].
#[derive(Debug, thiserror::Error)]
enum Failure {
    #[error("no Redis connection could be opened")]
    Connect(#[source] RedisError),
    #[error("Redis did not answer in time")]
    Timeout,
    #[error("the Redis command failed")]
    Command(#[source] RedisError),
}

impl Failure {
    fn kind(&self) -> &'static str {
        match self {
            Self::Timeout => "timeout",
            Self::Connect(_) => "connect",
            Self::Command(e) if is_connection_error(e) => "connection",
            Self::Command(e) if is_server_unavailable(e) => "server",
            Self::Command(_) => "unexpected",
        }
    }

    fn is_outage(&self) -> bool {
        self.kind() != "unexpected"
    }
}

fn is_connection_error(e: &RedisError) -> bool {
    e.is_io_error() || e.is_timeout() || e.is_connection_dropped() || e.is_connection_refusal()
}

/// Server replies meaning "cannot serve now" rather than "you asked wrongly".
fn is_server_unavailable(e: &RedisError) -> bool {
    matches!(e.kind(), ErrorKind::AuthenticationFailed)
        || e.code().is_some_and(|code| {
            matches!(
                code,
                "LOADING"
                    | "BUSY"
                    | "TRYAGAIN"
                    | "CLUSTERDOWN"
                    | "MASTERDOWN"
                    | "READONLY"
                    | "OOM"
                    | "NOAUTH"
                    | "WRONGPASS"
                    | "NOPERM"
            )
        })
}
