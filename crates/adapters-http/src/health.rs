//! Operations endpoints: liveness, readiness and metrics.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use serde::Serialize;

use taskflow_application::health::Readiness;
use utoipa::ToSchema;

use crate::AppState;
use taskflow_application::ports::ComponentHealth;

pub fn routes() -> Router<AppState> {
    Router::new().route("/health/live", get(live)).route("/health/ready", get(ready)).route("/metrics", get(metrics))
}

/// Liveness.
#[derive(Debug, Serialize, ToSchema)]
pub struct LiveOut {
    /// Always `ok`.
    #[schema(value_type = String, pattern = "^ok$", example = "ok")]
    status: &'static str,
}

/// One dependency's check.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CheckOut {
    /// `up` or `down`.
    #[schema(value_type = String, pattern = "^(up|down)$")]
    status: &'static str,
    /// `postgres`, `redis` or `in-memory`.
    kind: &'static str,
    /// How long the check took.
    latency_ms: f64,
}

impl From<&ComponentHealth> for CheckOut {
    fn from(h: &ComponentHealth) -> Self {
        Self { status: if h.up { "up" } else { "down" }, kind: h.kind, latency_ms: h.latency.as_secs_f64() * 1000.0 }
    }
}

/// The checks.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChecksOut {
    database: CheckOut,
    redis: CheckOut,
}

/// Readiness.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReadyOut {
    /// `ok`, `degraded` (Redis down), `down` (database down, with 503) or `draining` (shutting down, with 503).
    #[schema(value_type = String, pattern = "^(ok|degraded|down|draining)$")]
    status: &'static str,
    checks: ChecksOut,
}

/// 200 while the process serves.
#[utoipa::path(get, path = "/health/live", tag = "operations", responses((status = 200, description = "The process serves.", body = LiveOut)))]
pub async fn live() -> Json<LiveOut> {
    Json(LiveOut { status: "ok" })
}

/// 200 `ok` or `degraded` when the service can serve; 503 when the database is unreachable.
#[utoipa::path(get, path = "/health/ready", tag = "operations", responses(
    (status = 200, description = "Ready: `ok`, or `degraded` with Redis down.", body = ReadyOut),
    (status = 503, description = "Not ready: the database is unreachable or the instance is draining (the report), or the check took too long (a problem).", body = ReadyOut)))]
pub async fn ready(State(state): State<AppState>) -> impl IntoResponse {
    let report = state.health.readiness().await;
    let (code, status) = match report.status {
        Readiness::Ok => (StatusCode::OK, "ok"),
        Readiness::Degraded => (StatusCode::OK, "degraded"),
        Readiness::Down => (StatusCode::SERVICE_UNAVAILABLE, "down"),
        Readiness::Draining => (StatusCode::SERVICE_UNAVAILABLE, "draining"),
    };
    let body = ReadyOut {
        status,
        checks: ChecksOut { database: CheckOut::from(&report.database), redis: CheckOut::from(&report.redis) },
    };
    let mut response = (code, Json(body)).into_response();
    if code == StatusCode::SERVICE_UNAVAILABLE {
        response.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from_static("5"));
    }
    response
}

/// Prometheus text format.
#[utoipa::path(get, path = "/metrics", tag = "operations", responses((status = 200, description = "The metrics.", content_type = "text/plain", body = String)))]
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], crate::observability::render(&state.metrics))
}
