//! Connecting: pool settings, [`PgStorage`] (the handle every port is implemented on) and the health probe.

use std::any::Any;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use sea_orm::sqlx::postgres::PgSslMode;
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, TransactionTrait};
use taskflow_domain::RepoError;
use taskflow_domain::TaskId;
use taskflow_domain::events::{Deletion, DomainEvent};
use taskflow_domain::policy::TaskScope;
use taskflow_domain::ports::{TaskReadModel, TaskWrite, Transaction, UnitOfWork};
use taskflow_domain::query::{OwnerSummary, TaskView};
use taskflow_domain::task::{Task, Version};

use crate::error::map_db_err;
use crate::held::Held;
use crate::tx::PgTransaction;
use crate::wake::RelayWake;
use taskflow_application::ports::{ComponentHealth, HealthProbe};

/// Connection-pool settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgSettings {
    /// `postgres://user@host:port/database`.
    pub url: String,
    /// Pool size (default 20). Requests' single statements hold up to three quarters of it out of sqlx's pool (given
    /// back without a round trip; see `held.rs`), and the rest serves transactions and background jobs.
    pub max_connections: u32,
    /// Connections kept open when idle (default 1).
    pub min_connections: u32,
    /// How long a request waits for a pooled connection before failing as unavailable (default 3 s).
    pub acquire_timeout: Duration,
    /// The server-side limit on any one statement, set on every connection (default 5 s).
    pub statement_timeout: Duration,
    /// How long an idle connection above `min_connections` is kept (default 10 min).
    pub idle_timeout: Duration,
}

impl PgSettings {
    /// The defaults for `url`.
    #[must_use]
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            max_connections: 20,
            min_connections: 1,
            acquire_timeout: Duration::from_secs(3),
            statement_timeout: Duration::from_secs(5),
            idle_timeout: Duration::from_secs(600),
        }
    }
}

/// Opens a SeaORM connection pool with these settings (sqlx's per-statement logging off).
///
/// # Errors
/// [`RepoError::Unavailable`] when the server cannot be reached.
pub async fn connect_pool(settings: &PgSettings) -> Result<DatabaseConnection, RepoError> {
    let explicit_ssl_mode = settings.url.contains("sslmode=");
    let mut opts = ConnectOptions::new(settings.url.clone());
    opts.max_connections(settings.max_connections)
        .min_connections(settings.min_connections)
        .acquire_timeout(settings.acquire_timeout)
        .connect_timeout(settings.acquire_timeout)
        .idle_timeout(settings.idle_timeout)
        .statement_timeout(settings.statement_timeout)
        // Statements are traced by SeaORM's own spans; sqlx would log each one at INFO.
        .sqlx_logging(false)
        .set_application_name("taskflow")
        .map_sqlx_postgres_opts(move |pg| {
            if explicit_ssl_mode || !is_loopback(pg.get_host()) { pg } else { pg.ssl_mode(PgSslMode::Disable) }
        })
        // No ping when a connection is taken: a round trip on every checkout, to find out what the statement itself
        // would (a dead connection fails its statement, which answers 503 once, and the pool replaces it).
        .map_sqlx_postgres_pool_opts(|pool| {
            pool.test_before_acquire(false).after_release(|conn, _| Box::pin(release_check(conn)))
        });
    Database::connect(opts).await.map_err(map_db_err)
}

