//! A webhook receiver for the end-to-end tests: an axum server on a free loopback port that records every request
//! (headers, body, when it arrived, when it was answered) and answers from a script (a queue of replies, then a
//! default). Tests wait on it with a deadline, woken by a signal on every change, never by a bare sleep.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use tokio::net::TcpSocket;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// One answer of the receiver: a status, after an optional delay, with optional headers.
#[derive(Debug, Clone)]
pub struct Reply {
    status: u16,
    delay: Duration,
    headers: Vec<(&'static str, String)>,
}

impl Reply {
    /// Answers `status` at once.
    pub fn status(status: u16) -> Self {
        Self { status, delay: Duration::ZERO, headers: Vec::new() }
    }

    /// Answers 200 at once.
    pub fn ok() -> Self {
        Self::status(200)
    }

    /// Answers only after `delay`.
    pub fn after(self, delay: Duration) -> Self {
        Self { delay, ..self }
    }

    /// With a header (`Retry-After`, `Location`, ...).
    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }
}

/// A request as the receiver saw it.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: Method,
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// When it arrived (before the reply's delay).
    pub arrived: Instant,
    /// When its answer was sent, if it was.
    pub answered: Option<Instant>,
    /// The status it was answered with.
    pub status: u16,
}

impl Received {
    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("the delivery body is not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    /// A header that must be present, as text.
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("the delivery lacks the header {name}: {:?}", self.headers))
    }

    /// `webhook-id`: the event's id, the same on every attempt.
    pub fn webhook_id(&self) -> &str {
        self.header("webhook-id")
    }

    /// The event type in the body.
    pub fn event_type(&self) -> String {
        self.json()["type"].as_str().unwrap_or_default().to_owned()
    }

    /// The id of the task the event is about.
    pub fn task_id(&self) -> String {
        self.json()["data"]["task"]["id"].as_str().unwrap_or_default().to_owned()
    }
}

#[derive(Debug)]
struct Log {
    received: Vec<Received>,
    script: VecDeque<Reply>,
    default: Reply,
}

#[derive(Debug)]
struct Shared {
    log: Mutex<Log>,
    changed: Notify,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Log> {
        self.log.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A port that is held but not listening: connections to it are refused until [`DownReceiver::up`].
pub struct DownReceiver {
    socket: TcpSocket,
    address: SocketAddr,
}

impl DownReceiver {
    /// Reserves a free loopback port without listening on it.
    pub fn new() -> Self {
        let socket = TcpSocket::new_v4().expect("a TCP socket");
        socket.bind(SocketAddr::from(([127, 0, 0, 1], 0))).expect("a free loopback port");
        let address = socket.local_addr().expect("the bound address");
        Self { socket, address }
    }

    /// The URL webhooks are registered with.
    pub fn url(&self) -> String {
        format!("http://{}/hook", self.address)
    }

    /// Starts listening on the same port, answering 200 unless scripted otherwise.
    pub fn up(self) -> Receiver {
        let listener = self.socket.listen(128).expect("listening on the reserved port");
        let shared = Arc::new(Shared {
            log: Mutex::new(Log { received: Vec::new(), script: VecDeque::new(), default: Reply::ok() }),
            changed: Notify::new(),
        });
        let stop = CancellationToken::new();
        let app = axum::Router::new().fallback(record).with_state(Arc::clone(&shared));
        let server = axum::serve(listener, app).with_graceful_shutdown(stop.clone().cancelled_owned());
        tokio::spawn(async move { server.await });
        Receiver { address: self.address, shared, stop }
    }
}

/// A running receiver; stopped when dropped.
pub struct Receiver {
    address: SocketAddr,
    shared: Arc<Shared>,
    stop: CancellationToken,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

impl Receiver {
    /// Starts a receiver that answers 200 unless scripted otherwise.
    pub fn start() -> Self {
        DownReceiver::new().up()
    }

    /// The URL webhooks are registered with.
    pub fn url(&self) -> String {
        format!("http://{}/hook", self.address)
    }

    /// The next requests get these replies, in order; then the default.
    pub fn script(&self, replies: impl IntoIterator<Item = Reply>) {
        self.shared.lock().script.extend(replies);
    }

    /// The reply to every request once the script is used up.
    pub fn answer_with(&self, reply: Reply) {
        self.shared.lock().default = reply;
    }

    /// Everything received so far, in arrival order.
    pub fn received(&self) -> Vec<Received> {
        self.shared.lock().received.clone()
    }

    /// Waits until at least `n` requests arrived, then returns all of them.
    ///
    /// # Panics
    /// When they do not arrive within `within`.
    pub async fn wait_for(&self, n: usize, within: Duration) -> Vec<Received> {
        self.wait_until(&format!("{n} requests"), within, |got| got.len() >= n).await
    }

    /// Waits until `done` holds for what was received (checked on every arrival and answer), then returns it.
    ///
    /// # Panics
    /// When it does not hold within `within`, with what arrived.
    pub async fn wait_until(&self, what: &str, within: Duration, done: impl Fn(&[Received]) -> bool) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            // Registered before the check, so a change between the check and the wait is not missed.
            let changed = self.shared.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            let got = self.received();
            if done(&got) {
                return got;
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                panic!("the receiver did not get {what} within {within:?}; it got {}", summary(&got));
            }
        }
    }

    /// Everything received after `quiet` more time. There is no signal for "nothing else will come", so the
    /// tests that assert an absence wait a bounded time, longer than the retry or scan that could break it.
    pub async fn after_quiet(&self, quiet: Duration) -> Vec<Received> {
        tokio::time::sleep(quiet).await;
        self.received()
    }
}

/// One line per request: type, task, status answered.
pub fn summary(got: &[Received]) -> String {
    let lines: Vec<String> = got
        .iter()
        .map(|r| {
            let body = serde_json::from_slice::<Value>(&r.body).unwrap_or(Value::Null);
            format!("{} {} {} -> {}", r.method, body["type"], body["data"]["task"]["id"], r.status)
        })
        .collect();
    format!("{} request(s) [{}]", got.len(), lines.join("; "))
}

async fn record(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let arrived = Instant::now();
    let (index, reply) = {
        let mut log = shared.lock();
        let reply = log.script.pop_front().unwrap_or_else(|| log.default.clone());
        log.received.push(Received {
            method,
            path: uri.path().to_owned(),
            headers,
            body,
            arrived,
            answered: None,
            status: reply.status,
        });
        (log.received.len() - 1, reply)
    };
    shared.changed.notify_waiters();
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    shared.lock().received[index].answered = Some(Instant::now());
    shared.changed.notify_waiters();
    let mut response = StatusCode::from_u16(reply.status).expect("a valid status").into_response();
    for (name, value) in reply.headers {
        response
            .headers_mut()
            .insert(HeaderName::from_static(name), HeaderValue::from_str(&value).expect("a valid header value"));
    }
    response
}
