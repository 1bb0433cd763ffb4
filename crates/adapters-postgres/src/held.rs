//! Connections held out of sqlx's pool for single statements, so that giving one back costs no round trip.
//!
//! sqlx's pool checks every connection given back to it with a round trip (a `Sync`; not configurable in sqlx 0.9),
//! which doubles the round trips of a one-statement request. [`Held`] keeps up to `cap` connections taken from that
//! pool and lends them itself, last given back first lent:
//!
//! - a statement that ran to its end (with rows, or with an error the server answered) gives its connection straight
//!   back to the stack: no round trip;
//! - one that did not (dropped at an `.await` by a gone client, a timeout or shutdown; past its deadline; failed on
//!   the connection itself) hands it to sqlx's pool instead, whose check on release (see `storage::release_check`)
//!   drains what was left half-read or closes it. So nothing half-done reaches the next statement, and the check is
//!   paid only when something went wrong.
//!
//! Only single statements run here (each commits on its own: no transaction can be left open). Transactions and
//! background jobs take their connections from sqlx's pool, and `cap` leaves at least a quarter of the pool to them,
//! so neither side can starve the other. A connection idle on the stack longer than the pool's idle timeout goes
//! back to the pool (which closes it by the same rule) the next time the stack is used.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use sea_orm::sea_query::Values;
use sea_orm::sqlx::pool::PoolConnection;
use sea_orm::sqlx::{self, PgPool, Postgres};
use sea_orm::{
    ConnAcquireErr, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, ExecResult, QueryResult, RuntimeErr,
    Statement,
};
use sea_query_sqlx::SqlxValues;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The single-statement connections of one pool (cheap to clone).
#[derive(Clone)]
pub(crate) struct Held {
    inner: Arc<Inner>,
}

struct Inner {
    /// The pool's own handle: what a pool of one runs everything on.
    db: DatabaseConnection,
    pool: PgPool,
    /// Connections given back after a statement that ran to its end, the most recent last.
    idle: Mutex<Vec<Parked>>,
    /// At most `cap` connections lent or parked.
    permits: Arc<Semaphore>,
    cap: usize,
    acquire_timeout: Duration,
    idle_timeout: Option<Duration>,
    /// Told of every statement run here, as SeaORM tells the pool's callback (see `PgStorage::with_metric_callback`).
    metric: Option<MetricCallback>,
}

/// What SeaORM calls after each statement.
pub(crate) type MetricCallback = Arc<dyn Fn(&sea_orm::metric::Info<'_>) + Send + Sync>;

struct Parked {
    conn: PoolConnection<Postgres>,
    since: Instant,
}

impl std::fmt::Debug for Held {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Held").field("cap", &self.inner.cap).field("parked", &self.parked()).finish()
    }
}

/// How many of a pool of `max` connections single statements may hold: all but a quarter (at least one), and none
/// of a pool of one (which then serves everything itself).
pub(crate) fn cap_for(max: u32) -> usize {
    let max = usize::try_from(max).unwrap_or(usize::MAX);
    if max < 2 { 0 } else { max - (max / 4).max(1) }
}

impl Held {
    /// Single-statement connections taken from `db`'s pool, at most [`cap_for`] its size.
    pub(crate) fn new(db: &DatabaseConnection, metric: Option<MetricCallback>) -> Self {
        let pool = db.get_postgres_connection_pool().clone();
        let options = pool.options();
        let cap = cap_for(options.get_max_connections());
        let (acquire_timeout, idle_timeout) = (options.get_acquire_timeout(), options.get_idle_timeout());
        let inner = Inner {
            db: db.clone(),
            pool,
            idle: Mutex::new(Vec::with_capacity(cap)),
            permits: Arc::new(Semaphore::new(cap)),
            cap,
            acquire_timeout,
            idle_timeout,
            metric,
        };
        Self { inner: Arc::new(inner) }
    }

