//! The breaker's state machine, step by step at chosen instants, plus properties over random runs.

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use proptest::prelude::*;

use super::*;

const COOLDOWN: TimeDelta = TimeDelta::seconds(60);
const PROBE_TIMEOUT: TimeDelta = TimeDelta::seconds(10);

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 30, 12, 0, 0).single().expect("a valid instant")
}

fn policy(threshold: u32) -> BreakerPolicy {
    BreakerPolicy::new(threshold, COOLDOWN, PROBE_TIMEOUT)
}

/// `times` regular calls at `now`, each permitted and failed.
fn fail(mut s: BreakerState, p: &BreakerPolicy, now: DateTime<Utc>, times: u32) -> BreakerState {
    for _ in 0..times {
        let (permit, next) = s.permit(p, now);
        assert_eq!(permit, Permit::Call, "a closed breaker lets calls through");
        s = next.on_failure(CallKind::Regular, p, now);
    }
    s
}

#[test]
fn stays_closed_below_the_threshold() {
    // Arrange
    let p = policy(3);
    // Act
    let s = fail(BreakerState::CLOSED, &p, t0(), 2);
    // Assert
    assert_eq!(s, BreakerState::Closed { failures: 2 });
    assert_eq!(s.permit(&p, t0()).0, Permit::Call);
}

#[test]
fn opens_for_the_cooldown_at_the_threshold() {
    let p = policy(3);
    let s = fail(BreakerState::CLOSED, &p, t0(), 3);
    assert_eq!(s, BreakerState::Open { until: t0() + COOLDOWN });
}

#[test]
fn a_success_resets_the_consecutive_failure_count() {
    let p = policy(3);
    let s = fail(BreakerState::CLOSED, &p, t0(), 2).on_success(CallKind::Regular);
    let s = fail(s, &p, t0(), 2);
    assert_eq!(s, BreakerState::Closed { failures: 2 }, "failures were not consecutive");
}

#[test]
fn refuses_until_the_cooldown_ends_and_says_when_to_come_back() {
    let p = policy(1);
    let s = fail(BreakerState::CLOSED, &p, t0(), 1);
    let just_before = t0() + COOLDOWN - TimeDelta::milliseconds(1);
    let (permit, next) = s.permit(&p, just_before);
    assert_eq!(permit, Permit::Reject { retry_at: t0() + COOLDOWN });
    assert_eq!(next, s, "a refusal changes nothing");
    assert!(s.refuses_calls_at(just_before));
}

#[test]
fn the_first_permit_after_the_cooldown_is_the_one_probe() {
    let p = policy(1);
    let s = fail(BreakerState::CLOSED, &p, t0(), 1);
    let end = t0() + COOLDOWN;
    let (first, s) = s.permit(&p, end);
    let (second, s) = s.permit(&p, end);
    assert_eq!(first, Permit::Probe);
    assert_eq!(s, BreakerState::HalfOpen { probe_deadline: end + PROBE_TIMEOUT });
    assert_eq!(second, Permit::Reject { retry_at: end + PROBE_TIMEOUT }, "one probe at a time");
    assert!(s.refuses_calls_at(end));
}

#[test]
fn a_successful_probe_closes_with_a_fresh_count() {
    let p = policy(2);
    let s = fail(BreakerState::CLOSED, &p, t0(), 2);
    let (probe, s) = s.permit(&p, t0() + COOLDOWN);
    assert_eq!(probe, Permit::Probe);
    let s = s.on_success(probe.kind().expect("a call"));
    assert_eq!(s, BreakerState::CLOSED);
    assert!(!s.refuses_calls_at(t0()));
}

#[test]
fn a_failed_probe_reopens_for_a_whole_cooldown() {
    let p = policy(1);
    let s = fail(BreakerState::CLOSED, &p, t0(), 1);
    let later = t0() + COOLDOWN + TimeDelta::seconds(3);
    let (_, s) = s.permit(&p, later);
    let s = s.on_failure(CallKind::Probe, &p, later);
    assert_eq!(s, BreakerState::Open { until: later + COOLDOWN });
}

