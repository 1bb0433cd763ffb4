//! [`DeliveryQueue`] on `webhook_deliveries`: the queue is the table. Every call is one statement (a single
//! statement is its own short transaction), row locks never outlive it, and `pg_notify('taskflow_deliveries', '')` is
//! sent from inside the statement that makes deliveries due, so it is delivered exactly when that work commits.
//!
//! A claim writes only the lease (`lease_token`, `lease_expires_at`), no indexed column, so that its update is HOT
//! (heap-only: no new index entries; the table keeps room on its pages for it, `fillfactor` 80): a leased delivery
//! keeps its due time and is skipped by claims until its lease expires, and then is simply due again. The claim
//! reads, per receiver it does not leave out, one range of the partial index of open deliveries by receiver and due
//! time. Owners see a leased delivery's `next_attempt_at` as its lease's expiry.

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::{ConnectionTrait, FromQueryResult, QueryResult};
use serde::Serialize;
use taskflow_domain::events::TaskEventKind;
use taskflow_domain::ports::{
    AttemptRecord, ClaimedDelivery, DeliveryQueue, LeaseToken, QueueFigures, RelayOutcome, RetryOutcome,
};
use taskflow_domain::query::PageRequest;
use taskflow_domain::webhook::{AttemptOutcome, Delivery, DeliveryStatus, WebhookSecret, WebhookUrl};
use taskflow_domain::{DeliveryId, EventId, RepoError, UserId, WebhookId};
use uuid::Uuid;

use crate::error::{bounded, corrupt, map_db_err};
use crate::outbox::{DELIVERY_CHANNEL, EVENT_COLUMNS, FEED_CHANNEL, event_from};
use crate::read::Sql;
use crate::rows::owner_from;
use crate::storage::PgStorage;

/// The advisory-lock key of the relay's turn ("tf relay").
const RELAY_LOCK_KEY: i64 = 0x7466_2072_656c_6179;

/// The statuses a worker may still attempt, as SQL.
const OPEN: &str = "('pending', 'failed')";
/// The final statuses, as SQL.
const FINAL: &str = "('succeeded', 'dead', 'cancelled')";

/// The `webhook_deliveries` columns a [`Delivery`] is read from.
const DELIVERY_COLUMNS: &str = "id, webhook_id, event_id, event, status, attempts, next_attempt_at, \
                                last_status_code, last_error, duration_ms, created_at, updated_at";

