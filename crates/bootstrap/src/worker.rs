//! The background worker: relays the outbox into deliveries, attempts deliveries with bounded concurrency (overall
//! and per receiver), and runs the periodic jobs when this instance holds the scheduler role. Woken by the store's
//! [`WorkSignal`]s (PostgreSQL `LISTEN/NOTIFY`, or in process) with a slow fallback poll: the relay when events are
//! appended, the sender when deliveries are made or made due (so a task change that no webhook wants costs the
//! sender nothing, on any instance).
//!
//! On stop: no new claims; attempts in flight get the grace period, then are aborted and their claims released
//! (due again at once, no attempt spent); the scheduler role is given up.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use taskflow_application::jobs::{Attempted, Dispatcher, Maintenance, WEBHOOK_IN_FLIGHT};
use taskflow_application::ports::WorkSignal;
use taskflow_domain::ports::{ClaimedDelivery, LeaseToken};
use taskflow_domain::{DeliveryId, RepoError, WebhookId};
use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// Bounds and timings of one worker.
#[derive(Debug, Clone, Copy)]
pub struct WorkerLimits {
    /// Attempts in flight at once (`WEBHOOK_MAX_IN_FLIGHT`).
    pub max_in_flight: usize,
    /// Attempts in flight at once to one receiver (`WEBHOOK_MAX_IN_FLIGHT_PER_RECEIVER`), so that a slow receiver
    /// holds at most this many of the slots.
    pub per_receiver: usize,
    /// How often the queue is polled when no wake-up came.
    pub fallback_poll: Duration,
    /// How long attempts in flight may finish after the stop.
    pub grace: Duration,
}

impl Default for WorkerLimits {
    fn default() -> Self {
        Self {
            max_in_flight: 64,
            per_receiver: 8,
            fallback_poll: Duration::from_secs(5),
            grace: Duration::from_secs(20),
        }
    }
}

/// Everything a worker runs.
#[derive(Clone)]
pub struct Worker {
    /// Attempts deliveries.
    pub dispatcher: Dispatcher,
    /// The relay and the periodic jobs.
    pub maintenance: Maintenance,
    /// Wake-ups of the relay: events appended.
    pub signal: Arc<dyn WorkSignal>,
    /// Wake-ups of the sender: deliveries made or made due, by this instance or another.
    pub delivery_signal: Arc<dyn WorkSignal>,
    /// Bounds and timings.
    pub limits: WorkerLimits,
}

/// How long to wait after a failure, doubling up to 10 s.
pub(crate) fn backoff(failures: u32) -> Duration {
    Duration::from_millis(200u64.saturating_mul(1 << failures.min(6))).min(Duration::from_secs(10))
}

impl Worker {
    /// Runs until `stop` is cancelled, then winds down (see the module docs). Storage errors are logged and retried
    /// with backoff, never fatal.
    pub async fn run(self, stop: CancellationToken) {
        tracing::info!("background worker started");
        let deliveries_ready = Arc::new(Notify::new());
        let relay = tokio::spawn(relay_loop(self.clone(), Arc::clone(&deliveries_ready), stop.clone()));
        let periodic = tokio::spawn(periodic_loop(self.maintenance.clone(), self.dispatcher.clone(), stop.clone()));
        dispatch_loop(self, deliveries_ready, stop).await;
        let _ = relay.await;
        let _ = periodic.await;
        tracing::info!("background worker stopped");
    }
}

async fn relay_loop(worker: Worker, deliveries_ready: Arc<Notify>, stop: CancellationToken) {
    let mut failures = 0;
    while !stop.is_cancelled() {
        // Listen before relaying, so that an event committed during the relay still wakes the next round.
        let woken = worker.signal.wait();
        let wait = match worker.maintenance.relay().await {
            Ok(outcome) => {
                failures = 0;
                if outcome.deliveries > 0 {
                    deliveries_ready.notify_one();
                }
                worker.limits.fallback_poll
            }
            Err(err) => {
                failures += 1;
                tracing::warn!(error = %err, "outbox relay failed; retrying");
                backoff(failures)
            }
        };
        tokio::select! {
            () = stop.cancelled() => break,
            () = woken => {}
            () = tokio::time::sleep(wait) => {}
        }
    }
}

