//! With the database unreachable, TaskFlow answers 503 with Retry-After (never a 500 or a hang) and recovers
//! by itself when the database returns (issue 3).

mod common;

use std::time::{Duration, Instant};

use common::{Deployment, bearer};
use reqwest::StatusCode;
use serde_json::{Value, json};
use taskflow_adapters_redis::testing::{TcpProxy, redis_url};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_unreachable_database_gives_503_with_retry_after_and_recovery_needs_no_restart() {
    // Arrange: the service reaches PostgreSQL through a proxy the test controls, with short timeouts
    let proxy = TcpProxy::start_to("127.0.0.1:5432".parse().unwrap()).await;
    let mut d = Deployment::new(&redis_url(), 1000).await;
    let direct = d.config.database_url.take().unwrap();
    let proxied = direct.expose().replace("127.0.0.1:5432", &proxy.addr().to_string());
    d.config.database_url = Some(proxied.into());
    d.config.database_acquire_timeout_ms = 1000;
    d.config.database_statement_timeout_ms = 1000;
    let app = d.start().await;
    let auth = d.register(&app, "ann@example.com").await;
    let list = || d.client.get(format!("{}/tasks", app.base)).header("authorization", bearer(&auth));

    // Act: cut the database
    proxy.cut();
    let started = Instant::now();
    let during = d.send(list()).await;
    let took = started.elapsed();
    let status = during.status();
    let retry_after = during.headers().get("retry-after").cloned();
    let problem: Value = during.json().await.unwrap();
    let create = d
        .send(
            d.client
                .post(format!("{}/tasks", app.base))
                .header("authorization", bearer(&auth))
                .json(&json!({"title": "x"})),
        )
        .await;
    let ready = d.send(d.client.get(format!("{}/health/ready", app.base))).await;

    // Assert
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{problem}");
    assert!(retry_after.is_some(), "503 carries Retry-After");
    assert_eq!(problem["status"], 503);
    assert!(took < Duration::from_secs(5), "answered within the acquire timeout, not a hang: {took:?}");
    assert_eq!(create.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    let ready: Value = ready.json().await.unwrap();
    assert_eq!(ready["status"], "down", "the readiness report itself, not a generic problem: {ready}");
    assert_eq!(ready["checks"]["database"]["status"], "down");
    assert!(ready["checks"]["redis"].is_object());

    // Act: the database returns
    proxy.restore();
    let mut recovered = StatusCode::SERVICE_UNAVAILABLE;
    for _ in 0..20 {
        recovered = d.send(list()).await.status();
        if recovered == StatusCode::OK {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(recovered, StatusCode::OK, "the pool reconnects by itself");
    d.clean_redis().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_statement_on_a_silent_database_is_unavailable_within_the_statement_timeout_and_its_connection_is_dropped() {
    use taskflow_adapters_postgres::testing::fresh_database;
    use taskflow_adapters_postgres::{PgSettings, connect};
    use taskflow_domain::ports::UnitOfWork as _;
    use taskflow_domain::{RepoError, UserId};

    // Arrange: storage through a proxy, with a unit of work holding a connection when the database falls silent
    let proxy = TcpProxy::start_to("127.0.0.1:5432".parse().unwrap()).await;
    let (url, _guard) = fresh_database().await;
    let settings = PgSettings {
        max_connections: 2,
        min_connections: 0,
        acquire_timeout: Duration::from_secs(1),
        statement_timeout: Duration::from_secs(1),
        ..PgSettings::new(url.replace("127.0.0.1:5432", &proxy.addr().to_string()))
    };
    let s = connect(&settings).await.expect("connect");
    let tx = s.begin().await.expect("begin");
    proxy.blackhole();

    // Act: a statement goes out and no answer ever comes
    let started = Instant::now();
    let err = tx.users().find_for_update(UserId::from_uuid(uuid::Uuid::now_v7())).await.expect_err("no answer");
    let took = started.elapsed();
    drop(tx);

    // Assert: unavailable after the statement timeout (plus a margin), not when the kernel gives up on the socket
    assert!(matches!(err, RepoError::Unavailable(_)), "{err:?}");
    assert!(took >= Duration::from_secs(1), "the server's own timeout was given its chance: {took:?}");
    assert!(took < Duration::from_secs(2), "the statement timeout bounds a silent database too: {took:?}");
    // The silent connection leaves the pool instead of holding its slot (or being handed out again).
    let pool = s.connection().get_postgres_connection_pool().clone();
    let mut size = pool.size();
    for _ in 0..40 {
        if size == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        size = pool.size();
    }
    assert_eq!(size, 0, "the connection that did not answer was closed while the database was still silent");

    // And once the database answers again, fresh connections serve at once.
    proxy.restore();
    let tx = s.begin().await.expect("a fresh connection after the stall");
    tx.users().find_for_update(UserId::from_uuid(uuid::Uuid::now_v7())).await.expect("answers again");
}
