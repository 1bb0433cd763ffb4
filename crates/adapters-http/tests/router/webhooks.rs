//! `/webhooks`: the secret shown once, validation and URL vetting, ownership, PATCH semantics, deletion, the
//! deliveries listing (deliveries made by the in-memory queue's relay from real task events) and retries.

use std::sync::Arc;

use axum::Router;
use axum::http::{Method, StatusCode};
use chrono::{TimeDelta, Utc};
use serde_json::{Value, json};
use taskflow_adapters_http::HttpSettings;
use taskflow_adapters_memory::InMemoryStore;
use taskflow_application::domain::UserId;
use taskflow_application::domain::ports::{AttemptRecord, DeliveryQueue, UnitOfWork};
use taskflow_application::domain::user::{Role, UserPatch};
use taskflow_application::domain::webhook::{AttemptOutcome, FailureClass};
use uuid::Uuid;

use crate::common::{
    Reply, app, app_with, assert_problem, create_task, empty_request, exchange, json_request, register,
};

const HOOK_URL: &str = "https://example.com/hooks/taskflow";

async fn post_webhook(app: &Router, token: &str, body: Value) -> Reply {
    exchange(app, json_request(Method::POST, "/webhooks", Some(token), body.to_string())).await
}

/// Creates a webhook for every task event and returns it as JSON.
async fn create_webhook(app: &Router, token: &str) -> Value {
    let body = json!({"url": HOOK_URL, "events": ["task.created", "task.completed"], "description": "ci"});
    let reply = post_webhook(app, token, body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.json()
}

async fn get(app: &Router, token: &str, uri: &str) -> Reply {
    exchange(app, empty_request(Method::GET, uri, Some(token))).await
}

async fn patch(app: &Router, token: &str, uri: &str, body: Value) -> Reply {
    exchange(app, json_request(Method::PATCH, uri, Some(token), body.to_string())).await
}

/// A router over its own store, kept to act on the queue as a worker would.
fn app_and_store() -> (Router, Arc<InMemoryStore>) {
    let store = Arc::new(InMemoryStore::new());
    (app_with(store.clone(), HttpSettings::default(), |_| {}), store)
}

/// Registers a user, makes them an admin in the store, and logs in again for a token carrying the role.
async fn admin_token(app: &Router, store: &InMemoryStore, email: &str) -> String {
    let (id, _) = register(app, email).await;
    let tx = store.begin().await.unwrap();
    let mut user = tx.users().find_for_update(UserId::from_uuid(id.parse().unwrap())).await.unwrap().unwrap();
    user.apply(UserPatch { role: Some(Role::Admin), ..Default::default() }, Utc::now());
    tx.users().update(&user).await.unwrap();
    tx.commit().await.unwrap();
    let login = json!({"email": email, "password": "password123"}).to_string();
    let reply = exchange(app, json_request(Method::POST, "/auth/login", None, login)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.json()["accessToken"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_created_webhook_shows_its_secret_once_and_its_location() {
    // Arrange
    let app = app();
    let (_, token) = register(&app, "ann@example.com").await;

    // Act
    let created = post_webhook(&app, &token, json!({"url": HOOK_URL, "events": ["task.created"]})).await;

    // Assert
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let hook = created.json();
    let id = hook["id"].as_str().unwrap();
    let secret = hook["secret"].as_str().unwrap();
    assert!(secret.starts_with("whsec_") && secret.len() == 50, "{secret}");
    assert_eq!(created.header("location"), Some(&*format!("/webhooks/{id}")));
    assert_eq!(hook["url"], HOOK_URL);
    assert_eq!(hook["events"], json!(["task.created"]));
    assert_eq!(hook["description"], Value::Null);
    assert_eq!(hook["active"], true);
    let fetched = get(&app, &token, created.header("location").unwrap()).await;
    let listed = get(&app, &token, "/webhooks").await;
    assert_eq!(fetched.status, StatusCode::OK, "{}", fetched.body);
    assert_eq!(listed.json()["data"][0]["id"], id);
    for (case, reply) in [("GET /webhooks/{id}", &fetched), ("GET /webhooks", &listed)] {
        assert!(
            !reply.body.contains("secret") && !reply.body.contains(secret),
            "{case} shows the secret: {}",
            reply.body
        );
    }
}

#[tokio::test]
async fn an_invalid_webhook_is_400_naming_the_member() {
    // Arrange
    let app = app();
    let (_, token) = register(&app, "ann@example.com").await;
    let events = json!(["task.created"]);
    let long = format!("https://example.com/{}", "a".repeat(2049 - "https://example.com/".len()));
    let cases = [
        ("not a URL", json!({"url": "not a url", "events": events}), "url"),
        ("another scheme", json!({"url": "ftp://example.com/", "events": events}), "url"),
        ("user-info", json!({"url": "https://user:pw@example.com/", "events": events}), "url"),
        ("2,049 characters", json!({"url": long, "events": events}), "url"),
        ("a numeric private host", json!({"url": "http://2130706433/", "events": events}), "url"),
        ("a private address", json!({"url": "http://10.0.0.8:8080/hook", "events": events}), "url"),
        ("a null url", json!({"url": null, "events": events}), "url"),
        ("no url", json!({"events": events}), "url"),
        ("no events", json!({"url": HOOK_URL, "events": []}), "events"),
        ("an unknown event", json!({"url": HOOK_URL, "events": ["task.moved"]}), "events"),
        ("a repeated event", json!({"url": HOOK_URL, "events": ["task.created", "task.created"]}), "events"),
        ("null events", json!({"url": HOOK_URL, "events": null}), "events"),
        (
            "a long description",
            json!({"url": HOOK_URL, "events": events, "description": "d".repeat(501)}),
            "description",
        ),
        ("an unknown member", json!({"url": HOOK_URL, "events": events, "secret": "whsec_x"}), "secret"),
    ];

    for (case, body, field) in cases {
        // Act
        let reply = post_webhook(&app, &token, body).await;

        // Assert
        let problem = assert_problem(&reply, StatusCode::BAD_REQUEST, case);
        assert_eq!(problem["errors"][0]["field"], field, "{case}: {problem}");
    }
    assert_eq!(get(&app, &token, "/webhooks").await.json()["data"], json!([]), "nothing was created");
}

#[tokio::test]
async fn another_users_webhook_and_its_deliveries_are_404_but_an_admin_sees_all() {
    // Arrange
    let (app, store) = app_and_store();
    let (_, ann) = register(&app, "ann@example.com").await;
    let (_, bob) = register(&app, "bob@example.com").await;
    let root = admin_token(&app, &store, "root@example.com").await;
    let id = create_webhook(&app, &ann).await["id"].as_str().unwrap().to_owned();
    create_task(&app, &ann, "t").await;
    store.relay(100, Utc::now()).await.unwrap();
    let delivery = get(&app, &ann, &format!("/webhooks/{id}/deliveries")).await.json()["data"][0]["id"].clone();
    let delivery = delivery.as_str().expect("the relay made a delivery").to_owned();
    let hook = format!("/webhooks/{id}");
    let retry = format!("{hook}/deliveries/{delivery}/retry");

    // Act
    let as_bob = [
        ("GET", get(&app, &bob, &hook).await),
        ("PATCH", patch(&app, &bob, &hook, json!({"active": false})).await),
        ("GET deliveries", get(&app, &bob, &format!("{hook}/deliveries")).await),
        ("POST retry", exchange(&app, empty_request(Method::POST, &retry, Some(&bob))).await),
        ("DELETE", exchange(&app, empty_request(Method::DELETE, &hook, Some(&bob))).await),
    ];
    let bobs_list = get(&app, &bob, "/webhooks").await;
    let roots_list = get(&app, &root, "/webhooks").await;
    let roots_deliveries = get(&app, &root, &format!("{hook}/deliveries")).await;

    // Assert
    for (case, reply) in &as_bob {
        assert_problem(reply, StatusCode::NOT_FOUND, case);
    }
    assert_eq!(bobs_list.json()["data"], json!([]));
    assert_eq!(roots_list.json()["data"][0]["id"], id.as_str());
    assert_eq!(roots_deliveries.json()["data"][0]["id"], delivery.as_str());
    assert_eq!(get(&app, &root, &hook).await.status, StatusCode::OK);
    assert_eq!(get(&app, &ann, &hook).await.json()["active"], true, "Bob's PATCH changed nothing");
}

#[tokio::test]
async fn patch_changes_only_the_members_it_names() {
    // Arrange
    let app = app();
    let (_, token) = register(&app, "ann@example.com").await;
    let created = create_webhook(&app, &token).await;
    let uri = format!("/webhooks/{}", created["id"].as_str().unwrap());

    // Act
    let paused = patch(&app, &token, &uri, json!({"active": false})).await;
    let cleared = patch(&app, &token, &uri, json!({"description": null})).await;
    let moved = patch(&app, &token, &uri, json!({"url": "https://example.org/new", "events": ["task.deleted"]})).await;

    // Assert
    assert_eq!(paused.status, StatusCode::OK, "{}", paused.body);
    let paused = paused.json();
    assert_eq!(paused["active"], false);
    assert_eq!(
        (&paused["url"], &paused["events"], &paused["description"]),
        (&created["url"], &created["events"], &json!("ci"))
    );
    assert!(paused.get("secret").is_none(), "{paused}");
    assert_eq!(cleared.json()["description"], Value::Null);
    let moved = moved.json();
    assert_eq!(
        (&moved["url"], &moved["events"], &moved["active"]),
        (&json!("https://example.org/new"), &json!(["task.deleted"]), &json!(false))
    );
    assert_eq!(get(&app, &token, &uri).await.json(), moved, "the change is stored");
}

#[tokio::test]
async fn patch_refuses_null_unknown_members_an_empty_body_and_a_private_url() {
    // Arrange
    let app = app();
    let (_, token) = register(&app, "ann@example.com").await;
    let uri = format!("/webhooks/{}", create_webhook(&app, &token).await["id"].as_str().unwrap());
    let cases = [
        ("null url", json!({"url": null}), "url"),
        ("null events", json!({"events": null}), "events"),
        ("null active", json!({"active": null}), "active"),
        ("an unknown member", json!({"secret": "whsec_x"}), "secret"),
        ("the id", json!({"id": Uuid::nil()}), "id"),
        ("nothing", json!({}), "body"),
        ("a loopback url", json!({"url": "http://[::1]/hook"}), "url"),
        ("no events", json!({"events": []}), "events"),
    ];

    for (case, body, field) in cases {
        // Act
        let reply = patch(&app, &token, &uri, body).await;

        // Assert
        let problem = assert_problem(&reply, StatusCode::BAD_REQUEST, case);
        assert_eq!(problem["errors"][0]["field"], field, "{case}: {problem}");
    }
}

#[tokio::test]
async fn a_deleted_webhook_is_204_then_404() {
    // Arrange
    let app = app();
    let (_, token) = register(&app, "ann@example.com").await;
    let uri = format!("/webhooks/{}", create_webhook(&app, &token).await["id"].as_str().unwrap());

    // Act
    let deleted = exchange(&app, empty_request(Method::DELETE, &uri, Some(&token))).await;
    let again = exchange(&app, empty_request(Method::DELETE, &uri, Some(&token))).await;
    let fetched = get(&app, &token, &uri).await;

    // Assert
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.body);
    assert!(deleted.body.is_empty());
    assert_problem(&again, StatusCode::NOT_FOUND, "a second DELETE");
    assert_problem(&fetched, StatusCode::NOT_FOUND, "GET after DELETE");
}

#[tokio::test]
async fn deliveries_are_listed_newest_first_in_pages_and_by_status() {
    // Arrange: three task events relayed into three deliveries; the oldest then fails for good.
    let (app, store) = app_and_store();
    let (_, token) = register(&app, "ann@example.com").await;
    let id = create_webhook(&app, &token).await["id"].as_str().unwrap().to_owned();
    let (_, bob) = register(&app, "bob@example.com").await;
    create_task(&app, &bob, "not Ann's").await;
    for title in ["one", "two", "three"] {
        create_task(&app, &token, title).await;
        let relayed = store.relay(100, Utc::now()).await.unwrap();
        assert!(relayed.deliveries >= 1, "{title}: {relayed:?}");
    }
    let claimed = store.claim(1, Utc::now(), TimeDelta::seconds(30)).await.unwrap();
    let dead = &claimed[0];
    let outcome = AttemptOutcome::Failed {
        class: FailureClass::Status(500),
        status: Some(500),
        retry_after: None,
        duration_ms: 7,
    };
    let record = AttemptRecord {
        id: dead.id,
        lease: dead.lease,
        attempt: dead.attempt,
        outcome,
        at: Utc::now(),
        next_attempt_at: None,
    };
    store.finish(&[record]).await.unwrap();
    let base = format!("/webhooks/{id}/deliveries");

    // Act
    let first = get(&app, &token, &format!("{base}?limit=2")).await;
    let second = get(&app, &token, &format!("{base}?limit=2&page=2")).await;
    let beyond = get(&app, &token, &format!("{base}?page=9")).await;
    let pending = get(&app, &token, &format!("{base}?status=pending")).await;
    let only_dead = get(&app, &token, &format!("{base}?status=dead")).await;

    // Assert
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    let (first, second) = (first.json(), second.json());
    assert_eq!(first["meta"], json!({"page": 1, "limit": 2, "total": 3, "totalPages": 2}));
    assert_eq!(first["data"].as_array().unwrap().len(), 2);
    assert_eq!(second["data"].as_array().unwrap().len(), 1);
    let all: Vec<&Value> = first["data"].as_array().unwrap().iter().chain(second["data"].as_array().unwrap()).collect();
    let created: Vec<&str> = all.iter().map(|d| d["createdAt"].as_str().unwrap()).collect();
    assert!(created.windows(2).all(|w| w[0] >= w[1]), "not newest first: {created:?}");
    assert_eq!(beyond.json()["data"], json!([]));
    assert_eq!(beyond.json()["meta"]["total"], 3);
    assert_eq!(pending.json()["meta"]["total"], 2);
    let dead_page = only_dead.json();
    assert_eq!(dead_page["meta"]["total"], 1, "{dead_page}");
    let listed = &dead_page["data"][0];
    assert_eq!(listed["id"], dead.id.to_string());
    assert_eq!(listed["eventId"], dead.event.id.to_string());
    assert_eq!(listed["event"], "task.created");
    assert_eq!(
        (&listed["status"], &listed["attempts"], &listed["lastStatusCode"]),
        (&json!("dead"), &json!(1), &json!(500))
    );
    assert_eq!(
        (&listed["lastError"], &listed["durationMs"], &listed["nextAttemptAt"]),
        (&json!("status 500"), &json!(7), &Value::Null)
    );
}

#[tokio::test]
async fn a_bad_status_page_or_limit_is_400_naming_it() {
    let app = app();
    let (_, token) = register(&app, "ann@example.com").await;
    let base = format!("/webhooks/{}/deliveries", create_webhook(&app, &token).await["id"].as_str().unwrap());
    for (query, field) in [("status=gone", "status"), ("page=0", "page"), ("limit=0", "limit"), ("limit=101", "limit")]
    {
        let reply = get(&app, &token, &format!("{base}?{query}")).await;
        let problem = assert_problem(&reply, StatusCode::BAD_REQUEST, query);
        assert_eq!(problem["errors"][0]["field"], field, "{query}: {problem}");
    }
    let reply = get(&app, &token, &format!("{base}?sort=id")).await;
    assert_problem(&reply, StatusCode::BAD_REQUEST, "an unknown parameter");
}

#[tokio::test]
async fn a_dead_delivery_is_retried_with_202_and_a_succeeded_one_is_409() {
    // Arrange: two deliveries, one dead and one succeeded.
    let (app, store) = app_and_store();
    let (_, token) = register(&app, "ann@example.com").await;
    let id = create_webhook(&app, &token).await["id"].as_str().unwrap().to_owned();
    create_task(&app, &token, "one").await;
    create_task(&app, &token, "two").await;
    store.relay(100, Utc::now()).await.unwrap();
    let claimed = store.claim(2, Utc::now(), TimeDelta::seconds(30)).await.unwrap();
    assert_eq!(claimed.len(), 2);
    let outcomes = [
        (AttemptOutcome::Failed { class: FailureClass::Timeout, status: None, retry_after: None, duration_ms: 9 }),
        (AttemptOutcome::Succeeded { status: 204, duration_ms: 3 }),
    ];
    let records: Vec<AttemptRecord> = claimed
        .iter()
        .zip(outcomes)
        .map(|(c, outcome)| AttemptRecord {
            id: c.id,
            lease: c.lease,
            attempt: c.attempt,
            outcome,
            at: Utc::now(),
            next_attempt_at: None,
        })
        .collect();
    store.finish(&records).await.unwrap();
    let retry = |delivery: String| format!("/webhooks/{id}/deliveries/{delivery}/retry");

    // Act
    let revived = exchange(&app, empty_request(Method::POST, &retry(claimed[0].id.to_string()), Some(&token))).await;
    let refused = exchange(&app, empty_request(Method::POST, &retry(claimed[1].id.to_string()), Some(&token))).await;
    let unknown = exchange(&app, empty_request(Method::POST, &retry(Uuid::nil().to_string()), Some(&token))).await;
    let malformed = exchange(&app, empty_request(Method::POST, &retry("x".into()), Some(&token))).await;

    // Assert
    assert_eq!(revived.status, StatusCode::ACCEPTED, "{}", revived.body);
    let revived = revived.json();
    assert_eq!(
        (&revived["id"], &revived["status"], &revived["attempts"]),
        (&json!(claimed[0].id.to_string()), &json!("pending"), &json!(0))
    );
    assert!(revived["nextAttemptAt"].is_string(), "{revived}");
    assert_problem(&refused, StatusCode::CONFLICT, "retrying a succeeded delivery");
    assert_problem(&unknown, StatusCode::NOT_FOUND, "retrying an unknown delivery");
    let problem = assert_problem(&malformed, StatusCode::BAD_REQUEST, "a malformed delivery id");
    assert_eq!(problem["errors"][0]["field"], "deliveryId");
}

#[tokio::test]
async fn webhook_routes_carry_rate_limit_headers_and_answer_429_past_the_limit() {
    // Arrange
    let settings = HttpSettings { rate_limit_per_minute: 2, ..Default::default() };
    let app = app_with(Arc::new(InMemoryStore::new()), settings, |_| {});
    let (_, token) = register(&app, "ann@example.com").await;

    // Act
    let replies = [
        get(&app, &token, "/webhooks").await,
        get(&app, &token, "/webhooks").await,
        get(&app, &token, "/webhooks").await,
    ];

    // Assert
    for reply in &replies {
        for name in ["ratelimit-limit", "ratelimit-remaining", "ratelimit-reset"] {
            assert!(reply.header(name).is_some(), "{} lacks {name}", reply.status);
        }
    }
    assert_eq!(replies[1].status, StatusCode::OK);
    assert_problem(&replies[2], StatusCode::TOO_MANY_REQUESTS, "the third request");
    assert_eq!(replies[2].header("ratelimit-remaining"), Some("0"));
    assert!(replies[2].header("retry-after").is_some());
}
