//! The delivery-queue contract: fan-out from the outbox, claims under leases, attempts and their outcomes, the
//! owner's listing, retries by hand, pruning and the figures.
//!
//! Every case takes fresh [`QueuePorts`]. Times are passed in, so leases expire by moving `now`.

use std::collections::HashSet;

use chrono::{DateTime, TimeDelta, Utc};
use taskflow_domain::events::TaskEventKind;
use taskflow_domain::ids::{DeliveryId, WebhookId};
use taskflow_domain::policy::TaskScope;
use taskflow_domain::ports::{AttemptRecord, ClaimedDelivery, LeaseToken, RelayOutcome, RetryOutcome};
use taskflow_domain::query::PageRequest;
use taskflow_domain::webhook::{AttemptOutcome, Delivery, DeliveryStatus, FailureClass, WebhookPatch};
use uuid::Uuid;

use crate::QueuePorts;
use crate::fixtures::{at, stored_user};
use crate::webhooks::{ALL_KINDS, commit_event, commit_events, deliveries_of, stored_task, stored_webhook};

const LEASE: TimeDelta = TimeDelta::minutes(1);

fn success(claim: &ClaimedDelivery, at: DateTime<Utc>) -> AttemptRecord {
    AttemptRecord {
        id: claim.id,
        lease: claim.lease,
        attempt: claim.attempt,
        outcome: AttemptOutcome::Succeeded { status: 200, duration_ms: 12 },
        at,
        next_attempt_at: None,
    }
}

fn failure(claim: &ClaimedDelivery, at: DateTime<Utc>, next: Option<DateTime<Utc>>) -> AttemptRecord {
    AttemptRecord {
        outcome: AttemptOutcome::Failed {
            class: FailureClass::Status(500),
            status: Some(500),
            retry_after: None,
            duration_ms: 30,
        },
        next_attempt_at: next,
        ..success(claim, at)
    }
}

fn gone(claim: &ClaimedDelivery, at: DateTime<Utc>) -> AttemptRecord {
    AttemptRecord { outcome: AttemptOutcome::Gone { duration_ms: 5 }, ..success(claim, at) }
}

async fn delivery(ports: &QueuePorts, hook: WebhookId, id: DeliveryId) -> Delivery {
    deliveries_of(ports, hook).await.into_iter().find(|d| d.id == id).expect("the delivery is listed")
}

/// A user with one webhook for every kind and `n` committed events relayed into `n` pending deliveries at `at(0)`.
async fn pending_deliveries(ports: &QueuePorts, n: usize) -> WebhookId {
    let ann = stored_user(&ports.storage, "ann").await;
    let hook = stored_webhook(ports, ann.id(), &ALL_KINDS).await;
    let task = stored_task(ports, ann.id()).await;
    let events: Vec<_> = (0..n).map(|_| crate::storage::event(TaskEventKind::Updated, &task)).collect();
    commit_events(ports, &events).await;
    let relayed = ports.deliveries.relay(n, at(0)).await.expect("relay");
    assert_eq!(relayed, RelayOutcome { events: n, deliveries: n }, "one delivery per event");
    hook.id()
}

/// One event becomes one delivery per active webhook of its task's owner that wants its kind, and no other.
pub async fn relay_fans_out_to_the_matching_active_webhooks_of_the_owner_only(ports: QueuePorts) {
    // Arrange
    let ann = stored_user(&ports.storage, "ann").await;
    let bob = stored_user(&ports.storage, "bob").await;
    let wants_created = stored_webhook(&ports, ann.id(), &[TaskEventKind::Created]).await;
    let also_created = stored_webhook(&ports, ann.id(), &[TaskEventKind::Created, TaskEventKind::Deleted]).await;
    let wants_deleted = stored_webhook(&ports, ann.id(), &[TaskEventKind::Deleted]).await;
    let mut paused = stored_webhook(&ports, ann.id(), &ALL_KINDS).await;
    paused.apply(WebhookPatch { active: Some(false), ..WebhookPatch::default() }, at(0));
    ports.webhooks.update(&paused).await.expect("pause");
    let bobs = stored_webhook(&ports, bob.id(), &ALL_KINDS).await;
    let anns_task = stored_task(&ports, ann.id()).await;
    let bobs_task = stored_task(&ports, bob.id()).await;
    let created = commit_event(&ports, TaskEventKind::Created, &anns_task).await;
    let bobs_event = commit_event(&ports, TaskEventKind::Updated, &bobs_task).await;

    // Act
    let outcome = ports.deliveries.relay(100, at(1)).await.expect("relay");

    // Assert
    assert_eq!(outcome, RelayOutcome { events: 2, deliveries: 3 }, "two events, three deliveries");
    for hook in [&wants_created, &also_created] {
        let listed = deliveries_of(&ports, hook.id()).await;
        assert_eq!(listed.len(), 1, "one delivery for a webhook that wants task.created");
        let d = &listed[0];
        assert_eq!((d.event_id, d.event, d.webhook_id), (created.id, TaskEventKind::Created, hook.id()));
        assert_eq!((d.status, d.attempts, d.next_attempt_at), (DeliveryStatus::Pending, 0, Some(at(1))));
        assert_eq!((d.last_status_code, d.last_error.as_deref(), d.duration_ms), (None, None, None));
        assert_eq!((d.created_at, d.updated_at), (at(1), at(1)));
    }
    assert!(deliveries_of(&ports, wants_deleted.id()).await.is_empty(), "a webhook of other kinds gets none");
    assert!(deliveries_of(&ports, paused.id()).await.is_empty(), "an inactive webhook gets none");
    let bobs_deliveries = deliveries_of(&ports, bobs.id()).await;
    assert_eq!(bobs_deliveries.len(), 1, "bob's webhook gets only bob's event");
    assert_eq!(bobs_deliveries[0].event_id, bobs_event.id);
}

