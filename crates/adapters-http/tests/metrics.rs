//! `/metrics`: a `# HELP` line for every metric, process figures fresh at each scrape, build info, and one
//! rate-limit decision counter.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};

use common::{app, register, send};

/// The value of the first sample line of `name` (with or without labels).
fn sample(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find(|l| l.strip_prefix(name).is_some_and(|rest| rest.starts_with([' ', '{'])))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
}

async fn scrape(app: &axum::Router) -> String {
    let (status, text) = send(app, Request::get("/metrics").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    text
}

#[tokio::test]
async fn every_metric_has_help_and_the_process_and_build_figures_are_there() {
    // Arrange: a request through the rate limiter, so its counter exists.
    let app = app();
    let (_, token) = register(&app, "carol@example.com").await;
    let request = Request::get("/tasks").header("authorization", format!("Bearer {token}")).body(Body::empty());
    assert_eq!(send(&app, request.unwrap()).await.0, StatusCode::OK);

    // Act
    let text = scrape(&app).await;

    // Assert: every family that has samples has its help text.
    for line in text.lines().filter(|l| !l.is_empty() && !l.starts_with('#')) {
        let name = line.split(['{', ' ']).next().unwrap();
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|suffix| name.strip_suffix(suffix).filter(|f| text.contains(&format!("# TYPE {f} histogram"))))
            .unwrap_or(name);
        assert!(text.contains(&format!("# HELP {family} ")), "no # HELP for {family}:\n{text}");
    }
    for name in [
        "process_resident_memory_bytes",
        "process_open_fds",
        "process_threads",
        "process_start_time_seconds",
        "process_cpu_seconds_total",
    ] {
        assert!(sample(&text, name).is_some(), "{name} missing:\n{text}");
        assert!(text.contains(&format!("# HELP {name} ")), "no # HELP for {name}");
    }
    assert!(sample(&text, "process_resident_memory_bytes").unwrap() > 1_000_000.0, "{text}");
    assert!(sample(&text, "process_open_fds").unwrap() >= 1.0, "{text}");
    assert!(sample(&text, "process_threads").unwrap() >= 1.0, "{text}");
    let build = format!("taskflow_build_info{{version=\"{}\"}} 1", env!("CARGO_PKG_VERSION"));
    assert!(text.lines().any(|l| l == build), "no `{build}`:\n{text}");
    assert!(
        text.lines().any(|l| l.starts_with("rate_limit_decisions_total{")
            && l.contains("decision=\"allowed\"")
            && l.contains("scope=\"api\"")),
        "no rate_limit_decisions_total{{decision=\"allowed\",scope=\"api\"}}:\n{text}"
    );
    assert!(!text.contains("rate_limiter_decisions_total"), "the duplicate decision counter is still there");
}

#[tokio::test]
async fn process_figures_are_read_at_each_scrape() {
    // Arrange
    let app = app();
    let before = sample(&scrape(&app).await, "process_threads").unwrap();

    // Act: hold extra OS threads across a scrape.
    let (release, wait) = std::sync::mpsc::channel::<()>();
    let wait = std::sync::Arc::new(std::sync::Mutex::new(wait));
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let wait = wait.clone();
            std::thread::spawn(move || {
                let _ = wait.lock().unwrap().recv_timeout(std::time::Duration::from_secs(30));
            })
        })
        .collect();
    let during = sample(&scrape(&app).await, "process_threads").unwrap();
    drop(release);
    for t in threads {
        t.join().unwrap();
    }

    // Assert
    // Other tests of this binary start and end threads meanwhile: a generous margin.
    assert!(during >= before + 4.0, "threads {before} then {during}: not refreshed at scrape");
}