/// One delivery as its owner sees it.
#[derive(Debug, FromQueryResult)]
struct DeliveryRow {
    id: Uuid,
    webhook_id: Uuid,
    event_id: Uuid,
    event: String,
    status: String,
    attempts: i32,
    next_attempt_at: Option<DateTime<Utc>>,
    last_status_code: Option<i32>,
    last_error: Option<String>,
    duration_ms: Option<i32>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

fn delivery_from(row: &QueryResult, prefix: &str) -> Result<Delivery, RepoError> {
    let r = DeliveryRow::from_query_result(row, prefix).map_err(map_db_err)?;
    Ok(Delivery {
        id: DeliveryId::from_uuid(r.id),
        webhook_id: WebhookId::from_uuid(r.webhook_id),
        event_id: EventId::from_uuid(r.event_id),
        event: TaskEventKind::parse(&r.event).map_err(|e| corrupt("delivery event", e))?,
        status: DeliveryStatus::parse(&r.status).map_err(|e| corrupt("delivery status", e))?,
        attempts: u32::try_from(r.attempts).map_err(|e| corrupt("delivery attempts", e))?,
        next_attempt_at: r.next_attempt_at,
        last_status_code: r.last_status_code.map(u16::try_from).transpose().map_err(|e| corrupt("status code", e))?,
        last_error: r.last_error,
        duration_ms: r.duration_ms.map(u32::try_from).transpose().map_err(|e| corrupt("duration", e))?,
        created_at: r.created_at,
        updated_at: r.updated_at,
    })
}

/// The part of a claimed row that is not the event.
#[derive(Debug, FromQueryResult)]
struct ClaimRow {
    id: Uuid,
    lease_token: Uuid,
    attempts: i32,
    webhook_id: Uuid,
    url: String,
    secret: String,
    owner_id: Uuid,
}

fn claimed_from(row: &QueryResult) -> Result<ClaimedDelivery, RepoError> {
    let r = ClaimRow::from_query_result(row, "").map_err(map_db_err)?;
    let attempts = u32::try_from(r.attempts).map_err(|e| corrupt("delivery attempts", e))?;
    Ok(ClaimedDelivery {
        id: DeliveryId::from_uuid(r.id),
        lease: LeaseToken(r.lease_token),
        attempt: attempts + 1,
        webhook_id: WebhookId::from_uuid(r.webhook_id),
        url: WebhookUrl::parse(&r.url).map_err(|e| corrupt("webhook url", e))?,
        secret: WebhookSecret::parse(&r.secret).map_err(|e| corrupt("webhook secret", e))?,
        owner: owner_from(row, UserId::from_uuid(r.owner_id))?,
        event: event_from(row, "event_")?,
    })
}

/// One attempt as `finish` binds it (a row of `jsonb_to_recordset`).
#[derive(Debug, Serialize)]
struct Settled {
    id: Uuid,
    lease: Uuid,
    status: &'static str,
    code: Option<u16>,
    error: Option<String>,
    duration_ms: u32,
    next_at: Option<DateTime<Utc>>,
    at: DateTime<Utc>,
    gone: bool,
}

fn settle(r: &AttemptRecord) -> Settled {
    let base = |status: DeliveryStatus, code, error, duration_ms, next_at, gone| Settled {
        id: r.id.as_uuid(),
        lease: r.lease.0,
        status: status.as_str(),
        code,
        error,
        duration_ms,
        next_at,
        at: r.at,
        gone,
    };
    match r.outcome {
        AttemptOutcome::Succeeded { status, duration_ms } => {
            base(DeliveryStatus::Succeeded, Some(status), None, duration_ms, None, false)
        }
        // The webhook is deactivated and its open deliveries cancelled, this one included.
        AttemptOutcome::Gone { duration_ms } => {
            base(DeliveryStatus::Cancelled, Some(410), Some("status 410".to_owned()), duration_ms, None, true)
        }
        AttemptOutcome::Failed { class, status, duration_ms, .. } => {
            let next = r.next_attempt_at;
            let state = if next.is_some() { DeliveryStatus::Failed } else { DeliveryStatus::Dead };
            base(state, status, Some(class.to_string()), duration_ms, next, false)
        }
    }
}

fn count(row: Option<&QueryResult>, column: &str) -> Result<u64, RepoError> {
    let n: Option<i64> = row.map(|r| r.try_get("", column)).transpose().map_err(map_db_err)?.flatten();
    Ok(n.and_then(|n| u64::try_from(n).ok()).unwrap_or(0))
}

fn limit_of(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

#[async_trait]
impl DeliveryQueue for PgStorage {
    async fn relay(&self, limit: usize, now: DateTime<Utc>) -> Result<RelayOutcome, RepoError> {
        if limit == 0 {
            return Ok(RelayOutcome::default());
        }
        let mut sql = Sql::default();
        let (limit, now) = (sql.bind(limit_of(limit)), sql.bind(now));
        // One statement: take the relay's turn (relays run one after another, so that each numbers its events
        // after those of the relay before it: see the feed in `feed.rs`), lock the oldest unrelayed events, mark
        // them relayed and number them in log order, fan each out to its owner's active webhooks that want its kind,
        // wake workers if that made work, and wake live streams if anything was published. The turn is released
        // at commit, once the numbers are visible.
        let text = format!(
            "WITH turn AS ( \
                SELECT pg_advisory_xact_lock({RELAY_LOCK_KEY}) \
             ), picked AS ( \
                SELECT id, kind, owner_id, seq FROM outbox_events \
                WHERE dispatched_at IS NULL AND (SELECT true FROM turn) \
                ORDER BY seq LIMIT {limit} FOR UPDATE SKIP LOCKED \
             ), numbered AS ( \
                SELECT id, nextval('outbox_stream_pos') AS pos FROM (SELECT id FROM picked ORDER BY seq) p \
             ), marked AS ( \
                UPDATE outbox_events o SET dispatched_at = {now}, stream_pos = n.pos \
                FROM numbered n WHERE o.id = n.id RETURNING o.id \
             ), made AS ( \
                INSERT INTO webhook_deliveries (id, webhook_id, event_id, event, status, attempts, next_attempt_at, \
                                                created_at, updated_at) \
                SELECT gen_random_uuid(), w.id, p.id, p.kind, 'pending', 0, {now}, {now}, {now} \
                FROM picked p JOIN webhooks w ON w.owner_id = p.owner_id AND w.active AND p.kind = ANY (w.events) \
                ON CONFLICT (event_id, webhook_id) DO NOTHING \
                RETURNING 1 \
             ), woke AS ( \
                SELECT pg_notify('{DELIVERY_CHANNEL}', '') WHERE EXISTS (SELECT 1 FROM made) \
             ), published AS ( \
                SELECT pg_notify('{FEED_CHANNEL}', '') WHERE EXISTS (SELECT 1 FROM marked) \
             ) \
             SELECT (SELECT count(*) FROM marked) AS events, (SELECT count(*) FROM made) AS deliveries, \
                    (SELECT count(*) FROM woke) AS woke, (SELECT count(*) FROM published) AS published"
        );
        let row = bounded(self.deadline, self.db.query_one_raw(sql.into_statement(text))).await?;
        let events = count(row.as_ref(), "events")?;
        let deliveries = count(row.as_ref(), "deliveries")?;
        Ok(RelayOutcome {
            events: usize::try_from(events).unwrap_or(usize::MAX),
            deliveries: usize::try_from(deliveries).unwrap_or(usize::MAX),
        })
    }

    async fn claim_skipping(
        &self,
        limit: usize,
        now: DateTime<Utc>,
        lease: TimeDelta,
        skip: &[WebhookId],
    ) -> Result<Vec<ClaimedDelivery>, RepoError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let until = now.checked_add_signed(lease).unwrap_or(DateTime::<Utc>::MAX_UTC);
        let mut sql = Sql::default();
        let (limit, now, until) = (sql.bind(limit_of(limit)), sql.bind(now), sql.bind(until));
        let skip: Vec<Uuid> = skip.iter().map(WebhookId::as_uuid).collect();
        let skip = sql.bind(skip);
        let event_columns: Vec<String> = EVENT_COLUMNS.iter().map(|c| format!("e.{c} AS event_{c}")).collect();
        let event_columns = event_columns.join(", ");
        // Attempts are counted when they finish, so a lease lost with its worker costs none.
        //
        // Receiver by receiver, through `webhook_deliveries_open_idx (webhook_id, next_attempt_at)`: `receivers`
        // finds the receivers that have open deliveries (a loose index scan: one probe per receiver), `due` keeps
        // those not left out whose earliest unleased open delivery is due, earliest first, and `picked` takes each
        // one's due unleased deliveries in due order. (A lease is the only thing a claim writes, so that its update
        // is HOT; a receiver's leased deliveries are at most its share per worker, so stepping over them is cheap.)
        // A receiver left out (its share is taken) thus costs nothing, whatever its backlog:
        // a scan of all open deliveries by due time, filtering the left-out receivers, read every due delivery of
        // theirs to find none (measured: about 1,200 rows read per delivery made with a backlog of 20,000).
        let text = format!(
            "WITH RECURSIVE receivers AS ( \
                (SELECT webhook_id FROM webhook_deliveries WHERE status IN {OPEN} ORDER BY webhook_id LIMIT 1) \
                UNION ALL \
                SELECT (SELECT d.webhook_id FROM webhook_deliveries d \
                        WHERE d.status IN {OPEN} AND d.webhook_id > r.webhook_id ORDER BY d.webhook_id LIMIT 1) \
                FROM receivers r WHERE r.webhook_id IS NOT NULL \
             ), due AS ( \
                SELECT r.webhook_id, f.first FROM receivers r JOIN webhooks w ON w.id = r.webhook_id AND w.active \
                CROSS JOIN LATERAL ( \
                    SELECT d.next_attempt_at AS first FROM webhook_deliveries d \
                    WHERE d.webhook_id = r.webhook_id AND d.status IN {OPEN} \
                        AND (d.lease_expires_at IS NULL OR d.lease_expires_at <= {now}) \
                    ORDER BY d.next_attempt_at LIMIT 1 \
                ) f \
                WHERE r.webhook_id <> ALL({skip}::uuid[]) AND f.first <= {now} \
                ORDER BY f.first LIMIT {limit} \
             ), picked AS ( \
                SELECT c.id FROM due CROSS JOIN LATERAL ( \
                    SELECT d.id, d.next_attempt_at FROM webhook_deliveries d \
                    WHERE d.webhook_id = due.webhook_id AND d.status IN {OPEN} AND d.next_attempt_at <= {now} \
                        AND (d.lease_expires_at IS NULL OR d.lease_expires_at <= {now}) \
                    ORDER BY d.next_attempt_at LIMIT {limit} FOR UPDATE SKIP LOCKED \
                ) c \
                ORDER BY c.next_attempt_at LIMIT {limit} \
             ), leased AS ( \
                UPDATE webhook_deliveries d \
                SET lease_token = gen_random_uuid(), lease_expires_at = {until} \
                FROM picked WHERE d.id = picked.id \
                RETURNING d.id, d.lease_token, d.attempts, d.webhook_id, d.event_id, d.next_attempt_at \
             ) \
             SELECT l.id, l.lease_token, l.attempts, l.webhook_id, w.url, w.secret, w.owner_id, \
                u.name AS owner_name, u.email AS owner_email, {event_columns} \
             FROM leased l JOIN webhooks w ON w.id = l.webhook_id JOIN users u ON u.id = w.owner_id \
                JOIN outbox_events e ON e.id = l.event_id \
             ORDER BY l.next_attempt_at, l.id"
        );
        let rows = bounded(self.deadline, self.db.query_all_raw(sql.into_statement(text))).await?;
        rows.iter().map(claimed_from).collect()
    }

    async fn finish(&self, records: &[AttemptRecord]) -> Result<(), RepoError> {
        if records.is_empty() {
            return Ok(());
        }
        let ids: Vec<Uuid> = records.iter().map(|r| r.id.as_uuid()).collect();
        let batch: Vec<Settled> = records.iter().map(settle).collect();
        let batch = serde_json::to_value(&batch).map_err(RepoError::unexpected)?;
        let mut sql = Sql::default();
        let (batch, ids) = (sql.bind(batch), sql.bind(ids));
        // One statement: only rows whose lease is still current change; each attempt is logged; a 410 deactivates
        // its webhook and cancels the webhook's other open deliveries. Rows of this batch are settled already (one
        // statement must not change a row twice), and rows another worker is finishing right now are skipped, not
        // waited for: two workers cancelling each other's rows would deadlock. `d.id = ANY(ids)` beside the join
        // makes the update primary-key probes whatever the planner guesses of `jsonb_to_recordset`'s size (without
        // it, a hash join over a sequential scan of the whole table was seen once the table outgrew its statistics).
        let text = format!(
            "WITH input AS ( \
                SELECT * FROM jsonb_to_recordset({batch}) AS i(id uuid, lease uuid, status text, code integer, \
                    error text, duration_ms integer, next_at timestamptz, at timestamptz, gone boolean) \
             ), done AS ( \
                UPDATE webhook_deliveries d \
                SET status = i.status, attempts = d.attempts + 1, next_attempt_at = i.next_at, lease_token = NULL, \
                    lease_expires_at = NULL, last_status_code = i.code, last_error = i.error, \
                    duration_ms = i.duration_ms, updated_at = i.at \
                FROM input i WHERE d.id = ANY({ids}::uuid[]) AND d.id = i.id AND d.lease_token = i.lease \
                RETURNING d.id, d.webhook_id, d.attempts, i.at, i.code, i.error, i.duration_ms, i.gone \
             ), logged AS ( \
                INSERT INTO delivery_attempts (delivery_id, attempt, at, status_code, error, duration_ms) \
                SELECT id, attempts, at, code, error, duration_ms FROM done \
             ), gone AS ( \
                SELECT webhook_id, max(at) AS at FROM done WHERE gone GROUP BY webhook_id \
             ), paused AS ( \
                UPDATE webhooks w SET active = false, updated_at = gone.at FROM gone \
                WHERE w.id = gone.webhook_id AND w.active \
             ), doomed AS ( \
                SELECT d.id, gone.at FROM webhook_deliveries d JOIN gone ON d.webhook_id = gone.webhook_id \
                WHERE d.status IN {OPEN} AND d.id NOT IN (SELECT id FROM done) \
                FOR UPDATE OF d SKIP LOCKED \
             ) \
             UPDATE webhook_deliveries d \
             SET status = 'cancelled', next_attempt_at = NULL, lease_token = NULL, lease_expires_at = NULL, \
                 updated_at = doomed.at \
             FROM doomed WHERE d.id = doomed.id"
        );
        bounded(self.deadline, self.db.execute_raw(sql.into_statement(text))).await?;
        Ok(())
    }

    async fn release(&self, leases: &[(DeliveryId, LeaseToken)], at: DateTime<Utc>) -> Result<(), RepoError> {
        if leases.is_empty() {
            return Ok(());
        }
        let ids: Vec<Uuid> = leases.iter().map(|(id, _)| id.as_uuid()).collect();
        let tokens: Vec<Uuid> = leases.iter().map(|(_, lease)| lease.0).collect();
        let mut sql = Sql::default();
        let (ids, tokens, at) = (sql.bind(ids), sql.bind(tokens), sql.bind(at));
        let text = format!(
            "WITH released AS ( \
                UPDATE webhook_deliveries d \
                SET lease_token = NULL, lease_expires_at = NULL, next_attempt_at = {at} \
                FROM unnest({ids}::uuid[], {tokens}::uuid[]) AS r(id, lease) \
                WHERE d.id = r.id AND d.lease_token = r.lease \
                RETURNING 1 \
             ) \
             SELECT pg_notify('{DELIVERY_CHANNEL}', '') WHERE EXISTS (SELECT 1 FROM released)"
        );
        bounded(self.deadline, self.db.query_all_raw(sql.into_statement(text))).await?;
        Ok(())
    }

    async fn list(
        &self,
        webhook: WebhookId,
        status: Option<DeliveryStatus>,
        page: PageRequest,
    ) -> Result<(Vec<Delivery>, u64), RepoError> {
        let mut sql = Sql::default();
        let webhook = sql.bind(webhook.as_uuid());
        let filter = status.map(|s| format!(" AND status = {}", sql.bind(s.as_str()))).unwrap_or_default();
        let limit = sql.bind(i64::from(page.limit));
        let offset = sql.bind(i64::try_from(page.offset()).unwrap_or(i64::MAX));
        let matching = format!("FROM webhook_deliveries WHERE webhook_id = {webhook}{filter}");
        // A leased delivery is attempted again, if its worker does not finish it, when its lease expires.
        let listed = DELIVERY_COLUMNS
            .replace("next_attempt_at", "coalesce(lease_expires_at, next_attempt_at) AS next_attempt_at");
        // The count and the page in one statement (one snapshot); a page past the end still carries the total.
        let text = format!(
            "SELECT c.total, p.* FROM (SELECT count(*) AS total {matching}) c \
             LEFT JOIN LATERAL ( \
                SELECT {listed} {matching} ORDER BY created_at DESC, id DESC LIMIT {limit} OFFSET {offset} \
             ) p ON true"
        );
        let rows = bounded(self.deadline, self.db.query_all_raw(sql.into_statement(text))).await?;
        let total = count(rows.first(), "total")?;
        let mut items = Vec::with_capacity(rows.len());
        for row in &rows {
            let present: Option<Uuid> = row.try_get("", "id").map_err(map_db_err)?;
            if present.is_some() {
                items.push(delivery_from(row, "")?);
            }
        }
        Ok((items, total))
    }

    async fn retry(
        &self,
        webhook: WebhookId,
        delivery: DeliveryId,
        now: DateTime<Utc>,
    ) -> Result<Option<RetryOutcome>, RepoError> {
        let mut sql = Sql::default();
        let (webhook, delivery, now) = (sql.bind(webhook.as_uuid()), sql.bind(delivery.as_uuid()), sql.bind(now));
        let returning: Vec<String> = DELIVERY_COLUMNS.split(", ").map(|c| format!("d.{c}")).collect();
        let returning = returning.join(", ");
        let columns: Vec<String> = DELIVERY_COLUMNS.split(", ").map(|c| format!("u.{c}")).collect();
        let columns = columns.join(", ");
        let text = format!(
            "WITH target AS ( \
                SELECT id, status FROM webhook_deliveries WHERE id = {delivery} AND webhook_id = {webhook} \
                FOR UPDATE \
             ), revived AS ( \
                UPDATE webhook_deliveries d \
                SET status = 'pending', attempts = 0, next_attempt_at = {now}, lease_token = NULL, \
                    lease_expires_at = NULL, updated_at = {now} \
                FROM target t WHERE d.id = t.id AND t.status IN ('failed', 'dead') \
                RETURNING {returning} \
             ), woke AS ( \
                SELECT pg_notify('{DELIVERY_CHANNEL}', '') FROM revived \
             ) \
             SELECT t.status AS before, (SELECT count(*) FROM woke) AS woke, {columns} \
             FROM target t LEFT JOIN revived u ON u.id = t.id"
        );
        let row = bounded(self.deadline, self.db.query_one_raw(sql.into_statement(text))).await?;
        let Some(row) = row else { return Ok(None) };
        let revived: Option<Uuid> = row.try_get("", "id").map_err(map_db_err)?;
        if revived.is_some() {
            return Ok(Some(RetryOutcome::Retried(delivery_from(&row, "")?)));
        }
        let before: String = row.try_get("", "before").map_err(map_db_err)?;
        let before = DeliveryStatus::parse(&before).map_err(|e| corrupt("delivery status", e))?;
        Ok(Some(RetryOutcome::NotRetryable(before)))
    }

    async fn prune(&self, before: DateTime<Utc>, limit: usize) -> Result<u64, RepoError> {
        if limit == 0 {
            return Ok(0);
        }
        let mut sql = Sql::default();
        let (before, limit) = (sql.bind(before), sql.bind(limit_of(limit)));
        // Bounded: one batch per call, through the partial index of final deliveries; attempts go by cascade.
        let text = format!(
            "DELETE FROM webhook_deliveries WHERE id IN ( \
                SELECT id FROM webhook_deliveries WHERE status IN {FINAL} AND updated_at < {before} \
                LIMIT {limit} FOR UPDATE SKIP LOCKED \
             )"
        );
        let done = bounded(self.deadline, self.db.execute_raw(sql.into_statement(text))).await?;
        Ok(done.rows_affected())
    }

    async fn figures(&self) -> Result<QueueFigures, RepoError> {
        let text = "SELECT \
                (SELECT count(*) FROM outbox_events WHERE dispatched_at IS NULL) AS unrelayed, \
                (SELECT min(occurred_at) FROM outbox_events WHERE dispatched_at IS NULL) AS oldest, \
                (SELECT coalesce(jsonb_object_agg(status, n), '{}'::jsonb) \
                 FROM (SELECT status, count(*) AS n FROM webhook_deliveries GROUP BY status) s) AS by_status";
        let row = bounded(self.deadline, self.db.query_one_raw(crate::rows::stmt(text, []))).await?;
        let unrelayed = count(row.as_ref(), "unrelayed")?;
        let oldest: Option<DateTime<Utc>> =
            row.as_ref().map(|r| r.try_get("", "oldest")).transpose().map_err(map_db_err)?.flatten();
        let by_status: serde_json::Value = row
            .as_ref()
            .map(|r| r.try_get("", "by_status"))
            .transpose()
            .map_err(map_db_err)?
            .unwrap_or(serde_json::Value::Null);
        let deliveries = DeliveryStatus::ALL
            .into_iter()
            .map(|s| (s, by_status.get(s.as_str()).and_then(serde_json::Value::as_u64).unwrap_or(0)))
            .collect();
        Ok(QueueFigures { unrelayed_events: unrelayed, oldest_unrelayed: oldest, deliveries })
    }
}
