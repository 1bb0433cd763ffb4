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
