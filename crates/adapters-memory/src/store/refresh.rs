//! Refresh-token families: single use, reuse detection and revocation, each decided under one lock.

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use taskflow_domain::RepoError;
use taskflow_domain::auth::{ConsumeOutcome, RefreshTokenHash, RefreshTokenRecord};
use taskflow_domain::ids::{FamilyId, UserId};
use taskflow_domain::ports::RefreshTokenStore;

use super::InMemoryStore;
use crate::locks::lock;

/// How many inserts pass between two sweeps of expired tokens.
const SWEEP_EVERY: u64 = 1024;

/// Stored tokens and revoked families.
#[derive(Debug, Default)]
pub(crate) struct RefreshTable {
    tokens: HashMap<RefreshTokenHash, Stored>,
    revoked: HashSet<FamilyId>,
    families: HashMap<UserId, HashSet<FamilyId>>,
    inserts: u64,
}

#[derive(Debug)]
struct Stored {
    record: RefreshTokenRecord,
    consumed: bool,
}

impl RefreshTable {
    /// Forgets tokens that expired before `now`: they could only ever be refused again.
    fn sweep(&mut self, now: DateTime<Utc>) {
        self.tokens.retain(|_, t| t.record.expires_at > now);
    }

    /// Forgets every token and family of a deleted user, as PostgreSQL's `ON DELETE CASCADE` does.
    pub(crate) fn forget_user(&mut self, user: UserId) {
        for family in self.families.remove(&user).unwrap_or_default() {
            self.revoked.remove(&family);
        }
        self.tokens.retain(|_, t| t.record.user_id != user);
    }

    fn consume(&mut self, hash: &RefreshTokenHash, now: DateTime<Utc>) -> ConsumeOutcome {
        let Some(token) = self.tokens.get_mut(hash) else {
            return ConsumeOutcome::Unknown;
        };
        let family = token.record.family;
        // A revoked family wins over everything, then reuse (which revokes), then expiry.
        if self.revoked.contains(&family) {
            ConsumeOutcome::Revoked
        } else if token.consumed {
            self.revoked.insert(family);
            ConsumeOutcome::Reused { family }
        } else if now >= token.record.expires_at {
            ConsumeOutcome::Expired
        } else {
            token.consumed = true;
            ConsumeOutcome::Consumed(token.record.clone())
        }
    }
}

#[async_trait]
impl RefreshTokenStore for InMemoryStore {
    async fn insert(&self, record: &RefreshTokenRecord) -> Result<(), RepoError> {
        let mut table = lock(&self.shared.refresh);
        table.inserts += 1;
        if table.inserts.is_multiple_of(SWEEP_EVERY) {
            table.sweep(record.issued_at);
        }
        table.families.entry(record.user_id).or_default().insert(record.family);
        table.tokens.insert(record.hash.clone(), Stored { record: record.clone(), consumed: false });
        Ok(())
    }

    async fn consume(&self, hash: &RefreshTokenHash, now: DateTime<Utc>) -> Result<ConsumeOutcome, RepoError> {
        Ok(lock(&self.shared.refresh).consume(hash, now))
    }

    async fn revoke_family_of(&self, hash: &RefreshTokenHash) -> Result<bool, RepoError> {
        let mut table = lock(&self.shared.refresh);
        let Some(family) = table.tokens.get(hash).map(|t| t.record.family) else {
            return Ok(false);
        };
        table.revoked.insert(family);
        Ok(true)
    }

    async fn revoke_user(&self, user: UserId) -> Result<(), RepoError> {
        let mut table = lock(&self.shared.refresh);
        let families = table.families.remove(&user).unwrap_or_default();
        table.revoked.extend(families);
        Ok(())
    }
}