    /// Connections parked now, idle between statements.
    pub(crate) fn parked(&self) -> usize {
        self.inner.idle.lock().unwrap_or_else(PoisonError::into_inner).len()
    }

    /// Lends a connection: a parked one if there is one, else a new one from the pool; waits at most the pool's
    /// acquire timeout for either. `None` when single statements hold no connections (a pool of one).
    async fn lend(&self) -> Result<Option<Lent>, DbErr> {
        if self.inner.cap == 0 {
            return Ok(None);
        }
        let inner = &self.inner;
        let lending = async {
            let permit = inner.permits.clone().acquire_owned().await.map_err(|_| closed())?;
            let conn = match inner.take_parked() {
                Some(conn) => conn,
                None => inner.pool.acquire().await.map_err(acquire_error)?,
            };
            Ok(Lent { conn: Some(conn), finished: false, held: Arc::clone(inner), _permit: permit })
        };
        match tokio::time::timeout(inner.acquire_timeout, lending).await {
            Ok(lent) => lent.map(Some),
            Err(_) => Err(DbErr::ConnectionAcquire(ConnAcquireErr::Timeout)),
        }
    }
}

impl Inner {
    /// Tells the metric callback, if any, that `stmt` ran since `started`.
    fn report<T, E>(&self, stmt: &Statement, started: Instant, done: &Result<T, E>) {
        if let Some(metric) = &self.metric {
            metric(&sea_orm::metric::Info { elapsed: started.elapsed(), statement: stmt, failed: done.is_err() });
        }
    }

    /// `stmt` as sqlx's prepared query (as SeaORM binds it). Its values move into the query, unless a metric
    /// callback will be shown the statement afterwards.
    fn query<'s>(&self, stmt: &'s mut Statement) -> sqlx::query::Query<'s, Postgres, SqlxValues> {
        let values = if self.metric.is_some() { stmt.values.clone() } else { stmt.values.take() };
        sqlx::query_with(sqlx::AssertSqlSafe(stmt.sql.as_str()), SqlxValues(values.unwrap_or(Values(Vec::new()))))
    }

    /// The most recently parked connection, after giving back to the pool every one parked for longer than the
    /// idle timeout. The stack is in the order connections were parked, so those are at its bottom.
    fn take_parked(&self) -> Option<PoolConnection<Postgres>> {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        let stale = self.idle_timeout.map_or(0, |limit| idle.iter().take_while(|p| p.since.elapsed() >= limit).count());
        let stale: Vec<Parked> = idle.drain(..stale).collect();
        let fresh = idle.pop();
        drop(idle);
        // Dropped outside the lock: each goes back to the pool, which closes it past its own idle timeout.
        drop(stale);
        fresh.map(|parked| parked.conn)
    }
}

/// A lent connection. Dropped after its statement ran to its end, it is parked; otherwise it goes back to the pool.
struct Lent {
    conn: Option<PoolConnection<Postgres>>,
    finished: bool,
    held: Arc<Inner>,
    _permit: OwnedSemaphorePermit,
}

impl Lent {
    fn conn(&mut self) -> &mut sqlx::PgConnection {
        self.conn.as_mut().expect("a lent connection is present until dropped")
    }

    /// Marks the connection ready for the next statement if the server answered this one (with rows, or with an
    /// error of its own); an I/O or protocol failure leaves it to the pool's check.
    fn settle<T>(&mut self, done: &Result<T, sqlx::Error>) {
        self.finished = matches!(done, Ok(_) | Err(sqlx::Error::Database(_)));
    }
}

impl Drop for Lent {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else { return };
        if self.finished && !self.held.pool.is_closed() {
            let mut idle = self.held.idle.lock().unwrap_or_else(PoisonError::into_inner);
            idle.push(Parked { conn, since: Instant::now() });
        }
        // Otherwise `conn` drops here: sqlx's pool checks it (draining what a dropped statement left) or closes it.
    }
}

