//! The whole router over the in-memory adapters, driven without a socket.

#![allow(dead_code)] // Each test binary uses its own part.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::BodyExt as _;
use serde_json::Value;
use taskflow_adapters_crypto::{Argon2PasswordHasher, PasetoTokenIssuer};
use taskflow_adapters_http::{AppState, HttpSettings, observability, router};
use taskflow_adapters_memory::{InMemoryRateLimiter, InMemoryStore};
use taskflow_application::Deps;
use taskflow_application::auth::{AuthService, AuthSettings};
use taskflow_application::cache::ReadCache;
use taskflow_application::clock::SystemClock;
use taskflow_application::domain::webhook::{AttemptOutcome, WebhookUrl, WebhookUrlHost};
use taskflow_application::health::HealthService;
use taskflow_application::idempotency::IdempotencyService;
use taskflow_application::ids::UuidV7Generator;
use taskflow_application::ports::{OutgoingWebhook, UrlRefusal, WebhookSender};
use taskflow_application::rate_limits::RateLimitService;
use taskflow_application::tasks::TaskService;
use taskflow_application::users::UserService;
use taskflow_application::webhooks::WebhookService;
use tower::ServiceExt as _;

/// A fresh router with its own in-memory store.
pub fn app() -> Router {
    app_with(Arc::new(InMemoryStore::new()), HttpSettings::default(), |_| {})
}

/// Sends one request and returns the status and the body as text.
pub async fn send(app: &Router, request: Request<Body>) -> (StatusCode, String) {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

/// Registers a user and returns (user id, access token).
pub async fn register(app: &Router, email: &str) -> (String, String) {
    let body = serde_json::json!({"email": email, "password": "password123", "name": "Ann"}).to_string();
    let request =
        Request::post("/auth/register").header("content-type", "application/json").body(Body::from(body)).unwrap();
    let (status, body) = send(app, request).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let auth: Value = serde_json::from_str(&body).unwrap();
    (auth["user"]["id"].as_str().unwrap().to_owned(), auth["accessToken"].as_str().unwrap().to_owned())
}

/// A fresh router over `store` with `settings`, whose use cases' ports `adjust` may replace (with a failing double,
/// say). Keep the store to act on it beside the router, as another instance or an earlier request would.
pub fn app_with(store: Arc<InMemoryStore>, settings: HttpSettings, adjust: impl FnOnce(&mut Deps)) -> Router {
    let mut deps = Deps {
        clock: Arc::new(SystemClock),
        ids: Arc::new(UuidV7Generator),
        uow: store.clone(),
        task_reads: store.clone(),
        user_reads: store.clone(),
        hasher: Arc::new(Argon2PasswordHasher::insecure_fast()),
        tokens: Arc::new(PasetoTokenIssuer::ephemeral()),
        refresh_tokens: store.clone(),
        events: store.clone(),
        read_cache: Arc::new(ReadCache::disabled()),
        revoked_users: Arc::new(taskflow_application::auth::RevokedUsers::new(
            store.clone(),
            chrono::Duration::minutes(15),
        )),
        webhooks: store.clone(),
        deliveries: store.clone(),
        webhook_sender: Arc::new(LiteralIpVetting),
        webhook_breakers: Arc::new(taskflow_adapters_memory::InMemoryBreakers::new()),
    };
    adjust(&mut deps);
    let live = Arc::new(taskflow_application::events::LiveEvents::new(
        store.clone(),
        Arc::clone(&deps.revoked_users),
        taskflow_application::events::LiveSettings::default(),
    ));
    let auth = AuthSettings { access_ttl: chrono::Duration::minutes(15), refresh_ttl: chrono::Duration::days(7) };
    router(AppState {
        auth: Arc::new(AuthService::new(deps.clone(), auth)),
        users: Arc::new(UserService::new(deps.clone())),
        tasks: Arc::new(TaskService::new(deps.clone())),
        webhooks: Arc::new(WebhookService::new(deps)),
        live,
        health: Arc::new(HealthService::new(store.clone(), store.clone())),
        idempotency: Arc::new(IdempotencyService::new(store)),
        rate_limits: Arc::new(RateLimitService::new(Arc::new(InMemoryRateLimiter::new()))),
        settings,
        metrics: observability::prometheus_handle(),
    })
}

/// A webhook sender for router tests (implemented in the form `#[async_trait]` gives it, so the crate needs no
/// `async-trait` dependency for its tests): `vet` refuses IP-literal hosts that are loopback, private, link-local,
/// unspecified or multicast (no DNS: names pass), and `send` always succeeds. The real SSRF guard is tested with
/// its adapter; here only the route's handling of a refusal is.
#[derive(Debug, Default)]
pub struct LiteralIpVetting;

type Boxed<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

fn refused(ip: std::net::IpAddr) -> bool {
    let mapped = match ip {
        std::net::IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, std::net::IpAddr::V4),
        v4 => v4,
    };
    mapped.is_loopback()
        || mapped.is_unspecified()
        || mapped.is_multicast()
        || match mapped {
            std::net::IpAddr::V4(v4) => v4.is_private() || v4.is_link_local(),
            std::net::IpAddr::V6(v6) => v6.is_unique_local() || v6.is_unicast_link_local(),
        }
}

