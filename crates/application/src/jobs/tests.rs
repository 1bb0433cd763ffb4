//! The dispatcher's decisions, with a scripted sender and breaker (no network, no storage).

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use taskflow_domain::breaker::{BreakerPolicy, BreakerState, CallKind, Permit};
use taskflow_domain::events::DomainEvent;
use taskflow_domain::ports::{
    AttemptRecord, ClaimedDelivery, DeliveryQueue, LeaseToken, QueueFigures, RelayOutcome, RetryOutcome,
};
use taskflow_domain::query::{OwnerSummary, PageRequest};
use taskflow_domain::task::{NewTask, Task, TaskTitle};
use taskflow_domain::user::{EmailAddress, UserName};
use taskflow_domain::webhook::{
    AttemptOutcome, Delivery, DeliveryStatus, FailureClass, RetryPolicy, WebhookSecret, WebhookUrl,
};
use taskflow_domain::{DeliveryId, EventId, RepoError, TaskId, UserId, WebhookId};

use super::{Attempted, DeliverySettings, Dispatcher};
use crate::breakers::BreakerStore;
use crate::clock::ManualClock;
use crate::ports::{EventEncoder, OutgoingWebhook, UrlRefusal, WebhookSender};

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-30T12:00:00Z").unwrap().with_timezone(&Utc)
}

/// What the sender was asked to send: `webhook-id`, `TaskFlow-Delivery`, `webhook-timestamp`, body.
type Sent = (EventId, DeliveryId, i64, Vec<u8>);

/// Answers from a script, and remembers what it was asked to send.
#[derive(Default)]
struct ScriptedSender {
    answers: Mutex<Vec<AttemptOutcome>>,
    sent: Mutex<Vec<Sent>>,
}

#[async_trait]
impl WebhookSender for ScriptedSender {
    async fn send(&self, r: OutgoingWebhook<'_>) -> AttemptOutcome {
        self.sent.lock().unwrap().push((r.message_id, r.delivery_id, r.timestamp.timestamp(), r.body.to_vec()));
        self.answers.lock().unwrap().remove(0)
    }
    async fn vet(&self, _: &WebhookUrl) -> Result<(), UrlRefusal> {
        Ok(())
    }
}

struct Body;
impl EventEncoder for Body {
    fn webhook_body(&self, event: &DomainEvent, _: &OwnerSummary) -> Vec<u8> {
        event.kind.as_str().as_bytes().to_vec()
    }
}

/// Permits everything, or rejects everything until a given instant; records what it is told.
struct FixedBreaker {
    reject_until: Option<DateTime<Utc>>,
    /// The state read after a refusal: `None` for open until `reject_until`.
    state: Option<BreakerState>,
    recorded: Mutex<Vec<(CallKind, bool)>>,
}

#[async_trait]
impl BreakerStore for FixedBreaker {
    async fn permit(&self, _: WebhookId, _: &BreakerPolicy, _: DateTime<Utc>) -> Result<Permit, RepoError> {
        Ok(self.reject_until.map_or(Permit::Call, |retry_at| Permit::Reject { retry_at }))
    }
    async fn record(
        &self,
        _: WebhookId,
        kind: CallKind,
        success: bool,
        _: &BreakerPolicy,
        _: DateTime<Utc>,
    ) -> Result<BreakerState, RepoError> {
        self.recorded.lock().unwrap().push((kind, success));
        Ok(BreakerState::Closed { failures: u32::from(!success) })
    }
    async fn state(&self, _: WebhookId) -> Result<BreakerState, RepoError> {
        let open = self.reject_until.map_or(BreakerState::CLOSED, |until| BreakerState::Open { until });
        Ok(self.state.unwrap_or(open))
    }
    async fn reset(&self, _: WebhookId) -> Result<(), RepoError> {
        Ok(())
    }
    async fn open_count(&self, _: DateTime<Utc>) -> Result<u64, RepoError> {
        Ok(0)
    }
}

