//! Readiness: whether the service can serve, and how well.

use crate::ports::{ComponentHealth, HealthProbe};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// The overall readiness verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Readiness {
    /// Everything answers.
    Ok,
    /// The database answers, the shared cache does not: serving without it.
    Degraded,
    /// The database does not answer: the service cannot serve.
    Down,
    /// The instance is shutting down: it finishes what it has but takes nothing new.
    Draining,
}

/// A readiness report.
#[derive(Debug, Clone)]
pub struct ReadinessReport {
    /// The verdict.
    pub status: Readiness,
    /// The database check.
    pub database: ComponentHealth,
    /// The shared fast-state check.
    pub redis: ComponentHealth,
}

/// Checks the dependencies.
pub struct HealthService {
    database: Arc<dyn HealthProbe>,
    redis: Arc<dyn HealthProbe>,
    draining: AtomicBool,
}

impl HealthService {
    /// A service over the two probes.
    #[must_use]
    pub fn new(database: Arc<dyn HealthProbe>, redis: Arc<dyn HealthProbe>) -> Self {
        Self { database, redis, draining: AtomicBool::new(false) }
    }

    /// From now on, readiness is [`Readiness::Draining`]: the instance is shutting down, so load balancers
    /// should send it nothing new.
    pub fn start_draining(&self) {
        self.draining.store(true, Ordering::Release);
    }

    /// Checks both dependencies concurrently.
    pub async fn readiness(&self) -> ReadinessReport {
        let (database, redis) = futures::join!(self.database.check(), self.redis.check());
        let status = match (database.up, redis.up) {
            _ if self.draining.load(Ordering::Acquire) => Readiness::Draining,
            (false, _) => Readiness::Down,
            (true, false) => Readiness::Degraded,
            (true, true) => Readiness::Ok,
        };
        ReadinessReport { status, database, redis }
    }
}
