//! Two instances: a user deleted through instance A is refused by instance B within one refresh period of B's
//! set of deleted users, and at once where B reads the user's row (issue 7, point 5; ADR 0007).

mod common;

use std::time::{Duration, Instant};

use common::{Deployment, bearer};
use reqwest::StatusCode;
use serde_json::{Value, json};
use taskflow_adapters_redis::testing::redis_url;

/// Room for a slow, shared machine on top of the refresh period.
const MARGIN: Duration = Duration::from_secs(5);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_user_deleted_on_one_instance_is_refused_by_the_other_within_the_refresh_period() {
    // Arrange: the demo admin, and ann whose token both instances accept
    let d = Deployment::new(&redis_url(), 1000).await;
    let backends = taskflow::backends::build(&d.config).await.expect("backends for seeding");
    taskflow::seed::ensure_demo_users(&backends.deps).await.expect("the demo users");
    let (a, b) = (d.start().await, d.start().await);
    let login = json!({"email": "admin@example.com", "password": "admin123"});
    let admin: Value = d.send(d.client.post(format!("{}/auth/login", a.base)).json(&login)).await.json().await.unwrap();
    let ann = d.register(&a, "ann@example.com").await;
    let ann_id = ann["user"]["id"].as_str().unwrap().to_owned();
    let list_on_b = || d.client.get(format!("{}/tasks", b.base)).header("authorization", bearer(&ann));
    assert_eq!(d.send(list_on_b()).await.status(), StatusCode::OK, "B accepts ann's token before");

    // Act: the admin deletes ann through A
    let delete = d.client.delete(format!("{}/users/{ann_id}", a.base)).header("authorization", bearer(&admin));
    assert_eq!(d.send(delete).await.status(), StatusCode::NO_CONTENT);
    let deleted = Instant::now();

    // Assert: A refuses at once; B's use cases that read her row at once; B's listing within one period
    let list_on_a = d.client.get(format!("{}/tasks", a.base)).header("authorization", bearer(&ann));
    assert_eq!(d.send(list_on_a).await.status(), StatusCode::UNAUTHORIZED, "A knows at once");
    let me_on_b = d.client.get(format!("{}/auth/me", b.base)).header("authorization", bearer(&ann));
    assert_eq!(d.send(me_on_b).await.status(), StatusCode::UNAUTHORIZED, "B reads her row: at once");
    let deadline = taskflow::revocations::PERIOD + MARGIN;
    loop {
        let answer = d.send(list_on_b()).await;
        if answer.status() == StatusCode::UNAUTHORIZED {
            assert_eq!(answer.headers()["www-authenticate"], "Bearer");
            break;
        }
        assert_eq!(answer.status(), StatusCode::OK, "until then, the listing of a user with no tasks left");
        assert!(deleted.elapsed() < deadline, "B still accepts the token {:?} after the deletion", deleted.elapsed());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    println!("B refused the deleted user's token {:?} after the deletion", deleted.elapsed());
    d.clean_redis().await;
}
