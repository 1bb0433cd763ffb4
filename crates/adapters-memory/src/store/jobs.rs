//! [`JobLease`] and [`WorkSignal`] in process.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use futures::future::BoxFuture;
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

impl WorkSignal for InMemoryStore {
    fn wait(&self) -> BoxFuture<'_, ()> {
        listen(&self.shared.work)
    }
}

/// The wake-ups of one of the store's signals but the relays' (see [`InMemoryStore::delivery_signal`] and
/// [`InMemoryStore::feed_signal`]).
#[derive(Clone)]
pub struct InMemorySignal {
    store: InMemoryStore,
    feed: bool,
}

impl std::fmt::Debug for InMemorySignal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.feed { "InMemorySignal(feed)" } else { "InMemorySignal(deliveries)" })
    }
}

impl InMemoryStore {
    /// The signal that wakes senders when a relay of this store makes deliveries, or a release or a retry makes
    /// them due. (The store itself, as a [`WorkSignal`], wakes relays when events are appended.)
    #[must_use]
    pub fn delivery_signal(&self) -> InMemorySignal {
        InMemorySignal { store: self.clone(), feed: false }
    }

    /// The signal that wakes live event streams when a relay of this store publishes events.
    #[must_use]
    pub fn feed_signal(&self) -> InMemorySignal {
        InMemorySignal { store: self.clone(), feed: true }
    }
}

impl WorkSignal for InMemorySignal {
    fn wait(&self) -> BoxFuture<'_, ()> {
        let shared = &self.store.shared;
        listen(if self.feed { &shared.feed } else { &shared.deliveries })
    }
}

/// A wait on `notify` that counts from now: `notify_waiters` reaches a `Notified` from its creation on.
fn listen(notify: &tokio::sync::Notify) -> BoxFuture<'_, ()> {
    let mut notified = Box::pin(notify.notified());
    notified.as_mut().enable();
    notified
}
