//! Background jobs, one step at a time: relaying the outbox into deliveries, attempting a delivery, the overdue
//! scan and the pruning of old deliveries. Each step is one call that leaves nothing half-done if it is dropped at
//! any `.await`; the loops that schedule them (with wake-ups, bounds and shutdown) live in the binary.

mod deliver;
mod metrics_names;
mod scheduled;

pub use deliver::{Attempted, DeliverySettings, Dispatcher};
pub use metrics_names::*;
pub use scheduled::{Maintenance, MaintenanceSettings};

#[cfg(test)]
mod tests;