/// Relays take at most `limit` events, oldest first, and each event only once.
pub async fn relay_takes_events_once_oldest_first_within_its_limit(ports: QueuePorts) {
    // Arrange
    let ann = stored_user(&ports.storage, "ann").await;
    let hook = stored_webhook(&ports, ann.id(), &ALL_KINDS).await;
    let task = stored_task(&ports, ann.id()).await;
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(commit_event(&ports, TaskEventKind::Updated, &task).await.id);
    }

    // Act
    let first = ports.deliveries.relay(3, at(1)).await.expect("relay");
    let first_ids: HashSet<_> = deliveries_of(&ports, hook.id()).await.into_iter().map(|d| d.event_id).collect();
    let second = ports.deliveries.relay(3, at(2)).await.expect("relay");
    let third = ports.deliveries.relay(3, at(3)).await.expect("relay");

    // Assert
    assert_eq!(first, RelayOutcome { events: 3, deliveries: 3 });
    assert_eq!(first_ids, ids[..3].iter().copied().collect(), "the three oldest events first");
    assert_eq!(second, RelayOutcome { events: 2, deliveries: 2 }, "then the other two");
    assert_eq!(third, RelayOutcome::default(), "nothing is relayed twice");
    assert_eq!(deliveries_of(&ports, hook.id()).await.len(), 5);
    assert_eq!(ports.deliveries.figures().await.expect("figures").unrelayed_events, 0, "all relayed");
}

/// Events with no webhook to go to are relayed all the same (they leave the queue, making nothing).
pub async fn events_without_subscribers_are_relayed_without_deliveries(ports: QueuePorts) {
    // Arrange
    let ann = stored_user(&ports.storage, "ann").await;
    let task = stored_task(&ports, ann.id()).await;
    commit_event(&ports, TaskEventKind::Created, &task).await;

    // Act
    let first = ports.deliveries.relay(10, at(1)).await.expect("relay");
    let second = ports.deliveries.relay(10, at(2)).await.expect("relay");

    // Assert
    assert_eq!(first, RelayOutcome { events: 1, deliveries: 0 });
    assert_eq!(second, RelayOutcome::default());
}

/// Two relays running at once never relay one event twice.
pub async fn concurrent_relays_relay_each_event_once(ports: QueuePorts) {
    // Arrange
    let ann = stored_user(&ports.storage, "ann").await;
    let hook = stored_webhook(&ports, ann.id(), &ALL_KINDS).await;
    let task = stored_task(&ports, ann.id()).await;
    let events: Vec<_> = (0..40).map(|_| crate::storage::event(TaskEventKind::Updated, &task)).collect();
    commit_events(&ports, &events).await;

    // Act
    let relays = (0..2).map(|_| {
        let ports = ports.clone();
        tokio::spawn(async move {
            let mut total = RelayOutcome::default();
            // Bounded, so that a relay that never runs dry fails the test instead of hanging it.
            for _ in 0..100 {
                let round = ports.deliveries.relay(3, at(1)).await.expect("relay");
                if round.events == 0 {
                    break;
                }
                total.events += round.events;
                total.deliveries += round.deliveries;
            }
            total
        })
    });
    let totals = futures::future::join_all(relays).await;

    // Assert
    let events_relayed: usize = totals.iter().map(|t| t.as_ref().expect("relay task").events).sum();
    let listed = deliveries_of(&ports, hook.id()).await;
    let distinct: HashSet<_> = listed.iter().map(|d| d.event_id).collect();
    assert_eq!(events_relayed, 40, "every event relayed once in all");
    assert_eq!((listed.len(), distinct.len()), (40, 40), "one delivery per event");
}

