//! Two instances behind one PostgreSQL database and one Redis behave as one service (issue 4).

mod common;

use common::{Deployment, bearer};
use reqwest::StatusCode;
use serde_json::{Value, json};
use taskflow_adapters_redis::testing::redis_url;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_token_issued_by_one_instance_works_on_the_other() {
    // Arrange
    let d = Deployment::new(&redis_url(), 1000).await;
    let (a, b) = (d.start().await, d.start().await);
    let auth = d.register(&a, "ann@example.com").await;
    // Act
    let me = d.send(d.client.get(format!("{}/auth/me", b.base)).header("authorization", bearer(&auth))).await;
    // Assert
    assert_eq!(me.status(), StatusCode::OK);
    d.clean_redis().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_refresh_on_one_instance_and_a_reuse_on_the_other_revokes_the_family() {
    let d = Deployment::new(&redis_url(), 1000).await;
    let (a, b) = (d.start().await, d.start().await);
    let auth = d.register(&a, "ann@example.com").await;
    let refresh = |on: &common::Instance, token: &Value| {
        d.client.post(format!("{}/auth/refresh", on.base)).json(&json!({"refreshToken": token}))
    };

    let rotated = d.send(refresh(&a, &auth["refreshToken"])).await;
    assert_eq!(rotated.status(), StatusCode::OK);
    let rotated: Value = rotated.json().await.unwrap();

    let reuse = d.send(refresh(&b, &auth["refreshToken"])).await;
    assert_eq!(reuse.status(), StatusCode::UNAUTHORIZED, "the consumed token is refused on the other instance");
    let newest = d.send(refresh(&a, &rotated["refreshToken"])).await;
    assert_eq!(newest.status(), StatusCode::UNAUTHORIZED, "reuse revoked the family, newest token included");
    d.clean_redis().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_write_on_one_instance_is_read_at_once_on_the_other_through_the_cache() {
    // Arrange: B has the list and stats cached (and reads the task by id from the database)
    let d = Deployment::new(&redis_url(), 1000).await;
    let (a, b) = (d.start().await, d.start().await);
    let auth = d.register(&a, "ann@example.com").await;
    let created = d
        .send(
            d.client
                .post(format!("{}/tasks", a.base))
                .header("authorization", bearer(&auth))
                .json(&json!({"title": "v1"})),
        )
        .await;
    let id = created.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    let read = |path: String| d.client.get(format!("{}{path}", b.base)).header("authorization", bearer(&auth));
    for _ in 0..2 {
        assert_eq!(d.send(read(format!("/tasks/{id}"))).await.json::<Value>().await.unwrap()["title"], "v1");
        assert_eq!(d.send(read("/tasks".into())).await.json::<Value>().await.unwrap()["data"][0]["title"], "v1");
        assert_eq!(
            d.send(read("/tasks/stats".into())).await.json::<Value>().await.unwrap()["byStatus"]["COMPLETED"],
            0
        );
    }
    assert!(!d.redis_keys("cache:list:*").await.is_empty(), "B cached the list in Redis");

    // Act: A changes it
    let patch = d
        .client
        .patch(format!("{}/tasks/{id}", a.base))
        .header("authorization", bearer(&auth))
        .json(&json!({"title": "v2", "status": "COMPLETED"}));
    assert_eq!(d.send(patch).await.status(), StatusCode::OK);

    // Assert: B shows the write at once, on every cached read
    assert_eq!(d.send(read(format!("/tasks/{id}"))).await.json::<Value>().await.unwrap()["title"], "v2");
    assert_eq!(d.send(read("/tasks".into())).await.json::<Value>().await.unwrap()["data"][0]["title"], "v2");
    assert_eq!(d.send(read("/tasks/stats".into())).await.json::<Value>().await.unwrap()["byStatus"]["COMPLETED"], 1);
    d.clean_redis().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_users_requests_split_across_instances_hit_the_limit_at_exactly_the_configured_count() {
    // Arrange: 7 requests per minute for the deployment as a whole
    let d = Deployment::new(&redis_url(), 7).await;
    let (a, b) = (d.start().await, d.start().await);
    let auth = d.register(&a, "ann@example.com").await;
    // Act: alternate instances
    let mut statuses = Vec::new();
    for i in 0..10 {
        let on = if i % 2 == 0 { &a } else { &b };
        let r = d.send(d.client.get(format!("{}/auth/me", on.base)).header("authorization", bearer(&auth))).await;
        statuses.push((r.status(), r.headers().get("ratelimit-remaining").map(|v| v.to_str().unwrap().to_owned())));
    }
    // Assert
    let allowed = statuses.iter().filter(|(s, _)| *s == StatusCode::OK).count();
    assert_eq!(allowed, 7, "exactly the configured limit across both instances: {statuses:?}");
    assert!(statuses[7..].iter().all(|(s, r)| *s == StatusCode::TOO_MANY_REQUESTS && r.as_deref() == Some("0")));
    assert_eq!(statuses[6].1.as_deref(), Some("0"), "the 7th allowed request leaves none");
    d.clean_redis().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn data_survives_a_restart() {
    // Arrange: a task written by an instance that then stops
    let d = Deployment::new(&redis_url(), 1000).await;
    let first = d.start().await;
    let auth = d.register(&first, "ann@example.com").await;
    let created = d
        .send(
            d.client
                .post(format!("{}/tasks", first.base))
                .header("authorization", bearer(&auth))
                .json(&json!({"title": "kept"})),
        )
        .await;
    let id = created.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    drop(first);
    // Act: a new instance of the same deployment
    let second = d.start().await;
    let login = d
        .send(
            d.client
                .post(format!("{}/auth/login", second.base))
                .json(&json!({"email": "ann@example.com", "password": "correct horse"})),
        )
        .await;
    assert_eq!(login.status(), StatusCode::OK, "the account survived");
    let auth: Value = login.json().await.unwrap();
    let task = d.send(d.client.get(format!("{}/tasks/{id}", second.base)).header("authorization", bearer(&auth))).await;
    // Assert
    assert_eq!(task.json::<Value>().await.unwrap()["title"], "kept");
    d.clean_redis().await;
}
