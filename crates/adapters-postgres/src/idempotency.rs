//! [`IdempotencyStore`]: keys claimed with `INSERT ... ON CONFLICT`, so two instances never both start one request.

use std::time::Duration;

use async_trait::async_trait;
use sea_orm::{ConnectionTrait, FromQueryResult};

use taskflow_domain::{RepoError, UserId};
use uuid::Uuid;

use crate::error::{bounded, corrupt, map_db_err};
use crate::rows::stmt;
use crate::storage::PgStorage;
use taskflow_application::ports::{IdempotencyBegin, IdempotencyKey, IdempotencyStore, StoredResponse};

/// What a claimed key holds.
#[derive(Debug, FromQueryResult)]
struct KeyRow {
    fingerprint: String,
    status: String,
    response_status: Option<i16>,
    response_headers: Option<serde_json::Value>,
    response_body: Option<Vec<u8>>,
}

/// A TTL in milliseconds, for `now() + $n * interval '1 millisecond'`.
fn millis(ttl: Duration) -> i64 {
    i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX)
}

/// A row that changes between the claim and the read (released or expired meanwhile) is retried this often.
const CLAIM_ATTEMPTS: usize = 3;

impl KeyRow {
    fn verdict(self, fingerprint: &str) -> Result<IdempotencyBegin, RepoError> {
        if self.fingerprint != fingerprint {
            return Ok(IdempotencyBegin::Mismatch);
        }
        if self.status != "completed" {
            return Ok(IdempotencyBegin::InProgress);
        }
        let status = self.response_status.ok_or_else(|| corrupt("idempotent response", "no status"))?;
        let headers: Vec<(String, String)> = match self.response_headers {
            Some(h) => serde_json::from_value(h).map_err(|e| corrupt("idempotent response headers", e))?,
            None => Vec::new(),
        };
        Ok(IdempotencyBegin::Completed(StoredResponse {
            status: u16::try_from(status).map_err(|e| corrupt("idempotent response status", e))?,
            headers,
            body: self.response_body.unwrap_or_default(),
        }))
    }
}

#[async_trait]
impl IdempotencyStore for PgStorage {
    async fn begin(
        &self,
        owner: UserId,
        key: &IdempotencyKey,
        fingerprint: &str,
        ttl: Duration,
    ) -> Result<IdempotencyBegin, RepoError> {
        // Claims a new key, or takes over an expired one; a live key is left alone and read back.
        let claim = "INSERT INTO idempotency_keys (owner_id, key, fingerprint, status, expires_at) \
                     VALUES ($1, $2, $3, 'in_progress', now() + $4 * interval '1 millisecond') \
                     ON CONFLICT (owner_id, key) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, \
                       status = 'in_progress', response_status = NULL, response_headers = NULL, \
                       response_body = NULL, created_at = now(), expires_at = EXCLUDED.expires_at \
                     WHERE idempotency_keys.expires_at <= now()";
        let read = "SELECT fingerprint, status, response_status, response_headers, response_body \
                    FROM idempotency_keys WHERE owner_id = $1 AND key = $2 AND expires_at > now()";
        let (owner, key): (Uuid, &str) = (owner.as_uuid(), key.as_ref());
        for _ in 0..CLAIM_ATTEMPTS {
            let values = [owner.into(), key.into(), fingerprint.into(), millis(ttl).into()];
            let done = bounded(self.deadline, self.db.execute_raw(stmt(claim, values))).await?;
            if done.rows_affected() == 1 {
                return Ok(IdempotencyBegin::Started);
            }
            let row = bounded(self.deadline, self.db.query_one_raw(stmt(read, [owner.into(), key.into()]))).await?;
            if let Some(row) = row {
                return KeyRow::from_query_result(&row, "").map_err(map_db_err)?.verdict(fingerprint);
            }
        }
        // The key keeps changing hands: report it busy rather than loop.
        Ok(IdempotencyBegin::InProgress)
    }

    async fn complete(
        &self,
        owner: UserId,
        key: &IdempotencyKey,
        response: &StoredResponse,
        ttl: Duration,
    ) -> Result<(), RepoError> {
        let headers = serde_json::to_value(&response.headers).map_err(RepoError::unexpected)?;
        let sql = "UPDATE idempotency_keys SET status = 'completed', response_status = $3, response_headers = $4, \
                     response_body = $5, expires_at = now() + $6 * interval '1 millisecond' \
                   WHERE owner_id = $1 AND key = $2";
        let values = [
            owner.as_uuid().into(),
            key.as_ref().into(),
            i16::try_from(response.status).map_err(RepoError::unexpected)?.into(),
            headers.into(),
            response.body.clone().into(),
            millis(ttl).into(),
        ];
        bounded(self.deadline, self.db.execute_raw(stmt(sql, values))).await?;
        Ok(())
    }

    async fn release(&self, owner: UserId, key: &IdempotencyKey) -> Result<(), RepoError> {
        let sql = "DELETE FROM idempotency_keys WHERE owner_id = $1 AND key = $2 AND status = 'in_progress'";
        bounded(self.deadline, self.db.execute_raw(stmt(sql, [owner.as_uuid().into(), key.as_ref().into()]))).await?;
        Ok(())
    }
}
