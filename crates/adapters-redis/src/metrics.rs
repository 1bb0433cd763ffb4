//! The metric names this crate records, in one place so dashboards and alerts can rely on them. Their `# HELP`
//! text lives with every other metric's in `taskflow_adapters_http::observability::describe_metrics`; rate-limit
//! decisions are counted once, at the HTTP edge (`rate_limit_decisions_total`), whichever limiter decided.

/// Histogram, seconds, label `op`: how long each Redis call took (pool checkout included), success or not.
pub const REDIS_COMMAND_DURATION: &str = "redis_command_duration_seconds";
/// Counter, labels `op` and `kind` (`timeout`, `pool`, `connection`, `server`, `breaker_open`, `unexpected`).
pub const REDIS_ERRORS: &str = "redis_errors_total";
/// Gauge: the circuit breaker's state, 0 closed, 1 half-open, 2 open.
pub const REDIS_BREAKER_STATE: &str = "redis_breaker_state";
/// Counter, label `to`: breaker transitions.
pub const REDIS_BREAKER_TRANSITIONS: &str = "redis_breaker_transitions_total";
/// Counter: decisions taken by the per-instance fallback because the shared limiter was unavailable.
pub const RATE_LIMIT_FALLBACK: &str = "rate_limit_fallback_total";
/// Gauge: 1 while the shared limiter is unavailable and the fallback decides, else 0.
pub const RATE_LIMIT_DEGRADED: &str = "rate_limit_degraded";