/// An event appended in a unit of work that is rolled back never becomes a delivery.
pub async fn a_rolled_back_unit_of_work_produces_no_delivery(ports: QueuePorts) {
    // Arrange
    let ann = stored_user(&ports.storage, "ann").await;
    let hook = stored_webhook(&ports, ann.id(), &ALL_KINDS).await;
    let task = stored_task(&ports, ann.id()).await;
    let tx = ports.storage.uow.begin().await.expect("begin");
    tx.outbox().append(&[crate::storage::event(TaskEventKind::Updated, &task)]).await.expect("append");
    drop(tx);

    // Act
    let outcome = ports.deliveries.relay(100, at(1)).await.expect("relay");

    // Assert
    assert_eq!(outcome, RelayOutcome::default(), "nothing to relay");
    assert!(deliveries_of(&ports, hook.id()).await.is_empty(), "no delivery");
}

/// A claim leases due deliveries with everything needed to attempt them, and leased ones are not claimed again.
pub async fn a_claim_leases_due_deliveries_with_their_webhook_and_event(ports: QueuePorts) {
    // Arrange
    let ann = stored_user(&ports.storage, "ann").await;
    let hook = stored_webhook(&ports, ann.id(), &ALL_KINDS).await;
    let task = stored_task(&ports, ann.id()).await;
    let event = commit_event(&ports, TaskEventKind::Created, &task).await;
    ports.deliveries.relay(10, at(1)).await.expect("relay");

    // Act
    let early = ports.deliveries.claim(10, at(0), LEASE).await.expect("claim");
    let claimed = ports.deliveries.claim(10, at(1), LEASE).await.expect("claim");
    let again = ports.deliveries.claim(10, at(1), LEASE).await.expect("claim");

    // Assert
    assert!(early.is_empty(), "not due before its next attempt");
    assert_eq!(claimed.len(), 1, "{claimed:?}");
    let c = &claimed[0];
    assert_eq!((c.attempt, c.webhook_id), (1, hook.id()), "first attempt");
    assert_eq!((&c.url, &c.secret), (hook.url(), hook.secret()), "where and how to send");
    assert_eq!(c.event, event, "the event, whole");
    assert!(again.is_empty(), "a leased delivery is not claimed again while its lease runs");
}

/// A claim can leave out receivers (those that already have their share of a worker's attempts).
pub async fn a_claim_skips_the_receivers_it_is_told_to(ports: QueuePorts) {
    // Arrange: one event, two webhooks of its owner
    let ann = stored_user(&ports.storage, "ann").await;
    let busy = stored_webhook(&ports, ann.id(), &ALL_KINDS).await;
    let free = stored_webhook(&ports, ann.id(), &ALL_KINDS).await;
    let task = stored_task(&ports, ann.id()).await;
    commit_event(&ports, TaskEventKind::Created, &task).await;
    ports.deliveries.relay(10, at(1)).await.expect("relay");

    // Act
    let skipping = ports.deliveries.claim_skipping(10, at(1), LEASE, &[busy.id()]).await.expect("claim");
    let rest = ports.deliveries.claim(10, at(1), LEASE).await.expect("claim");

    // Assert
    let receivers = |c: &[ClaimedDelivery]| c.iter().map(|c| c.webhook_id).collect::<Vec<_>>();
    assert_eq!(receivers(&skipping), [free.id()], "the skipped receiver's delivery is left");
    assert_eq!(receivers(&rest), [busy.id()], "and claimed by the next claim that does not skip it");
}

/// Deliveries of a paused webhook wait, and are claimed once it is resumed.
pub async fn deliveries_of_inactive_webhooks_are_not_claimed(ports: QueuePorts) {
    // Arrange
    let ann = stored_user(&ports.storage, "ann").await;
    let mut hook = stored_webhook(&ports, ann.id(), &ALL_KINDS).await;
    let task = stored_task(&ports, ann.id()).await;
    commit_event(&ports, TaskEventKind::Created, &task).await;
    ports.deliveries.relay(10, at(1)).await.expect("relay");
    hook.apply(WebhookPatch { active: Some(false), ..WebhookPatch::default() }, at(1));
    ports.webhooks.update(&hook).await.expect("pause");

    // Act
    let paused = ports.deliveries.claim(10, at(2), LEASE).await.expect("claim");
    hook.apply(WebhookPatch { active: Some(true), ..WebhookPatch::default() }, at(3));
    ports.webhooks.update(&hook).await.expect("resume");
    let resumed = ports.deliveries.claim(10, at(3), LEASE).await.expect("claim");

    // Assert
    assert!(paused.is_empty(), "a paused webhook's delivery waits");
    assert_eq!(resumed.len(), 1, "and is claimed once it is resumed");
}