async fn periodic_loop(maintenance: Maintenance, dispatcher: Dispatcher, stop: CancellationToken) {
    let every = maintenance.settings().overdue_every;
    let mut held = false;
    let mut next_round = tokio::time::Instant::now();
    loop {
        if tokio::time::Instant::now() >= next_round {
            next_round += every;
            match maintenance.periodic().await {
                Ok(now_held) => {
                    if now_held != held {
                        tracing::info!(held = now_held, "scheduler role changed");
                    }
                    held = now_held;
                }
                Err(err) => tracing::warn!(error = %err, "periodic jobs failed; retrying next period"),
            }
        }
        // The queue's figures are the deployment's, so only the scheduler counts them (a count over the delivery
        // table, not one per instance every few seconds).
        if held && let Err(err) = maintenance.report().await {
            tracing::debug!(error = %err, "queue figures not read");
        }
        if let Err(err) = dispatcher.report().await {
            tracing::debug!(error = %err, "breaker figures not read");
        }
        let wake = next_round.min(tokio::time::Instant::now() + REPORT_EVERY);
        tokio::select! {
            () = stop.cancelled() => break,
            () = tokio::time::sleep_until(wake) => {}
        }
    }
    if held && let Err(err) = maintenance.step_down().await {
        tracing::warn!(error = %err, "scheduler role not released; it passes on when it expires");
    }
}

/// How often the queue's figures are published.
const REPORT_EVERY: Duration = Duration::from_secs(5);

/// One attempt in flight.
struct InFlight {
    receiver: WebhookId,
    claim: (DeliveryId, LeaseToken),
}

/// The claimed deliveries of this worker: attempts in flight, and per receiver a short line of claimed deliveries
/// waiting for one of its slots (they keep their claim: an attempt takes at most the sender's timeout and a claim
/// lasts that plus a margin, and the line is no longer than the receiver's share, so none waits past its claim).
struct Slots {
    set: JoinSet<Attempted>,
    in_flight: HashMap<tokio::task::Id, InFlight>,
    waiting: HashMap<WebhookId, VecDeque<ClaimedDelivery>>,
    limits: WorkerLimits,
}

impl Slots {
    fn busy(&self, receiver: WebhookId) -> usize {
        self.in_flight.values().filter(|s| s.receiver == receiver).count()
    }

    fn waiting_count(&self) -> usize {
        self.waiting.values().map(VecDeque::len).sum()
    }

    /// Room for new claims: the overall bound less what is in flight, waiting, or attempted but not yet recorded
    /// (`unrecorded`: recording runs beside the attempts, and this keeps it from falling behind without bound), and
    /// at most one receiver's share per claim. A receiver left out of the claim (see [`Self::full`]) has room for its
    /// share in flight or in line, so whatever one claim brings for it is started or lined up, never handed back.
    fn free(&self, unrecorded: usize) -> usize {
        self.limits
            .max_in_flight
            .saturating_sub(self.set.len() + self.waiting_count() + unrecorded)
            .min(self.limits.per_receiver)
    }

    /// The receivers whose share is taken (in flight plus in line): the next claim leaves them out.
    fn full(&self) -> Vec<WebhookId> {
        let mut taken: HashMap<WebhookId, usize> = HashMap::new();
        for slot in self.in_flight.values() {
            *taken.entry(slot.receiver).or_default() += 1;
        }
        for (receiver, line) in &self.waiting {
            *taken.entry(*receiver).or_default() += line.len();
        }
        let mut full: Vec<WebhookId> =
            taken.into_iter().filter(|(_, n)| *n >= self.limits.per_receiver).map(|(r, _)| r).collect();
        full.sort_unstable();
        full
    }

    fn start(&mut self, dispatcher: &Dispatcher, delivery: ClaimedDelivery) {
        let claim = (delivery.id, delivery.lease);
        let receiver = delivery.webhook_id;
        let d = dispatcher.clone();
        let handle = self.set.spawn(async move { d.attempt(&delivery).await });
        self.in_flight.insert(handle.id(), InFlight { receiver, claim });
    }

