//! Metrics: request counts and latency histograms by route template and status, process figures, build info, the
//! `# HELP` text of every metric the workspace records, and the Prometheus recorder.

use std::sync::{LazyLock, OnceLock};
use std::time::Instant;
use taskflow_application::{events, jobs};

use axum::extract::{MatchedPath, Request};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Latency buckets in seconds, from 1 ms to 10 s.
const LATENCY_BUCKETS: [f64; 14] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 7.5, 10.0];

/// The gauge that carries the version as a label, always 1.
pub const BUILD_INFO: &str = "taskflow_build_info";

/// What kind of metric a name is, for its `# TYPE` and description.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Counter,
    Gauge,
    Histogram,
}

/// Every metric name recorded anywhere in the workspace (HTTP, application, Redis and bootstrap crates), with its
/// kind, unit and help text. One table, so `/metrics` has a `# HELP` line for each; a test scans the workspace's
/// sources and fails when a recorded name is missing here.
const DESCRIPTIONS: &[(&str, Kind, Option<Unit>, &str)] = &[
    // HTTP edge (this crate).
    ("http_requests_total", Kind::Counter, None, "HTTP requests answered, by method, route template and status."),
    (
        "http_requests_shed_total",
        Kind::Counter,
        None,
        "Requests answered 503 at once because MAX_IN_FLIGHT_REQUESTS were already in flight.",
    ),
    (
        "cache_bypassed",
        Kind::Gauge,
        None,
        "1 while this instance owes cache invalidations that Redis did not take, and so reads and writes no cache.",
    ),
    (
        "cache_invalidations_owed_total",
        Kind::Counter,
        None,
        "Cache invalidations that failed and were remembered, to be delivered once Redis answers.",
    ),
    (
        "cache_bypassed_reads_total",
        Kind::Counter,
        None,
        "Reads served from the database without the cache because invalidations were owed, by kind.",
    ),
    (
        "http_request_duration_seconds",
        Kind::Histogram,
        Some(Unit::Seconds),
        "HTTP request latency in seconds, by method, route template and status.",
    ),
    (
        "rate_limit_decisions_total",
        Kind::Counter,
        None,
        "Rate-limit decisions, by scope (auth: per IP on login/register/refresh; api: everything else) and \
         decision (allowed or refused).",
    ),
    (
        "rate_limiter_errors_total",
        Kind::Counter,
        None,
        "Requests served unlimited because the rate limiter failed (neither Redis nor the fallback decided).",
    ),
    // Read cache (application).
    ("cache_hits_total", Kind::Counter, None, "Read-cache hits, by kind of read."),
    ("cache_misses_total", Kind::Counter, None, "Read-cache misses, by kind of read."),
    ("cache_invalidations_total", Kind::Counter, None, "Read-cache invalidations after a committed write."),
    (
        "cache_errors_total",
        Kind::Counter,
        None,
        "Read-cache operations that failed, by operation (get, set, invalidate).",
    ),
    // Redis adapter.
    (
        "redis_command_duration_seconds",
        Kind::Histogram,
        Some(Unit::Seconds),
        "Latency of Redis calls in seconds (pool checkout included), by operation.",
    ),
    ("redis_errors_total", Kind::Counter, None, "Failed Redis calls, by operation and kind of failure."),
    ("redis_breaker_state", Kind::Gauge, None, "Redis circuit breaker state: 0 closed, 1 half-open, 2 open."),
    ("redis_breaker_transitions_total", Kind::Counter, None, "Redis circuit breaker transitions, by new state."),
    (
        "rate_limit_fallback_total",
        Kind::Counter,
        None,
        "Rate-limit decisions taken by the per-instance fallback because the shared limiter was unavailable.",
    ),
    ("rate_limit_degraded", Kind::Gauge, None, "1 while rate limiting falls back to per-instance limits, else 0."),
    // Password hashing (crypto adapter).
    (
        "password_work_refused_total",
        Kind::Counter,
        None,
        "Password hashes or checks refused (503) because every password worker was busy and the queue was full.",
    ),
    // Background jobs (application): the outbox relay, webhook deliveries, the overdue scan.
    (jobs::OUTBOX_EVENTS_RELAYED, Kind::Counter, None, "Events relayed from the outbox into webhook deliveries."),
    (jobs::WEBHOOK_DELIVERIES_CREATED, Kind::Counter, None, "Webhook deliveries created by the relay."),
    (jobs::OUTBOX_PENDING_EVENTS, Kind::Gauge, None, "Events committed but not relayed yet."),
    (
        jobs::OUTBOX_OLDEST_PENDING_AGE,
        Kind::Gauge,
        Some(Unit::Seconds),
        "Age in seconds of the oldest event not relayed yet (0 when none).",
    ),
    (jobs::WEBHOOK_DELIVERIES, Kind::Gauge, None, "Webhook deliveries, by status."),
    (
        jobs::WEBHOOK_ATTEMPTS,
        Kind::Counter,
        None,
        "Webhook delivery attempts, by outcome (succeeded, failed, gone) and class of failure.",
    ),
    (
        jobs::WEBHOOK_DELIVERY_LATENCY,
        Kind::Histogram,
        Some(Unit::Seconds),
        "Seconds from an event's commit to its receiver's 2xx answer.",
    ),
    (
        jobs::WEBHOOK_BREAKER_REJECTIONS,
        Kind::Counter,
        None,
        "Deliveries put off without spending an attempt because their receiver's circuit breaker was open.",
    ),
    (jobs::WEBHOOK_BREAKERS_OPEN, Kind::Gauge, None, "Webhook receivers whose circuit breaker is open."),
    (jobs::WEBHOOK_IN_FLIGHT, Kind::Gauge, None, "Webhook delivery attempts in flight on this instance."),
    (jobs::OVERDUE_EVENTS, Kind::Counter, None, "task.overdue events recorded by the overdue scan."),
    (
        jobs::WEBHOOK_DELIVERIES_PRUNED,
        Kind::Counter,
        None,
        "Finished webhook deliveries deleted after WEBHOOK_DELIVERY_RETENTION_DAYS.",
    ),
    // Live events (application).
    (events::EVENT_STREAMS_OPEN, Kind::Gauge, None, "Event streams (GET /events) open on this instance."),
    (events::EVENT_STREAM_EVENTS, Kind::Counter, None, "Events pushed to event streams, one per event per stream."),
    (
        events::EVENT_STREAM_SLOW_DROPS,
        Kind::Counter,
        None,
        "Event streams dropped because their client did not keep up (they resume with Last-Event-ID).",
    ),
    // Bootstrap: the database pool.
    ("db_pool_connections", Kind::Gauge, None, "PostgreSQL pool connections, by state (idle or in_use)."),
    ("db_pool_max_connections", Kind::Gauge, None, "The PostgreSQL pool's maximum size (DATABASE_MAX_CONNECTIONS)."),
    // Process.
    (BUILD_INFO, Kind::Gauge, None, "Always 1; the label `version` is the running build's version."),
];

