//! Webhooks end to end: the application's worker delivers to real receivers started by each test, over HTTP only.
//! Signatures, one event per change, retries and dead letters, failure classes (timeout, redirect, 410, 429), the
//! breaker, isolation between receivers, the SSRF guard, the overdue scan, and (PostgreSQL) two instances sharing
//! the work.
//!
//! This is longer than the ~300-line guide: every case shares the receiver setup and the delivery checks below.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::time::{Duration, Instant};

use axum::http::Method;
use chrono::{SecondsFormat, Utc};
use futures::StreamExt as _;
use serde_json::{Value, json};
use taskflow::Config;
use uuid::Uuid;

use crate::helpers::{Backend, TestApp, TestUser, spawn_app_with, spawn_second_instance, text};
use crate::receiver::{DownReceiver, Received, Receiver, Reply, summary};

/// The longest any test waits for something that should happen (a bound for failures, not a speed goal).
const WAIT: Duration = Duration::from_secs(10);
/// How often the delivery listing is polled.
const POLL: Duration = Duration::from_millis(50);
/// `overdue_scan_secs` of these servers.
const SCAN_SECS: u32 = 1;
const SCAN: Duration = Duration::from_secs(SCAN_SECS as u64);

const ALL_EVENTS: [&str; 5] = ["task.created", "task.updated", "task.completed", "task.deleted", "task.overdue"];

/// Starts the application with its worker on, loopback receivers allowed, a 100 ms retry base, 4 attempts, a
/// breaker of 5 failures and 1 s, and a 1 s overdue scan; then `adjust` changes what one test needs.
async fn spawn_worker_app(backend: Backend, adjust: impl FnOnce(&mut Config)) -> TestApp {
    spawn_app_with(backend, |config| {
        config.worker = true;
        config.webhook_allow_private = true;
        config.webhook_retry_base_ms = 100;
        config.webhook_max_attempts = 4;
        config.webhook_breaker_threshold = 5;
        config.webhook_breaker_cooldown_secs = 1;
        config.overdue_scan_secs = SCAN_SECS;
        adjust(config);
    })
    .await
}

/// `user`'s new webhook calling `url` on `events`: its id and its secret.
async fn subscribe(app: &TestApp, user: &TestUser, url: &str, events: &[&str]) -> (String, String) {
    let hook = app.create_webhook(user, url, events).await;
    (text(&hook["id"]), text(&hook["secret"]))
}