    /// Starts `delivery` if its receiver has a free slot, else lines it up if the line has room; else gives it
    /// back (to be released).
    fn take(&mut self, dispatcher: &Dispatcher, delivery: ClaimedDelivery) -> Option<(DeliveryId, LeaseToken)> {
        let receiver = delivery.webhook_id;
        if self.busy(receiver) < self.limits.per_receiver {
            self.start(dispatcher, delivery);
            return None;
        }
        let line = self.waiting.entry(receiver).or_default();
        if line.len() < self.limits.per_receiver {
            line.push_back(delivery);
            return None;
        }
        Some((delivery.id, delivery.lease))
    }

    /// An attempt ended: its slot goes to the next delivery waiting for the same receiver.
    fn settle(&mut self, dispatcher: &Dispatcher, id: tokio::task::Id) {
        let Some(slot) = self.in_flight.remove(&id) else { return };
        let next = self.waiting.get_mut(&slot.receiver).and_then(VecDeque::pop_front);
        if self.waiting.get(&slot.receiver).is_some_and(VecDeque::is_empty) {
            self.waiting.remove(&slot.receiver);
        }
        if let Some(next) = next {
            self.start(dispatcher, next);
        }
    }
}

/// A `finish` in progress, resolving to how many attempts it recorded.
type Recording = Pin<Box<dyn Future<Output = usize> + Send>>;
/// A claim in progress, resolving to what it asked for (the receivers left out, how many) and what it got.
type Claiming = Pin<Box<dyn Future<Output = (Vec<WebhookId>, usize, Result<Vec<ClaimedDelivery>, RepoError>)> + Send>>;

fn recording(dispatcher: &Dispatcher, batch: Vec<Attempted>) -> Recording {
    let dispatcher = dispatcher.clone();
    Box::pin(async move {
        if let Err(err) = dispatcher.record(&batch).await {
            tracing::warn!(error = %err, count = batch.len(), "attempts not recorded; their claims will expire");
        }
        batch.len()
    })
}

fn claiming(dispatcher: &Dispatcher, free: usize, skip: Vec<WebhookId>) -> Claiming {
    let dispatcher = dispatcher.clone();
    Box::pin(async move {
        let claimed = dispatcher.claim(free, &skip).await;
        (skip, free, claimed)
    })
}

/// Whether a claim leaving out `skip` can find nothing, given that one leaving out `nothing_beyond` found less than it
/// asked for since the last news: it leaves out at least the same receivers.
fn known_empty(skip: &[WebhookId], nothing_beyond: Option<&Vec<WebhookId>>) -> bool {
    nothing_beyond.is_some_and(|known| known.iter().all(|r| skip.binary_search(r).is_ok()))
}

