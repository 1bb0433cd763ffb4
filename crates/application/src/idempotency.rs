//! Idempotent retries: the first response to a request with an `Idempotency-Key` is kept and replayed.

use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest, Sha256};
use taskflow_domain::UserId;

use crate::error::AppError;
use crate::ports::{IdempotencyBegin, IdempotencyKey, IdempotencyStore, StoredResponse};

/// How long a finished request's response is kept for replay.
pub const KEY_TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// How long a claim holds while its request runs: longer than the 30 s request timeout, short enough that a
/// request that died without releasing its key (a dropped connection, a crash) blocks retries only briefly.
pub const CLAIM_LEASE: Duration = Duration::from_secs(60);

/// What to do with a request that carries a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The key is new: run the request, then [`IdempotencyService::complete`] or [`IdempotencyService::release`].
    Proceed,
    /// The key's request already finished: send this again.
    Replay(StoredResponse),
}

/// Claims, completes and releases idempotency keys.
pub struct IdempotencyService {
    store: Arc<dyn IdempotencyStore>,
}

impl IdempotencyService {
    /// A service that claims keys for [`CLAIM_LEASE`] and keeps responses for [`KEY_TTL`].
    #[must_use]
    pub fn new(store: Arc<dyn IdempotencyStore>) -> Self {
        Self { store }
    }

    /// The fingerprint of a request: a hash of its method, path and body, so a key reused for a different
    /// request is recognised.
    #[must_use]
    pub fn fingerprint(method: &str, path: &str, body: &[u8]) -> String {
        let mut h = Sha256::new();
        for part in [method.as_bytes(), b"\n", path.as_bytes(), b"\n", body] {
            h.update(part);
        }
        hex::encode(h.finalize())
    }

    /// Claims `key` for `owner`'s request with `fingerprint`.
    ///
    /// # Errors
    /// [`AppError::IdempotencyMismatch`] for a key used with another request; [`AppError::IdempotencyInProgress`]
    /// while the first request runs; [`AppError::Unavailable`] when the store is down.
    pub async fn begin(&self, owner: UserId, key: &IdempotencyKey, fingerprint: &str) -> Result<Claim, AppError> {
        match self.store.begin(owner, key, fingerprint, CLAIM_LEASE).await? {
            IdempotencyBegin::Started => Ok(Claim::Proceed),
            IdempotencyBegin::Completed(response) => Ok(Claim::Replay(response)),
            IdempotencyBegin::InProgress => Err(AppError::IdempotencyInProgress),
            IdempotencyBegin::Mismatch => Err(AppError::IdempotencyMismatch),
        }
    }

    /// Keeps `response` for replay.
    ///
    /// # Errors
    /// [`AppError::Unavailable`] when the store is down.
    pub async fn complete(
        &self,
        owner: UserId,
        key: &IdempotencyKey,
        response: &StoredResponse,
    ) -> Result<(), AppError> {
        Ok(self.store.complete(owner, key, response, KEY_TTL).await?)
    }

    /// Frees `key` after a failed request, so that a retry runs it.
    ///
    /// # Errors
    /// [`AppError::Unavailable`] when the store is down.
    pub async fn release(&self, owner: UserId, key: &IdempotencyKey) -> Result<(), AppError> {
        Ok(self.store.release(owner, key).await?)
    }
}
