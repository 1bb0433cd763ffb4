//! [`DeliveryQueue`] over the committed state: the same rules as PostgreSQL's, each call one critical section.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use taskflow_domain::RepoError;
use taskflow_domain::ids::{DeliveryId, UserId, WebhookId};
use taskflow_domain::ports::{
    AttemptRecord, ClaimedDelivery, DeliveryQueue, LeaseToken, QueueFigures, RelayOutcome, RetryOutcome,
};
use taskflow_domain::query::PageRequest;
use taskflow_domain::webhook::{AttemptOutcome, Delivery, DeliveryStatus, Webhook, WebhookPatch};
use uuid::Uuid;

use super::InMemoryStore;
use super::hooks::{AttemptLog, DeliveryRow};
use crate::locks::{read, write};

/// What one attempt leaves on its delivery.
struct Settled {
    status: DeliveryStatus,
    status_code: Option<u16>,
    error: Option<String>,
    duration_ms: u32,
    next_attempt_at: Option<DateTime<Utc>>,
    gone: bool,
}

fn settle(record: &AttemptRecord) -> Settled {
    match record.outcome {
        AttemptOutcome::Succeeded { status, duration_ms } => Settled {
            status: DeliveryStatus::Succeeded,
            status_code: Some(status),
            error: None,
            duration_ms,
            next_attempt_at: None,
            gone: false,
        },
        AttemptOutcome::Gone { duration_ms } => Settled {
            status: DeliveryStatus::Cancelled,
            status_code: Some(410),
            error: Some("status 410".to_owned()),
            duration_ms,
            next_attempt_at: None,
            gone: true,
        },
        AttemptOutcome::Failed { class, status, duration_ms, .. } => Settled {
            status: if record.next_attempt_at.is_some() { DeliveryStatus::Failed } else { DeliveryStatus::Dead },
            status_code: status,
            error: Some(class.to_string()),
            duration_ms,
            next_attempt_at: record.next_attempt_at,
            gone: false,
        },
    }
}

/// Cancels the open deliveries of a webhook that answered 410 (leased ones included: their leases end).
fn cancel_open(rows: &mut HashMap<DeliveryId, DeliveryRow>, webhook: WebhookId, at: DateTime<Utc>) {
    for row in rows.values_mut().filter(|r| r.delivery.webhook_id == webhook && r.delivery.status.is_open()) {
        row.delivery.status = DeliveryStatus::Cancelled;
        row.delivery.next_attempt_at = None;
        row.delivery.updated_at = at;
        row.lease = None;
    }
}

#[async_trait]
impl DeliveryQueue for InMemoryStore {
    async fn relay(&self, limit: usize, now: DateTime<Utc>) -> Result<RelayOutcome, RepoError> {
        let mut tables = write(&self.shared.tables);
        let events: Vec<_> = tables.pending(limit).cloned().collect();
        let mut by_owner: HashMap<UserId, Vec<&Webhook>> = HashMap::new();
        for hook in tables.hooks.webhooks.values() {
            by_owner.entry(hook.owner()).or_default().push(hook);
        }
        let mut made = Vec::new();
        for event in &events {
            for hook in by_owner.get(&event.task.owner()).into_iter().flatten().filter(|w| w.wants(event.kind)) {
                made.push(DeliveryRow {
                    delivery: Delivery {
                        id: DeliveryId::from_uuid(Uuid::now_v7()),
                        webhook_id: hook.id(),
                        event_id: event.id,
                        event: event.kind,
                        status: DeliveryStatus::Pending,
                        attempts: 0,
                        next_attempt_at: Some(now),
                        last_status_code: None,
                        last_error: None,
                        duration_ms: None,
                        created_at: now,
                        updated_at: now,
                    },
                    lease: None,
                    event: event.clone(),
                    log: Vec::new(),
                });
            }
        }
        let deliveries = made.len();
        for row in made {
            tables.hooks.deliveries.insert(row.delivery.id, row);
        }
        // Relayed events are marked and published, never removed: the log is also the tasks' history.
        for event in &events {
            tables.publish(event.id);
        }
        drop(tables);
        if deliveries > 0 {
            self.shared.deliveries.notify_waiters();
        }
        if !events.is_empty() {
            self.shared.feed.notify_waiters();
        }
        Ok(RelayOutcome { events: events.len(), deliveries })
    }

    async fn claim_skipping(
        &self,
        limit: usize,
        now: DateTime<Utc>,
        lease: TimeDelta,
        skip: &[WebhookId],
    ) -> Result<Vec<ClaimedDelivery>, RepoError> {
        let until = now.checked_add_signed(lease).unwrap_or(DateTime::<Utc>::MAX_UTC);
        let mut guard = write(&self.shared.tables);
        let tables = &mut *guard;
        let hooks = &mut tables.hooks;
        let mut due: Vec<(DateTime<Utc>, DeliveryId)> = hooks
            .deliveries
            .values()
            .filter(|r| r.delivery.status.is_open() && !skip.contains(&r.delivery.webhook_id))
            .filter(|r| hooks.webhooks.get(&r.delivery.webhook_id).is_some_and(Webhook::active))
            .filter_map(|r| r.delivery.next_attempt_at.filter(|at| *at <= now).map(|at| (at, r.delivery.id)))
            .collect();
        due.sort_unstable();
        due.truncate(limit);
        let mut claimed = Vec::with_capacity(due.len());
        for (_, id) in due {
            let Some(row) = hooks.deliveries.get_mut(&id) else { continue };
            let Some(hook) = hooks.webhooks.get(&row.delivery.webhook_id) else { continue };
            let Some(owner) = tables.users.get(&hook.owner()) else { continue };
            let owner = taskflow_domain::query::OwnerSummary {
                id: owner.id(),
                name: owner.name().clone(),
                email: owner.email().clone(),
            };
            let token = LeaseToken(Uuid::new_v4());
            row.lease = Some(token);
            // A lease that runs out makes the delivery due again.
            row.delivery.next_attempt_at = Some(until);
            claimed.push(ClaimedDelivery {
                id,
                lease: token,
                attempt: row.delivery.attempts + 1,
                webhook_id: hook.id(),
                url: hook.url().clone(),
                secret: hook.secret().clone(),
                event: row.event.clone(),
                owner,
            });
        }
        Ok(claimed)
    }