/// A queue the dispatcher's `attempt` never touches.
struct NoQueue;

#[async_trait]
impl DeliveryQueue for NoQueue {
    async fn relay(&self, _: usize, _: DateTime<Utc>) -> Result<RelayOutcome, RepoError> {
        unreachable!()
    }
    async fn claim_skipping(
        &self,
        _: usize,
        _: DateTime<Utc>,
        _: TimeDelta,
        _: &[WebhookId],
    ) -> Result<Vec<ClaimedDelivery>, RepoError> {
        unreachable!()
    }
    async fn finish(&self, _: &[AttemptRecord]) -> Result<(), RepoError> {
        unreachable!()
    }
    async fn release(&self, _: &[(DeliveryId, LeaseToken)], _: DateTime<Utc>) -> Result<(), RepoError> {
        unreachable!()
    }
    async fn list(
        &self,
        _: WebhookId,
        _: Option<DeliveryStatus>,
        _: PageRequest,
    ) -> Result<(Vec<Delivery>, u64), RepoError> {
        unreachable!()
    }
    async fn retry(&self, _: WebhookId, _: DeliveryId, _: DateTime<Utc>) -> Result<Option<RetryOutcome>, RepoError> {
        unreachable!()
    }
    async fn prune(&self, _: DateTime<Utc>, _: usize) -> Result<u64, RepoError> {
        unreachable!()
    }
    async fn figures(&self) -> Result<QueueFigures, RepoError> {
        unreachable!()
    }
}

struct Rig {
    dispatcher: Dispatcher,
    sender: Arc<ScriptedSender>,
    breaker: Arc<FixedBreaker>,
}

fn rig(answers: Vec<AttemptOutcome>, reject_until: Option<DateTime<Utc>>) -> Rig {
    rig_with(answers, reject_until, None)
}

fn rig_with(answers: Vec<AttemptOutcome>, reject_until: Option<DateTime<Utc>>, state: Option<BreakerState>) -> Rig {
    let sender = Arc::new(ScriptedSender { answers: Mutex::new(answers), ..ScriptedSender::default() });
    let breaker = Arc::new(FixedBreaker { reject_until, state, recorded: Mutex::default() });
    let settings = DeliverySettings {
        retry: RetryPolicy::new(TimeDelta::seconds(5), 3),
        breaker: BreakerPolicy::new(5, TimeDelta::seconds(60), TimeDelta::seconds(30)),
        lease: std::time::Duration::from_secs(40),
    };
    let dispatcher = Dispatcher::new(
        Arc::new(NoQueue),
        sender.clone(),
        Arc::new(Body),
        breaker.clone(),
        Arc::new(ManualClock::new(t0())),
        settings,
    );
    Rig { dispatcher, sender, breaker }
}

fn claimed(attempt: u32) -> ClaimedDelivery {
    let owner = UserId::from_uuid(uuid::Uuid::from_u128(1));
    let task = Task::new(
        NewTask::new(TaskTitle::parse("t").unwrap()),
        owner,
        TaskId::from_uuid(uuid::Uuid::from_u128(2)),
        t0(),
    );
    ClaimedDelivery {
        id: DeliveryId::from_uuid(uuid::Uuid::from_u128(3)),
        lease: LeaseToken(uuid::Uuid::from_u128(4)),
        attempt,
        webhook_id: WebhookId::from_uuid(uuid::Uuid::from_u128(5)),
        url: WebhookUrl::parse("https://hooks.example.com/x").unwrap(),
        secret: WebhookSecret::from_key([1; 32]),
        event: DomainEvent::created(EventId::from_uuid(uuid::Uuid::from_u128(6)), &task, owner, t0()),
        owner: OwnerSummary {
            id: owner,
            name: UserName::parse("Ann").unwrap(),
            email: EmailAddress::parse("ann@example.com").unwrap(),
        },
    }
}

