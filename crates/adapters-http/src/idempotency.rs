//! `Idempotency-Key` on `POST /tasks` and `POST /tasks/batch`: a retry with the same key by the same user gets
//! the first response replayed (`Idempotent-Replayed: true`); the same key with another body is 422; a retry
//! while the first is still running is 409. Failed (5xx) first attempts release the key so a retry runs again.

use std::sync::Arc;

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use taskflow_application::domain::UserId;

use taskflow_application::domain::policy::Actor;
use taskflow_application::idempotency::{Claim, IdempotencyService};

use crate::error::{ApiError, ApiResult, PROBLEM_JSON};
use crate::request_id::current_request_id;
use crate::{AppState, BODY_LIMIT};
use taskflow_application::ports::{IdempotencyKey, StoredResponse};

/// Headers kept with a stored response.
const REPLAYED_HEADERS: [&str; 3] = ["content-type", "location", "etag"];

/// Runs the request at most once per key.
pub async fn idempotent(State(state): State<AppState>, req: Request, next: Next) -> Response {
    match run(&state, req, next).await {
        Ok(r) | Err(r) => r,
    }
}

async fn run(state: &AppState, req: Request, next: Next) -> Result<Response, Response> {
    let Some(raw_key) = req.headers().get("idempotency-key") else {
        return Ok(next.run(req).await);
    };
    let key = raw_key.to_str().ok().and_then(|k| IdempotencyKey::parse(k).ok()).ok_or_else(|| {
        ApiError::invalid("Idempotency-Key", "must be 1 to 255 printable ASCII characters").into_response()
    })?;
    // Unauthenticated requests fall through to the handler's 401; keys are per user.
    let Some(actor) = req.extensions().get::<Actor>().copied() else {
        return Ok(next.run(req).await);
    };
    let (parts, body) = req.into_parts();
    let bytes = to_bytes(body, BODY_LIMIT)
        .await
        .map_err(|_| ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "the body is larger than 1 MiB").into_response())?;
    let fingerprint = IdempotencyService::fingerprint(parts.method.as_str(), parts.uri.path(), &bytes);
    let claim = begin(state, actor, &key, &fingerprint).await.map_err(IntoResponse::into_response)?;
    if let Claim::Replay(stored) = claim {
        return Ok(replay(stored));
    }

    // If this request is dropped before it answers (client gone, timeout), the key is released in the background;
    // if even that fails, the claim's short lease frees it.
    let mut guard = ReleaseOnDrop { service: state.idempotency.clone(), owner: actor.user_id, key: Some(key.clone()) };
    let response = next.run(Request::from_parts(parts, Body::from(bytes))).await;
    let (parts, body) = response.into_parts();
    let body = to_bytes(body, usize::MAX).await.unwrap_or_default();
    guard.key = None;
    if parts.status.is_server_error() {
        if let Err(err) = state.idempotency.release(actor.user_id, &key).await {
            tracing::warn!(error = %err, "could not release an idempotency key");
        }
    } else {
        let stored = StoredResponse {
            status: parts.status.as_u16(),
            headers: REPLAYED_HEADERS
                .iter()
                .filter_map(|h| {
                    parts.headers.get(*h).and_then(|v| v.to_str().ok()).map(|v| ((*h).to_owned(), v.to_owned()))
                })
                .collect(),
            body: body.to_vec(),
        };
        if let Err(err) = state.idempotency.complete(actor.user_id, &key, &stored).await {
            tracing::warn!(error = %err, "could not store an idempotent response");
        }
    }
    Ok(Response::from_parts(parts, Body::from(body)))
}

/// Releases a claimed key when the request that claimed it is dropped before answering.
struct ReleaseOnDrop {
    service: Arc<IdempotencyService>,
    owner: UserId,
    key: Option<IdempotencyKey>,
}

impl Drop for ReleaseOnDrop {
    fn drop(&mut self) {
        if let (Some(key), Ok(runtime)) = (self.key.take(), tokio::runtime::Handle::try_current()) {
            let (service, owner) = (self.service.clone(), self.owner);
            runtime.spawn(async move {
                if let Err(err) = service.release(owner, &key).await {
                    tracing::warn!(error = %err, "could not release the key of an abandoned request");
                }
            });
        }
    }
}

async fn begin(state: &AppState, actor: Actor, key: &IdempotencyKey, fingerprint: &str) -> ApiResult<Claim> {
    Ok(state.idempotency.begin(actor.user_id, key, fingerprint).await?)
}

fn replay(stored: StoredResponse) -> Response {
    let is_problem = stored.headers.iter().any(|(n, v)| n == "content-type" && v.starts_with(PROBLEM_JSON));
    let body = if is_problem { with_current_request_id(stored.body) } else { stored.body };
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    let headers = response.headers_mut();
    for (name, value) in stored.headers {
        if let (Ok(n), Ok(v)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            headers.insert(n, v);
        }
    }
    headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
    response
}

/// A replayed problem names this request, not the first one (`requestId` always equals `X-Request-Id`).
fn with_current_request_id(body: Vec<u8>) -> Vec<u8> {
    match serde_json::from_slice::<serde_json::Value>(&body) {
        Ok(mut problem) if problem.is_object() => {
            problem["requestId"] = serde_json::Value::String(current_request_id());
            serde_json::to_vec(&problem).unwrap_or(body)
        }
        _ => body,
    }
}
