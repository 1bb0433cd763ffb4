//! Round trips to PostgreSQL per request (issue 11), counted on the wire by a proxy between the instance and the
//! database: every simple query (`BEGIN`, `COMMIT`, ...) and every extended-protocol `Sync` (a statement's execution,
//! or a pool's ping) is one. A change that adds one to a request fails here, without a load test.
//!
//! Each request is sent 16 times after a warm-up (statements are prepared once per connection), and the
//! smallest count is kept, so that a background task's occasional statement (the live-event hub's poll, the
//! revocation refresh) cannot be counted against a request.
//!
//! The budgets are issue 11's: the statements of each request, and nothing for the pool. Single statements run on
//! connections held out of sqlx's pool, which are given back without a round trip (`held.rs` in the PostgreSQL
//! adapter); only a transaction's connection comes from sqlx's pool, which checks every connection given back to
//! it with a `Sync` (not configurable in sqlx 0.9), after the answer is sent: one more round trip per transaction.

mod common;

use common::{Deployment, Instance, bearer};
use reqwest::Method;
use serde_json::{Value, json};
use taskflow_adapters_postgres::testing::RoundTripCounter;
use taskflow_adapters_redis::testing::redis_url;

const SAMPLES: usize = 16;

/// The fewest round trips that `request` took over [`SAMPLES`] runs (after one to warm up).
async fn fewest<F, Fut, T>(counter: &RoundTripCounter, mut request: F) -> u64
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let _ = request(0).await;
    let mut fewest = u64::MAX;
    for i in 1..=SAMPLES {
        settle().await;
        let _ = counter.take();
        let _ = request(i).await;
        // What the server does after answering (the pool's check of a released connection) counts too.
        settle().await;
        fewest = fewest.min(counter.take());
    }
    fewest
}

async fn settle() {
    tokio::time::sleep(std::time::Duration::from_millis(40)).await;
}

struct Client<'a> {
    d: &'a Deployment,
    app: &'a Instance,
    auth: String,
}

impl Client<'_> {
    async fn call(&self, method: Method, path: impl Into<String>, body: Option<Value>, expected: u16) -> Value {
        let path = path.into();
        let mut request = self
            .d
            .client
            .request(method.clone(), format!("{}{path}", self.app.base))
            .header("authorization", &self.auth);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = self.d.send(request).await;
        assert_eq!(response.status().as_u16(), expected, "{method} {path}");
        response.json().await.unwrap_or(Value::Null)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_request_takes_its_budget_of_round_trips() {
    // Arrange: an instance on PostgreSQL only (no Redis: the cache would answer some reads), through the counter.
    let mut d = Deployment::new(&redis_url(), 1_000_000).await;
    d.config.redis_url = None;
    let direct = d.config.database_url.take().expect("a database");
    let counter = RoundTripCounter::start(direct.expose()).await;
    d.config.database_url = Some(counter.url().to_owned().into());
    let app = d.start().await;
    let auth = d.register(&app, "ann@example.com").await;
    let c = Client { d: &d, app: &app, auth: bearer(&auth) };
    let mut ids = Vec::new();
    // 40 tasks to read, update and delete one by one, then 5 for each batch sample (warm-up included) of the two
    // batch actions, so that every batch changes tasks.
    for i in 0..40 + 2 * 5 * (SAMPLES + 1) {
        let task = c.call(Method::POST, "/tasks", Some(json!({"title": format!("task {i}")})), 201).await;
        ids.push(task["id"].as_str().unwrap().to_owned());
    }

    // Act
    let get = fewest(&counter, |i| c.call(Method::GET, format!("/tasks/{}", ids[i]), None, 200)).await;
    let keyset = fewest(&counter, |_| c.call(Method::GET, "/tasks?cursor=&limit=20", None, 200)).await;
    let offset = fewest(&counter, |_| c.call(Method::GET, "/tasks?page=2&limit=20", None, 200)).await;
    let create =
        fewest(&counter, |i| c.call(Method::POST, "/tasks", Some(json!({"title": format!("new {i}")})), 201)).await;
    let update = fewest(&counter, |i| {
        c.call(Method::PATCH, format!("/tasks/{}", ids[10 + i]), Some(json!({"priority": "HIGH"})), 200)
    })
    .await;
    let delete = fewest(&counter, |i| c.call(Method::DELETE, format!("/tasks/{}", ids[20 + i]), None, 204)).await;
    let batch_of = |action: &'static str, i: usize| {
        let first = 40 + 5 * (i + if action == "complete" { 0 } else { SAMPLES + 1 });
        let tasks = &ids[first..first + 5];
        c.call(Method::POST, "/tasks/batch", Some(json!({"action": action, "tasks": tasks})), 200)
    };
    let batch_complete = fewest(&counter, |i| batch_of("complete", i)).await;
    let batch_delete = fewest(&counter, |i| batch_of("delete", i)).await;
    let stats = fewest(&counter, |_| c.call(Method::GET, "/tasks/stats", None, 200)).await;

    // Assert
    let measured = [
        ("get", get),
        ("keyset page", keyset),
        ("offset page", offset),
        ("create", create),
        ("update", update),
        ("delete", delete),
        ("batch complete", batch_complete),
        ("batch delete", batch_delete),
        ("stats", stats),
    ];
    println!("round trips per request: {measured:?}");
    // Statements, plus the pool's check of a transaction's connection.
    let budget = [
        ("get", 1),
        ("keyset page", 1),
        ("offset page", 1),
        ("create", 1),
        ("update", 2),
        ("delete", 1),
        ("batch complete", 2),
        ("batch delete", 2),
        ("stats", 1),
    ];
    let over: Vec<_> =
        measured.iter().zip(budget).filter(|((_, got), (_, most))| got > most).map(|(m, b)| (m.0, m.1, b.1)).collect();
    assert!(over.is_empty(), "over budget (request, round trips, budget): {over:?}");
}
