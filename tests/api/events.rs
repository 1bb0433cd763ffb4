//! `GET /events` (issue 10): server-sent events of the tasks the caller may see, on both backends; resuming with
//! `Last-Event-ID`; keep-alive comments; the end of a stream at shutdown, at token expiry and for a deleted user;
//! a client that stops reading is disconnected; and, on PostgreSQL, two instances: a write through one reaches a
//! stream on the other, also after the broadcast connection was cut.

use std::pin::Pin;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use futures::{Stream, StreamExt as _};
use reqwest::Method;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::helpers::{Backend, TestApp, TestUser, spawn_app_with, spawn_second_instance, text};

/// How long a test waits for an event before it fails.
const PATIENCE: Duration = Duration::from_secs(10);

/// One server-sent event, or a comment.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Frame {
    id: Option<String>,
    event: Option<String>,
    data: String,
    comment: Option<String>,
}

impl Frame {
    fn parse(block: &str) -> Self {
        let mut frame = Self::default();
        for line in block.lines() {
            if let Some(comment) = line.strip_prefix(':') {
                frame.comment = Some(comment.trim().to_owned());
            } else if let Some((field, value)) = line.split_once(':') {
                let value = value.strip_prefix(' ').unwrap_or(value).to_owned();
                match field {
                    "id" => frame.id = Some(value),
                    "event" => frame.event = Some(value),
                    "data" => frame.data.push_str(&value),
                    _ => {}
                }
            }
        }
        frame
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.data).unwrap_or_else(|e| panic!("data is not JSON ({e}): {}", self.data))
    }
}

/// An open event stream, read frame by frame.
struct EventStream {
    body: Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>,
    buffer: String,
}

impl EventStream {
    async fn open(app: &TestApp, user: &TestUser, last_event_id: Option<&str>) -> Self {
        let mut call = app.client.get(format!("{}/events", app.address)).bearer_auth(&user.access_token);
        if let Some(id) = last_event_id {
            call = call.header("Last-Event-ID", id);
        }
        let response = call.send().await.expect("GET /events");
        assert_eq!(response.status(), 200, "GET /events: {:?}", response.headers());
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        assert!(response.headers().contains_key("ratelimit-remaining"), "opening is rate limited");
        Self { body: Box::pin(response.bytes_stream()), buffer: String::new() }
    }

    /// The next frame (comments included) within `within`; `None` when the stream ended cleanly.
    async fn next_frame(&mut self, within: Duration) -> Option<Frame> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                return Some(Frame::parse(&block));
            }
            match tokio::time::timeout_at(deadline, self.body.next()).await {
                Err(_) => panic!("no frame within {within:?}; holding {:?}", self.buffer),
                Ok(None) => return None,
                Ok(Some(Err(e))) => panic!("the stream broke instead of ending: {e}"),
                Ok(Some(Ok(bytes))) => self.buffer.push_str(std::str::from_utf8(&bytes).expect("UTF-8")),
            }
        }
    }

    /// The next event, skipping comments.
    async fn next_event(&mut self) -> Frame {
        loop {
            let frame = self.next_frame(PATIENCE).await.expect("the stream ended");
            if frame.comment.is_none() {
                return frame;
            }
        }
    }

    /// The next `n` events' ids.
    async fn ids(&mut self, n: usize) -> Vec<String> {
        let mut ids = Vec::new();
        for _ in 0..n {
            ids.push(self.next_event().await.id.expect("an id"));
        }
        ids
    }

    /// Reads until the stream ends; fails if it has not within `within`.
    async fn ends_within(&mut self, within: Duration) {
        let deadline = Instant::now() + within;
        while self.next_frame(deadline.saturating_duration_since(Instant::now())).await.is_some() {}
    }
}

/// A server that runs the worker (events reach streams once relayed).
async fn spawn(backend: Backend) -> TestApp {
    spawn_app_with(backend, |c| c.worker = true).await
}

/// Creates a task; returns the id of its `task.created` event (from the task's history).
async fn created_event(app: &TestApp, user: &TestUser, title: &str) -> String {
    let id = app.create_task_titled(user, title).await;
    let history = app.call(Method::GET, &format!("/tasks/{id}/history")).signed_in(user).expect(200).await.json();
    text(&history["data"][0]["id"])
}

