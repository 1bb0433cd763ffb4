//! [`JobLease`] and [`WorkSignal`] in process.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use taskflow_application::ports::{JobLease, WorkSignal};
use taskflow_domain::RepoError;
use uuid::Uuid;

use super::InMemoryStore;
use crate::locks::lock;

/// Who holds each named role, and until when.
pub(crate) type LeaseTable = HashMap<String, (Uuid, DateTime<Utc>)>;

#[async_trait]
impl JobLease for InMemoryStore {
    async fn try_hold(&self, name: &str, holder: Uuid, ttl: Duration, now: DateTime<Utc>) -> Result<bool, RepoError> {
        let until =
            TimeDelta::from_std(ttl).ok().and_then(|d| now.checked_add_signed(d)).unwrap_or(DateTime::<Utc>::MAX_UTC);
        let mut leases = lock(&self.shared.job_leases);
        match leases.get_mut(name) {
            Some((current, expires)) if *current != holder && *expires >= now => Ok(false),
            Some(lease) => {
                *lease = (holder, until);
                Ok(true)
            }
            None => {
                leases.insert(name.to_owned(), (holder, until));
                Ok(true)
            }
        }
    }

    async fn release(&self, name: &str, holder: Uuid) -> Result<(), RepoError> {
        let mut leases = lock(&self.shared.job_leases);
        if leases.get(name).is_some_and(|(current, _)| *current == holder) {
            leases.remove(name);
        }
        Ok(())
    }
}

#[async_trait]
impl WorkSignal for InMemoryStore {
    async fn wait(&self) {
        self.shared.work.notified().await;
    }
}
