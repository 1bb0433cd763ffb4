//! A worker that stops mid-delivery gives its claims back: the delivery is due again at once, with no attempt spent
//! (PostgreSQL: the state outlives the instance).

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;
use tokio::time::Instant;

use crate::helpers::{Backend, spawn_app_with, spawn_second_instance_with, text};
use crate::receiver::{Receiver, Reply};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_worker_releases_its_claims_without_spending_attempts() {
    // Arrange: instance A serves only; instance B runs the worker, with a 1 s grace period, against a receiver that
    // takes 30 s to answer.
    let a = spawn_app_with(Backend::Postgres, |c| {
        c.worker = false;
        c.webhook_allow_private = true;
    })
    .await;
    let b = spawn_second_instance_with(&a, |c| {
        c.worker = true;
        c.shutdown_grace_secs = 1;
        c.webhook_timeout_ms = 60_000;
    })
    .await;
    let receiver = Receiver::start();
    receiver.answer_with(Reply::ok().after(Duration::from_secs(30)));
    let ann = a.register_user().await;
    let hook = text(&a.create_webhook(&ann, &receiver.url(), &["task.created"]).await["id"]);
    a.create_task_titled(&ann, "slow").await;
    receiver.wait_for(1, Duration::from_secs(10)).await;

    // Act: B stops while its attempt is in flight.
    let stopped_at = Utc::now();
    drop(b);

    // Assert: within the grace period (and some slack), the delivery is pending again, due now, no attempt spent.
    // Without the release it would stay claimed until its lease ends (the 60 s timeout + 30 s).
    let deadline = Instant::now() + Duration::from_secs(8);
    let delivery = loop {
        let listing = a.get_deliveries(&ann, &hook, "", 200).await.json();
        let delivery = listing["data"][0].clone();
        if due_before(&delivery, stopped_at + chrono::Duration::seconds(5)) {
            break delivery;
        }
        assert!(Instant::now() < deadline, "the claim was not released: {delivery:#}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(delivery["status"], "pending", "{delivery:#}");
    assert_eq!(delivery["attempts"], 0, "an attempt cut short by the shutdown is not spent: {delivery:#}");
}

fn due_before(delivery: &Value, limit: DateTime<Utc>) -> bool {
    delivery["nextAttemptAt"]
        .as_str()
        .and_then(|at| DateTime::parse_from_rfc3339(at).ok())
        .is_some_and(|at| at.with_timezone(&Utc) <= limit)
}
