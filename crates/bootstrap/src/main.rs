//! `taskflow`: parse the command line, load and validate the configuration, run.

/// jemalloc rather than the system's malloc: measured side by side (`bench/limit.sh`), `GET /tasks/:id` served
/// 10-39 % more requests per second on the same SQL, at 2-4 MiB more resident memory under load and 0.7 KiB more
/// per idle event stream (docs/performance.md, "Allocator"). Only the binary chooses it: an embedding keeps its own.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

use std::process::ExitCode;

use clap::Parser as _;
use taskflow::cli::{self, Cli};
use taskflow::{Config, telemetry};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::load() {
        Ok(config) => config,
        Err(err) => {
            eprintln!("taskflow: {err}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(&config.rust_log, config.log_format);
    match cli::run(cli, config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(error = format!("{err:#}"), "taskflow failed");
            eprintln!("taskflow: {err:#}");
            ExitCode::FAILURE
        }
    }
}