/// Claims racing over the same deliveries never return one delivery twice.
pub async fn concurrent_claims_never_return_the_same_delivery(ports: QueuePorts) {
    // Arrange
    pending_deliveries(&ports, 40).await;

    // Act
    let claimers = (0..4).map(|_| {
        let ports = ports.clone();
        tokio::spawn(async move {
            let mut mine = Vec::new();
            // Bounded, so that claims that never run dry fail the test instead of hanging it.
            for _ in 0..100 {
                let batch = ports.deliveries.claim(3, at(1), LEASE).await.expect("claim");
                if batch.is_empty() {
                    break;
                }
                mine.extend(batch.into_iter().map(|c| c.id));
            }
            mine
        })
    });
    let claimed: Vec<DeliveryId> =
        futures::future::join_all(claimers).await.into_iter().flat_map(|r| r.expect("claimer")).collect();

    // Assert
    let distinct: HashSet<_> = claimed.iter().collect();
    assert_eq!(claimed.len(), 40, "every delivery claimed");
    assert_eq!(distinct.len(), 40, "none claimed twice");
}

/// A delivery whose lease ran out (its worker died) is claimed again, as the same attempt.
pub async fn an_expired_lease_makes_the_delivery_claimable_again(ports: QueuePorts) {
    // Arrange
    pending_deliveries(&ports, 1).await;
    let first = ports.deliveries.claim(10, at(1), LEASE).await.expect("claim");

    // Act
    let during = ports.deliveries.claim(10, at(1) + TimeDelta::seconds(59), LEASE).await.expect("claim");
    let after = ports.deliveries.claim(10, at(2), LEASE).await.expect("claim");

    // Assert
    assert_eq!(first.len(), 1);
    assert!(during.is_empty(), "not while the lease runs");
    assert_eq!(after.len(), 1, "claimable once it expired");
    assert_eq!(after[0].id, first[0].id);
    assert_ne!(after[0].lease, first[0].lease, "under a new lease");
    assert_eq!(after[0].attempt, 1, "a lost attempt is not counted");
}

/// The outcome of an attempt made under a lease that is no longer current is ignored.
pub async fn finishing_under_a_stale_lease_is_ignored(ports: QueuePorts) {
    // Arrange
    let hook = pending_deliveries(&ports, 1).await;
    let stale = ports.deliveries.claim(10, at(1), LEASE).await.expect("claim").remove(0);
    let current = ports.deliveries.claim(10, at(3), LEASE).await.expect("claim").remove(0);

    // Act
    ports.deliveries.finish(&[success(&stale, at(4))]).await.expect("finish");
    let after_stale = delivery(&ports, hook, stale.id).await;
    ports.deliveries.finish(&[failure(&current, at(5), Some(at(10)))]).await.expect("finish");
    let after_current = delivery(&ports, hook, stale.id).await;

    // Assert
    assert_eq!(
        (after_stale.status, after_stale.attempts),
        (DeliveryStatus::Pending, 0),
        "the stale outcome is ignored"
    );
    assert_eq!((after_current.status, after_current.attempts), (DeliveryStatus::Failed, 1), "the current one counts");
}

/// A success is recorded with its status and duration, and the delivery is done.
pub async fn a_successful_attempt_ends_the_delivery(ports: QueuePorts) {
    // Arrange
    let hook = pending_deliveries(&ports, 1).await;
    let claim = ports.deliveries.claim(10, at(1), LEASE).await.expect("claim").remove(0);

    // Act
    ports.deliveries.finish(&[success(&claim, at(2))]).await.expect("finish");
    let d = delivery(&ports, hook, claim.id).await;
    let later = ports.deliveries.claim(10, at(100), LEASE).await.expect("claim");

    // Assert
    assert_eq!((d.status, d.attempts, d.next_attempt_at), (DeliveryStatus::Succeeded, 1, None));
    assert_eq!((d.last_status_code, d.last_error.as_deref(), d.duration_ms), (Some(200), None, Some(12)));
    assert_eq!(d.updated_at, at(2));
    assert!(later.is_empty(), "a succeeded delivery is never claimed again");
    ports.deliveries.finish(&[success(&claim, at(3))]).await.expect("finishing twice is harmless");
    assert_eq!(delivery(&ports, hook, claim.id).await.attempts, 1, "and counts once");
}