fn acquire_error(error: sqlx::Error) -> DbErr {
    match error {
        sqlx::Error::PoolTimedOut => DbErr::ConnectionAcquire(ConnAcquireErr::Timeout),
        sqlx::Error::PoolClosed => closed(),
        other => DbErr::Conn(RuntimeErr::SqlxError(Arc::new(other))),
    }
}

fn closed() -> DbErr {
    DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed)
}

fn query_error(error: sqlx::Error) -> DbErr {
    DbErr::Query(RuntimeErr::SqlxError(Arc::new(error)))
}

fn exec_error(error: sqlx::Error) -> DbErr {
    DbErr::Exec(RuntimeErr::SqlxError(Arc::new(error)))
}

#[async_trait]
impl ConnectionTrait for Held {
    fn get_database_backend(&self) -> DbBackend {
        DbBackend::Postgres
    }

    async fn execute_raw(&self, mut stmt: Statement) -> Result<ExecResult, DbErr> {
        let Some(mut lent) = self.lend().await? else { return self.inner.db.execute_raw(stmt).await };
        let started = Instant::now();
        let done = self.inner.query(&mut stmt).execute(lent.conn()).await;
        lent.settle(&done);
        self.inner.report(&stmt, started, &done);
        done.map(ExecResult::from).map_err(exec_error)
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        // Not a hot path: the pool's own.
        self.inner.db.execute_unprepared(sql).await
    }

    async fn query_one_raw(&self, mut stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        let Some(mut lent) = self.lend().await? else { return self.inner.db.query_one_raw(stmt).await };
        let started = Instant::now();
        let done = self.inner.query(&mut stmt).fetch_optional(lent.conn()).await;
        lent.settle(&done);
        self.inner.report(&stmt, started, &done);
        done.map(|row| row.map(QueryResult::from)).map_err(query_error)
    }

    async fn query_all_raw(&self, mut stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        let Some(mut lent) = self.lend().await? else { return self.inner.db.query_all_raw(stmt).await };
        let started = Instant::now();
        let done = self.inner.query(&mut stmt).fetch_all(lent.conn()).await;
        lent.settle(&done);
        self.inner.report(&stmt, started, &done);
        done.map(|rows| rows.into_iter().map(QueryResult::from).collect()).map_err(query_error)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use sea_orm::{ConnectionTrait, DbBackend, Statement};

    use super::cap_for;
    use crate::PgSettings;
    use crate::testing::{fresh_storage_with, test_settings};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn connections_parked_past_the_idle_timeout_go_back_to_the_pool_even_below_a_fresh_one() {
        // Arrange: three connections parked at once, then the top one used again, so that it is fresh and the two
        // below it are past the idle timeout.
        let s = fresh_storage_with(|url| PgSettings {
            max_connections: 8,
            idle_timeout: Duration::from_millis(300),
            ..test_settings(url)
        })
        .await;
        let statement = || Statement::from_string(DbBackend::Postgres, "SELECT pg_sleep(0.05)");
        let (a, b, c) = tokio::join!(
            s.held.query_one_raw(statement()),
            s.held.query_one_raw(statement()),
            s.held.query_one_raw(statement())
        );
        assert!(a.is_ok() && b.is_ok() && c.is_ok());
        assert_eq!(s.held.parked(), 3);
        tokio::time::sleep(Duration::from_millis(200)).await;
        s.held.query_one_raw(statement()).await.expect("a statement");
        tokio::time::sleep(Duration::from_millis(200)).await;

        // Act
        s.held.query_one_raw(statement()).await.expect("a statement");

        // Assert
        assert_eq!(s.held.parked(), 1, "the two stale connections went back to the pool");
    }

    #[test]
    fn single_statements_leave_at_least_a_quarter_of_the_pool_to_the_rest() {
        assert_eq!(cap_for(0), 0);
        assert_eq!(cap_for(1), 0);
        assert_eq!(cap_for(2), 1);
        assert_eq!(cap_for(4), 3);
        assert_eq!(cap_for(20), 15);
        assert_eq!(cap_for(21), 16);
    }
}
