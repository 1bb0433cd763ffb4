//! Losing Redis degrades TaskFlow without breaking it, and it recovers without a restart (issue 4).

mod common;

use common::{Deployment, bearer, wait_for_breaker};
use reqwest::StatusCode;
use serde_json::{Value, json};
use taskflow_adapters_redis::testing::TcpProxy;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn with_redis_cut_tasks_keep_working_readiness_is_degraded_and_everything_resumes_after() {
    // Arrange: the service reaches Redis through a proxy the test controls
    let proxy = TcpProxy::start().await;
    let d = Deployment::new(&proxy.url(), 1000).await;
    let app = d.start().await;
    let auth = d.register(&app, "ann@example.com").await;
    let call = |m: reqwest::Method, path: &str| {
        d.client.request(m, format!("{}{path}", app.base)).header("authorization", bearer(&auth))
    };
    let ready = d.send(d.client.get(format!("{}/health/ready", app.base))).await.json::<Value>().await.unwrap();
    assert_eq!(ready["status"], "ok");

    // Act: cut Redis, then do full task CRUD
    proxy.cut();
    let mut statuses = Vec::new();
    let created = d.send(call(reqwest::Method::POST, "/tasks").json(&json!({"title": "during outage"}))).await;
    statuses.push(created.status());
    let id = created.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    for (method, path, body) in [
        (reqwest::Method::GET, format!("/tasks/{id}"), None),
        (reqwest::Method::PATCH, format!("/tasks/{id}"), Some(json!({"status": "IN_PROGRESS"}))),
        (reqwest::Method::GET, "/tasks".to_owned(), None),
        (reqwest::Method::GET, "/tasks/stats".to_owned(), None),
        (reqwest::Method::DELETE, format!("/tasks/{id}"), None),
        (reqwest::Method::GET, format!("/tasks/{id}"), None),
    ] {
        let req = call(method, &path);
        let req = match body {
            Some(b) => req.json(&b),
            None => req,
        };
        statuses.push(d.send(req).await.status());
    }
    let ready = d.send(d.client.get(format!("{}/health/ready", app.base))).await;
    let ready_status = ready.status();
    let ready: Value = ready.json().await.unwrap();

    // Assert: right answers, no 5xx, degraded but serving
    assert_eq!(
        statuses,
        [201, 200, 200, 200, 200, 204, 404].map(|s| StatusCode::from_u16(s).unwrap()),
        "task CRUD with Redis cut"
    );
    assert_eq!(ready_status, StatusCode::OK);
    assert_eq!(ready["status"], "degraded");
    assert_eq!(ready["checks"]["redis"]["status"], "down");

    // Act: restore and wait out the breaker's cool-down
    proxy.restore();
    wait_for_breaker().await;
    let created = d.send(call(reqwest::Method::POST, "/tasks").json(&json!({"title": "after"}))).await;
    let id = created.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    for _ in 0..2 {
        assert_eq!(d.send(call(reqwest::Method::GET, &format!("/tasks/{id}"))).await.status(), StatusCode::OK);
        assert_eq!(d.send(call(reqwest::Method::GET, "/tasks")).await.status(), StatusCode::OK);
    }

    // Assert: the shared cache and limiter are in use again, without a restart
    let ready = d.send(d.client.get(format!("{}/health/ready", app.base))).await.json::<Value>().await.unwrap();
    assert_eq!(ready["status"], "ok");
    assert!(!d.redis_keys("cache:list:*").await.is_empty(), "reads are cached in Redis again");
    assert!(!d.redis_keys("rl:*").await.is_empty(), "the shared limiter counts in Redis again");
    d.clean_redis().await;
}
