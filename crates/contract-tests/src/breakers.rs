//! The breaker-store contract: the domain's breaker machine, applied atomically to state that every handle (every
//! instance) shares.
//!
//! A factory returns two handles on the same, fresh breakers ([`BreakerHandles`]): clones of one in-memory store,
//! or two connection pools on one PostgreSQL database, standing for two instances. Instants are passed in, so no
//! case sleeps; they are whole milliseconds, which every store keeps exactly.
//!
//! ```ignore
//! async fn fresh_breakers() -> taskflow_contract_tests::breakers::BreakerHandles { /* two handles, one store */ }
//! taskflow_contract_tests::breaker_store_contract_tests!(fresh_breakers);
//! ```

use std::sync::Arc;

use chrono::{DateTime, TimeDelta};
use futures::future::join_all;
use taskflow_application::breakers::BreakerStore;
use taskflow_domain::WebhookId;
use taskflow_domain::breaker::{BreakerPolicy, BreakerState, CallKind, Permit};
use uuid::Uuid;

use crate::fixtures::t0;

/// Two handles on the same breakers, as two instances would hold them.
#[derive(Clone)]
pub struct BreakerHandles {
    /// The first instance's handle.
    pub one: Arc<dyn BreakerStore>,
    /// The second instance's handle.
    pub two: Arc<dyn BreakerStore>,
}

const COOLDOWN: TimeDelta = TimeDelta::seconds(60);
const PROBE_TIMEOUT: TimeDelta = TimeDelta::seconds(15);
const MS: TimeDelta = TimeDelta::milliseconds(1);

fn policy(threshold: u32) -> BreakerPolicy {
    BreakerPolicy::new(threshold, COOLDOWN, PROBE_TIMEOUT)
}

fn receiver() -> WebhookId {
    WebhookId::from_uuid(Uuid::now_v7())
}

/// Records `times` failed regular calls at `now`, each after a permit that must let it through.
async fn fail(store: &dyn BreakerStore, id: WebhookId, p: &BreakerPolicy, now: DateTime<chrono::Utc>, times: u32) {
    for _ in 0..times {
        assert_eq!(store.permit(id, p, now).await.expect("permit"), Permit::Call, "closed: calls go through");
        store.record(id, CallKind::Regular, false, p, now).await.expect("record");
    }
}

/// A receiver never seen is closed; failures below the threshold keep it closed, the threshold-th opens it for the
/// cool-down and later calls are refused with the cool-down's end.
pub async fn a_breaker_opens_at_the_threshold_for_the_cooldown(h: BreakerHandles) {
    // Arrange
    let (id, p) = (receiver(), policy(3));
    assert_eq!(h.one.state(id).await.expect("state"), BreakerState::CLOSED, "never seen: closed");

    // Act
    fail(&*h.one, id, &p, t0(), 2).await;
    let below = h.one.state(id).await.expect("state");
    let opened = h.one.record(id, CallKind::Regular, false, &p, t0()).await.expect("record");

    // Assert
    assert_eq!(below, BreakerState::Closed { failures: 2 });
    assert_eq!(opened, BreakerState::Open { until: t0() + COOLDOWN });
    assert_eq!(h.one.state(id).await.expect("state"), opened, "the new state is stored");
    let refused = h.one.permit(id, &p, t0() + COOLDOWN - MS).await.expect("permit");
    assert_eq!(refused, Permit::Reject { retry_at: t0() + COOLDOWN });
}

/// Only consecutive failures count: a success in between starts again from zero.
pub async fn a_success_resets_the_consecutive_failures(h: BreakerHandles) {
    let (id, p) = (receiver(), policy(3));
    fail(&*h.one, id, &p, t0(), 2).await;
    let after_success = h.one.record(id, CallKind::Regular, true, &p, t0()).await.expect("record");
    fail(&*h.one, id, &p, t0(), 2).await;
    assert_eq!(after_success, BreakerState::CLOSED);
    assert_eq!(h.one.state(id).await.expect("state"), BreakerState::Closed { failures: 2 });
}