/// A failed attempt is recorded, and the delivery is due again at the time the attempt chose.
pub async fn a_failed_attempt_is_due_again_at_its_next_attempt(ports: QueuePorts) {
    // Arrange
    let hook = pending_deliveries(&ports, 1).await;
    let claim = ports.deliveries.claim(10, at(1), LEASE).await.expect("claim").remove(0);

    // Act
    ports.deliveries.finish(&[failure(&claim, at(2), Some(at(10)))]).await.expect("finish");
    let d = delivery(&ports, hook, claim.id).await;
    let early = ports.deliveries.claim(10, at(9), LEASE).await.expect("claim");
    let due = ports.deliveries.claim(10, at(10), LEASE).await.expect("claim");

    // Assert
    assert_eq!((d.status, d.attempts, d.next_attempt_at), (DeliveryStatus::Failed, 1, Some(at(10))));
    assert_eq!((d.last_status_code, d.last_error.as_deref(), d.duration_ms), (Some(500), Some("status 500"), Some(30)));
    assert!(early.is_empty(), "not before its next attempt");
    assert_eq!(due.len(), 1, "due at its next attempt");
    assert_eq!(due[0].attempt, 2, "as the second attempt");
}

/// A failure with no attempt left makes the delivery dead, never claimed again.
pub async fn a_failure_with_no_attempt_left_is_dead(ports: QueuePorts) {
    // Arrange
    let hook = pending_deliveries(&ports, 1).await;
    let claim = ports.deliveries.claim(10, at(1), LEASE).await.expect("claim").remove(0);

    // Act
    ports.deliveries.finish(&[failure(&claim, at(2), None)]).await.expect("finish");
    let d = delivery(&ports, hook, claim.id).await;
    let later = ports.deliveries.claim(10, at(1000), LEASE).await.expect("claim");

    // Assert
    assert_eq!((d.status, d.attempts, d.next_attempt_at), (DeliveryStatus::Dead, 1, None));
    assert_eq!(d.last_error.as_deref(), Some("status 500"));
    assert!(later.is_empty(), "a dead delivery is never claimed");
}

/// 410 Gone deactivates the webhook and cancels its open deliveries; other webhooks are untouched.
pub async fn gone_deactivates_the_webhook_and_cancels_its_open_deliveries(ports: QueuePorts) {
    // Arrange
    let ann = stored_user(&ports.storage, "ann").await;
    let hook = stored_webhook(&ports, ann.id(), &ALL_KINDS).await;
    let other = stored_webhook(&ports, ann.id(), &[TaskEventKind::Created]).await;
    let task = stored_task(&ports, ann.id()).await;
    commit_event(&ports, TaskEventKind::Created, &task).await;
    commit_event(&ports, TaskEventKind::Updated, &task).await;
    commit_event(&ports, TaskEventKind::Deleted, &task).await;
    ports.deliveries.relay(10, at(1)).await.expect("relay");
    let claims = ports.deliveries.claim(10, at(1), LEASE).await.expect("claim");
    let (mine, others): (Vec<_>, Vec<_>) = claims.into_iter().partition(|c| c.webhook_id == hook.id());
    assert_eq!((mine.len(), others.len()), (3, 1));
    // One of the webhook's deliveries had succeeded before.
    ports.deliveries.finish(&[success(&mine[2], at(2))]).await.expect("finish");

    // Act
    ports.deliveries.finish(&[gone(&mine[0], at(3))]).await.expect("finish");
    ports.deliveries.finish(&[success(&mine[1], at(4))]).await.expect("a late outcome of a cancelled delivery");

    // Assert
    let stored = ports.webhooks.get(hook.id(), TaskScope::All).await.expect("get").expect("still there");
    assert!(!stored.active(), "deactivated");
    assert_eq!(stored.updated_at(), at(3), "when it answered 410");
    let listed = deliveries_of(&ports, hook.id()).await;
    let status_of = |id: DeliveryId| listed.iter().find(|d| d.id == id).map(|d| (d.status, d.attempts));
    assert_eq!(status_of(mine[0].id), Some((DeliveryStatus::Cancelled, 1)), "the 410 attempt counts and cancels");
    assert_eq!(status_of(mine[1].id), Some((DeliveryStatus::Cancelled, 0)), "open deliveries are cancelled");
    assert_eq!(status_of(mine[2].id), Some((DeliveryStatus::Succeeded, 1)), "finished ones stay");
    let gone_one = listed.iter().find(|d| d.id == mine[0].id).expect("listed");
    assert_eq!(gone_one.last_status_code, Some(410));
    let others_listed = deliveries_of(&ports, other.id()).await;
    assert_eq!(others_listed[0].status, DeliveryStatus::Pending, "another webhook is untouched");
}