/// The process figures (`process_resident_memory_bytes`, `process_open_fds`, `process_threads`,
/// `process_cpu_seconds_total`, `process_start_time_seconds`, ...), read from the OS on each scrape.
static PROCESS: LazyLock<metrics_process::Collector> = LazyLock::new(metrics_process::Collector::default);

/// Registers the help text (and unit) of every metric the workspace records with the installed recorder, and
/// the build-info gauge. Called once, by [`prometheus_handle`], right after the recorder is installed; calling
/// it again only repeats the same descriptions.
pub fn describe_metrics() {
    for &(name, kind, unit, help) in DESCRIPTIONS {
        match (kind, unit) {
            (Kind::Counter, Some(unit)) => describe_counter!(name, unit, help),
            (Kind::Counter, None) => describe_counter!(name, help),
            (Kind::Gauge, Some(unit)) => describe_gauge!(name, unit, help),
            (Kind::Gauge, None) => describe_gauge!(name, help),
            (Kind::Histogram, Some(unit)) => describe_histogram!(name, unit, help),
            (Kind::Histogram, None) => describe_histogram!(name, help),
        }
    }
    PROCESS.describe();
    metrics::gauge!(BUILD_INFO, "version" => env!("CARGO_PKG_VERSION")).set(1.0);
}

/// Installs the process-wide Prometheus recorder once (histograms, not summaries), describes every metric, and
/// returns its handle. Later calls return the same handle, so several routers in one process (tests) share it.
#[must_use]
pub fn prometheus_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &LATENCY_BUCKETS)
                .unwrap_or_else(|_| PrometheusBuilder::new());
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            // Another recorder may already be installed by an embedder; ours then renders nothing, which is
            // better than refusing to start.
            let _ = metrics::set_global_recorder(recorder);
            describe_metrics();
            spawn_upkeep(handle.clone());
            handle
        })
        .clone()
}

/// How often recorded histogram samples are folded into their buckets.
const UPKEEP_PERIOD: std::time::Duration = std::time::Duration::from_secs(5);

/// Folds histogram samples into their buckets every [`UPKEEP_PERIOD`], on a thread of its own.
///
/// The recorder keeps every raw sample until it is rendered or upkept: with nobody scraping `/metrics`, memory grew
/// with every request (about 2 MiB a minute under load in the soak run), and a scrape after a long quiet spell would
/// have folded millions of samples at once.
fn spawn_upkeep(handle: PrometheusHandle) {
    let spawned = std::thread::Builder::new().name("metrics-upkeep".into()).spawn(move || {
        loop {
            std::thread::sleep(UPKEEP_PERIOD);
            handle.run_upkeep();
        }
    });
    if let Err(error) = spawned {
        tracing::warn!(%error, "could not start the metrics upkeep thread; histograms are folded at each scrape only");
    }
}

