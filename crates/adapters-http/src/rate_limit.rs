//! Rate limiting with the `RateLimit-*` headers on every limited response.
//!
//! Login, register and refresh are limited per client IP (`RATE_LIMIT_AUTH_PER_MINUTE`); everything else under
//! `/auth`, `/users`, `/tasks` and `/webhooks` per authenticated user, or per IP when anonymous (`RATE_LIMIT_PER_MINUTE`).
//! The client IP is the socket's peer; `X-Forwarded-For` is believed only with `TRUST_PROXY=true`, and then its
//! last entry, the one our own proxy appended, is used (earlier entries are whatever the client claimed).

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use taskflow_application::domain::policy::Actor;

use crate::AppState;
use crate::error::ApiError;
use taskflow_application::ports::RateDecision;

const MINUTE: Duration = Duration::from_secs(60);

/// The client address used for anonymous limits.
fn client_ip(req: &Request, trust_proxy: bool) -> Option<IpAddr> {
    if trust_proxy
        && let Some(ip) = req
            .headers()
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|s| s.trim().parse::<IpAddr>().ok())
            .next_back()
    {
        return Some(ip);
    }
    req.extensions().get::<ConnectInfo<SocketAddr>>().map(|ci| ci.0.ip())
}

fn is_auth_endpoint(req: &Request) -> bool {
    req.method() == Method::POST && matches!(req.uri().path(), "/auth/login" | "/auth/register" | "/auth/refresh")
}

fn seconds_up(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

fn set_headers(headers: &mut HeaderMap, d: &RateDecision) {
    headers.insert("ratelimit-limit", HeaderValue::from(d.limit));
    headers.insert("ratelimit-remaining", HeaderValue::from(if d.allowed { d.remaining } else { 0 }));
    headers.insert("ratelimit-reset", HeaderValue::from(seconds_up(d.reset_after)));
}

/// Whether the path is under a limited prefix (`/auth`, `/users`, `/tasks`, `/webhooks`), whatever the route or
/// method.
pub(crate) fn is_limited(path: &str) -> bool {
    ["/auth", "/users", "/tasks", "/webhooks", "/events"]
        .iter()
        .any(|p| path.strip_prefix(p).is_some_and(|rest| rest.is_empty() || rest.starts_with('/')))
}

/// Counts the request against its bucket; answers 429 with `Retry-After` when the bucket is empty. Applied to
/// every response, 404 and 405 included, of the limited paths.
pub async fn limit(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if !is_limited(req.uri().path()) {
        return next.run(req).await;
    }
    let ip = client_ip(&req, state.settings.trust_proxy).map_or_else(|| "unknown".to_owned(), |ip| ip.to_string());
    let (scope, key, per_minute) = if is_auth_endpoint(&req) {
        ("auth", format!("auth:ip:{ip}"), state.settings.rate_limit_auth_per_minute)
    } else if let Some(actor) = req.extensions().get::<Actor>() {
        ("api", format!("api:user:{}", actor.user_id), state.settings.rate_limit_per_minute)
    } else {
        ("api", format!("api:ip:{ip}"), state.settings.rate_limit_per_minute)
    };
    let decision = match state.rate_limits.check(&key, per_minute, MINUTE).await {
        Ok(decision) => decision,
        Err(err) => {
            // The limiter protects us; it must not take us down. Adapters fall back to a local limiter
            // themselves, so this is the last line: serve, and say so.
            tracing::warn!(error = %err, "rate limiter unavailable; request not limited");
            metrics::counter!("rate_limiter_errors_total").increment(1);
            return next.run(req).await;
        }
    };
    // The one decision counter, whichever limiter (Redis, its per-instance fallback, in-process) decided.
    let outcome = if decision.allowed { "allowed" } else { "refused" };
    metrics::counter!("rate_limit_decisions_total", "scope" => scope, "decision" => outcome).increment(1);
    let mut response = if decision.allowed {
        next.run(req).await
    } else {
        let retry = decision.retry_after.unwrap_or(Duration::from_secs(1));
        let mut r = ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate limit exceeded; slow down")
            .retry_after(Duration::from_secs(seconds_up(retry)))
            .into_response();
        r.headers_mut().insert("retry-after", HeaderValue::from(seconds_up(retry).max(1)));
        r
    };
    set_headers(response.headers_mut(), &decision);
    response
}

#[cfg(test)]
mod tests {
    use super::is_limited;

    #[test]
    fn limited_paths_are_the_four_prefixes() {
        for path in
            ["/auth/login", "/users", "/users/x", "/tasks", "/tasks/batch", "/webhooks", "/webhooks/x/deliveries"]
        {
            assert!(is_limited(path), "{path}");
        }
        for path in ["/health/ready", "/metrics", "/docs/", "/tasksx", "/webhooksx", "/openapi.json"] {
            assert!(!is_limited(path), "{path}");
        }
    }
}