/// Whether `host` is this machine: there TLS protects nothing and costs CPU on every round trip, and a TLS
/// connection to a silent server cannot be closed promptly (its goodbye waits for the peer). Other hosts keep the
/// driver's default (`prefer`), and `sslmode` in `DATABASE_URL` always wins.
fn is_loopback(host: &str) -> bool {
    host == "localhost" || host.starts_with('/') || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// How long a connection given back to the pool may take to answer before it is closed instead of kept.
const RELEASE_CHECK_TIMEOUT: Duration = Duration::from_secs(1);

/// Keeps a released connection only if it answers within [`RELEASE_CHECK_TIMEOUT`].
///
/// The pool's own check on release waits without a limit, so a connection whose statement was abandoned on a
/// stalled server or network (see [`crate::error::bounded`]) would hold its pool slot until the kernel gives up
/// on the socket, minutes later. This one answers within a second; a connection that does not is closed, and the
/// pool opens a fresh one when it is needed.
async fn release_check(conn: &mut sea_orm::sqlx::PgConnection) -> Result<bool, sea_orm::sqlx::Error> {
    use sea_orm::sqlx::Connection as _;
    // Only while statements are being abandoned (a stalled server or network) is a released connection suspect;
    // otherwise the check would cost a round trip per checkout for nothing.
    if !crate::error::take_abandoned() {
        return Ok(true);
    }
    match tokio::time::timeout(RELEASE_CHECK_TIMEOUT, conn.ping()).await {
        Ok(Ok(())) => Ok(true),
        Ok(Err(error)) => Err(error),
        // An error makes the pool close the socket without the goodbye a silent server would never read.
        Err(_) => {
            Err(sea_orm::sqlx::Error::Io(std::io::Error::new(std::io::ErrorKind::TimedOut, "no answer on release")))
        }
    }
}

/// The margin between the server's `statement_timeout` and the client's own deadline for a statement: the server's
/// cancellation answers first when it can, the client's when the server or the network is silent.
const CLIENT_DEADLINE_MARGIN: Duration = Duration::from_millis(250);

/// Connects and returns the storage handle.
///
/// # Errors
/// [`RepoError::Unavailable`] when the server cannot be reached.
pub async fn connect(settings: &PgSettings) -> Result<PgStorage, RepoError> {
    Ok(PgStorage::new(connect_pool(settings).await?).with_statement_timeout(settings.statement_timeout))
}

/// PostgreSQL storage: a cheap-to-clone handle on one pool.
///
/// Implements [`UnitOfWork`] (whose transactions implement `TaskRepository`, `UserRepository` and `EventOutbox`),
/// `TaskReadModel`, `UserReadModel`, `OutboxReader`, `RefreshTokenStore`, `IdempotencyStore` and [`HealthProbe`].
#[derive(Debug, Clone)]
pub struct PgStorage {
    pub(crate) db: DatabaseConnection,
    /// Connections for the requests' single statements, given back without the pool's round trip.
    pub(crate) held: Held,
    /// How long any one statement may take, measured in the client (see [`crate::error::bounded`]).
    pub(crate) deadline: Duration,
    /// Wakes the relays after a request's statement appended events (instead of a `NOTIFY` in the statement).
    pub(crate) wake: RelayWake,
    /// Something that must live as long as any clone of the storage (a test database's drop guard).
    lease: Option<Lease>,
}

/// A value kept alive by [`PgStorage`] clones and dropped with the last one.
#[derive(Clone)]
struct Lease(#[allow(dead_code)] Arc<dyn Any + Send + Sync>);

impl fmt::Debug for Lease {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Lease")
    }
}

impl PgStorage {
    /// Wraps an open pool (for example one with a metric callback installed).
    #[must_use]
    pub fn new(db: DatabaseConnection) -> Self {
        let held = Held::new(&db, None);
        let deadline = PgSettings::new("").statement_timeout + CLIENT_DEADLINE_MARGIN;
        Self { db, held, deadline, wake: RelayWake::default(), lease: None }
    }

    /// Bounds every statement, in the client too, by `timeout` (plus a small margin that lets the server's own
    /// `statement_timeout`, which should be the same, answer first when the server can).
    #[must_use]
    pub fn with_statement_timeout(mut self, timeout: Duration) -> Self {
        self.deadline = timeout + CLIENT_DEADLINE_MARGIN;
        self
    }

    /// Keeps `value` alive until the last clone of this storage is dropped (for example the guard that drops a
    /// test database, so a test that only holds the ports still cleans up after itself).
    #[must_use]
    pub fn leasing(mut self, value: impl Any + Send + Sync) -> Self {
        self.lease = Some(Lease(Arc::new(value)));
        self
    }

    /// Calls `callback` after every statement, whichever connection it ran on (the pool's or a held one).
    #[must_use]
    pub fn with_metric_callback(
        mut self,
        callback: impl Fn(&sea_orm::metric::Info<'_>) + Send + Sync + 'static,
    ) -> Self {
        let callback: crate::held::MetricCallback = Arc::new(callback);
        let shared = Arc::clone(&callback);
        self.db.set_metric_callback(move |info| shared(info));
        self.held = Held::new(&self.db, Some(callback));
        self
    }

    /// The connections open to the database, and how many of them are idle: in the pool, or parked between single
    /// statements (which sqlx counts as in use).
    #[must_use]
    pub fn connections(&self) -> (u32, usize) {
        let pool = self.db.get_postgres_connection_pool();
        (pool.size(), pool.num_idle() + self.held.parked())
    }

    /// Owes the relays a wake-up: a statement of a request appended events and has committed (see `wake.rs`).
    pub(crate) fn wake_relays(&self) {
        self.wake.poke(|| (*self.db.get_postgres_connection_pool().connect_options()).clone());
    }

    /// The underlying pool.
    #[must_use]
    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
    }
}

#[async_trait]
impl UnitOfWork for PgStorage {
    async fn begin(&self) -> Result<Box<dyn Transaction>, RepoError> {
        let txn = begin_to_completion(&self.db, self.deadline).await?;
        Ok(Box::new(PgTransaction::new(txn, self.deadline)))
    }

    async fn create_task(&self, task: &Task, events: &[DomainEvent]) -> Result<OwnerSummary, RepoError> {
        self.create_task_now(task, events).await
    }

    async fn read_task(&self, id: TaskId, scope: TaskScope) -> Result<Option<TaskView>, RepoError> {
        // The read model's own statement: the task with its owner, committed, uncached.
        TaskReadModel::get(self, id, scope).await
    }

    async fn update_task(&self, task: &Task, expected: Version, events: &[DomainEvent]) -> Result<(), RepoError> {
        self.update_task_now(task, expected, events).await
    }

    async fn delete_task(&self, id: TaskId, scope: TaskScope, deletion: &Deletion) -> Result<Option<Task>, RepoError> {
        self.delete_task_now(id, scope, deletion).await
    }

    async fn read_tasks(&self, ids: &[TaskId], scope: TaskScope) -> Result<Vec<Task>, RepoError> {
        self.read_tasks_now(ids, scope).await
    }

    async fn write_tasks(&self, writes: &[TaskWrite], events: &[DomainEvent]) -> Result<Vec<TaskId>, RepoError> {
        self.write_tasks_now(writes, events).await
    }
}

/// Opens a transaction on a task of its own, so that the opening always runs to its end.
///
/// A caller cancelled inside `BEGIN` (a client gone, a timeout, shutdown) would otherwise drop sqlx's opening after
/// `BEGIN` was sent but before sqlx counted the transaction, and the connection would go back to the pool inside a
/// transaction that nobody owns: the next request's `BEGIN` would run in it and its `COMMIT` would commit both.
/// Spawned, the opening completes even when nobody waits for it any more; the transaction it yields is then dropped
/// on that task, which queues its `ROLLBACK`, and the pool flushes that before it hands the connection out again.
async fn begin_to_completion(db: &DatabaseConnection, deadline: Duration) -> Result<DatabaseTransaction, RepoError> {
    let db = db.clone();
    let opening = tokio::spawn(async move { db.begin().await });
    match tokio::time::timeout(deadline, opening).await {
        Ok(Ok(opened)) => opened.map_err(map_db_err),
        Ok(Err(joined)) => Err(RepoError::unexpected(joined)),
        Err(_) => Err(RepoError::unavailable(crate::error::StatementDeadline(deadline))),
    }
}

/// How long the health probe waits for `SELECT 1`.
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

#[async_trait]
impl HealthProbe for PgStorage {
    async fn check(&self) -> ComponentHealth {
        let started = Instant::now();
        let up = matches!(tokio::time::timeout(PROBE_TIMEOUT, self.db.execute_unprepared("SELECT 1")).await, Ok(Ok(_)));
        ComponentHealth { up, kind: "postgres", latency: started.elapsed() }
    }
}