impl WebhookSender for LiteralIpVetting {
    fn send<'life0, 'life1, 'async_trait>(
        &'life0 self,
        _: OutgoingWebhook<'life1>,
    ) -> Boxed<'async_trait, AttemptOutcome>
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        Self: 'async_trait,
    {
        Box::pin(async { AttemptOutcome::Succeeded { status: 200, duration_ms: 1 } })
    }

    fn vet<'life0, 'life1, 'async_trait>(
        &'life0 self,
        url: &'life1 WebhookUrl,
    ) -> Boxed<'async_trait, Result<(), UrlRefusal>>
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        Self: 'async_trait,
    {
        let verdict = match url.host() {
            WebhookUrlHost::Ip(ip) if refused(ip) => Err(UrlRefusal::AddressNotAllowed),
            _ => Ok(()),
        };
        Box::pin(async move { verdict })
    }
}

/// A whole response: status, headers and the body as text.
#[derive(Debug)]
pub struct Reply {
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The body, as text.
    pub body: String,
}

impl Reply {
    /// The value of header `name` as text, if it is there.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().expect("a header that is not text"))
    }

    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// Sends one request and returns the whole response.
pub async fn exchange(app: &Router, request: Request<Body>) -> Reply {
    let response = app.clone().oneshot(request).await.unwrap();
    let (parts, body) = response.into_parts();
    let body = body.collect().await.unwrap().to_bytes();
    Reply { status: parts.status, headers: parts.headers, body: String::from_utf8(body.to_vec()).unwrap() }
}

/// A request with a JSON body (`Content-Type: application/json`), with a bearer token if one is given.
pub fn json_request(method: Method, uri: &str, token: Option<&str>, body: impl Into<Body>) -> Request<Body> {
    let builder = Request::builder().method(method).uri(uri).header("content-type", "application/json");
    with_token(builder, token).body(body.into()).unwrap()
}

/// A request without a body, with a bearer token if one is given.
pub fn empty_request(method: Method, uri: &str, token: Option<&str>) -> Request<Body> {
    with_token(Request::builder().method(method).uri(uri), token).body(Body::empty()).unwrap()
}

fn with_token(builder: axum::http::request::Builder, token: Option<&str>) -> axum::http::request::Builder {
    match token {
        Some(token) => builder.header("authorization", format!("Bearer {token}")),
        None => builder,
    }
}

/// Creates a task titled `title` for the token's user and returns it as JSON.
pub async fn create_task(app: &Router, token: &str, title: &str) -> Value {
    let body = serde_json::json!({ "title": title }).to_string();
    let reply = exchange(app, json_request(Method::POST, "/tasks", Some(token), body)).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.json()
}

/// Text that no error body may contain: source paths, Rust type names, panics, SQL, hashes and tokens.
pub const INTERNAL_TEXT: [&str; 14] = [
    "src/",
    ".rs:",
    "panicked",
    "RepoError",
    "AppError",
    "CreateTaskIn",
    "UpdateTaskIn",
    "RegisterIn",
    "SELECT ",
    "sqlx",
    "$argon2",
    "v4.local.",
    "v4.public.",
    "password123",
];

/// Asserts `reply` is an RFC 9457 problem with `status`: `application/problem+json`, every member of the API's
/// problem shape, `requestId` equal to the `X-Request-Id` header, and none of [`INTERNAL_TEXT`]. Returns the body.
pub fn assert_problem(reply: &Reply, status: StatusCode, case: &str) -> Value {
    assert_eq!(reply.status, status, "{case}: {}", reply.body);
    let content_type = reply.header("content-type").unwrap_or_default();
    assert!(content_type.starts_with("application/problem+json"), "{case}: content type {content_type:?}");
    let problem = reply.json();
    assert_eq!(problem["status"], status.as_u16(), "{case}: {problem}");
    let kind = problem["type"].as_str().unwrap_or_else(|| panic!("{case}: no type in {problem}"));
    assert!(kind.starts_with("https://") || kind == "about:blank", "{case}: type {kind}");
    assert!(problem["title"].as_str().is_some_and(|t| !t.is_empty()), "{case}: no title in {problem}");
    assert!(problem["detail"].as_str().is_some_and(|t| !t.is_empty()), "{case}: no detail in {problem}");
    let request_id = reply.header("x-request-id").unwrap_or_else(|| panic!("{case}: no X-Request-Id"));
    assert_eq!(problem["requestId"], request_id, "{case}: requestId is not the X-Request-Id header");
    for text in INTERNAL_TEXT {
        assert!(!reply.body.contains(text), "{case}: the body shows {text:?}: {}", reply.body);
    }
    problem
}