/// Claims, starts and records attempts. The store is never awaited with attempts waiting on it: one claim and one
/// `finish` at a time run beside the attempts, so an attempt that ends while they run hands its slot to the next
/// delivery in its receiver's line at once, and the attempts that end during one `finish` are recorded together by
/// the next (the busier the worker, the larger the batches).
async fn dispatch_loop(worker: Worker, deliveries_ready: Arc<Notify>, stop: CancellationToken) {
    let Worker { dispatcher, delivery_signal: signal, limits, .. } = worker;
    let mut slots = Slots { set: JoinSet::new(), in_flight: HashMap::new(), waiting: HashMap::new(), limits };
    let mut done: Vec<Attempted> = Vec::new();
    let mut record: Option<(Recording, usize)> = None;
    let mut claim: Option<Claiming> = None;
    let mut failures = 0;
    let mut claim_after: Option<tokio::time::Instant> = None;
    // The earliest instant a delivery this worker handled is due again (a retry, a postponement), so that it is
    // attempted on time rather than at the next fallback poll.
    let mut next_due: Option<tokio::time::Instant> = None;
    // The receivers a claim left out when it found less than it asked for: claiming again with the same ones (or
    // more) left out finds nothing more until a wake-up says there is new work or a delivery became due.
    let mut found_all: Option<Vec<WebhookId>> = None;
    // Whether news came while the claim in progress ran (its snapshot may predate that work).
    let mut news_during_claim = false;
    // Listening from now on, so that a wake-up sent while a claim runs is not missed.
    let mut woken = signal.wait();
    loop {
        while let Some(joined) = slots.set.try_join_next_with_id() {
            let (id, result) = split(joined);
            slots.settle(&dispatcher, id);
            done.extend(result);
        }
        if record.is_none() && !done.is_empty() {
            for at in done.iter().filter_map(Attempted::due_again) {
                next_due = earliest(next_due, tokio::time::Instant::now() + dispatcher.until(at) + DUE_MARGIN);
            }
            let batch = std::mem::take(&mut done);
            let count = batch.len();
            record = Some((recording(&dispatcher, batch), count));
        }
        metrics::gauge!(WEBHOOK_IN_FLIGHT).set(slots.set.len() as f64);
        if stop.is_cancelled() {
            break;
        }
        let now = tokio::time::Instant::now();
        if claim.is_none() && claim_after.is_none_or(|after| after <= now) {
            claim_after = None;
            let unrecorded = done.len() + record.as_ref().map_or(0, |(_, n)| *n);
            let free = slots.free(unrecorded);
            let skip = slots.full();
            if free > 0 && !known_empty(&skip, found_all.as_ref()) {
                news_during_claim = false;
                claim = Some(claiming(&dispatcher, free, skip));
            }
        }
        next_due = next_due.filter(|due| *due > now);
        let mut wake = next_due.map_or(now + limits.fallback_poll, |due| due.min(now + limits.fallback_poll));
        if let Some(after) = claim_after {
            wake = wake.min(after);
        }
        tokio::select! {
            () = stop.cancelled() => break,
            _ = async { record.as_mut().map(|(r, _)| r).expect("guarded").await }, if record.is_some() => {
                record = None;
            }
            (skip, free, claimed) = async { claim.as_mut().expect("guarded").await }, if claim.is_some() => {
                claim = None;
                match claimed {
                    Ok(claimed) => {
                        failures = 0;
                        found_all = (claimed.len() < free && !news_during_claim).then_some(skip);
                        let busy: Vec<_> = claimed.into_iter().filter_map(|d| slots.take(&dispatcher, d)).collect();
                        if !busy.is_empty() {
                            // This receiver has its share in flight and a full line: its other deliveries wait a
                            // moment (no attempt spent), so the claims go to other receivers.
                            if let Err(err) = dispatcher.postpone(&busy, BUSY_RECEIVER_PAUSE).await {
                                tracing::warn!(error = %err, "claims not released; they will expire");
                            }
                            next_due =
                                earliest(next_due, tokio::time::Instant::now() + BUSY_RECEIVER_PAUSE + DUE_MARGIN);
                        }
                    }
                    Err(err) => {
                        failures += 1;
                        claim_after = Some(tokio::time::Instant::now() + backoff(failures));
                        tracing::warn!(error = %err, "claiming deliveries failed; retrying");
                    }
                }
            }
            () = deliveries_ready.notified() => {
                found_all = None;
                news_during_claim = true;
            }
            () = &mut woken => {
                woken = signal.wait();
                found_all = None;
                news_during_claim = true;
            }
            Some(joined) = slots.set.join_next_with_id(), if !slots.set.is_empty() => {
                let (id, result) = split(joined);
                slots.settle(&dispatcher, id);
                done.extend(result);
            }
            () = tokio::time::sleep_until(wake) => {
                found_all = None;
                news_during_claim = true;
            }
        }
    }
    // Stopping: the `finish` in progress completes; the deliveries of the claim in progress are released with those
    // waiting for a slot.
    if let Some((record, _)) = record {
        record.await;
    }
    if let Some(claim) = claim
        && let (_, _, Ok(claimed)) = claim.await
    {
        for delivery in claimed {
            slots.waiting.entry(delivery.webhook_id).or_default().push_back(delivery);
        }
    }
    wind_down(&dispatcher, slots, done, limits.grace).await;
}

/// How long a receiver that has its share in flight leaves its other claimed deliveries waiting.
const BUSY_RECEIVER_PAUSE: Duration = Duration::from_secs(1);
/// Wake a little after a delivery is due, so that the claim sees it due.
const DUE_MARGIN: Duration = Duration::from_millis(5);

fn earliest(current: Option<tokio::time::Instant>, candidate: tokio::time::Instant) -> Option<tokio::time::Instant> {
    Some(current.map_or(candidate, |c| c.min(candidate)))
}

fn split(joined: Result<(tokio::task::Id, Attempted), tokio::task::JoinError>) -> (tokio::task::Id, Option<Attempted>) {
    match joined {
        Ok((id, attempted)) => (id, Some(attempted)),
        Err(err) => (err.id(), None),
    }
}