/// The text `/metrics` serves: the process figures are read first, so they are as fresh as the scrape.
#[must_use]
pub fn render(handle: &PrometheusHandle) -> String {
    PROCESS.collect();
    handle.render()
}

/// The method as a bounded label: the standard methods, and `OTHER` for any other token a client sends (which
/// would otherwise add a series, or a long field, per request).
#[must_use]
pub(crate) fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

/// The route template the request matched (`/tasks/{id}`, never a raw id), or `unmatched`.
pub(crate) fn route_label(req: &Request) -> String {
    req.extensions().get::<MatchedPath>().map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned())
}

/// Records `http_requests_total` and `http_request_duration_seconds` by method, route template and status.
pub async fn record_request(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = method_label(req.method());
    let route = route_label(&req);
    let response = next.run(req).await;
    let status = response.status().as_u16().to_string();
    let labels = [("method", method.to_owned()), ("route", route), ("status", status)];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels).record(start.elapsed().as_secs_f64());
    response
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::{Path, PathBuf};

    use super::DESCRIPTIONS;

    /// Every `.rs` file under `dir`.
    fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                rust_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    /// The first argument of every `counter!(`, `gauge!(` and `histogram!(` call (not `describe_*!`), resolving
    /// `pub const NAME: &str = "...";` constants.
    fn recorded_names(sources: &[String]) -> BTreeSet<String> {
        let consts: Vec<(String, String)> = sources
            .iter()
            .flat_map(|s| s.lines())
            .filter_map(|line| {
                let line = line.trim();
                let rest = ["pub const ", "pub(crate) const ", "pub(super) const ", "const "]
                    .iter()
                    .find_map(|prefix| line.strip_prefix(prefix))?;
                let (ident, value) = rest.split_once(": &str = \"")?;
                Some((ident.to_owned(), value.split('"').next()?.to_owned()))
            })
            .collect();
        let mut names = BTreeSet::new();
        for source in sources {
            // Comments mention the macros too; only code records.
            let source: String =
                source.lines().filter(|l| !l.trim_start().starts_with("//")).flat_map(|l| [l, "\n"]).collect();
            for macro_name in ["counter!(", "gauge!(", "histogram!("] {
                for (at, _) in source.match_indices(macro_name) {
                    if source[..at].ends_with("describe_") {
                        continue;
                    }
                    let arg = source[at + macro_name.len()..].trim_start();
                    let name = match arg.strip_prefix('"') {
                        Some(literal) => {
                            let literal = literal.split('"').next().unwrap_or_default();
                            // The scanner's own needles, in this test, are strings but not metric names.
                            if literal.is_empty() || !literal.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
                                continue;
                            }
                            literal.to_owned()
                        }
                        None => {
                            let ident = arg.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).next();
                            match consts.iter().find(|(known, _)| Some(known.as_str()) == ident) {
                                Some((_, value)) => value.clone(),
                                None => panic!("metric name {ident:?} is neither a literal nor a known constant"),
                            }
                        }
                    };
                    names.insert(name);
                }
            }
        }
        names
    }

    /// The sources of every crate of the workspace.
    fn workspace_sources() -> Vec<String> {
        let crates = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let mut files = Vec::new();
        for entry in std::fs::read_dir(crates).unwrap().flatten() {
            let src = entry.path().join("src");
            if src.is_dir() {
                rust_files(&src, &mut files);
            }
        }
        files.iter().map(|f| std::fs::read_to_string(f).unwrap()).collect()
    }

    #[test]
    fn every_metric_the_workspace_records_has_a_description() {
        // Arrange
        let sources = workspace_sources();

        // Act
        let recorded = recorded_names(&sources);

        // Assert
        assert!(recorded.contains("http_requests_total") && recorded.contains("redis_errors_total"), "{recorded:?}");
        let described: BTreeSet<&str> = DESCRIPTIONS.iter().map(|(name, ..)| *name).collect();
        let missing: Vec<&String> = recorded.iter().filter(|n| !described.contains(n.as_str())).collect();
        assert!(missing.is_empty(), "recorded but not described: {missing:?}");
        let stale: Vec<&&str> = described.iter().filter(|n| !recorded.contains(**n)).collect();
        assert!(stale.is_empty(), "described but recorded nowhere: {stale:?}");
    }

    #[test]
    fn one_counter_counts_rate_limit_decisions() {
        let recorded = recorded_names(&workspace_sources());
        assert!(recorded.contains("rate_limit_decisions_total"));
        assert!(!recorded.contains("rate_limiter_decisions_total"), "the duplicate decision counter is back");
    }
}
