//! The outbox relay and the periodic jobs (overdue scan, pruning), the latter on one instance at a time.

use std::sync::Arc;
use std::time::Duration;

use chrono::TimeDelta;
use taskflow_domain::RepoError;
use taskflow_domain::ports::{Clock, DeliveryQueue, OverdueScan, RelayOutcome};
use uuid::Uuid;

use super::metrics_names::{
    OUTBOX_EVENTS_RELAYED, OUTBOX_OLDEST_PENDING_AGE, OUTBOX_PENDING_EVENTS, OVERDUE_EVENTS, WEBHOOK_DELIVERIES,
    WEBHOOK_DELIVERIES_CREATED, WEBHOOK_DELIVERIES_PRUNED,
};
use crate::ports::JobLease;

/// The name of the scheduler role in [`JobLease`].
pub const SCHEDULER_ROLE: &str = "scheduler";

/// How the periodic jobs run.
#[derive(Debug, Clone, Copy)]
pub struct MaintenanceSettings {
    /// How often the overdue scan runs (`OVERDUE_SCAN_SECS`); the scheduler role lasts three periods.
    pub overdue_every: Duration,
    /// How long deliveries in a final state are kept (`WEBHOOK_DELIVERY_RETENTION_DAYS`).
    pub retention: TimeDelta,
    /// Rows per statement for the relay, the scan and pruning: bounded, so no statement runs long.
    pub batch: usize,
    /// Batches per round at most, so one round ends even while rows keep coming.
    pub max_batches: usize,
}

impl Default for MaintenanceSettings {
    fn default() -> Self {
        Self { overdue_every: Duration::from_secs(60), retention: TimeDelta::days(30), batch: 500, max_batches: 100 }
    }
}

/// The relay and the periodic jobs of one instance.
#[derive(Clone)]
pub struct Maintenance {
    queue: Arc<dyn DeliveryQueue>,
    overdue: Arc<dyn OverdueScan>,
    lease: Arc<dyn JobLease>,
    clock: Arc<dyn Clock>,
    holder: Uuid,
    settings: MaintenanceSettings,
}

impl Maintenance {
    /// The jobs of the instance `holder` (a fresh id per process).
    #[must_use]
    pub fn new(
        queue: Arc<dyn DeliveryQueue>,
        overdue: Arc<dyn OverdueScan>,
        lease: Arc<dyn JobLease>,
        clock: Arc<dyn Clock>,
        holder: Uuid,
        settings: MaintenanceSettings,
    ) -> Self {
        Self { queue, overdue, lease, clock, holder, settings }
    }

    /// The settings.
    #[must_use]
    pub const fn settings(&self) -> &MaintenanceSettings {
        &self.settings
    }

    /// Relays the outbox into deliveries, batch after batch, until it is empty (or a round's bound is reached).
    ///
    /// # Errors
    /// When the queue cannot be reached.
    pub async fn relay(&self) -> Result<RelayOutcome, RepoError> {
        let mut total = RelayOutcome::default();
        for _ in 0..self.settings.max_batches {
            let round = self.queue.relay(self.settings.batch, self.clock.now()).await?;
            total.events += round.events;
            total.deliveries += round.deliveries;
            metrics::counter!(OUTBOX_EVENTS_RELAYED).increment(round.events as u64);
            metrics::counter!(WEBHOOK_DELIVERIES_CREATED).increment(round.deliveries as u64);
            if round.events < self.settings.batch {
                break;
            }
        }
        Ok(total)
    }

    /// One round of the periodic jobs, if this instance holds (or takes) the scheduler role: the overdue scan,
    /// then pruning. Returns whether it held the role.
    ///
    /// # Errors
    /// When storage cannot be reached.
    pub async fn periodic(&self) -> Result<bool, RepoError> {
        let ttl = self.settings.overdue_every.saturating_mul(3).max(Duration::from_secs(3));
        if !self.lease.try_hold(SCHEDULER_ROLE, self.holder, ttl, self.clock.now()).await? {
            return Ok(false);
        }
        for _ in 0..self.settings.max_batches {
            let made = self.overdue.emit_overdue(self.clock.now(), self.settings.batch).await?;
            metrics::counter!(OVERDUE_EVENTS).increment(made as u64);
            if made < self.settings.batch {
                break;
            }
        }
        let before = self.clock.now() - self.settings.retention;
        for _ in 0..self.settings.max_batches {
            let pruned = self.queue.prune(before, self.settings.batch).await?;
            metrics::counter!(WEBHOOK_DELIVERIES_PRUNED).increment(pruned);
            if pruned < self.settings.batch as u64 {
                break;
            }
        }
        Ok(true)
    }

    /// Gives the scheduler role up (at shutdown), so another instance takes it at once.
    ///
    /// # Errors
    /// When storage cannot be reached; the role then passes on when it expires.
    pub async fn step_down(&self) -> Result<(), RepoError> {
        self.lease.release(SCHEDULER_ROLE, self.holder).await
    }

    /// Publishes the queue's figures as gauges.
    ///
    /// # Errors
    /// When storage cannot be reached.
    pub async fn report(&self) -> Result<(), RepoError> {
        let figures = self.queue.figures().await?;
        metrics::gauge!(OUTBOX_PENDING_EVENTS).set(figures.unrelayed_events as f64);
        let age = figures.oldest_unrelayed.map_or(0.0, |t| (self.clock.now() - t).num_milliseconds() as f64 / 1e3);
        metrics::gauge!(OUTBOX_OLDEST_PENDING_AGE).set(age.max(0.0));
        for (status, count) in figures.deliveries {
            metrics::gauge!(WEBHOOK_DELIVERIES, "status" => status.as_str()).set(count as f64);
        }
        Ok(())
    }
}