async fn a_stream_carries_the_callers_events_only_and_an_admins_all(backend: Backend) {
    // Arrange
    let app = spawn(backend).await;
    let (ann, bob, admin) = (app.register_user().await, app.register_user().await, app.admin().await);
    let mut anns = EventStream::open(&app, &ann, None).await;
    let mut admins = EventStream::open(&app, &admin, None).await;

    // Act: Bob's task is created between two of Ann's.
    let a1 = created_event(&app, &ann, "first").await;
    let b1 = created_event(&app, &bob, "bob's").await;
    let id = app.create_task_titled(&ann, "second").await;
    app.patch_task(&ann, &id, &json!({"status": "COMPLETED"}), 200).await;

    // Assert: Ann's stream goes from her first event to her second with nothing of Bob's between.
    let first = anns.next_event().await;
    assert_eq!(first.id.as_deref(), Some(a1.as_str()));
    assert_eq!(first.event.as_deref(), Some("task.created"));
    let history = app.call(Method::GET, &format!("/tasks/{id}/history")).signed_in(&ann).expect(200).await.json();
    let second = anns.next_event().await;
    assert_eq!(second.json(), history["data"][0], "data is the Event of the task history");
    let third = anns.next_event().await;
    assert_eq!((third.event.as_deref(), third.json()), (Some("task.completed"), history["data"][1].clone()));
    assert_eq!(admins.ids(4).await, [a1, b1, text(&history["data"][0]["id"]), text(&history["data"][1]["id"])]);
}
on_both_backends!(a_stream_carries_the_callers_events_only_and_an_admins_all);

async fn last_event_id_replays_exactly_what_was_missed_then_the_live_ones(backend: Backend) {
    // Arrange: Ann saw her first event, then went away while four more of hers (and one of Bob's) committed.
    let app = spawn(backend).await;
    let (ann, bob) = (app.register_user().await, app.register_user().await);
    let mut first = EventStream::open(&app, &ann, None).await;
    let seen = created_event(&app, &ann, "seen").await;
    assert_eq!(first.ids(1).await, std::slice::from_ref(&seen));
    drop(first);
    let mut missed = Vec::new();
    for title in ["two", "three"] {
        missed.push(created_event(&app, &ann, title).await);
    }
    created_event(&app, &bob, "not Ann's").await;
    for title in ["four", "five"] {
        missed.push(created_event(&app, &ann, title).await);
    }

    // Act
    let mut resumed = EventStream::open(&app, &ann, Some(&seen)).await;
    let live = created_event(&app, &ann, "live").await;

    // Assert: the missed ones in order, then the live one, each once.
    missed.push(live);
    assert_eq!(resumed.ids(5).await, missed);
    let after = created_event(&app, &ann, "after").await;
    assert_eq!(resumed.ids(1).await, [after], "nothing twice");
}
on_both_backends!(last_event_id_replays_exactly_what_was_missed_then_the_live_ones);

async fn a_last_event_id_that_is_no_event_of_the_stream_is_400(backend: Backend) {
    let app = spawn(backend).await;
    let ann = app.register_user().await;
    for junk in ["nope", "00000000-0000-0000-0000-000000000000"] {
        let answer = app.call(Method::GET, "/events").signed_in(&ann).header("Last-Event-ID", junk).expect(400).await;
        answer.assert_is_problem();
        assert_eq!(answer.json()["errors"][0]["field"], "Last-Event-ID", "{junk}");
    }
    app.call(Method::GET, "/events").expect(401).await.assert_is_problem();
}
on_both_backends!(a_last_event_id_that_is_no_event_of_the_stream_is_400);

async fn keep_alive_comments_flow_and_shutdown_ends_the_stream_cleanly(backend: Backend) {
    // Arrange
    let app = spawn_app_with(backend, |c| {
        c.worker = true;
        c.event_keep_alive_secs = 1;
        c.shutdown_grace_secs = 10;
    })
    .await;
    let ann = app.register_user().await;
    let mut stream = EventStream::open(&app, &ann, None).await;

    // Act / Assert: a comment arrives while nothing happens.
    let quiet = stream.next_frame(Duration::from_secs(5)).await.expect("a frame");
    assert_eq!(quiet.comment.as_deref(), Some("keep-alive"));

    // Act / Assert: on shutdown the stream ends, as a finished response (not a broken one), well within the grace.
    let asked = Instant::now();
    app.shutdown();
    stream.ends_within(Duration::from_secs(5)).await;
    assert!(asked.elapsed() < Duration::from_secs(5));
}
on_both_backends!(keep_alive_comments_flow_and_shutdown_ends_the_stream_cleanly);

/// The counter of streams dropped as too slow, as `/metrics` shows it.
async fn slow_drops(app: &TestApp) -> f64 {
    let metrics = app.call(Method::GET, "/metrics").expect(200).await.text;
    metrics
        .lines()
        .find(|l| l.starts_with("event_stream_slow_clients_dropped_total"))
        .and_then(|l| l.rsplit(' ').next())
        .map_or(0.0, |v| v.parse().expect("a number"))
}

