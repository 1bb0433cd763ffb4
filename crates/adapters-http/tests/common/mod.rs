//! The whole router over the in-memory adapters, driven without a socket.

#![allow(dead_code)] // Each test binary uses its own part.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt as _;
use serde_json::Value;
use taskflow_adapters_crypto::{Argon2PasswordHasher, PasetoTokenIssuer};
use taskflow_adapters_http::{AppState, HttpSettings, observability, router};
use taskflow_adapters_memory::{InMemoryRateLimiter, InMemoryStore};
use taskflow_application::Deps;
use taskflow_application::auth::{AuthService, AuthSettings};
use taskflow_application::cache::ReadCache;
use taskflow_application::clock::SystemClock;
use taskflow_application::health::HealthService;
use taskflow_application::idempotency::IdempotencyService;
use taskflow_application::ids::UuidV7Generator;
use taskflow_application::rate_limits::RateLimitService;
use taskflow_application::tasks::TaskService;
use taskflow_application::users::UserService;
use tower::ServiceExt as _;

/// A fresh router with its own in-memory store.
pub fn app() -> Router {
    let store = Arc::new(InMemoryStore::new());
    let deps = Deps {
        clock: Arc::new(SystemClock),
        ids: Arc::new(UuidV7Generator),
        uow: store.clone(),
        task_reads: store.clone(),
        user_reads: store.clone(),
        hasher: Arc::new(Argon2PasswordHasher::insecure_fast()),
        tokens: Arc::new(PasetoTokenIssuer::ephemeral()),
        refresh_tokens: store.clone(),
        read_cache: Arc::new(ReadCache::disabled()),
        revoked_users: Arc::new(taskflow_application::auth::RevokedUsers::new(
            store.clone(),
            chrono::Duration::minutes(15),
        )),
    };
    let auth = AuthSettings { access_ttl: chrono::Duration::minutes(15), refresh_ttl: chrono::Duration::days(7) };
    router(AppState {
        auth: Arc::new(AuthService::new(deps.clone(), auth)),
        users: Arc::new(UserService::new(deps.clone())),
        tasks: Arc::new(TaskService::new(deps)),
        health: Arc::new(HealthService::new(store.clone(), store.clone())),
        idempotency: Arc::new(IdempotencyService::new(store)),
        rate_limits: Arc::new(RateLimitService::new(Arc::new(InMemoryRateLimiter::new()))),
        settings: HttpSettings::default(),
        metrics: observability::prometheus_handle(),
    })
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
