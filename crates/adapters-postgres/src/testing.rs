//! Test support (feature `testing`): a fresh, migrated database per test, created from a template and dropped after.
//!
//! The server comes from `TEST_DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`). The template is
//! named after a hash of the migrations' source, so it is built once (under an advisory lock) and reused by every test
//! process until the schema changes; each test then costs one `CREATE DATABASE ... TEMPLATE`. Templates of other
//! schemas are dropped only once they are a day old, since another checkout may still be using them.

use std::sync::{Arc, Mutex, PoisonError};

use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, Statement};
use tokio::sync::OnceCell;
use uuid::Uuid;

use crate::{PgSettings, PgStorage, connect_pool, migrate};

/// Serialises template builds across test processes.
const TEMPLATE_LOCK_KEY: i64 = 0x7466_5f74_706c; // "tf_tpl"

static TEMPLATE: OnceCell<String> = OnceCell::const_new();

/// The server URL tests use, without a database name.
fn server_url() -> String {
    let url =
        std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    match url.rfind('/') {
        Some(i) if i > "postgres://".len() => url[..i].to_owned(),
        _ => url,
    }
}

async fn admin(db: &str) -> DatabaseConnection {
    let mut opts = ConnectOptions::new(format!("{}/{db}", server_url()));
    opts.max_connections(1).min_connections(0).sqlx_logging(false);
    match Database::connect(opts).await {
        Ok(c) => c,
        Err(e) => panic!("cannot reach PostgreSQL at {}: {e}", server_url()),
    }
}

async fn exec(conn: &DatabaseConnection, sql: &str) {
    if let Err(e) = conn.execute_unprepared(sql).await {
        panic!("{sql}: {e}");
    }
}

async fn template() -> String {
    // The fingerprint of every file under src/migration, made by build.rs.
    let name = format!("taskflow_tpl_{}", env!("TASKFLOW_MIGRATIONS_FINGERPRINT"));
    let conn = admin("postgres").await;
    exec(&conn, &format!("SELECT pg_advisory_lock({TEMPLATE_LOCK_KEY})")).await;
    let exists = conn
        .query_one_raw(crate::rows::stmt("SELECT 1 AS one FROM pg_database WHERE datname = $1", [name.clone().into()]))
        .await
        .map(|row| row.is_some())
        .unwrap_or(false);
    if !exists {
        drop_stale_templates(&conn, &name).await;
        let building = format!("{name}_building");
        exec(&conn, &format!("DROP DATABASE IF EXISTS \"{building}\" WITH (FORCE)")).await;
        exec(&conn, &format!("CREATE DATABASE \"{building}\"")).await;
        let db = admin(&building).await;
        if let Err(e) = migrate(&db).await {
            panic!("migrating the test template failed: {e:?}");
        }
        let _ = db.close().await;
        // Stamped with its build time, so that other checkouts know when it is old enough to drop.
        let built = chrono::Utc::now().timestamp();
        exec(&conn, &format!("COMMENT ON DATABASE \"{building}\" IS '{TEMPLATE_NOTE}{built}'")).await;
        // Renamed only once complete, so a crash mid-build never leaves a half-migrated template.
        exec(&conn, &format!("ALTER DATABASE \"{building}\" RENAME TO \"{name}\"")).await;
    }
    exec(&conn, &format!("SELECT pg_advisory_unlock({TEMPLATE_LOCK_KEY})")).await;
    let _ = conn.close().await;
    name
}

/// The start of a template's comment; the build time in Unix seconds follows.
const TEMPLATE_NOTE: &str = "taskflow test template built at ";

/// How old a template of another schema must be before it is dropped.
const STALE_TEMPLATE_AGE_SECS: i64 = 24 * 3600;