/// Lets attempts in flight finish within `grace`, records them, and releases the claims of those that did not
/// finish and of those still waiting for a slot.
async fn wind_down(dispatcher: &Dispatcher, slots: Slots, mut done: Vec<Attempted>, grace: Duration) {
    let Slots { mut set, mut in_flight, waiting, .. } = slots;
    let deadline = tokio::time::Instant::now() + grace;
    while !set.is_empty() {
        match tokio::time::timeout_at(deadline, set.join_next_with_id()).await {
            Ok(Some(joined)) => {
                let (id, result) = split(joined);
                in_flight.remove(&id);
                done.extend(result);
            }
            Ok(None) => break,
            Err(_) => {
                set.abort_all();
                while set.join_next().await.is_some() {}
                break;
            }
        }
    }
    if let Err(err) = dispatcher.record(&done).await {
        tracing::warn!(error = %err, "attempts not recorded at shutdown; their claims will expire");
    }
    let unfinished: Vec<_> = in_flight
        .into_values()
        .map(|s| s.claim)
        .chain(waiting.into_values().flatten().map(|d| (d.id, d.lease)))
        .collect();
    if !unfinished.is_empty() {
        tracing::info!(count = unfinished.len(), "releasing the claims of unfinished attempts");
        if let Err(err) = dispatcher.release_now(&unfinished).await {
            tracing::warn!(error = %err, "claims not released at shutdown; they will expire");
        }
    }
}

/// The worker of an instance, from its adapters and configuration.
#[must_use]
pub fn from_config(backends: &crate::backends::Backends, config: &crate::config::Config) -> Worker {
    use taskflow_application::jobs::{DeliverySettings, MaintenanceSettings};
    use taskflow_domain::breaker::BreakerPolicy;
    use taskflow_domain::webhook::RetryPolicy;

    let ports = &backends.jobs;
    let clock = Arc::clone(&backends.deps.clock);
    let timeout = Duration::from_millis(config.webhook_timeout_ms);
    let settings = DeliverySettings {
        retry: RetryPolicy::new(
            chrono::TimeDelta::milliseconds(i64::try_from(config.webhook_retry_base_ms).unwrap_or(i64::MAX)),
            config.webhook_max_attempts,
        ),
        breaker: BreakerPolicy::new(
            config.webhook_breaker_threshold,
            chrono::TimeDelta::seconds(i64::from(config.webhook_breaker_cooldown_secs)),
            // A probe that never reports (its worker died) is given up after one attempt's time and its lease.
            chrono::TimeDelta::from_std(timeout + LEASE_MARGIN).unwrap_or(chrono::TimeDelta::minutes(1)),
        ),
        lease: timeout + LEASE_MARGIN,
    };
    let dispatcher = Dispatcher::new(
        Arc::clone(&ports.deliveries),
        Arc::clone(&ports.sender),
        Arc::new(taskflow_adapters_http::JsonEventEncoder),
        Arc::clone(&ports.breakers),
        Arc::clone(&clock),
        settings,
    );
    let maintenance = Maintenance::new(
        Arc::clone(&ports.deliveries),
        Arc::clone(&ports.overdue),
        Arc::clone(&ports.lease),
        clock,
        uuid::Uuid::new_v4(),
        MaintenanceSettings {
            overdue_every: Duration::from_secs(u64::from(config.overdue_scan_secs)),
            retention: chrono::TimeDelta::days(i64::from(config.webhook_delivery_retention_days)),
            ..MaintenanceSettings::default()
        },
    );
    Worker {
        dispatcher,
        maintenance,
        signal: Arc::clone(&ports.signal),
        delivery_signal: Arc::clone(&ports.delivery_signal),
        limits: WorkerLimits {
            max_in_flight: config.webhook_max_in_flight as usize,
            per_receiver: config.webhook_max_in_flight_per_receiver as usize,
            grace: Duration::from_secs(u64::from(config.shutdown_grace_secs)),
            ..WorkerLimits::default()
        },
    }
}

/// A claim outlives one attempt by this much, so only a worker that died loses its claims.
const LEASE_MARGIN: Duration = Duration::from_secs(30);
