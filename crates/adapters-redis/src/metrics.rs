//! The metric names this crate records, in one place so dashboards and alerts can rely on them.

use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};

/// Histogram, seconds, label `op`: how long each Redis call took (pool checkout included), success or not.
pub const REDIS_COMMAND_DURATION: &str = "redis_command_duration_seconds";
/// Counter, labels `op` and `kind` (`timeout`, `pool`, `connection`, `server`, `breaker_open`, `unexpected`).
pub const REDIS_ERRORS: &str = "redis_errors_total";
/// Gauge: the circuit breaker's state, 0 closed, 1 half-open, 2 open.
pub const REDIS_BREAKER_STATE: &str = "redis_breaker_state";
/// Counter, label `to`: breaker transitions.
pub const REDIS_BREAKER_TRANSITIONS: &str = "redis_breaker_transitions_total";
/// Counter, labels `backend` (`redis` or `fallback`) and `decision` (`allowed` or `refused`).
pub const RATE_LIMIT_DECISIONS: &str = "rate_limit_decisions_total";
/// Counter: decisions taken by the per-instance fallback because the shared limiter was unavailable.
pub const RATE_LIMIT_FALLBACK: &str = "rate_limit_fallback_total";
/// Gauge: 1 while the shared limiter is unavailable and the fallback decides, else 0.
pub const RATE_LIMIT_DEGRADED: &str = "rate_limit_degraded";

/// Registers descriptions and units of every metric above with the installed recorder.
/// Call once after installing the exporter; recording works without it.
pub fn describe_metrics() {
    describe_histogram!(REDIS_COMMAND_DURATION, Unit::Seconds, "Latency of Redis calls, by operation.");
    describe_counter!(REDIS_ERRORS, "Failed Redis calls, by operation and kind of failure.");
    describe_gauge!(REDIS_BREAKER_STATE, "Redis circuit breaker state: 0 closed, 1 half-open, 2 open.");
    describe_counter!(REDIS_BREAKER_TRANSITIONS, "Redis circuit breaker transitions, by new state.");
    describe_counter!(RATE_LIMIT_DECISIONS, "Rate-limit decisions, by backend and outcome.");
    describe_counter!(RATE_LIMIT_FALLBACK, "Rate-limit decisions made by the per-instance fallback.");
    describe_gauge!(RATE_LIMIT_DEGRADED, "1 while rate limiting falls back to per-instance limits.");
}

/// Counts one limiter decision.
pub(crate) fn record_decision(backend: &'static str, allowed: bool) {
    let decision = if allowed { "allowed" } else { "refused" };
    metrics::counter!(RATE_LIMIT_DECISIONS, "backend" => backend, "decision" => decision).increment(1);
}