    async fn finish(&self, records: &[AttemptRecord]) -> Result<(), RepoError> {
        let mut tables = write(&self.shared.tables);
        let hooks = &mut tables.hooks;
        for record in records {
            let Some(row) = hooks.deliveries.get_mut(&record.id).filter(|r| r.lease == Some(record.lease)) else {
                continue;
            };
            let settled = settle(record);
            let d = &mut row.delivery;
            d.attempts += 1;
            d.status = settled.status;
            d.next_attempt_at = settled.next_attempt_at;
            d.last_status_code = settled.status_code;
            d.last_error.clone_from(&settled.error);
            d.duration_ms = Some(settled.duration_ms);
            d.updated_at = record.at;
            row.lease = None;
            row.log.push(AttemptLog {
                attempt: d.attempts,
                at: record.at,
                status_code: settled.status_code,
                error: settled.error,
                duration_ms: settled.duration_ms,
            });
            if settled.gone {
                let webhook = d.webhook_id;
                if let Some(hook) = hooks.webhooks.get_mut(&webhook) {
                    hook.apply(WebhookPatch { active: Some(false), ..WebhookPatch::default() }, record.at);
                }
                cancel_open(&mut hooks.deliveries, webhook, record.at);
            }
        }
        Ok(())
    }

    async fn release(&self, leases: &[(DeliveryId, LeaseToken)], at: DateTime<Utc>) -> Result<(), RepoError> {
        let mut released = 0;
        {
            let mut tables = write(&self.shared.tables);
            for (id, lease) in leases {
                if let Some(row) = tables.hooks.deliveries.get_mut(id).filter(|r| r.lease == Some(*lease)) {
                    row.lease = None;
                    row.delivery.next_attempt_at = Some(at);
                    released += 1;
                }
            }
        }
        if released > 0 {
            self.shared.deliveries.notify_waiters();
        }
        Ok(())
    }

    async fn list(
        &self,
        webhook: WebhookId,
        status: Option<DeliveryStatus>,
        page: PageRequest,
    ) -> Result<(Vec<Delivery>, u64), RepoError> {
        let tables = read(&self.shared.tables);
        let mut rows: Vec<&Delivery> = tables
            .hooks
            .deliveries
            .values()
            .map(|r| &r.delivery)
            .filter(|d| d.webhook_id == webhook && status.is_none_or(|s| d.status == s))
            .collect();
        rows.sort_unstable_by_key(|d| std::cmp::Reverse((d.created_at, d.id)));
        let offset = usize::try_from(page.offset()).unwrap_or(usize::MAX);
        let items = rows.iter().skip(offset).take(page.limit as usize).map(|d| (*d).clone()).collect();
        Ok((items, rows.len() as u64))
    }

    async fn retry(
        &self,
        webhook: WebhookId,
        delivery: DeliveryId,
        now: DateTime<Utc>,
    ) -> Result<Option<RetryOutcome>, RepoError> {
        let outcome = {
            let mut tables = write(&self.shared.tables);
            let Some(row) = tables.hooks.deliveries.get_mut(&delivery).filter(|r| r.delivery.webhook_id == webhook)
            else {
                return Ok(None);
            };
            if !row.delivery.status.is_retryable() {
                return Ok(Some(RetryOutcome::NotRetryable(row.delivery.status)));
            }
            row.delivery.status = DeliveryStatus::Pending;
            row.delivery.attempts = 0;
            row.delivery.next_attempt_at = Some(now);
            row.delivery.updated_at = now;
            row.lease = None;
            RetryOutcome::Retried(row.delivery.clone())
        };
        self.shared.deliveries.notify_waiters();
        Ok(Some(outcome))
    }

    async fn prune(&self, before: DateTime<Utc>, limit: usize) -> Result<u64, RepoError> {
        let mut tables = write(&self.shared.tables);
        let doomed: Vec<DeliveryId> = tables
            .hooks
            .deliveries
            .values()
            .map(|r| &r.delivery)
            .filter(|d| !d.status.is_open() && d.updated_at < before)
            .map(|d| d.id)
            .take(limit)
            .collect();
        for id in &doomed {
            tables.hooks.deliveries.remove(id);
        }
        Ok(doomed.len() as u64)
    }

    async fn figures(&self) -> Result<QueueFigures, RepoError> {
        let tables = read(&self.shared.tables);
        let mut counts: HashMap<DeliveryStatus, u64> = HashMap::new();
        for row in tables.hooks.deliveries.values() {
            *counts.entry(row.delivery.status).or_default() += 1;
        }
        Ok(QueueFigures {
            unrelayed_events: tables.undispatched.len() as u64,
            oldest_unrelayed: tables.pending(usize::MAX).map(|e| e.occurred_at).min(),
            deliveries: DeliveryStatus::ALL.into_iter().map(|s| (s, counts.get(&s).copied().unwrap_or(0))).collect(),
        })
    }
}