/// Drops the templates of other schemas built more than a day ago. Newer ones, and unstamped ones, may belong to
/// another checkout of another schema version whose tests are running on the same server (dropping their template
/// would fail them, and they would drop ours in turn); they stay.
async fn drop_stale_templates(conn: &DatabaseConnection, current: &str) {
    let others = conn
        .query_all_raw(crate::rows::stmt(
            "SELECT datname, shobj_description(oid, 'pg_database') AS note FROM pg_database \
             WHERE datname LIKE 'taskflow\\_tpl\\_%' AND datname <> $1",
            [current.to_owned().into()],
        ))
        .await
        .unwrap_or_default();
    let now = chrono::Utc::now().timestamp();
    for row in others {
        let (Ok(old), Ok(Some(note))) =
            (row.try_get::<String>("", "datname"), row.try_get::<Option<String>>("", "note"))
        else {
            continue;
        };
        let built = note.strip_prefix(TEMPLATE_NOTE).and_then(|t| t.parse::<i64>().ok());
        if built.is_some_and(|built| now - built > STALE_TEMPLATE_AGE_SECS) {
            let _ = conn.execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{old}\" WITH (FORCE)")).await;
        }
    }
}

/// Drops its test database when dropped (from a helper thread, so it works inside and outside a runtime).
#[derive(Debug)]
pub struct DropGuard {
    name: String,
}

impl DropGuard {
    /// The database's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for DropGuard {
    fn drop(&mut self) {
        let name = self.name.clone();
        let dropper = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
            rt.block_on(async {
                let conn = admin("postgres").await;
                let _ = conn.execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).await;
                let _ = conn.close().await;
            });
        });
        let _ = dropper.join();
    }
}

/// Creates a fresh, migrated, empty database and returns its URL and the guard that drops it.
///
/// # Panics
/// When PostgreSQL cannot be reached or the template cannot be built: a test cannot run without them.
pub async fn fresh_database() -> (String, DropGuard) {
    let tpl = TEMPLATE.get_or_init(template).await.clone();
    let name = format!("t_{}", Uuid::new_v4().simple());
    let conn = admin("postgres").await;
    exec(&conn, &format!("CREATE DATABASE \"{name}\" TEMPLATE \"{tpl}\"")).await;
    let _ = conn.close().await;
    (format!("{}/{name}", server_url()), DropGuard { name })
}

/// Settings for a test database: a small pool.
#[must_use]
pub fn test_settings(url: &str) -> PgSettings {
    PgSettings { max_connections: 8, min_connections: 0, ..PgSettings::new(url) }
}

/// Storage on a fresh database that is dropped with the storage's last clone.
///
/// # Panics
/// When PostgreSQL cannot be reached.
pub async fn fresh_storage() -> PgStorage {
    fresh_storage_with(test_settings).await
}

/// [`fresh_storage`] with custom pool settings, made from the database's URL.
///
/// # Panics
/// When PostgreSQL cannot be reached.
pub async fn fresh_storage_with(settings: impl FnOnce(&str) -> PgSettings) -> PgStorage {
    let (url, guard) = fresh_database().await;
    let settings = settings(&url);
    match connect_pool(&settings).await {
        Ok(db) => PgStorage::new(db).with_statement_timeout(settings.statement_timeout).leasing(guard),
        Err(e) => panic!("cannot connect to the test database: {e:?}"),
    }
}

/// Every SQL statement a pool ran, recorded through SeaORM's metric callback (`BEGIN`/`COMMIT` are not
/// statements SeaORM reports, so units of work count only their own statements).
#[derive(Debug, Clone, Default)]
pub struct StatementLog(Arc<Mutex<Vec<Statement>>>);

