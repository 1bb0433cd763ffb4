//! The `taskflow` binary's library: configuration, wiring of adapters to ports, the application builder,
//! seeding and background jobs. `main.rs` only parses the command line and calls in here, so the end-to-end
//! tests start the very same application.

pub mod backends;
pub mod cli;
pub mod config;
pub mod gauges;
pub mod live;
pub mod revocations;
pub mod seed;
pub mod startup;
pub mod telemetry;
#[cfg(test)]
mod test_log;
pub mod worker;

pub use config::Config;
pub use startup::Application;