/// Failures reported through different instances add up to one count.
pub async fn failures_are_counted_across_instances(h: BreakerHandles) {
    // Arrange
    let (id, p) = (receiver(), policy(4));

    // Act
    for store in [&h.one, &h.two, &h.one, &h.two] {
        store.record(id, CallKind::Regular, false, &p, t0()).await.expect("record");
    }

    // Assert
    assert_eq!(h.one.state(id).await.expect("state"), BreakerState::Open { until: t0() + COOLDOWN });
    assert!(matches!(h.two.permit(id, &p, t0()).await.expect("permit"), Permit::Reject { .. }), "both see it open");
}

/// Concurrent failures are all counted: none is lost to a race.
pub async fn concurrent_failures_are_all_counted(h: BreakerHandles) {
    let (id, p) = (receiver(), policy(100));
    let records = (0..24).map(|i| {
        let store = if i % 2 == 0 { h.one.clone() } else { h.two.clone() };
        async move { store.record(id, CallKind::Regular, false, &p, t0()).await.expect("record") }
    });
    join_all(records).await;
    assert_eq!(h.one.state(id).await.expect("state"), BreakerState::Closed { failures: 24 });
}

/// Once the cool-down is over, exactly one of many concurrent permits, from both instances, is the probe.
pub async fn exactly_one_probe_among_concurrent_permits(h: BreakerHandles) {
    // Arrange
    let (id, p) = (receiver(), policy(1));
    fail(&*h.one, id, &p, t0(), 1).await;
    let end = t0() + COOLDOWN;

    // Act
    let permits = (0..16).map(|i| {
        let store = if i % 2 == 0 { h.one.clone() } else { h.two.clone() };
        async move { store.permit(id, &p, end).await.expect("permit") }
    });
    let permits = join_all(permits).await;

    // Assert
    let probes = permits.iter().filter(|p| **p == Permit::Probe).count();
    assert_eq!(probes, 1, "one probe: {permits:?}");
    let refusal = Permit::Reject { retry_at: end + PROBE_TIMEOUT };
    assert!(permits.iter().all(|p| *p == Permit::Probe || *p == refusal), "the others wait for the probe: {permits:?}");
    assert_eq!(h.two.state(id).await.expect("state"), BreakerState::HalfOpen { probe_deadline: end + PROBE_TIMEOUT });
}

/// The probe's success, reported by another instance, closes the breaker for everyone.
pub async fn a_successful_probe_closes_the_breaker(h: BreakerHandles) {
    let (id, p) = (receiver(), policy(2));
    fail(&*h.one, id, &p, t0(), 2).await;
    let end = t0() + COOLDOWN;
    assert_eq!(h.one.permit(id, &p, end).await.expect("permit"), Permit::Probe);
    let closed = h.two.record(id, CallKind::Probe, true, &p, end).await.expect("record");
    assert_eq!(closed, BreakerState::CLOSED);
    assert_eq!(h.one.permit(id, &p, end).await.expect("permit"), Permit::Call, "calls go through again");
}

/// A failed probe opens the breaker for a whole new cool-down.
pub async fn a_failed_probe_reopens_for_a_new_cooldown(h: BreakerHandles) {
    let (id, p) = (receiver(), policy(1));
    fail(&*h.one, id, &p, t0(), 1).await;
    let later = t0() + COOLDOWN + TimeDelta::seconds(7);
    assert_eq!(h.one.permit(id, &p, later).await.expect("permit"), Permit::Probe);
    let reopened = h.one.record(id, CallKind::Probe, false, &p, later).await.expect("record");
    assert_eq!(reopened, BreakerState::Open { until: later + COOLDOWN });
    assert_eq!(
        h.two.permit(id, &p, later + COOLDOWN - MS).await.expect("permit"),
        Permit::Reject { retry_at: later + COOLDOWN }
    );
}

/// A probe that never reports (its instance died) is replaced once past its deadline, not before.
pub async fn a_lost_probe_is_replaced_after_its_deadline(h: BreakerHandles) {
    let (id, p) = (receiver(), policy(1));
    fail(&*h.one, id, &p, t0(), 1).await;
    let end = t0() + COOLDOWN;
    assert_eq!(h.one.permit(id, &p, end).await.expect("permit"), Permit::Probe);
    let deadline = end + PROBE_TIMEOUT;
    assert_eq!(h.two.permit(id, &p, deadline - MS).await.expect("permit"), Permit::Reject { retry_at: deadline });
    assert_eq!(h.two.permit(id, &p, deadline).await.expect("permit"), Permit::Probe, "the first is presumed lost");
}