impl StatementLog {
    /// The statements (with their parameters) recorded since the last call, which clears the log.
    #[must_use]
    pub fn take(&self) -> Vec<Statement> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

/// [`fresh_storage`] with every statement recorded in the returned log.
///
/// # Panics
/// When PostgreSQL cannot be reached.
pub async fn fresh_storage_counting() -> (PgStorage, StatementLog) {
    let (url, guard) = fresh_database().await;
    let db = match connect_pool(&test_settings(&url)).await {
        Ok(db) => db,
        Err(e) => panic!("cannot connect to the test database: {e:?}"),
    };
    let log = StatementLog::default();
    let sink = log.clone();
    let storage = PgStorage::new(db).with_metric_callback(move |info| {
        sink.0.lock().unwrap_or_else(PoisonError::into_inner).push(info.statement.clone());
    });
    (storage.leasing(guard), log)
}

/// Round trips on the wire: a proxy between a pool and PostgreSQL that counts the messages after which a client
/// waits for the server, a simple `Query` (`BEGIN`, `COMMIT`, ...) or a `Sync` (the end of an extended-protocol
/// exchange: one prepared statement's execution, or a pool's ping). The relays' wake-up ([`crate::WAKE_SQL`]), sent
/// after a request's statement by a task that the request does not wait for, is not counted. Connect a pool to
/// [`RoundTripCounter::url`].
#[derive(Debug, Clone)]
pub struct RoundTripCounter {
    url: String,
    count: Arc<std::sync::atomic::AtomicU64>,
}

impl RoundTripCounter {
    /// A proxy to the server of `url` (a `postgres://` URL without TLS), listening on a free loopback port.
    ///
    /// # Panics
    /// When no port can be bound or `url` names no `host:port`.
    pub async fn start(url: &str) -> Self {
        let (scheme_user, rest) = url.split_once('@').expect("a URL with user@host");
        let (authority, path) = rest.split_once('/').expect("a URL with a database");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind the proxy");
        let local = listener.local_addr().expect("the proxy's address");
        let count = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let upstream = authority.to_owned();
        let counter = Arc::clone(&count);
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let upstream = upstream.clone();
                let counter = Arc::clone(&counter);
                tokio::spawn(async move {
                    let Ok(server) = tokio::net::TcpStream::connect(&upstream).await else { return };
                    let (client_read, client_write) = client.into_split();
                    let (server_read, mut server_write) = server.into_split();
                    let down = tokio::spawn(async move {
                        let (mut from, mut to) = (server_read, client_write);
                        let _ = tokio::io::copy(&mut from, &mut to).await;
                    });
                    let _ = forward_counting(client_read, &mut server_write, &counter).await;
                    down.abort();
                });
            }
        });
        Self { url: format!("{scheme_user}@{local}/{path}"), count }
    }

    /// The URL to connect through the proxy.
    #[must_use]
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Round trips since the last call, which resets the count.
    #[must_use]
    pub fn take(&self) -> u64 {
        self.count.swap(0, std::sync::atomic::Ordering::SeqCst)
    }
}

/// Copies the client's messages to the server, counting `Query` (except the relays' wake-up) and `Sync`. The
/// first message (startup) has no type byte.
async fn forward_counting(
    mut from: tokio::net::tcp::OwnedReadHalf,
    to: &mut tokio::net::tcp::OwnedWriteHalf,
    count: &std::sync::atomic::AtomicU64,
) -> std::io::Result<()> {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut started = false;
    loop {
        let mut header = [0_u8; 5];
        let (kind, length) = if started {
            from.read_exact(&mut header).await?;
            (header[0], u32::from_be_bytes([header[1], header[2], header[3], header[4]]))
        } else {
            from.read_exact(&mut header[1..]).await?;
            started = true;
            (0, u32::from_be_bytes([header[1], header[2], header[3], header[4]]))
        };
        let mut body = vec![0_u8; (length as usize).saturating_sub(4)];
        from.read_exact(&mut body).await?;
        // The relays' wake-up is sent after a request's statement by a task of the storage, which the request does
        // not wait for (`wake.rs`): not one of its round trips.
        let wake = kind == b'Q' && body.strip_suffix(&[0]) == Some(crate::WAKE_SQL.as_bytes());
        if (kind == b'Q' && !wake) || kind == b'S' {
            count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
        if kind == 0 {
            to.write_all(&header[1..]).await?;
        } else {
            to.write_all(&header).await?;
        }
        to.write_all(&body).await?;
    }
}