/// Releasing a lease makes the delivery due at the given time without spending an attempt; only the current lease
/// can be released.
pub async fn release_makes_deliveries_due_without_spending_an_attempt(ports: QueuePorts) {
    // Arrange
    let hook = pending_deliveries(&ports, 1).await;
    let claim = ports.deliveries.claim(10, at(1), LEASE).await.expect("claim").remove(0);

    // Act
    let stranger = LeaseToken(Uuid::new_v4());
    ports.deliveries.release(&[(claim.id, stranger)], at(1)).await.expect("release");
    let after_stranger = ports.deliveries.claim(10, at(1), LEASE).await.expect("claim");
    ports.deliveries.release(&[(claim.id, claim.lease)], at(5)).await.expect("release");
    let early = ports.deliveries.claim(10, at(4), LEASE).await.expect("claim");
    let d = delivery(&ports, hook, claim.id).await;
    let due = ports.deliveries.claim(10, at(5), LEASE).await.expect("claim");

    // Assert
    assert!(after_stranger.is_empty(), "another lease releases nothing");
    assert!(early.is_empty(), "not due before the release time");
    assert_eq!((d.status, d.attempts, d.next_attempt_at), (DeliveryStatus::Pending, 0, Some(at(5))));
    assert_eq!(due.len(), 1, "due at the release time");
    assert_eq!(due[0].attempt, 1, "no attempt spent");
}

/// The listing is newest first (ties on id), filters by status, pages, and reports the total.
pub async fn deliveries_are_listed_newest_first_with_filter_paging_and_total(ports: QueuePorts) {
    // Arrange: two events relayed at each of minutes 1, 2 and 3 (so creation times tie in pairs); another webhook
    // gets one delivery of its own.
    let ann = stored_user(&ports.storage, "ann").await;
    let hook = stored_webhook(&ports, ann.id(), &ALL_KINDS).await;
    let other = stored_webhook(&ports, ann.id(), &[TaskEventKind::Deleted]).await;
    let task = stored_task(&ports, ann.id()).await;
    for minute in 1..=3 {
        commit_event(&ports, TaskEventKind::Updated, &task).await;
        commit_event(&ports, TaskEventKind::Updated, &task).await;
        ports.deliveries.relay(10, at(minute)).await.expect("relay");
    }
    commit_event(&ports, TaskEventKind::Deleted, &task).await;
    ports.deliveries.relay(10, at(4)).await.expect("relay");
    let claims = ports.deliveries.claim(1, at(10), LEASE).await.expect("claim");
    let claim = claims.first().expect("one claim");
    ports.deliveries.finish(&[failure(claim, at(11), None)]).await.expect("finish");
    let page = |page, limit| PageRequest { page, limit };

    // Act
    let (first, total) = ports.deliveries.list(hook.id(), None, page(1, 3)).await.expect("list");
    let (second, _) = ports.deliveries.list(hook.id(), None, page(2, 3)).await.expect("list");
    let (third, _) = ports.deliveries.list(hook.id(), None, page(3, 3)).await.expect("list");
    let (past, past_total) = ports.deliveries.list(hook.id(), None, page(9, 3)).await.expect("list");
    let (dead, dead_total) =
        ports.deliveries.list(hook.id(), Some(DeliveryStatus::Dead), page(1, 10)).await.expect("list");
    let (none, none_total) =
        ports.deliveries.list(hook.id(), Some(DeliveryStatus::Succeeded), page(1, 10)).await.expect("list");

    // Assert
    let walked: Vec<_> = first.iter().chain(&second).chain(&third).map(|d| (d.created_at, d.id)).collect();
    let mut expected = walked.clone();
    expected.sort_by(|a, b| b.cmp(a));
    expected.dedup();
    assert_eq!(walked.len(), 7, "three pages hold the webhook's seven deliveries");
    assert_eq!(walked, expected, "newest first, ties on id, no overlap");
    assert_eq!(walked.first().map(|(at, _)| *at), Some(at(4)), "the newest first");
    assert_eq!(total, 7, "the total of every page");
    assert!(first.iter().chain(&second).chain(&third).all(|d| d.webhook_id == hook.id()), "only this webhook's");
    assert_eq!(deliveries_of(&ports, other.id()).await.len(), 1, "the other webhook's are listed apart");
    assert_eq!((past.len(), past_total), (0, 7), "a page past the end is empty with the real total");
    assert_eq!((dead.len(), dead_total), (1, 1), "the status filter");
    assert_eq!(dead[0].id, claim.id);
    assert_eq!((none.len(), none_total), (0, 0), "no succeeded delivery");
}

