//! Idempotency keys per owner: claimed, completed with a response to replay, or released; each for a time to live.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use taskflow_domain::RepoError;

use taskflow_domain::ids::UserId;

use super::InMemoryStore;
use crate::locks::lock;
use taskflow_application::ports::{IdempotencyBegin, IdempotencyKey, IdempotencyStore, StoredResponse};

/// How many claims pass between two sweeps of expired keys.
const SWEEP_EVERY: u64 = 1024;

/// The keys, by owner and key.
#[derive(Debug, Default)]
pub(crate) struct IdempotencyTable {
    entries: HashMap<(UserId, String), Entry>,
    begins: u64,
}

#[derive(Debug)]
struct Entry {
    fingerprint: String,
    response: Option<StoredResponse>,
    /// On the store's monotonic clock.
    expires_at: Duration,
}

#[async_trait]
impl IdempotencyStore for InMemoryStore {
    async fn begin(
        &self,
        owner: UserId,
        key: &IdempotencyKey,
        fingerprint: &str,
        ttl: Duration,
    ) -> Result<IdempotencyBegin, RepoError> {
        let now = self.shared.time.elapsed();
        let mut table = lock(&self.shared.idempotency);
        table.begins += 1;
        if table.begins.is_multiple_of(SWEEP_EVERY) {
            table.entries.retain(|_, e| e.expires_at > now);
        }
        let slot = (owner, key.as_ref().to_owned());
        if let Some(entry) = table.entries.get(&slot).filter(|e| e.expires_at > now) {
            // A different request wins over whatever state the key is in.
            return Ok(if entry.fingerprint != fingerprint {
                IdempotencyBegin::Mismatch
            } else if let Some(response) = &entry.response {
                IdempotencyBegin::Completed(response.clone())
            } else {
                IdempotencyBegin::InProgress
            });
        }
        let entry = Entry { fingerprint: fingerprint.to_owned(), response: None, expires_at: now + ttl };
        table.entries.insert(slot, entry);
        Ok(IdempotencyBegin::Started)
    }

    async fn complete(
        &self,
        owner: UserId,
        key: &IdempotencyKey,
        response: &StoredResponse,
        ttl: Duration,
    ) -> Result<(), RepoError> {
        let now = self.shared.time.elapsed();
        let mut table = lock(&self.shared.idempotency);
        // A claim that expired meanwhile has no fingerprint left to guard a replay with: nothing to keep.
        if let Some(entry) = table.entries.get_mut(&(owner, key.as_ref().to_owned())).filter(|e| e.expires_at > now) {
            entry.response = Some(response.clone());
            entry.expires_at = now + ttl;
        }
        Ok(())
    }

    async fn release(&self, owner: UserId, key: &IdempotencyKey) -> Result<(), RepoError> {
        let mut table = lock(&self.shared.idempotency);
        let slot = (owner, key.as_ref().to_owned());
        // Only a running claim is freed; a completed key keeps replaying its response.
        if table.entries.get(&slot).is_some_and(|e| e.response.is_none()) {
            table.entries.remove(&slot);
        }
        Ok(())
    }
}
