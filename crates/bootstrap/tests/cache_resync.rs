//! No stale cached reads after a Redis partition (issue 7, point 3): writes made while Redis was cut are read at
//! once after it returns, on the instance that made them and, as soon as its owed invalidation lands (retried
//! periodically), on others.

mod common;

use std::time::{Duration, Instant};

use common::{Deployment, bearer, wait_for_breaker};
use reqwest::StatusCode;
use serde_json::{Value, json};
use taskflow_adapters_redis::redis::AsyncCommands as _;
use taskflow_adapters_redis::testing::{TcpProxy, redis_url};
use tokio_util::sync::CancellationToken;

/// A deployment whose entries live far longer than the test, so a stale read cannot hide behind a TTL.
async fn deployment(redis_url: &str) -> Deployment {
    let mut d = Deployment::new(redis_url, 1000).await;
    d.config.cache_ttl_secs = 120;
    d
}

/// An instance started on a configuration of its own, stopped when dropped.
struct Started {
    base: String,
    stop: CancellationToken,
}

impl Drop for Started {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

async fn start(config: &taskflow::Config) -> Started {
    let app = taskflow::Application::build(config).await.expect("the instance builds");
    let base = format!("http://127.0.0.1:{}", app.port());
    let stop = CancellationToken::new();
    tokio::spawn(app.run_until_stopped(stop.clone()));
    Started { base, stop }
}

/// The global generation (0 when absent).
async fn global_generation(d: &Deployment) -> u64 {
    let client = taskflow_adapters_redis::redis::Client::open(redis_url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let value: Option<u64> = conn.get(format!("{}:cache:gen:all", d.config.redis_key_prefix)).await.unwrap();
    value.unwrap_or(0)
}

/// The title of the task, the titles of the first page and the total of the stats, as `on` serves them.
async fn reads(d: &Deployment, on: &str, auth: &Value, id: &str) -> (String, Vec<String>, u64) {
    let get = |path: String| d.client.get(format!("{on}{path}")).header("authorization", bearer(auth));
    let task: Value = d.send(get(format!("/tasks/{id}"))).await.json().await.unwrap();
    let list: Value = d.send(get("/tasks?sort=title&order=asc".into())).await.json().await.unwrap();
    let stats: Value = d.send(get("/tasks/stats".into())).await.json().await.unwrap();
    let titles = list["data"].as_array().unwrap().iter().map(|t| t["title"].as_str().unwrap().to_owned()).collect();
    (task["title"].as_str().unwrap().to_owned(), titles, stats["total"].as_u64().unwrap())
}

fn expected(title: &str, titles: &[&str], total: u64) -> (String, Vec<String>, u64) {
    (title.to_owned(), titles.iter().map(|&t| t.to_owned()).collect(), total)
}

async fn create(d: &Deployment, on: &str, auth: &Value, title: &str) -> String {
    let req = d.client.post(format!("{on}/tasks")).header("authorization", bearer(auth));
    let created = d.send(req.json(&json!({"title": title}))).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    created.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned()
}

async fn retitle(d: &Deployment, on: &str, auth: &Value, id: &str, title: &str) {
    let req = d.client.patch(format!("{on}/tasks/{id}")).header("authorization", bearer(auth));
    assert_eq!(d.send(req.json(&json!({"title": title}))).await.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn writes_made_while_redis_was_cut_are_read_at_once_after_it_returns() {
    // Arrange: the list and the stats are cached in Redis (a task by id is read from the database)
    let proxy = TcpProxy::start().await;
    let d = deployment(&proxy.url()).await;
    let app = d.start().await;
    let auth = d.register(&app, "ann@example.com").await;
    let id = create(&d, &app.base, &auth, "before").await;
    for _ in 0..2 {
        assert_eq!(reads(&d, &app.base, &auth, &id).await, expected("before", &["before"], 1));
    }
    assert!(!d.redis_keys("cache:list:*").await.is_empty(), "the list is cached");
    assert!(!d.redis_keys("cache:stats:*").await.is_empty(), "the stats are cached");
    let generation = global_generation(&d).await;

    // Act: Redis is cut (it keeps its data) while the task changes and another one is created
    proxy.cut();
    retitle(&d, &app.base, &auth, &id, "after").await;
    create(&d, &app.base, &auth, "new").await;
    proxy.restore();

    // Assert: fresh at once, and still fresh once the client's breaker lets Redis be used again
    let fresh = expected("after", &["after", "new"], 2);
    assert_eq!(reads(&d, &app.base, &auth, &id).await, fresh, "right after the restore");
    wait_for_breaker().await;
    for _ in 0..2 {
        assert_eq!(reads(&d, &app.base, &auth, &id).await, fresh, "with Redis in use again");
    }
    assert!(global_generation(&d).await > generation, "the owed invalidation was delivered");
    d.clean_redis().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn another_instance_reads_the_write_once_the_partitioned_one_delivers_its_invalidation() {
    // Arrange: A reaches Redis through a proxy, B directly; B has the task cached
    let proxy = TcpProxy::start().await;
    let d = deployment(&proxy.url()).await;
    let a = d.start().await;
    let mut direct = d.config.clone();
    direct.redis_url = Some(redis_url().into());
    let b = start(&direct).await;
    let auth = d.register(&a, "ann@example.com").await;
    let id = create(&d, &a.base, &auth, "before").await;
    for _ in 0..2 {
        assert_eq!(reads(&d, &b.base, &auth, &id).await, expected("before", &["before"], 1));
    }

    // Act: A is partitioned from Redis while it changes the task, then the link returns
    proxy.cut();
    retitle(&d, &a.base, &auth, &id, "after").await;
    proxy.restore();
    let restored = Instant::now();

    // Assert: with no request on A, B reads the write within the breaker's cool-down plus the resync period, far
    // sooner than the 120 s TTL (A's periodic resync delivers the owed invalidation)
    let fresh = expected("after", &["after"], 1);
    let deadline = Duration::from_secs(30);
    loop {
        if reads(&d, &b.base, &auth, &id).await == fresh {
            break;
        }
        assert!(restored.elapsed() < deadline, "B still serves the stale entry {deadline:?} after the restore");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(reads(&d, &a.base, &auth, &id).await, fresh);
    d.clean_redis().await;
}
