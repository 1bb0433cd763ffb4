//! Conformance: the served OpenAPI document is valid (`openapi-spec-validator`) and the server does what it says
//! (schemathesis with every check), on the embedded in-memory store and on PostgreSQL with Redis.
//!
//! Both tools are Python programs pinned in `requirements.txt` beside this file; `.ci/run` installs them into a
//! virtual environment and points `SCHEMATHESIS` and `OPENAPI_SPEC_VALIDATOR` at them (else they are looked up on
//! `PATH`). A missing or differently versioned tool fails the test, with the command that installs it.
//!
//! Schemathesis settings that the command line cannot carry are in `schemathesis.toml`, and `hooks.py` holds the
//! two paging rules that OpenAPI parameters cannot express.

#[allow(dead_code)]
#[path = "../api/helpers.rs"]
mod helpers;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use helpers::{Backend, TestApp, spawn_app_with, text};

/// Generated cases per operation and phase: about two minutes for both backends at once on a shared 2-core machine.
const MAX_EXAMPLES: &str = "100";
/// A fixed seed, so a failure reproduces (the server's ids still differ between runs).
const SEED: &str = "20261130";
/// A bound on each tool's run, should the server stall: past it the tool is killed and the test fails.
const DEADLINE: Duration = Duration::from_secs(600);

/// This directory: the configuration, the hooks and the pinned requirements.
fn here() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("schemathesis")
}

/// The version `requirements.txt` pins for `package`.
fn pinned(package: &str) -> String {
    let requirements = std::fs::read_to_string(here().join("requirements.txt")).expect("requirements.txt");
    requirements
        .lines()
        .find_map(|line| line.trim().strip_prefix(package)?.strip_prefix("=="))
        .unwrap_or_else(|| panic!("requirements.txt pins no {package}"))
        .trim()
        .to_owned()
}

/// The tool named by `variable`, or `program` on `PATH`; checked to be the pinned `package` version.
fn tool(variable: &str, program: &str, package: &str) -> PathBuf {
    let path = std::env::var_os(variable).map_or_else(|| PathBuf::from(program), PathBuf::from);
    let version = pinned(package);
    let install = format!(
        "install it with `python3 -m venv target/venv && target/venv/bin/pip install -r \
         tests/schemathesis/requirements.txt` and set {variable}=$PWD/target/venv/bin/{program}, an absolute path \
         (`bash .ci/run` does all this)"
    );
    let output = Command::new(&path).arg("--version").stdin(Stdio::null()).output().unwrap_or_else(|e| {
        panic!("{package} {version} is needed but `{}` cannot run ({e}): {install}", path.display())
    });
    let reported = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && reported.contains(&version),
        "{package} {version} is needed but `{}` reports {reported:?}: {install}",
        path.display()
    );
    path
}

/// What a tool printed (both streams) and whether it succeeded.
struct Ran {
    success: bool,
    printed: String,
}

/// Runs `command` in this directory, off the async workers (the server under test shares the runtime), killing it
/// past [`DEADLINE`]. Its output goes to a file, so a full pipe can never stall it; that file and the tool's own
/// files are in a scratch directory, removed afterwards.
async fn run(mut command: Command) -> Ran {
    let scratch = std::env::temp_dir().join(format!("taskflow-conformance-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&scratch).expect("a scratch directory");
    let log = scratch.join("output.log");
    let file = std::fs::File::create(&log).expect("a log file");
    // Hypothesis keeps its files in the scratch directory rather than in the source tree.
    command.env("HYPOTHESIS_STORAGE_DIRECTORY", scratch.join("hypothesis"));
    command.stdin(Stdio::null()).stdout(file.try_clone().expect("the log file")).stderr(file).current_dir(here());
    let success = tokio::task::spawn_blocking(move || {
        let mut child = command.spawn().expect("the tool starts");
        let started = Instant::now();
        loop {
            if let Some(status) = child.try_wait().expect("the tool's status") {
                return status.success();
            }
            if started.elapsed() > DEADLINE {
                let _ = child.kill();
                let _ = child.wait();
                return false;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    })
    .await
    .expect("the tool's thread");
    let printed = std::fs::read_to_string(&log).unwrap_or_default();
    let _ = std::fs::remove_dir_all(&scratch);
    Ran { success, printed }
}

/// A bearer token for schemathesis: the demo user in the embedded mode, a newly registered user on PostgreSQL.
async fn access_token(app: &TestApp) -> String {
    match app.backend {
        Backend::Memory => text(&app.post_login("user@example.com", "user123", 200).await.json()["accessToken"]),
        Backend::Postgres => app.register_user().await.access_token,
    }
}

async fn conforms_to_its_openapi_document(backend: Backend) {
    // Arrange: limits far above what the run sends, so that no 429 cuts it short.
    let st = tool("SCHEMATHESIS", "st", "schemathesis");
    let validator = tool("OPENAPI_SPEC_VALIDATOR", "openapi-spec-validator", "openapi-spec-validator");
    let app = spawn_app_with(backend, |config| {
        config.rate_limit_per_minute = 10_000_000;
        config.rate_limit_auth_per_minute = 10_000_000;
    })
    .await;
    let token = access_token(&app).await;
    let document_url = format!("{}/openapi.json", app.address);

    // Act and assert: the served document is valid OpenAPI 3.1 (the validator reads files only).
    let document = app.call(reqwest::Method::GET, "/openapi.json").expect(200).await.text;
    let file = std::env::temp_dir().join(format!("taskflow-openapi-{}.json", uuid::Uuid::new_v4().simple()));
    std::fs::write(&file, document).expect("the document is written");
    let mut validate = Command::new(validator);
    validate.arg(&file);
    let ran = run(validate).await;
    let _ = std::fs::remove_file(&file);
    assert!(ran.success, "openapi-spec-validator refuses the document:\n{}", ran.printed);

    // Act: every check, every phase.
    let mut schemathesis = Command::new(st);
    schemathesis
        .args(["--config-file", "schemathesis.toml", "--no-color", "run", &document_url])
        .args(["--header", &format!("Authorization: Bearer {token}")])
        .args(["--checks", "all", "--max-examples", MAX_EXAMPLES, "--seed", SEED])
        // One worker: with several, Python 3.11's parser can fail in Hypothesis' lambda descriptions.
        .args(["--workers", "1", "--generation-database", "none"])
        // A loaded machine must not fail the run: the server's own timeout (30 s) is what bounds a request, and
        // how fast Hypothesis generates data is no property of the server.
        .args(["--request-timeout", "35", "--suppress-health-check", "too_slow"])
        // `GET /events` is a stream that does not end (keep-alive comments keep it open), which a tool that reads
        // whole responses cannot test; tests/api/events.rs covers it, its refusals included.
        .args(["--exclude-path", "/events"]);
    let started = Instant::now();
    let ran = run(schemathesis).await;
    let elapsed = started.elapsed();

    // Assert
    assert!(ran.success, "schemathesis found failures on {backend:?} (or ran past {DEADLINE:?}):\n{}", ran.printed);
    let figures: Vec<&str> =
        ran.printed.lines().map(str::trim).filter(|l| l.starts_with("Tested:") || l.contains(" generated, ")).collect();
    println!("schemathesis on {backend:?}: {} in {:.0} s", figures.join("; "), elapsed.as_secs_f64());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory() {
    conforms_to_its_openapi_document(Backend::Memory).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres() {
    conforms_to_its_openapi_document(Backend::Postgres).await;
}
