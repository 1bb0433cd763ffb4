//! [`BreakerStore`] in memory: the breakers of webhook receivers for the embedded store, where this process is the
//! only instance. Each call applies one transition of the domain's machine under one mutex, so it is atomic.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use taskflow_application::breakers::BreakerStore;
use taskflow_domain::breaker::{BreakerPolicy, BreakerState, CallKind, Permit};
use taskflow_domain::{RepoError, WebhookId};

use crate::locks::lock;

/// The breakers of webhook receivers, in memory. Clones share the same breakers. A receiver is stored only once
/// its state differs from closed-with-no-failure, and dropped again when it gets back there.
#[derive(Debug, Clone, Default)]
pub struct InMemoryBreakers {
    states: Arc<Mutex<HashMap<WebhookId, BreakerState>>>,
}

impl InMemoryBreakers {
    /// No breaker tripped.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Applies one transition to `receiver`'s state atomically and returns its output.
    fn apply<T>(&self, receiver: WebhookId, step: impl FnOnce(BreakerState) -> (T, BreakerState)) -> T {
        let mut states = lock(&self.states);
        let current = states.get(&receiver).copied().unwrap_or(BreakerState::CLOSED);
        let (out, next) = step(current);
        if next == BreakerState::CLOSED {
            states.remove(&receiver);
        } else {
            states.insert(receiver, next);
        }
        out
    }
}

#[async_trait]
impl BreakerStore for InMemoryBreakers {
    async fn permit(
        &self,
        receiver: WebhookId,
        policy: &BreakerPolicy,
        now: DateTime<Utc>,
    ) -> Result<Permit, RepoError> {
        Ok(self.apply(receiver, |s| s.permit(policy, now)))
    }

    async fn record(
        &self,
        receiver: WebhookId,
        kind: CallKind,
        success: bool,
        policy: &BreakerPolicy,
        now: DateTime<Utc>,
    ) -> Result<BreakerState, RepoError> {
        Ok(self.apply(receiver, |s| {
            let next = if success { s.on_success(kind) } else { s.on_failure(kind, policy, now) };
            (next, next)
        }))
    }

    async fn state(&self, receiver: WebhookId) -> Result<BreakerState, RepoError> {
        Ok(lock(&self.states).get(&receiver).copied().unwrap_or(BreakerState::CLOSED))
    }

    async fn reset(&self, receiver: WebhookId) -> Result<(), RepoError> {
        lock(&self.states).remove(&receiver);
        Ok(())
    }

    async fn open_count(&self, now: DateTime<Utc>) -> Result<u64, RepoError> {
        let open = lock(&self.states).values().filter(|s| s.refuses_calls_at(now)).count();
        Ok(u64::try_from(open).unwrap_or(u64::MAX))
    }
}
