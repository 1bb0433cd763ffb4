//! The breaker's state machine, step by step on a manual clock.

use std::sync::Arc;
use std::time::Duration;

use taskflow_application::clock::ManualClock;

use super::*;

const COOLDOWN: Duration = Duration::from_secs(5);

fn breaker(threshold: u32) -> (CircuitBreaker, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
    (CircuitBreaker::new(threshold, COOLDOWN, clock.clone()), clock)
}

fn fail(b: &CircuitBreaker, times: u32) {
    for _ in 0..times {
        b.try_acquire().expect("closed breaker lets calls through").failure();
    }
}

#[test]
fn stays_closed_below_the_threshold() {
    // Arrange
    let (b, _) = breaker(3);
    // Act
    fail(&b, 2);
    // Assert
    assert_eq!(b.state(), BreakerState::Closed);
    assert!(b.try_acquire().is_ok());
}

#[test]
fn opens_after_n_consecutive_failures() {
    let (b, _) = breaker(3);
    fail(&b, 3);
    assert_eq!(b.state(), BreakerState::Open);
}

#[test]
fn a_success_resets_the_consecutive_failure_count() {
    let (b, _) = breaker(3);
    fail(&b, 2);
    b.try_acquire().unwrap().success();
    fail(&b, 2);
    assert_eq!(b.state(), BreakerState::Closed, "failures were not consecutive");
}

#[test]
fn fails_fast_while_open_until_the_cooldown_ends() {
    let (b, clock) = breaker(1);
    fail(&b, 1);
    clock.pass(COOLDOWN - Duration::from_millis(1));
    assert_eq!(b.try_acquire().unwrap_err(), BreakerOpen);
    assert_eq!(b.state(), BreakerState::Open);
}

#[test]
fn lets_exactly_one_probe_through_after_the_cooldown() {
    let (b, clock) = breaker(1);
    fail(&b, 1);
    clock.pass(COOLDOWN);
    let probe = b.try_acquire().expect("the cool-down is over");
    assert!(probe.is_probe());
    assert_eq!(b.state(), BreakerState::HalfOpen);
    assert_eq!(b.try_acquire().unwrap_err(), BreakerOpen, "a second call while the probe is in flight fails fast");
    probe.success();
}

#[test]
fn a_successful_probe_closes_the_breaker() {
    let (b, clock) = breaker(2);
    fail(&b, 2);
    clock.pass(COOLDOWN);
    b.try_acquire().unwrap().success();
    assert_eq!(b.state(), BreakerState::Closed);
    fail(&b, 1);
    assert_eq!(b.state(), BreakerState::Closed, "the failure count starts again from zero");
}

#[test]
fn a_failed_probe_reopens_for_a_whole_cooldown() {
    let (b, clock) = breaker(1);
    fail(&b, 1);
    clock.pass(COOLDOWN);
    b.try_acquire().unwrap().failure();
    assert_eq!(b.state(), BreakerState::Open);
    clock.pass(COOLDOWN - Duration::from_millis(1));
    assert!(b.try_acquire().is_err());
    clock.pass(Duration::from_millis(1));
    assert!(b.try_acquire().is_ok_and(|p| p.is_probe()));
}

#[test]
fn an_abandoned_probe_lets_the_next_call_probe_at_once() {
    let (b, clock) = breaker(1);
    fail(&b, 1);
    clock.pass(COOLDOWN);
    drop(b.try_acquire().unwrap());
    assert_eq!(b.state(), BreakerState::Open);
    let next = b.try_acquire().expect("no new cool-down after an abandoned probe");
    assert!(next.is_probe());
    next.success();
}

#[test]
fn late_outcomes_of_calls_started_before_opening_do_not_change_an_open_breaker() {
    let (b, _) = breaker(1);
    let slow = b.try_acquire().unwrap();
    fail(&b, 1);
    slow.success();
    assert_eq!(b.state(), BreakerState::Open, "only the probe may close the breaker");
}

#[test]
fn a_zero_threshold_behaves_as_one() {
    let (b, _) = breaker(0);
    assert_eq!(b.state(), BreakerState::Closed);
    fail(&b, 1);
    assert_eq!(b.state(), BreakerState::Open);
}

#[test]
fn a_probe_that_never_reports_is_replaced_after_the_probe_timeout() {
    let (b, clock) = breaker(1);
    let b = b.with_probe_timeout(Duration::from_millis(500));
    fail(&b, 1);
    clock.pass(COOLDOWN);
    let stuck = b.try_acquire().expect("the cool-down is over");
    clock.pass(Duration::from_millis(499));
    assert!(b.try_acquire().is_err(), "the probe is still within its time");
    clock.pass(Duration::from_millis(1));
    let next = b.try_acquire().expect("the stuck probe is presumed lost");
    assert!(next.is_probe());
    next.success();
    assert_eq!(b.state(), BreakerState::Closed);
    drop(stuck);
    assert_eq!(b.state(), BreakerState::Closed, "dropping the lost probe later does not reopen");
}