fn failed(status: u16, retry_after: Option<TimeDelta>) -> AttemptOutcome {
    AttemptOutcome::Failed { class: FailureClass::Status(status), status: Some(status), retry_after, duration_ms: 3 }
}

#[tokio::test]
async fn a_failed_attempt_is_due_again_after_the_jittered_backoff_and_the_last_one_is_dead() {
    let r = rig(vec![failed(500, None), failed(500, None)], None);
    let Attempted::Made(second) = r.dispatcher.attempt(&claimed(2)).await else { panic!("an attempt is made") };
    let wait = second.next_attempt_at.expect("another attempt is left") - t0();
    assert!((8_000..=12_000).contains(&wait.num_milliseconds()), "5 s × 2 ± 20 %: {wait}");
    let Attempted::Made(last) = r.dispatcher.attempt(&claimed(3)).await else { panic!("an attempt is made") };
    assert_eq!(last.next_attempt_at, None, "the third of three attempts leaves none: dead");
    assert_eq!(r.breaker.recorded.lock().unwrap().as_slice(), [(CallKind::Regular, false), (CallKind::Regular, false)]);
}

#[tokio::test]
async fn retry_after_replaces_the_backoff_and_success_schedules_nothing() {
    let r = rig(
        vec![failed(429, Some(TimeDelta::seconds(90))), AttemptOutcome::Succeeded { status: 204, duration_ms: 1 }],
        None,
    );
    let Attempted::Made(first) = r.dispatcher.attempt(&claimed(1)).await else { panic!() };
    assert_eq!(first.next_attempt_at, Some(t0() + TimeDelta::seconds(90)));
    let Attempted::Made(ok) = r.dispatcher.attempt(&claimed(2)).await else { panic!() };
    assert_eq!((ok.next_attempt_at, ok.outcome.is_success()), (None, true));
    let sent = r.sender.sent.lock().unwrap();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0].0, sent[1].0, "the same webhook-id on every attempt");
    assert_eq!(sent[0].3, b"task.created", "the encoder's body is what is sent");
}

#[tokio::test]
async fn an_open_breaker_postpones_without_sending_or_spending_an_attempt() {
    let until = t0() + TimeDelta::seconds(60);
    let r = rig(vec![], Some(until));
    let c = claimed(1);
    assert_eq!(r.dispatcher.attempt(&c).await, Attempted::Postponed { id: c.id, lease: c.lease, until });
    assert!(r.sender.sent.lock().unwrap().is_empty(), "the receiver is not called");
}

#[tokio::test]
async fn deliveries_held_back_by_a_probe_look_again_within_a_second_not_at_its_deadline() {
    // The refusal names the probe's deadline, far off; the probe itself answers in moments.
    let deadline = t0() + TimeDelta::seconds(40);
    let r = rig_with(vec![], Some(deadline), Some(BreakerState::HalfOpen { probe_deadline: deadline }));
    let Attempted::Postponed { until, .. } = r.dispatcher.attempt(&claimed(1)).await else { panic!("postponed") };
    assert_eq!(until, t0() + TimeDelta::seconds(1));
}

#[tokio::test]
async fn a_receiver_seen_healthy_costs_no_breaker_round_trip_until_it_fails() {
    let ok = AttemptOutcome::Succeeded { status: 204, duration_ms: 1 };
    let r = rig(vec![ok, ok, failed(500, None), ok], None);
    for attempt in 1..=4 {
        let Attempted::Made(_) = r.dispatcher.attempt(&claimed(attempt)).await else { panic!("attempted") };
    }
    // The first success is reported (the receiver was not known healthy); the second is not; the failure is,
    // and it makes the next success reported again.
    assert_eq!(
        r.breaker.recorded.lock().unwrap().as_slice(),
        [(CallKind::Regular, true), (CallKind::Regular, false), (CallKind::Regular, true)]
    );
}