#[test]
fn a_lost_probe_lets_another_probe_after_its_deadline() {
    let p = policy(1);
    let s = fail(BreakerState::CLOSED, &p, t0(), 1);
    let end = t0() + COOLDOWN;
    let (_, s) = s.permit(&p, end);
    let deadline = end + PROBE_TIMEOUT;
    assert_eq!(s.permit(&p, deadline - TimeDelta::milliseconds(1)).0, Permit::Reject { retry_at: deadline });
    let (again, s) = s.permit(&p, deadline);
    assert_eq!(again, Permit::Probe, "the holder of the first probe is presumed dead");
    assert_eq!(s, BreakerState::HalfOpen { probe_deadline: deadline + PROBE_TIMEOUT });
}

#[test]
fn an_abandoned_probe_lets_the_next_permit_probe_at_once() {
    let p = policy(1);
    let s = fail(BreakerState::CLOSED, &p, t0(), 1);
    let end = t0() + COOLDOWN;
    let (_, s) = s.permit(&p, end);
    let s = s.on_abandoned_probe(end);
    assert_eq!(s.phase(), BreakerPhase::Open);
    assert_eq!(s.permit(&p, end).0, Permit::Probe);
}

#[test]
fn late_outcomes_of_regular_calls_do_not_move_an_open_or_half_open_breaker() {
    let p = policy(1);
    let open = fail(BreakerState::CLOSED, &p, t0(), 1);
    assert_eq!(open.on_success(CallKind::Regular), open, "only the probe may close the breaker");
    assert_eq!(open.on_failure(CallKind::Regular, &p, t0() + TimeDelta::seconds(5)), open, "no longer cool-down");
    let (_, half) = open.permit(&p, t0() + COOLDOWN);
    assert_eq!(half.on_success(CallKind::Regular), half);
    assert_eq!(half.on_failure(CallKind::Regular, &p, t0() + COOLDOWN), half, "the probe decides");
}

#[test]
fn a_zero_threshold_behaves_as_one_and_the_probe_timeout_is_never_zero() {
    let p = BreakerPolicy::new(0, COOLDOWN, TimeDelta::zero());
    assert_eq!(p.threshold(), 1);
    assert_eq!(p.probe_timeout(), BreakerPolicy::MIN_PROBE_TIMEOUT);
    assert_eq!(fail(BreakerState::CLOSED, &p, t0(), 1).phase(), BreakerPhase::Open);
    assert_eq!(BreakerPolicy::new(1, TimeDelta::seconds(-5), PROBE_TIMEOUT).cooldown(), TimeDelta::zero());
}

#[test]
fn instants_saturate_instead_of_overflowing() {
    let p = BreakerPolicy::new(1, TimeDelta::MAX, PROBE_TIMEOUT);
    let s = fail(BreakerState::CLOSED, &p, t0(), 1);
    assert_eq!(s, BreakerState::Open { until: DateTime::<Utc>::MAX_UTC });
}

#[test]
fn parts_round_trip_and_bad_parts_are_refused() {
    for s in [
        BreakerState::Closed { failures: 4 },
        BreakerState::Open { until: t0() },
        BreakerState::HalfOpen { probe_deadline: t0() },
    ] {
        let parts = s.to_parts();
        let phase: BreakerPhase = parts.phase.as_str().parse().expect("a known phase");
        assert_eq!(BreakerState::from_parts(BreakerParts { phase, ..parts }), Ok(s));
    }
    assert_eq!("ajar".parse::<BreakerPhase>(), Err(BreakerPartsError::UnknownPhase { phase: "ajar".into() }));
    let open = BreakerParts { phase: BreakerPhase::Open, failures: 0, at: None };
    assert_eq!(BreakerState::from_parts(open), Err(BreakerPartsError::MissingInstant { phase: BreakerPhase::Open }));
    let closed = BreakerParts { phase: BreakerPhase::Closed, failures: 0, at: Some(t0()) };
    assert_eq!(BreakerState::from_parts(closed), Err(BreakerPartsError::UnexpectedInstant));
}