/// A dead delivery goes back to pending with a fresh budget; a succeeded one is not retryable; another webhook's or
/// an unknown one is absent.
pub async fn retry_revives_dead_deliveries_only(ports: QueuePorts) {
    // Arrange
    let ann = stored_user(&ports.storage, "ann").await;
    let hook = stored_webhook(&ports, ann.id(), &ALL_KINDS).await;
    let other = stored_webhook(&ports, ann.id(), &[TaskEventKind::Deleted]).await;
    let task = stored_task(&ports, ann.id()).await;
    commit_event(&ports, TaskEventKind::Created, &task).await;
    commit_event(&ports, TaskEventKind::Updated, &task).await;
    ports.deliveries.relay(10, at(1)).await.expect("relay");
    let claims = ports.deliveries.claim(10, at(1), LEASE).await.expect("claim");
    ports.deliveries.finish(&[failure(&claims[0], at(2), None), success(&claims[1], at(2))]).await.expect("finish");

    // Act
    let revived = ports.deliveries.retry(hook.id(), claims[0].id, at(20)).await.expect("retry");
    let stored = delivery(&ports, hook.id(), claims[0].id).await;
    let succeeded = ports.deliveries.retry(hook.id(), claims[1].id, at(20)).await.expect("retry");
    let pending = ports.deliveries.retry(hook.id(), claims[0].id, at(21)).await.expect("retry");
    let elsewhere = ports.deliveries.retry(other.id(), claims[0].id, at(20)).await.expect("retry");
    let unknown =
        ports.deliveries.retry(hook.id(), DeliveryId::from_uuid(Uuid::now_v7()), at(20)).await.expect("retry");
    let reclaimed = ports.deliveries.claim(10, at(20), LEASE).await.expect("claim");

    // Assert
    let Some(RetryOutcome::Retried(d)) = revived else { panic!("the dead delivery is retried: {revived:?}") };
    assert_eq!(
        (d.id, d.status, d.attempts, d.next_attempt_at),
        (claims[0].id, DeliveryStatus::Pending, 0, Some(at(20)))
    );
    assert_eq!(d.updated_at, at(20));
    assert_eq!(stored, d, "stored as returned");
    assert_eq!(succeeded, Some(RetryOutcome::NotRetryable(DeliveryStatus::Succeeded)));
    assert_eq!(pending, Some(RetryOutcome::NotRetryable(DeliveryStatus::Pending)));
    assert_eq!(elsewhere, None, "another webhook has no such delivery");
    assert_eq!(unknown, None);
    assert_eq!(reclaimed.len(), 1, "the revived delivery is due");
    assert_eq!((reclaimed[0].id, reclaimed[0].attempt), (claims[0].id, 1), "with a fresh budget");
}

/// A failed delivery can be retried at once too.
pub async fn retry_makes_a_failed_delivery_due_now(ports: QueuePorts) {
    // Arrange
    let hook = pending_deliveries(&ports, 1).await;
    let claim = ports.deliveries.claim(10, at(1), LEASE).await.expect("claim").remove(0);
    ports.deliveries.finish(&[failure(&claim, at(2), Some(at(60)))]).await.expect("finish");

    // Act
    let outcome = ports.deliveries.retry(hook, claim.id, at(3)).await.expect("retry");
    let due = ports.deliveries.claim(10, at(3), LEASE).await.expect("claim");

    // Assert
    assert!(matches!(outcome, Some(RetryOutcome::Retried(_))), "{outcome:?}");
    assert_eq!(due.len(), 1, "due now, not at its scheduled attempt");
    assert_eq!(due[0].attempt, 1, "with a fresh budget");
}

