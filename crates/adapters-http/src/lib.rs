//! TaskFlow's HTTP adapter (axum): routing, extraction and validation into domain types, authentication, rate
//! limiting, idempotent retries, metrics, OpenAPI, and the one mapping from application errors to HTTP problems.
//!
//! [`router`] builds the whole API from an [`AppState`] of use cases; it opens no socket, so tests drive it with
//! `tower::ServiceExt::oneshot`.

mod access_log;
mod auth;
mod dto;
pub mod error;
mod event_body;
mod events;
mod extract;
mod health;
mod idempotency;
mod middleware;
pub mod observability;
mod openapi;
mod parse_errors;
mod rate_limit;
mod request_id;
mod schemas;
pub mod server;
mod tasks;
mod users;
mod webhooks;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::error_handling::HandleErrorLayer;
use axum::extract::DefaultBodyLimit;
use metrics_exporter_prometheus::PrometheusHandle;
use taskflow_application::auth::AuthService;
use taskflow_application::events::LiveEvents;

use taskflow_application::health::HealthService;
use taskflow_application::idempotency::IdempotencyService;
use taskflow_application::rate_limits::RateLimitService;
use taskflow_application::tasks::TaskService;
use taskflow_application::users::UserService;
use taskflow_application::webhooks::WebhookService;
use tower::ServiceBuilder;
use tower::limit::GlobalConcurrencyLimitLayer;
use tower::load_shed::LoadShedLayer;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::sensitive_headers::SetSensitiveHeadersLayer;
use tower_http::timeout::{RequestBodyDeadlineLayer, TimeoutLayer};

pub use event_body::JsonEventEncoder;
pub use openapi::ApiDoc;

/// The largest request body accepted.
pub const BODY_LIMIT: usize = 1024 * 1024;

/// HTTP-level settings.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Requests per minute per user (or per IP when anonymous) on `/auth`, `/users`, `/tasks`, `/webhooks`.
    pub rate_limit_per_minute: u32,
    /// Requests per minute per IP on login, register and refresh.
    pub rate_limit_auth_per_minute: u32,
    /// Believe `X-Forwarded-For` (only behind a proxy that sets it).
    pub trust_proxy: bool,
    /// How long one request may take before it is answered 503.
    pub request_timeout: Duration,
    /// How long a client may take to send a request body before it is answered 408.
    pub body_timeout: Duration,
    /// How many requests may be in flight at once; more are shed with 503 and `Retry-After`.
    pub max_in_flight: usize,
    /// How long an event stream may stay silent before a keep-alive comment is sent.
    pub event_keep_alive: Duration,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            rate_limit_per_minute: 100,
            rate_limit_auth_per_minute: 10,
            trust_proxy: false,
            request_timeout: Duration::from_secs(30),
            body_timeout: Duration::from_secs(10),
            max_in_flight: 256,
            event_keep_alive: Duration::from_secs(15),
        }
    }
}

/// What the handlers share: the use cases, and the few ports the HTTP edge drives itself.
#[derive(Clone)]
pub struct AppState {
    /// Authentication use cases.
    pub auth: Arc<AuthService>,
    /// User use cases.
    pub users: Arc<UserService>,
    /// Task use cases.
    pub tasks: Arc<TaskService>,
    /// Webhook use cases.
    pub webhooks: Arc<WebhookService>,
    /// The instance's live event streams.
    pub live: Arc<LiveEvents>,
    /// Readiness checks.
    pub health: Arc<HealthService>,
    /// Idempotent retries.
    pub idempotency: Arc<IdempotencyService>,
    /// Rate limits.
    pub rate_limits: Arc<RateLimitService>,
    /// Settings.
    pub settings: HttpSettings,
    /// The Prometheus registry rendered by `/metrics`.
    pub metrics: PrometheusHandle,
}

/// The whole HTTP API.
pub fn router(state: AppState) -> Router {
    let (timeout, body_timeout) = (state.settings.request_timeout, state.settings.body_timeout);
    Router::new()
        .merge(auth::routes(&state))
        .merge(users::routes())
        .merge(tasks::routes(&state))
        .merge(webhooks::routes())
        .merge(events::routes())
        .merge(health::routes())
        .merge(openapi::routes())
        .fallback(middleware::not_found)
        .method_not_allowed_fallback(middleware::method_not_allowed)
        .layer(
            ServiceBuilder::new()
                .layer(SetSensitiveHeadersLayer::new([axum::http::header::AUTHORIZATION]))
                .layer(axum::middleware::from_fn(request_id::request_id))
                .layer(axum::middleware::from_fn(access_log::access_log))
                .layer(axum::middleware::from_fn(observability::record_request))
                .layer(axum::middleware::from_fn(middleware::problem_for_bare_errors))
                // Past `max_in_flight` requests, shed at once with 503 instead of queueing without bound.
                .layer(HandleErrorLayer::new(middleware::shed))
                .layer(LoadShedLayer::new())
                .layer(GlobalConcurrencyLimitLayer::new(state.settings.max_in_flight))
                .layer(CatchPanicLayer::custom(middleware::panic_response))
                .layer(TimeoutLayer::with_status_code(axum::http::StatusCode::SERVICE_UNAVAILABLE, timeout))
                .layer(DefaultBodyLimit::max(BODY_LIMIT))
                .layer(axum::middleware::from_fn_with_state(state.clone(), middleware::authenticate))
                .layer(axum::middleware::from_fn_with_state(state.clone(), rate_limit::limit))
                // Innermost, as it changes the body's type: handlers read the body under its deadline.
                .layer(RequestBodyDeadlineLayer::new(body_timeout)),
        )
        .with_state(state)
}
