//! [`RevokedUsers`]: the users deleted within an access token's lifetime, held in process so that authenticating a
//! request costs no I/O, and kept in step with the stored tombstones by a periodic [`RevokedUsers::refresh`].

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use chrono::{DateTime, Duration, Utc};
use taskflow_domain::ports::UserTombstones;
use taskflow_domain::{RepoError, UserId};

/// The recently deleted users whose access tokens must be refused.
///
/// The deleting instance adds the user at once ([`Self::insert`]); every instance merges the stored tombstones in
/// on each [`Self::refresh`]. An entry is kept for `horizon` after the deletion (the access-token lifetime plus a
/// margin for clock skew): by then every token issued before the deletion has expired, and no token is issued
/// after it (login and refresh need the user's row). So the set holds at most the deletions of one horizon.
pub struct RevokedUsers {
    tombstones: Arc<dyn UserTombstones>,
    horizon: Duration,
    deleted: RwLock<HashMap<UserId, DateTime<Utc>>>,
}

impl RevokedUsers {
    /// The margin added to the access-token lifetime for the clocks of instances that disagree a little.
    pub const CLOCK_SKEW_MARGIN: Duration = Duration::minutes(1);

    /// An empty set over `tombstones`, for access tokens that live `access_ttl`.
    #[must_use]
    pub fn new(tombstones: Arc<dyn UserTombstones>, access_ttl: Duration) -> Self {
        Self { tombstones, horizon: access_ttl + Self::CLOCK_SKEW_MARGIN, deleted: RwLock::default() }
    }

    /// How long after a deletion the user stays in the set, and their tombstone in storage.
    #[must_use]
    pub fn horizon(&self) -> Duration {
        self.horizon
    }

    /// Whether `user` was deleted (as far as this instance knows). No I/O: a read lock and a hash lookup.
    #[must_use]
    pub fn contains(&self, user: UserId) -> bool {
        self.deleted.read().unwrap_or_else(PoisonError::into_inner).contains_key(&user)
    }

    /// Records that `user` was deleted at `deleted_at` (by this instance, right after the deletion committed), and
    /// forgets the entries older than the horizon before it, so that the set stays within one horizon's deletions
    /// even where nothing calls [`Self::refresh`] (an embedding with one process).
    pub fn insert(&self, user: UserId, deleted_at: DateTime<Utc>) {
        let since = deleted_at - self.horizon;
        let mut deleted = self.deleted.write().unwrap_or_else(PoisonError::into_inner);
        deleted.retain(|_, at| *at >= since);
        deleted.insert(user, deleted_at);
    }

    /// Forgets the entries older than the horizon, then merges in the tombstones stored within it (one query).
    /// Merging, rather than replacing, keeps an entry this instance added while the query was running. Returns
    /// how many users the set holds.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] or [`RepoError::Unexpected`] when the tombstones cannot be read; the set keeps
    /// what it had (minus the expired entries).
    pub async fn refresh(&self, now: DateTime<Utc>) -> Result<usize, RepoError> {
        let since = now - self.horizon;
        self.deleted.write().unwrap_or_else(PoisonError::into_inner).retain(|_, at| *at >= since);
        let stored = self.tombstones.deleted_since(since).await?;
        let mut deleted = self.deleted.write().unwrap_or_else(PoisonError::into_inner);
        for tombstone in stored {
            deleted.insert(tombstone.user_id, tombstone.deleted_at);
        }
        Ok(deleted.len())
    }

    /// Deletes the stored tombstones older than the horizon, which no instance needs any more; returns how many.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] or [`RepoError::Unexpected`].
    pub async fn prune_stored(&self, now: DateTime<Utc>) -> Result<u64, RepoError> {
        self.tombstones.prune(now - self.horizon).await
    }
}