/// Outcomes of regular calls that started before the breaker opened do not close it: only the probe decides.
pub async fn late_regular_outcomes_do_not_close_an_open_breaker(h: BreakerHandles) {
    let (id, p) = (receiver(), policy(1));
    fail(&*h.one, id, &p, t0(), 1).await;
    let late = h.two.record(id, CallKind::Regular, true, &p, t0() + MS).await.expect("record");
    assert_eq!(late, BreakerState::Open { until: t0() + COOLDOWN });
}

/// A reset (the webhook set active again) closes an open breaker at once, with no failure counted; resetting a
/// receiver never seen is fine.
pub async fn a_reset_closes_the_breaker(h: BreakerHandles) {
    // Arrange
    let (id, p) = (receiver(), policy(2));
    fail(&*h.one, id, &p, t0(), 2).await;

    // Act
    h.two.reset(id).await.expect("reset");
    h.two.reset(receiver()).await.expect("reset of a receiver never seen");

    // Assert
    assert_eq!(h.one.state(id).await.expect("state"), BreakerState::CLOSED);
    assert_eq!(h.one.permit(id, &p, t0() + MS).await.expect("permit"), Permit::Call);
    fail(&*h.one, id, &p, t0(), 1).await;
    assert_eq!(h.one.state(id).await.expect("state"), BreakerState::Closed { failures: 1 }, "counted from zero");
}

/// Receivers have their own breakers, and the open count counts those refusing calls at the given instant: open
/// within their cool-down, or half-open with their probe out.
pub async fn receivers_are_independent_and_open_ones_are_counted(h: BreakerHandles) {
    // Arrange
    let p = policy(1);
    let (a, b, c) = (receiver(), receiver(), receiver());
    fail(&*h.one, a, &p, t0(), 1).await;
    fail(&*h.two, b, &p, t0() + TimeDelta::seconds(30), 1).await;
    h.one.record(c, CallKind::Regular, true, &p, t0()).await.expect("record");

    // Act
    let both = h.one.open_count(t0() + MS).await.expect("count");
    let only_b = h.two.open_count(t0() + COOLDOWN).await.expect("count");
    assert_eq!(h.one.permit(a, &p, t0() + COOLDOWN).await.expect("permit"), Permit::Probe);
    let probing = h.one.open_count(t0() + COOLDOWN).await.expect("count");
    let none = h.one.open_count(t0() + COOLDOWN + PROBE_TIMEOUT + TimeDelta::seconds(30)).await.expect("count");

    // Assert
    assert_eq!(h.one.permit(c, &p, t0()).await.expect("permit"), Permit::Call, "c is not affected");
    assert_eq!(both, 2, "a and b are open");
    assert_eq!(only_b, 1, "a's cool-down is over");
    assert_eq!(probing, 2, "a's probe is out, b is still open");
    assert_eq!(none, 0, "b's cool-down and a's probe deadline are over");
}

/// The breaker-store contract. `$factory` is a path to an `async fn() -> BreakerHandles` whose two handles share
/// fresh breakers.
#[macro_export]
macro_rules! breaker_store_contract_tests {
    ($factory:path) => {
        $crate::__contract_cases!(
            $factory,
            breakers,
            [
                a_breaker_opens_at_the_threshold_for_the_cooldown,
                a_success_resets_the_consecutive_failures,
                failures_are_counted_across_instances,
                concurrent_failures_are_all_counted,
                exactly_one_probe_among_concurrent_permits,
                a_successful_probe_closes_the_breaker,
                a_failed_probe_reopens_for_a_new_cooldown,
                a_lost_probe_is_replaced_after_its_deadline,
                late_regular_outcomes_do_not_close_an_open_breaker,
                a_reset_closes_the_breaker,
                receivers_are_independent_and_open_ones_are_counted,
            ]
        );
    };
}
