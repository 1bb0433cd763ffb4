//! `taskflow`: parse the command line, load and validate the configuration, run.

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