/// Pruning deletes final deliveries older than the cut-off, at most `limit` at a time, and nothing else.
pub async fn prune_removes_only_old_final_deliveries_in_bounded_batches(ports: QueuePorts) {
    // Arrange: 5 deliveries succeed at minute 2, one fails for good at minute 30, one stays pending.
    let hook = pending_deliveries(&ports, 7).await;
    let claims = ports.deliveries.claim(10, at(1), LEASE).await.expect("claim");
    let (old, rest) = claims.split_at(5);
    let records: Vec<_> = old.iter().map(|c| success(c, at(2))).collect();
    ports.deliveries.finish(&records).await.expect("finish");
    ports.deliveries.finish(&[failure(&rest[0], at(30), None)]).await.expect("finish");

    // Act
    let first = ports.deliveries.prune(at(10), 2).await.expect("prune");
    let second = ports.deliveries.prune(at(10), 2).await.expect("prune");
    let third = ports.deliveries.prune(at(10), 2).await.expect("prune");
    let fourth = ports.deliveries.prune(at(10), 2).await.expect("prune");

    // Assert
    assert_eq!((first, second, third, fourth), (2, 2, 1, 0), "bounded batches until none is left");
    let left: Vec<_> = deliveries_of(&ports, hook).await.into_iter().map(|d| (d.id, d.status)).collect();
    let mut expected = vec![(rest[0].id, DeliveryStatus::Dead), (rest[1].id, DeliveryStatus::Pending)];
    let mut left_sorted = left.clone();
    left_sorted.sort_by_key(|(id, _)| *id);
    expected.sort_by_key(|(id, _)| *id);
    assert_eq!(left_sorted, expected, "a recent final one and an open one stay");
}

/// The figures count unrelayed events (with the oldest) and deliveries by status, every status present.
pub async fn figures_count_unrelayed_events_and_deliveries_by_status(ports: QueuePorts) {
    // Arrange
    let empty = ports.deliveries.figures().await.expect("figures");
    pending_deliveries(&ports, 3).await;
    let claim = ports.deliveries.claim(1, at(1), LEASE).await.expect("claim").remove(0);
    ports.deliveries.finish(&[success(&claim, at(2))]).await.expect("finish");
    let ann = stored_user(&ports.storage, "unrelayed").await;
    let task = stored_task(&ports, ann.id()).await;
    let oldest = crate::storage::event(TaskEventKind::Created, &task);
    let mut newer = crate::storage::event(TaskEventKind::Updated, &task);
    newer.occurred_at = oldest.occurred_at + TimeDelta::minutes(3);
    commit_events(&ports, &[oldest.clone(), newer]).await;

    // Act
    let figures = ports.deliveries.figures().await.expect("figures");

    // Assert
    let zero: Vec<_> = DeliveryStatus::ALL.into_iter().map(|s| (s, 0)).collect();
    assert_eq!((empty.unrelayed_events, empty.oldest_unrelayed, empty.deliveries), (0, None, zero));
    assert_eq!(figures.unrelayed_events, 2);
    assert_eq!(figures.oldest_unrelayed, Some(oldest.occurred_at));
    let count = |s| figures.deliveries.iter().find(|(status, _)| *status == s).map(|(_, n)| *n);
    assert_eq!(figures.deliveries.len(), DeliveryStatus::ALL.len(), "every status");
    assert_eq!(count(DeliveryStatus::Pending), Some(2));
    assert_eq!(count(DeliveryStatus::Succeeded), Some(1));
    assert_eq!(count(DeliveryStatus::Dead), Some(0));
}

/// The delivery cases, for [`crate::queue_contract_tests`].
#[doc(hidden)]
#[macro_export]
macro_rules! __delivery_cases {
    ($factory:path) => {
        $crate::__contract_cases!(
            $factory,
            deliveries,
            [
                relay_fans_out_to_the_matching_active_webhooks_of_the_owner_only,
                relay_takes_events_once_oldest_first_within_its_limit,
                events_without_subscribers_are_relayed_without_deliveries,
                concurrent_relays_relay_each_event_once,
                a_rolled_back_unit_of_work_produces_no_delivery,
                a_claim_leases_due_deliveries_with_their_webhook_and_event,
                a_claim_skips_the_receivers_it_is_told_to,
                deliveries_of_inactive_webhooks_are_not_claimed,
                concurrent_claims_never_return_the_same_delivery,
                an_expired_lease_makes_the_delivery_claimable_again,
                finishing_under_a_stale_lease_is_ignored,
                a_successful_attempt_ends_the_delivery,
                a_failed_attempt_is_due_again_at_its_next_attempt,
                a_failure_with_no_attempt_left_is_dead,
                gone_deactivates_the_webhook_and_cancels_its_open_deliveries,
                release_makes_deliveries_due_without_spending_an_attempt,
                deliveries_are_listed_newest_first_with_filter_paging_and_total,
                retry_revives_dead_deliveries_only,
                retry_makes_a_failed_delivery_due_now,
                prune_removes_only_old_final_deliveries_in_bounded_batches,
                figures_count_unrelayed_events_and_deliveries_by_status,
            ]
        );
    };
}