/// An RFC 3339 instant `hours` ago, to the second.
fn hours_ago(hours: i64) -> String {
    (Utc::now() - chrono::Duration::hours(hours)).to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Polls the delivery listing of `webhook` until `done` holds for its `data`, and returns it.
async fn wait_for_deliveries(
    app: &TestApp,
    user: &TestUser,
    webhook: &str,
    what: &str,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let deadline = Instant::now() + WAIT;
    loop {
        let listing = app.get_deliveries(user, webhook, "", 200).await.json();
        let data = listing["data"].as_array().cloned().unwrap_or_default();
        if done(&data) {
            return data;
        }
        assert!(Instant::now() < deadline, "the deliveries did not become {what} within {WAIT:?}: {listing:#}");
        tokio::time::sleep(POLL).await;
    }
}

/// Polls `GET /webhooks/{id}` until `done` holds for it.
async fn wait_for_webhook(app: &TestApp, user: &TestUser, id: &str, what: &str, done: impl Fn(&Value) -> bool) {
    let deadline = Instant::now() + WAIT;
    loop {
        let hook = app.get_webhook(user, id, 200).await.json();
        if done(&hook) {
            return;
        }
        assert!(Instant::now() < deadline, "the webhook did not become {what} within {WAIT:?}: {hook:#}");
        tokio::time::sleep(POLL).await;
    }
}

/// The delivery is a POST signed the Standard Webhooks way with `secret` (checked by the `standardwebhooks`
/// crate, which TaskFlow did not write), with the contract's headers and body members.
fn assert_is_signed_delivery(got: &Received, secret: &str) {
    let verifier = standardwebhooks::Webhook::new(secret).expect("the secret is whsec_ and base64");
    if let Err(e) = verifier.verify(&got.body, &got.headers) {
        panic!("the signature does not verify ({e:?}); headers {:?}", got.headers);
    }
    let body = got.json();
    assert_eq!(got.method, Method::POST);
    assert_eq!(got.path, "/hook", "the webhook's own path is called");
    assert_eq!(got.webhook_id(), text(&body["id"]), "webhook-id is the event id");
    assert_eq!(got.header("taskflow-event"), text(&body["type"]));
    assert!(Uuid::parse_str(got.header("taskflow-delivery")).is_ok(), "TaskFlow-Delivery is a delivery id");
    assert!(got.header("content-type").starts_with("application/json"), "{:?}", got.headers);
    assert!(got.header("user-agent").starts_with("TaskFlow-Webhooks/"), "{:?}", got.headers);
    let timestamp: i64 = got.header("webhook-timestamp").parse().expect("webhook-timestamp is unix seconds");
    assert!((Utc::now().timestamp() - timestamp).abs() < 60, "webhook-timestamp is this attempt's time");
    let members: BTreeSet<&str> = body.as_object().expect("an object").keys().map(String::as_str).collect();
    assert_eq!(members, BTreeSet::from(["data", "id", "occurredAt", "type"]), "{body}");
    assert!(chrono::DateTime::parse_from_rfc3339(&text(&body["occurredAt"])).is_ok(), "{body}");
    let data: Vec<&String> = body["data"].as_object().expect("data is an object").keys().collect();
    assert_eq!(data, ["task"], "{body}");
}

/// The requests grouped by event type.
fn by_type(got: &[Received]) -> BTreeMap<String, Vec<&Received>> {
    let mut groups: BTreeMap<String, Vec<&Received>> = BTreeMap::new();
    for r in got {
        groups.entry(r.event_type()).or_default().push(r);
    }
    groups
}

// ---- 1. every event type, signed, once, to the right webhooks only

async fn each_event_type_arrives_once_signed_and_only_at_its_owners_subscribed_webhooks(backend: Backend) {
    // Arrange
    let app = spawn_worker_app(backend, |_| {}).await;
    let ann = app.register_user().await;
    let bob = app.register_user().await;
    let all = Receiver::start();
    let completions = Receiver::start();
    let bobs = Receiver::start();
    let (all_id, all_secret) = subscribe(&app, &ann, &all.url(), &ALL_EVENTS).await;
    let (_, completions_secret) = subscribe(&app, &ann, &completions.url(), &["task.completed"]).await;
    subscribe(&app, &bob, &bobs.url(), &ALL_EVENTS).await;

    // Act
    let created = app.create_task(&ann, &json!({"title": "Write the report"})).await;
    let id = text(&created["id"]);
    let updated = app.patch_task(&ann, &id, &json!({"title": "Write the annual report"}), 200).await.json();
    let completing = json!({"status": "COMPLETED", "priority": "HIGH"});
    let completed = app.patch_task(&ann, &id, &completing, 200).await.json();
    app.delete_task(&ann, &id, 204).await;
    let late = app.create_task(&ann, &json!({"title": "Pay the rent", "dueDate": hours_ago(1)})).await;
    let late_id = text(&late["id"]);
    let bobs_task = app.create_task_titled(&bob, "Bob's").await;
    app.patch_task(&bob, &bobs_task, &json!({"status": "COMPLETED"}), 200).await;

    // Assert: six events for ann's first webhook, and still six after another overdue scan and retry period.
    all.wait_for(6, WAIT).await;
    let got = all.after_quiet(SCAN + Duration::from_millis(500)).await;
    assert_eq!(got.len(), 6, "one delivery per change and one overdue: {}", summary(&got));
    for r in &got {
        assert_is_signed_delivery(r, &all_secret);
    }
    let ids: HashSet<&str> = got.iter().map(Received::webhook_id).collect();
    assert_eq!(ids.len(), 6, "six events, six ids");
    let types = by_type(&got);
    let counts: BTreeMap<&str, usize> = types.iter().map(|(k, v)| (k.as_str(), v.len())).collect();
    let expected = BTreeMap::from([
        ("task.completed", 1),
        ("task.created", 2),
        ("task.deleted", 1),
        ("task.overdue", 1),
        ("task.updated", 1),
    ]);
    assert_eq!(counts, expected, "a completing PATCH is task.completed only: {}", summary(&got));
    let task_of = |kind: &str, task: &str| -> Value {
        let r = types[kind].iter().find(|r| r.task_id() == task).unwrap_or_else(|| panic!("no {kind} for {task}"));
        r.json()["data"]["task"].clone()
    };
    assert_eq!(task_of("task.created", &id), created, "task.created carries the task as created");
    assert_eq!(task_of("task.updated", &id), updated, "task.updated carries the task after the change");
    assert_eq!(task_of("task.completed", &id), completed, "task.completed carries the task after the change");
    assert_eq!(task_of("task.deleted", &id), completed, "task.deleted carries the task as it was last");
    let late_now = app.get_task(&ann, &late_id, 200).await.json();
    assert_eq!(task_of("task.created", &late_id), late_now, "data.task is GET /tasks/:id's body");
    assert_eq!(task_of("task.overdue", &late_id), late_now, "task.overdue carries the task, version unchanged");

    // Only the subscribed type, signed with that webhook's own secret.
    completions.wait_for(1, WAIT).await;
    let only = completions.received();
    assert_eq!(only.len(), 1, "only task.completed is subscribed: {}", summary(&only));
    assert_eq!(only[0].event_type(), "task.completed");
    assert_is_signed_delivery(&only[0], &completions_secret);
    let other_key = standardwebhooks::Webhook::new(&all_secret).expect("a secret");
    assert!(other_key.verify(&only[0].body, &only[0].headers).is_err(), "each webhook has its own secret");

    // Bob's events reach bob's webhook only; ann's never reach his.
    bobs.wait_for(2, WAIT).await;
    let bob_got = bobs.received();
    assert_eq!(bob_got.len(), 2, "bob's created and completed: {}", summary(&bob_got));
    assert!(bob_got.iter().all(|r| r.task_id() == bobs_task), "{}", summary(&bob_got));
    assert!(got.iter().chain(&only).all(|r| r.task_id() != bobs_task), "bob's task reached ann's webhook");

    // The listing names the same deliveries, each succeeded at the first attempt.
    let listed = wait_for_deliveries(&app, &ann, &all_id, "6 succeeded", |d| {
        d.len() == 6 && d.iter().all(|d| d["status"] == "succeeded")
    })
    .await;
    let listed_ids: BTreeSet<String> = listed.iter().map(|d| text(&d["id"])).collect();
    let header_ids: BTreeSet<String> = got.iter().map(|r| r.header("taskflow-delivery").to_owned()).collect();
    assert_eq!(listed_ids, header_ids, "TaskFlow-Delivery names the listed deliveries");
    for d in &listed {
        let r = got.iter().find(|r| r.header("taskflow-delivery") == d["id"]).expect("a request per delivery");
        assert_eq!(d["eventId"], r.webhook_id(), "{d}");
        assert_eq!(d["event"], r.event_type().as_str(), "{d}");
        assert_eq!(d["attempts"], 1, "{d}");
        assert_eq!(d["lastStatusCode"], 200, "{d}");
    }
}
on_both_backends!(each_event_type_arrives_once_signed_and_only_at_its_owners_subscribed_webhooks);

// ---- 2. and 3. retries and dead letters

async fn a_receiver_answering_500_500_200_gets_exactly_three_attempts_with_growing_gaps(backend: Backend) {
    // Arrange
    let base = 500; // ±20 % jitter: the first gap is at most 600 ms, the second at least 800 ms
    let app = spawn_worker_app(backend, |c| c.webhook_retry_base_ms = base).await;
    let ann = app.register_user().await;
    let receiver = Receiver::start();
    receiver.script([Reply::status(500), Reply::status(500)]);
    let (hook, secret) = subscribe(&app, &ann, &receiver.url(), &["task.created"]).await;

    // Act
    app.create_task_titled(&ann, "Flaky receiver").await;

    // Assert
    receiver.wait_for(3, WAIT).await;
    let got = receiver.after_quiet(Duration::from_millis(4 * base)).await;
    assert_eq!(got.len(), 3, "a 2xx ends the retries: {}", summary(&got));
    for r in &got {
        assert_is_signed_delivery(r, &secret);
        assert_eq!(r.webhook_id(), got[0].webhook_id(), "the same webhook-id on every attempt");
        assert_eq!(r.header("taskflow-delivery"), got[0].header("taskflow-delivery"));
    }
    let (first_gap, second_gap) = (got[1].arrived - got[0].arrived, got[2].arrived - got[1].arrived);
    assert!(first_gap >= Duration::from_millis(base * 8 / 10), "retried after the base (-20 %): {first_gap:?}");
    assert!(second_gap > first_gap, "the gaps grow: {first_gap:?} then {second_gap:?}");
    let listed =
        wait_for_deliveries(&app, &ann, &hook, "succeeded", |d| d.first().is_some_and(|d| d["status"] == "succeeded"))
            .await;
    assert_eq!(listed.len(), 1, "{listed:#?}");
    assert_eq!(listed[0]["attempts"], 3, "{:#}", listed[0]);
    assert_eq!(listed[0]["lastStatusCode"], 200, "{:#}", listed[0]);
    assert_eq!(listed[0]["eventId"], got[0].webhook_id());
}
on_both_backends!(a_receiver_answering_500_500_200_gets_exactly_three_attempts_with_growing_gaps);

async fn a_receiver_that_always_fails_makes_the_delivery_dead_and_a_retry_revives_it(backend: Backend) {
    // Arrange
    let app = spawn_worker_app(backend, |_| {}).await;
    let ann = app.register_user().await;
    let receiver = Receiver::start();
    receiver.answer_with(Reply::status(500));
    let (hook, _) = subscribe(&app, &ann, &receiver.url(), &["task.created"]).await;
    app.create_task_titled(&ann, "Nobody listens").await;

    // Act: four failed attempts
    let dead =
        wait_for_deliveries(&app, &ann, &hook, "dead", |d| d.first().is_some_and(|d| d["status"] == "dead")).await;
    let got = receiver.after_quiet(Duration::from_millis(1000)).await;

    // Assert
    assert_eq!(got.len(), 4, "WEBHOOK_MAX_ATTEMPTS attempts, then none: {}", summary(&got));
    let delivery = &dead[0];
    assert_eq!(delivery["attempts"], 4, "{delivery:#}");
    assert_eq!(delivery["lastStatusCode"], 500, "{delivery:#}");
    assert_eq!(delivery["lastError"], "status 500", "{delivery:#}");
    assert!(delivery["nextAttemptAt"].is_null(), "no attempt is left: {delivery:#}");

    // Act: the receiver recovers and the dead delivery is retried by hand
    receiver.answer_with(Reply::ok());
    let retried = app.retry_delivery(&ann, &hook, &text(&delivery["id"]), 202).await.json();

    // Assert
    assert_eq!(retried["id"], delivery["id"]);
    assert_eq!(retried["status"], "pending", "{retried:#}");
    let got = receiver.wait_for(5, WAIT).await;
    assert_eq!(got[4].webhook_id(), got[0].webhook_id(), "the same event, delivered at last");
    assert_eq!(got[4].status, 200);
    wait_for_deliveries(&app, &ann, &hook, "succeeded", |d| d.first().is_some_and(|d| d["status"] == "succeeded"))
        .await;
}
on_both_backends!(a_receiver_that_always_fails_makes_the_delivery_dead_and_a_retry_revives_it);

// ---- 4. failure classes: timeout, redirect, 410, 429

async fn a_receiver_slower_than_the_timeout_fails_with_timeout(backend: Backend) {
    // Arrange
    let app = spawn_worker_app(backend, |c| c.webhook_timeout_ms = 300).await;
    let ann = app.register_user().await;
    let receiver = Receiver::start();
    receiver.answer_with(Reply::ok().after(Duration::from_millis(1500)));
    let (hook, _) = subscribe(&app, &ann, &receiver.url(), &["task.created"]).await;

    // Act
    app.create_task_titled(&ann, "Slow receiver").await;

    // Assert
    let dead =
        wait_for_deliveries(&app, &ann, &hook, "dead", |d| d.first().is_some_and(|d| d["status"] == "dead")).await;
    assert_eq!(dead[0]["lastError"], "timeout", "{:#}", dead[0]);
    assert!(dead[0]["lastStatusCode"].is_null(), "no answer, no status: {:#}", dead[0]);
    assert_eq!(receiver.received().len(), 4, "every attempt reached the receiver");
}
on_both_backends!(a_receiver_slower_than_the_timeout_fails_with_timeout);

async fn a_redirect_is_not_followed_and_counts_as_a_failure(backend: Backend) {
    // Arrange
    let app = spawn_worker_app(backend, |_| {}).await;
    let ann = app.register_user().await;
    let target = Receiver::start();
    let receiver = Receiver::start();
    receiver.answer_with(Reply::status(302).header("location", target.url()));
    let (hook, _) = subscribe(&app, &ann, &receiver.url(), &["task.created"]).await;

    // Act
    app.create_task_titled(&ann, "Moved receiver").await;

    // Assert
    let dead =
        wait_for_deliveries(&app, &ann, &hook, "dead", |d| d.first().is_some_and(|d| d["status"] == "dead")).await;
    let error = dead[0]["lastError"].as_str().unwrap_or_default().to_lowercase();
    assert!(error.contains("redirect"), "lastError names a redirect: {:#}", dead[0]);
    assert_eq!(receiver.received().len(), 4, "each attempt called the webhook's URL");
    assert!(target.received().is_empty(), "the Location was followed: {}", summary(&target.received()));
}
on_both_backends!(a_redirect_is_not_followed_and_counts_as_a_failure);

async fn a_410_deactivates_the_webhook_and_cancels_its_pending_deliveries(backend: Backend) {
    // Arrange: a first delivery fails and waits ~1 s for its retry.
    let app = spawn_worker_app(backend, |c| c.webhook_retry_base_ms = 1000).await;
    let ann = app.register_user().await;
    let receiver = Receiver::start();
    receiver.script([Reply::status(500), Reply::status(410)]);
    let (hook, _) = subscribe(&app, &ann, &receiver.url(), &["task.created"]).await;
    let waiting = app.create_task_titled(&ann, "Waits for its retry").await;
    let failed =
        wait_for_deliveries(&app, &ann, &hook, "failed", |d| d.first().is_some_and(|d| d["status"] == "failed")).await;

    // Act
    let gone = app.create_task_titled(&ann, "Meets the 410").await;

    // Assert
    let got = receiver.wait_for(2, WAIT).await;
    assert_eq!(got[1].task_id(), gone, "the second request is the second task's: {}", summary(&got));
    wait_for_webhook(&app, &ann, &hook, "inactive", |h| h["active"] == false).await;
    let listed = wait_for_deliveries(&app, &ann, &hook, "the waiting one cancelled", |d| {
        d.iter().any(|d| d["id"] == failed[0]["id"] && d["status"] == "cancelled")
    })
    .await;
    assert_eq!(listed.len(), 2, "{listed:#?}");
    let later = receiver.after_quiet(Duration::from_millis(1500)).await;
    assert_eq!(later.len(), 2, "the cancelled retry of {waiting} was not sent: {}", summary(&later));
}
on_both_backends!(a_410_deactivates_the_webhook_and_cancels_its_pending_deliveries);

async fn a_429_with_retry_after_is_retried_no_sooner_than_it_asks(backend: Backend) {
    // Arrange
    let app = spawn_worker_app(backend, |_| {}).await;
    let ann = app.register_user().await;
    let receiver = Receiver::start();
    receiver.script([Reply::status(429).header("retry-after", "1")]);
    let (hook, _) = subscribe(&app, &ann, &receiver.url(), &["task.created"]).await;

    // Act
    app.create_task_titled(&ann, "Rate limited receiver").await;

    // Assert
    let got = receiver.wait_for(2, WAIT).await;
    let gap = got[1].arrived - got[0].arrived;
    // Retry-After counts from the answer, which comes after the arrival; 50 ms of slack for clock granularity.
    assert!(gap >= Duration::from_millis(950), "Retry-After: 1 honoured over the 100 ms base: {gap:?}");
    let listed =
        wait_for_deliveries(&app, &ann, &hook, "succeeded", |d| d.first().is_some_and(|d| d["status"] == "succeeded"))
            .await;
    assert_eq!(listed[0]["attempts"], 2, "{:#}", listed[0]);
}
on_both_backends!(a_429_with_retry_after_is_retried_no_sooner_than_it_asks);

// ---- 5. the breaker

async fn a_dead_receiver_opens_the_breaker_without_spending_attempts_and_loses_nothing(backend: Backend) {
    // Arrange: threshold 2, cool-down 1 s.
    let app = spawn_worker_app(backend, |c| c.webhook_breaker_threshold = 2).await;
    let ann = app.register_user().await;
    let receiver = Receiver::start();
    receiver.answer_with(Reply::status(500));
    let (hook, _) = subscribe(&app, &ann, &receiver.url(), &["task.created"]).await;
    let cool_down = Duration::from_millis(950); // 1 s, less clock granularity

    // Act: two failures open it; two more events wait behind it.
    let mut tasks = vec![app.create_task_titled(&ann, "first").await];
    let opened = receiver.wait_for(2, WAIT).await[1].arrived;
    // The second failure is recorded (and the breaker opened) before more work is queued.
    wait_for_deliveries(&app, &ann, &hook, "2 attempts", |d| d.first().is_some_and(|d| d["attempts"] == 2)).await;
    tasks.push(app.create_task_titled(&ann, "second").await);
    tasks.push(app.create_task_titled(&ann, "third").await);

    // Assert: nothing is called while it is open; the probe after the cool-down fails and reopens it.
    let probe = receiver.wait_for(3, WAIT).await[2].clone();
    assert!(probe.arrived - opened >= cool_down, "called while open: {:?} after opening", probe.arrived - opened);
    receiver.answer_with(Reply::ok());
    let got = receiver.wait_for(4, WAIT).await;
    assert!(got[3].arrived - probe.arrived >= cool_down, "called while reopened: {}", summary(&got));

    // Assert: once it answers, everything arrives, and only real calls were counted as attempts.
    receiver
        .wait_until("every task delivered", WAIT, |got| {
            tasks.iter().all(|t| got.iter().any(|r| r.status == 200 && r.task_id() == *t))
        })
        .await;
    let got = receiver.after_quiet(Duration::from_millis(500)).await;
    assert_eq!(got.len(), 6, "3 failed calls (2 + a probe), then one per delivery: {}", summary(&got));
    let listed = wait_for_deliveries(&app, &ann, &hook, "3 succeeded", |d| {
        d.len() == 3 && d.iter().all(|d| d["status"] == "succeeded")
    })
    .await;
    let attempts: u64 = listed.iter().map(|d| d["attempts"].as_u64().unwrap_or(u64::MAX)).sum();
    assert_eq!(attempts, 6, "waiting behind an open breaker spends no attempt: {listed:#?}");
}
on_both_backends!(a_dead_receiver_opens_the_breaker_without_spending_attempts_and_loses_nothing);

// ---- 6. isolation between receivers

async fn a_slow_receiver_does_not_delay_a_healthy_one(backend: Backend) {
    // Arrange: a backlog of six 2-second deliveries for sam's receiver, in flight.
    let app = spawn_worker_app(backend, |_| {}).await;
    let sam = app.register_user().await;
    let hal = app.register_user().await;
    let slow = Receiver::start();
    slow.answer_with(Reply::ok().after(Duration::from_secs(2)));
    let healthy = Receiver::start();
    subscribe(&app, &sam, &slow.url(), &["task.created"]).await;
    subscribe(&app, &hal, &healthy.url(), &["task.created"]).await;
    for i in 0..6 {
        app.create_task_titled(&sam, &format!("slow {i}")).await;
    }
    slow.wait_for(1, WAIT).await;

    // Act
    app.create_task_titled(&hal, "healthy").await;

    // Assert
    let arrived = healthy.wait_for(1, WAIT).await[0].arrived;
    let slow_got = slow.wait_until("a first answer", WAIT, |got| got.iter().any(|r| r.answered.is_some())).await;
    let first_answer = slow_got.iter().filter_map(|r| r.answered).min().expect("an answer");
    assert!(arrived < first_answer, "the healthy delivery waited for the slow receiver's backlog");
}
on_both_backends!(a_slow_receiver_does_not_delay_a_healthy_one);

// ---- 7. SSRF

async fn webhooks_to_private_loopback_or_special_addresses_are_refused(backend: Backend) {
    // Arrange
    let app = spawn_app_with(backend, |c| c.webhook_allow_private = false).await;
    let ann = app.register_user().await;
    let refused = [
        ("loopback", "http://127.0.0.1/"),
        ("loopback as a decimal number", "http://2130706433/"),
        ("loopback in hex, short form", "http://0x7f.1/"),
        ("IPv6 loopback", "http://[::1]/"),
        ("IPv4-mapped loopback", "http://[::ffff:127.0.0.1]/"),
        ("private 10/8", "http://10.0.0.1/"),
        ("private 172.16/12", "http://172.16.0.1/"),
        ("private 192.168/16", "http://192.168.1.1/"),
        ("metadata, link-local", "http://169.254.169.254/"),
        ("CGNAT", "http://100.64.0.1/"),
        ("unspecified", "http://0.0.0.0/"),
        ("multicast", "http://224.0.0.1/"),
        ("documentation", "http://192.0.2.1/"),
        ("IPv6 link-local", "http://[fe80::1]/"),
        ("IPv6 unique local", "http://[fc00::1]/"),
        ("a name resolving to loopback", "http://localhost/"),
    ];

    for (case, url) in refused {
        // Act
        let answer = app.post_webhook(&ann, &json!({"url": url, "events": ["task.created"]}), 400).await.json();
        // Assert
        let fields: Vec<&Value> = answer["errors"].as_array().into_iter().flatten().map(|e| &e["field"]).collect();
        assert!(fields.contains(&&json!("url")), "{case} ({url}): the error names `url`: {answer}");
    }
    // A public address literal (no DNS needed) is accepted, so the refusals above are about the address.
    app.post_webhook(&ann, &json!({"url": "https://1.1.1.1/hook", "events": ["task.created"]}), 201).await;
}
on_both_backends!(webhooks_to_private_loopback_or_special_addresses_are_refused);

// ---- 8. the overdue scan

async fn a_task_past_its_due_date_is_overdue_once_per_due_date(backend: Backend) {
    // Arrange
    let app = spawn_worker_app(backend, |_| {}).await;
    let ann = app.register_user().await;
    let receiver = Receiver::start();
    subscribe(&app, &ann, &receiver.url(), &["task.overdue"]).await;
    let quiet = 3 * SCAN + Duration::from_millis(500);

    // Act + Assert: once for its due date, however many scans pass.
    let id = text(&app.create_task(&ann, &json!({"title": "Late", "dueDate": hours_ago(1)})).await["id"]);
    let first = receiver.wait_for(1, WAIT).await;
    assert_eq!(first[0].event_type(), "task.overdue");
    assert_eq!(first[0].json()["data"]["task"], app.get_task(&ann, &id, 200).await.json());
    let got = receiver.after_quiet(quiet).await;
    assert_eq!(got.len(), 1, "one task.overdue per due date: {}", summary(&got));

    // Act + Assert: another past due date is overdue again, once.
    let due = hours_ago(2);
    app.patch_task(&ann, &id, &json!({"dueDate": due}), 200).await;
    let second = receiver.wait_for(2, WAIT).await;
    assert_eq!(second[1].json()["data"]["task"]["dueDate"], due.as_str());

    // Act + Assert: a completed task is not overdue.
    app.patch_task(&ann, &id, &json!({"status": "COMPLETED"}), 200).await;
    let got = receiver.after_quiet(quiet).await;
    assert_eq!(got.len(), 2, "nothing more after completion: {}", summary(&got));
    assert!(got.iter().all(|r| r.task_id() == id && r.event_type() == "task.overdue"));
}
on_both_backends!(a_task_past_its_due_date_is_overdue_once_per_due_date);

// ---- 9. deleting a webhook

async fn deleting_a_webhook_cancels_its_pending_deliveries(backend: Backend) {
    // Arrange: the receiver is down, so the delivery fails and waits ~1 s for its retry.
    let app = spawn_worker_app(backend, |c| c.webhook_retry_base_ms = 1000).await;
    let ann = app.register_user().await;
    let down = DownReceiver::new();
    let (hook, _) = subscribe(&app, &ann, &down.url(), &["task.created"]).await;
    app.create_task_titled(&ann, "Undeliverable").await;
    let failed =
        wait_for_deliveries(&app, &ann, &hook, "failed", |d| d.first().is_some_and(|d| d["status"] == "failed")).await;
    assert_eq!(failed[0]["lastError"], "connection refused", "{:#}", failed[0]);

    // Act
    app.delete_webhook(&ann, &hook, 204).await;
    let receiver = down.up();

    // Assert
    let got = receiver.after_quiet(Duration::from_millis(2000)).await;
    assert!(got.is_empty(), "a deleted webhook's delivery was sent: {}", summary(&got));
}
on_both_backends!(deleting_a_webhook_cancels_its_pending_deliveries);

// ---- PostgreSQL only: several instances, transactions

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_deliver_a_hundred_events_exactly_once_each() {
    // Arrange
    let app = spawn_worker_app(Backend::Postgres, |_| {}).await;
    let second = spawn_second_instance(&app).await;
    let ann = app.register_user().await;
    let receiver = Receiver::start();
    subscribe(&app, &ann, &receiver.url(), &["task.created"]).await;

    // Act: 100 tasks, half through each instance.
    let created: BTreeSet<String> = futures::stream::iter(0..100)
        .map(|i| {
            let (instance, ann) = (if i % 2 == 0 { &app } else { &second }, &ann);
            async move { instance.create_task_titled(ann, &format!("task {i}")).await }
        })
        .buffer_unordered(8)
        .collect()
        .await;

    // Assert
    receiver.wait_for(100, WAIT).await;
    let got = receiver.after_quiet(Duration::from_millis(500)).await;
    let ids: HashSet<&str> = got.iter().map(Received::webhook_id).collect();
    assert_eq!(ids.len(), 100, "one event per task");
    assert_eq!(got.len(), 100, "every answer was 200, so a repeated webhook-id is a double claim");
    let tasks: BTreeSet<String> = got.iter().map(Received::task_id).collect();
    assert_eq!(tasks, created);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolled_back_change_produces_no_delivery() {
    // Arrange
    let app = spawn_worker_app(Backend::Postgres, |_| {}).await;
    let ann = app.register_user().await;
    let receiver = Receiver::start();
    subscribe(&app, &ann, &receiver.url(), &ALL_EVENTS).await;
    let id = app.create_task_titled(&ann, "Original").await;

    // Act: two changes refused by a stale If-Match, then one that commits.
    for change in [json!({"title": "Never"}), json!({"status": "COMPLETED"})] {
        let patch = app.call(reqwest::Method::PATCH, &format!("/tasks/{id}")).signed_in(&ann);
        patch.header("if-match", "\"7\"").json(&change).expect(412).await;
    }
    app.patch_task(&ann, &id, &json!({"title": "Committed"}), 200).await;

    // Assert
    receiver.wait_for(2, WAIT).await;
    let got = receiver.after_quiet(Duration::from_millis(500)).await;
    let mut seen: Vec<(String, Value)> =
        got.iter().map(|r| (r.event_type(), r.json()["data"]["task"]["version"].clone())).collect();
    seen.sort_by_key(|(_, version)| version.as_u64());
    assert_eq!(
        seen,
        [("task.created".to_owned(), json!(1)), ("task.updated".to_owned(), json!(2))],
        "only committed changes: {}",
        summary(&got)
    );
    assert!(got.iter().all(|r| r.json()["data"]["task"]["title"] != "Never"), "{}", summary(&got));
}
