//! The command line: `serve` (default), `migrate`, `seed [--tasks N]`, `worker`.

use clap::{Parser, Subcommand};
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::startup::{Application, migrate};
use crate::{backends, seed, worker};

/// TaskFlow: a task-management REST API. Configuration comes from the environment and `.env`.
#[derive(Debug, Parser)]
#[command(name = "taskflow", version, about)]
pub struct Cli {
    /// What to do (default: serve).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API (applies pending migrations first; runs background jobs unless WORKER=false).
    Serve,
    /// Apply pending migrations and exit.
    Migrate,
    /// Create the demo users if missing, then N demo tasks.
    Seed {
        /// How many demo tasks to create.
        #[arg(long, default_value_t = 0)]
        tasks: u64,
    },
    /// Run background jobs only.
    Worker,
}

/// Runs one command to completion.
///
/// # Errors
/// Whatever the command fails with.
pub async fn run(cli: Cli, config: Config) -> anyhow::Result<()> {
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => Application::build(&config).await?.run_until_stopped(CancellationToken::new()).await,
        Command::Migrate => migrate(&backends::build(&config).await?).await,
        Command::Seed { tasks } => {
            let backends = backends::build(&config).await?;
            migrate(&backends).await?;
            if matches!(backends.storage, backends::Storage::Memory(_)) {
                tracing::warn!("DATABASE_URL is not set: seeding the in-memory store, which is gone when seed exits");
            }
            seed::seed(&backends, tasks).await
        }
        Command::Worker => {
            let backends = backends::build(&config).await?;
            migrate(&backends).await?;
            let stop = CancellationToken::new();
            let jobs = tokio::spawn(worker::from_config(&backends, &config).run(stop.clone()));
            crate::startup::shutdown_signal().await;
            tracing::info!(grace_secs = config.shutdown_grace_secs, "shutdown signal received; stopping the worker");
            stop.cancel();
            jobs.await?;
            Ok(())
        }
    }
}