/// One step of a random run.
#[derive(Debug, Clone)]
enum Step {
    /// Time passes (milliseconds).
    Wait(i64),
    /// Someone asks for a permit; a granted call joins the calls in flight.
    Ask,
    /// The call in flight at this index (modulo their number) reports.
    Report { index: usize, success: bool },
    /// The call in flight at this index is given up without an outcome.
    Abandon { index: usize },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (0i64..30_000).prop_map(Step::Wait),
        Just(Step::Ask),
        (any::<usize>(), any::<bool>()).prop_map(|(index, success)| Step::Report { index, success }),
        any::<usize>().prop_map(|index| Step::Abandon { index }),
    ]
}

proptest! {
    /// Over any run: a half-open period grants one probe, and another only once the first is past its deadline
    /// (presumed lost); a granted probe's
    /// success always closes the breaker; a rejection always points to the future; a closed breaker never holds
    /// the threshold's worth of failures; and every state survives its parts.
    #[test]
    fn the_machine_keeps_its_promises(
        threshold in 1u32..5,
        cooldown_ms in 0i64..20_000,
        probe_ms in 1i64..20_000,
        steps in proptest::collection::vec(step(), 1..120),
    ) {
        let p = BreakerPolicy::new(threshold, TimeDelta::milliseconds(cooldown_ms), TimeDelta::milliseconds(probe_ms));
        let mut now = t0();
        let mut s = BreakerState::CLOSED;
        let mut in_flight: Vec<CallKind> = Vec::new();
        // When the probe of the current half-open period was granted.
        let mut probe_out: Option<DateTime<Utc>> = None;
        for step in steps {
            match step {
                Step::Wait(ms) => now += TimeDelta::milliseconds(ms),
                Step::Ask => {
                    let (permit, next) = s.permit(&p, now);
                    match permit {
                        Permit::Probe => {
                            if let Some(granted) = probe_out {
                                prop_assert!(now >= granted + p.probe_timeout(), "two probes out at once");
                            }
                            probe_out = Some(now);
                        }
                        Permit::Reject { retry_at } => {
                            prop_assert!(retry_at > now, "a rejection points to the future");
                            prop_assert!(s.refuses_calls_at(now));
                        }
                        Permit::Call => prop_assert_eq!(s.phase(), BreakerPhase::Closed),
                    }
                    if let Some(kind) = permit.kind() {
                        in_flight.push(kind);
                    }
                    s = next;
                }
                Step::Report { index, success } if !in_flight.is_empty() => {
                    let kind = in_flight.remove(index % in_flight.len());
                    s = if success { s.on_success(kind) } else { s.on_failure(kind, &p, now) };
                    if kind == CallKind::Probe {
                        if success {
                            prop_assert_eq!(s, BreakerState::CLOSED, "a successful probe closes the breaker");
                        } else {
                            prop_assert!(s.phase() != BreakerPhase::HalfOpen, "a failed probe ends half-open");
                        }
                    }
                }
                Step::Abandon { index } if !in_flight.is_empty() => {
                    let kind = in_flight.remove(index % in_flight.len());
                    if kind == CallKind::Probe {
                        s = s.on_abandoned_probe(now);
                    }
                }
                Step::Report { .. } | Step::Abandon { .. } => {}
            }
            if s.phase() != BreakerPhase::HalfOpen {
                probe_out = None;
            }
            if let BreakerState::Closed { failures } = s {
                prop_assert!(failures < p.threshold(), "a closed breaker opens at the threshold");
            }
            prop_assert_eq!(BreakerState::from_parts(s.to_parts()), Ok(s));
        }
    }
}
