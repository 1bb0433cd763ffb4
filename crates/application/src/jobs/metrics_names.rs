//! The names of the metrics the jobs record (described for `/metrics` by the HTTP adapter).

/// Counter: attempts by `outcome` (`succeeded`, `failed`, `gone`) and `class` of failure.
pub const WEBHOOK_ATTEMPTS: &str = "webhook_attempts_total";
/// Histogram: seconds from an event's commit to a receiver's 2xx.
pub const WEBHOOK_DELIVERY_LATENCY: &str = "webhook_delivery_latency_seconds";
/// Counter: deliveries postponed because their receiver's circuit breaker was open.
pub const WEBHOOK_BREAKER_REJECTIONS: &str = "webhook_breaker_rejections_total";
/// Gauge: receivers whose circuit breaker is open.
pub const WEBHOOK_BREAKERS_OPEN: &str = "webhook_breakers_open";
/// Counter: events relayed from the outbox.
pub const OUTBOX_EVENTS_RELAYED: &str = "outbox_events_relayed_total";
/// Counter: deliveries created by the relay.
pub const WEBHOOK_DELIVERIES_CREATED: &str = "webhook_deliveries_created_total";
/// Gauge: events not relayed yet.
pub const OUTBOX_PENDING_EVENTS: &str = "outbox_pending_events";
/// Gauge: age in seconds of the oldest event not relayed yet (0 when none).
pub const OUTBOX_OLDEST_PENDING_AGE: &str = "outbox_oldest_pending_age_seconds";
/// Gauge: deliveries by `status`.
pub const WEBHOOK_DELIVERIES: &str = "webhook_deliveries";
/// Counter: `task.overdue` events recorded by the scan.
pub const OVERDUE_EVENTS: &str = "overdue_events_total";
/// Counter: deliveries pruned after the retention period.
pub const WEBHOOK_DELIVERIES_PRUNED: &str = "webhook_deliveries_pruned_total";
/// Gauge: deliveries being attempted by this instance.
pub const WEBHOOK_IN_FLIGHT: &str = "webhook_deliveries_in_flight";
