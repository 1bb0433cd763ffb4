//! [`RefreshTokenStore`]: tokens as hashes in families; consuming is one conditional `UPDATE`, so of any number of
//! concurrent presentations exactly one wins.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, FromQueryResult};
use taskflow_domain::auth::{ConsumeOutcome, RefreshTokenHash, RefreshTokenRecord};
use taskflow_domain::ports::RefreshTokenStore;
use taskflow_domain::{FamilyId, RepoError, UserId};
use uuid::Uuid;

use crate::error::{bounded, map_db_err};
use crate::rows::stmt;
use crate::storage::PgStorage;

/// A token row with its family's revocation.
#[derive(Debug, FromQueryResult)]
struct TokenRow {
    hash: String,
    family_id: Uuid,
    user_id: Uuid,
    issued_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    consumed_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
}

impl TokenRow {
    fn record(self) -> RefreshTokenRecord {
        RefreshTokenRecord {
            hash: RefreshTokenHash::from_hex(self.hash),
            family: FamilyId::from_uuid(self.family_id),
            user_id: UserId::from_uuid(self.user_id),
            issued_at: self.issued_at,
            expires_at: self.expires_at,
        }
    }
}

impl PgStorage {
    /// Why a token could not be consumed; revokes its family when it had been consumed already.
    async fn classify(&self, hash: &RefreshTokenHash, now: DateTime<Utc>) -> Result<ConsumeOutcome, RepoError> {
        let sql = "SELECT t.hash, t.family_id, t.user_id, t.issued_at, t.expires_at, t.consumed_at, f.revoked_at \
                   FROM refresh_tokens t JOIN refresh_token_families f ON f.id = t.family_id WHERE t.hash = $1";
        let Some(row) = bounded(self.deadline, self.db.query_one_raw(stmt(sql, [hash.as_hex().into()]))).await? else {
            return Ok(ConsumeOutcome::Unknown);
        };
        let t = TokenRow::from_query_result(&row, "").map_err(map_db_err)?;
        if t.revoked_at.is_some() {
            return Ok(ConsumeOutcome::Revoked);
        }
        if t.consumed_at.is_some() {
            // Reuse of a rotated token: someone else holds the family's secrets, so the whole family goes.
            let sql = "UPDATE refresh_token_families SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL";
            bounded(self.deadline, self.db.execute_raw(stmt(sql, [t.family_id.into(), now.into()]))).await?;
            return Ok(ConsumeOutcome::Reused { family: FamilyId::from_uuid(t.family_id) });
        }
        if t.expires_at <= now {
            return Ok(ConsumeOutcome::Expired);
        }
        // Valid and unconsumed, so the UPDATE must have lost a race that has since been undone: try again.
        Ok(ConsumeOutcome::Unknown)
    }
}

#[async_trait]
impl RefreshTokenStore for PgStorage {
    async fn insert(&self, record: &RefreshTokenRecord) -> Result<(), RepoError> {
        // The family is created with its first token; foreign keys are checked at the end of the statement.
        let sql = "WITH family AS (INSERT INTO refresh_token_families (id, user_id, created_at) VALUES ($2, $3, $4) \
                                   ON CONFLICT (id) DO NOTHING) \
                   INSERT INTO refresh_tokens (hash, family_id, user_id, issued_at, expires_at) \
                   VALUES ($1, $2, $3, $4, $5)";
        let values = [
            record.hash.as_hex().into(),
            record.family.as_uuid().into(),
            record.user_id.as_uuid().into(),
            record.issued_at.into(),
            record.expires_at.into(),
        ];
        bounded(self.deadline, self.db.execute_raw(stmt(sql, values))).await?;
        Ok(())
    }

    async fn consume(&self, hash: &RefreshTokenHash, now: DateTime<Utc>) -> Result<ConsumeOutcome, RepoError> {
        // Concurrent callers queue on the row lock; after the first commits, the others re-check
        // `consumed_at IS NULL` on the new row version and match nothing.
        let sql = "UPDATE refresh_tokens t SET consumed_at = $2 FROM refresh_token_families f \
                   WHERE t.hash = $1 AND f.id = t.family_id AND t.consumed_at IS NULL AND f.revoked_at IS NULL \
                     AND t.expires_at > $2 \
                   RETURNING t.hash, t.family_id, t.user_id, t.issued_at, t.expires_at, t.consumed_at, f.revoked_at";
        let row = bounded(self.deadline, self.db.query_one_raw(stmt(sql, [hash.as_hex().into(), now.into()]))).await?;
        match row {
            Some(row) => {
                Ok(ConsumeOutcome::Consumed(TokenRow::from_query_result(&row, "").map_err(map_db_err)?.record()))
            }
            None => self.classify(hash, now).await,
        }
    }

    async fn revoke_family_of(&self, hash: &RefreshTokenHash) -> Result<bool, RepoError> {
        let sql = "UPDATE refresh_token_families f SET revoked_at = coalesce(f.revoked_at, now()) \
                   FROM refresh_tokens t WHERE t.hash = $1 AND f.id = t.family_id";
        let done = bounded(self.deadline, self.db.execute_raw(stmt(sql, [hash.as_hex().into()]))).await?;
        Ok(done.rows_affected() > 0)
    }

    async fn revoke_user(&self, user: UserId) -> Result<(), RepoError> {
        let sql = "UPDATE refresh_token_families SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL";
        bounded(self.deadline, self.db.execute_raw(stmt(sql, [user.as_uuid().into()]))).await?;
        Ok(())
    }
}