async fn a_client_that_stops_reading_is_disconnected(backend: Backend) {
    // Arrange: a stream with an 8-event buffer, on a socket with a small receive buffer, never read.
    let app = spawn_app_with(backend, |c| {
        c.worker = true;
        c.event_stream_buffer = 8;
    })
    .await;
    let ann = app.register_user().await;
    let address = app.address.trim_start_matches("http://").parse().expect("an address");
    let socket = tokio::net::TcpSocket::new_v4().expect("a socket");
    socket.set_recv_buffer_size(4096).expect("SO_RCVBUF");
    let mut client = socket.connect(address).await.expect("connect");
    let request =
        format!("GET /events HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {}\r\n\r\n", ann.access_token);
    client.write_all(request.as_bytes()).await.expect("send the request");
    let before = slow_drops(&app).await;

    // Act: large events (4 KB of changes each) until the server gives up on the stream (no other test drops one).
    let id = app.create_task_titled(&ann, "big").await;
    let mut patches = 0;
    while slow_drops(&app).await <= before {
        for _ in 0..25 {
            patches += 1;
            let description = format!("{patches:0>2000}");
            app.patch_task(&ann, &id, &json!({"description": description}), 200).await;
        }
        assert!(patches < 5_000, "the stream was never dropped");
    }

    // Assert: the server closed the connection: what it had sent can be read, then the socket ends.
    let mut sink = vec![0; 64 * 1024];
    let ended = tokio::time::timeout(PATIENCE, async {
        loop {
            match client.read(&mut sink).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(ended.is_ok(), "the connection stays open after the stream was dropped");
}
// One test for both backends, one after the other: the counter it watches is the process's, shared by the tests.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_is_disconnected_on_both_backends() {
    a_client_that_stops_reading_is_disconnected(Backend::Memory).await;
    a_client_that_stops_reading_is_disconnected(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_ends_when_its_token_expires_and_when_its_user_is_deleted() {
    // Arrange
    let app = spawn_app_with(Backend::Memory, |c| {
        c.worker = true;
        c.access_token_ttl_secs = 3;
    })
    .await;
    let (ann, bob, admin) = (app.register_user().await, app.register_user().await, app.admin().await);
    let mut anns = EventStream::open(&app, &ann, None).await;
    let opened = Instant::now();

    // Act / Assert: Ann's ends with her token (3 s), give or take the hub's one-second sweep.
    anns.ends_within(Duration::from_secs(8)).await;
    assert!(opened.elapsed() >= Duration::from_secs(2), "ended at {:?}, before the token expired", opened.elapsed());

    // Act / Assert: Bob's ends when an admin deletes him, long before his token expires.
    let (bob, admin) = (app.login_again(&bob).await, app.login_again(&admin).await);
    let mut bobs = EventStream::open(&app, &bob, None).await;
    app.delete_user(&admin, &bob.id, 204).await;
    let deleted = Instant::now();
    bobs.ends_within(Duration::from_secs(8)).await;
    assert!(deleted.elapsed() < Duration::from_secs(3), "a deleted user's stream lived {:?}", deleted.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_written_through_one_instance_reaches_a_stream_on_another() {
    // Arrange: A takes the writes (and runs the worker), B holds the stream.
    let a = spawn(Backend::Postgres).await;
    let b = spawn_second_instance(&a).await;
    let ann = a.register_user().await;
    let mut on_b = EventStream::open(&b, &ann, None).await;

    // Act
    let written = Instant::now();
    let id = created_event(&a, &ann, "through A").await;

    // Assert: the contract says within 1 s; the test allows for a loaded machine (the benchmark measures it).
    assert_eq!(on_b.ids(1).await, [id]);
    let took = written.elapsed();
    assert!(took < Duration::from_secs(3), "took {took:?}");
    drop(b);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_catches_up_from_the_log_when_the_broadcast_connection_is_cut() {
    // Arrange
    let a = spawn(Backend::Postgres).await;
    let b = spawn_second_instance(&a).await;
    let ann = a.register_user().await;
    let mut on_b = EventStream::open(&b, &ann, None).await;
    let before = created_event(&a, &ann, "before").await;
    assert_eq!(on_b.ids(1).await, [before]);

    // Act: cut every listening connection of this database (both instances'), and write while they reconnect.
    let killed = terminate_listeners(&a);
    assert!(killed >= 1, "no listening connection to cut");
    let mut written = Vec::new();
    for title in ["during 1", "during 2", "during 3"] {
        written.push(created_event(&a, &ann, title).await);
    }

    // Assert: all of them, in order, none lost.
    assert_eq!(on_b.ids(3).await, written);
    let after = created_event(&a, &ann, "after").await;
    assert_eq!(on_b.ids(1).await, [after]);
    drop(b);
}

/// Terminates the connections that `LISTEN` on `app`'s database; returns how many.
fn terminate_listeners(app: &TestApp) -> i64 {
    let url = app.database_url().expect("a PostgreSQL app");
    let sql = "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
               WHERE datname = current_database() AND query LIKE 'LISTEN%' AND pid <> pg_backend_pid()";
    let out = std::process::Command::new("psql").args([url.as_str(), "-tAc", sql]).output().expect("psql");
    assert!(out.status.success(), "psql: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().parse().expect("a count")
}
