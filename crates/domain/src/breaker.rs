//! A circuit breaker as a pure state machine: after `threshold` consecutive failures it opens for a cool-down, then
//! lets one probe through, whose success closes it.
//!
//! Nothing here reads a clock, locks or does I/O: every transition takes the state by value and the instant from
//! the caller (who reads the domain's [`crate::ports::Clock`]), and returns the next state. So one machine serves
//! both the Redis client (state in a `Mutex`, in process) and the webhook sender (state in a row or a hash shared by
//! every instance, changed atomically by its store), and tests step it on a manual clock.
//!
//! A state is stored as plain parts ([`BreakerParts`]: a phase name, a failure count and one instant), so it fits a
//! table row or a Redis hash.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, TimeDelta, Utc};

/// How a breaker reacts: when it opens, for how long, and how long a probe may stay out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerPolicy {
    threshold: u32,
    cooldown: TimeDelta,
    probe_timeout: TimeDelta,
}

impl BreakerPolicy {
    /// The shortest probe timeout: a half-open breaker always has a deadline after the instant it was probed at, so
    /// two permits at the same instant never both probe.
    pub const MIN_PROBE_TIMEOUT: TimeDelta = TimeDelta::milliseconds(1);

    /// Opens after `threshold` consecutive failures (0 counts as 1) for `cooldown` (negative counts as zero); a
    /// probe that has not reported within `probe_timeout` (at least [`Self::MIN_PROBE_TIMEOUT`]) is presumed lost,
    /// and the next permit probes again.
    #[must_use]
    pub fn new(threshold: u32, cooldown: TimeDelta, probe_timeout: TimeDelta) -> Self {
        Self {
            threshold: threshold.max(1),
            cooldown: cooldown.max(TimeDelta::zero()),
            probe_timeout: probe_timeout.max(Self::MIN_PROBE_TIMEOUT),
        }
    }

    /// Consecutive failures that open the breaker (at least 1).
    #[must_use]
    pub const fn threshold(&self) -> u32 {
        self.threshold
    }

    /// How long an open breaker refuses calls.
    #[must_use]
    pub const fn cooldown(&self) -> TimeDelta {
        self.cooldown
    }

    /// How long a probe may stay out before another one is allowed.
    #[must_use]
    pub const fn probe_timeout(&self) -> TimeDelta {
        self.probe_timeout
    }
}

/// What a breaker says to a call that asks to go ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permit {
    /// The breaker is closed: go ahead, then report with [`CallKind::Regular`].
    Call,
    /// The cool-down is over and this call is the one probe: go ahead, then report with [`CallKind::Probe`].
    Probe,
    /// Do not call; ask again at `retry_at` (the end of the cool-down, or the probe's deadline).
    Reject {
        /// When a permit may next be granted (earlier if the probe succeeds).
        retry_at: DateTime<Utc>,
    },
}

impl Permit {
    /// The kind of call this permit allows, to report its outcome with; `None` for a rejection.
    #[must_use]
    pub const fn kind(self) -> Option<CallKind> {
        match self {
            Self::Call => Some(CallKind::Regular),
            Self::Probe => Some(CallKind::Probe),
            Self::Reject { .. } => None,
        }
    }
}

/// Which permit a reported call went ahead under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallKind {
    /// Permitted while closed. Its outcome counts only while the breaker is still closed: a call that started
    /// before the breaker opened says little about now.
    Regular,
    /// The half-open probe. Its success closes the breaker, its failure opens it for a new cool-down.
    Probe,
}

/// The three phases of a breaker, without their data (for labels, metrics and storage).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BreakerPhase {
    /// Calls go through; consecutive failures are counted.
    Closed,
    /// Calls are refused until the cool-down ends.
    Open,
    /// One probe is out and decides.
    HalfOpen,
}

impl BreakerPhase {
    /// The stored and logged name: `closed`, `open` or `half_open`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Closed => "closed",
            Self::Open => "open",
            Self::HalfOpen => "half_open",
        }
    }
}

impl fmt::Display for BreakerPhase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for BreakerPhase {
    type Err = BreakerPartsError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "closed" => Ok(Self::Closed),
            "open" => Ok(Self::Open),
            "half_open" => Ok(Self::HalfOpen),
            other => Err(BreakerPartsError::UnknownPhase { phase: other.to_owned() }),
        }
    }
}

/// A breaker's state. Transitions consume it and return the next one; a store keeps it between calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    /// Calls go through; `failures` consecutive ones have failed so far (always below the threshold).
    Closed {
        /// Consecutive failures so far.
        failures: u32,
    },
    /// Calls are refused until `until`; the first permit at or after it is the probe.
    Open {
        /// The end of the cool-down.
        until: DateTime<Utc>,
    },
    /// A probe is out. Other calls are refused until it reports, or until `probe_deadline`, after which the probe
    /// is presumed lost (its holder died) and the next permit probes again.
    HalfOpen {
        /// When the probe is presumed lost.
        probe_deadline: DateTime<Utc>,
    },
}

impl BreakerState {
    /// A closed breaker with no failure counted: the state of a receiver never seen before.
    pub const CLOSED: Self = Self::Closed { failures: 0 };

    /// Asks to make a call at `now`. Returns the answer and the next state (a probe moves an open breaker whose
    /// cool-down is over, or a half-open one whose probe is past its deadline, to a new half-open period).
    #[must_use]
    pub fn permit(self, policy: &BreakerPolicy, now: DateTime<Utc>) -> (Permit, Self) {
        match self {
            Self::Closed { .. } => (Permit::Call, self),
            Self::Open { until: due } | Self::HalfOpen { probe_deadline: due } if now >= due => {
                (Permit::Probe, Self::HalfOpen { probe_deadline: add(now, policy.probe_timeout) })
            }
            Self::Open { until: due } | Self::HalfOpen { probe_deadline: due } => {
                (Permit::Reject { retry_at: due }, self)
            }
        }
    }

    /// A call of `kind` succeeded. A probe's success closes the breaker (from any phase: it is the freshest news);
    /// a regular call's resets the failure count of a closed breaker and changes nothing otherwise.
    #[must_use]
    pub fn on_success(self, kind: CallKind) -> Self {
        match (self, kind) {
            (Self::Closed { .. }, _) | (_, CallKind::Probe) => Self::CLOSED,
            (Self::Open { .. } | Self::HalfOpen { .. }, CallKind::Regular) => self,
        }
    }

    /// A call of `kind` failed at `now`. A closed breaker counts it and opens at the threshold; a half-open one
    /// whose probe failed opens for a new cool-down; anything else is unchanged (an open breaker is already open,
    /// and a regular call's late failure does not cut a probe short).
    #[must_use]
    pub fn on_failure(self, kind: CallKind, policy: &BreakerPolicy, now: DateTime<Utc>) -> Self {
        match (self, kind) {
            (Self::Closed { failures }, _) => {
                let failures = failures.saturating_add(1);
                if failures >= policy.threshold {
                    Self::Open { until: add(now, policy.cooldown) }
                } else {
                    Self::Closed { failures }
                }
            }
            (Self::HalfOpen { .. }, CallKind::Probe) => Self::Open { until: add(now, policy.cooldown) },
            (Self::HalfOpen { .. }, CallKind::Regular) | (Self::Open { .. }, _) => self,
        }
    }

    /// The probe was given up without an outcome at `now` (its caller went away): the next permit probes at once,
    /// without waiting for the probe's deadline. Other states are unchanged. Only the holder of the current probe
    /// may report this (an in-process breaker whose probe cannot outlive its deadline); a shared breaker relies on
    /// the deadline instead.
    #[must_use]
    pub fn on_abandoned_probe(self, now: DateTime<Utc>) -> Self {
        match self {
            Self::HalfOpen { .. } => Self::Open { until: now },
            Self::Closed { .. } | Self::Open { .. } => self,
        }
    }

    /// The phase, without its data.
    #[must_use]
    pub const fn phase(&self) -> BreakerPhase {
        match self {
            Self::Closed { .. } => BreakerPhase::Closed,
            Self::Open { .. } => BreakerPhase::Open,
            Self::HalfOpen { .. } => BreakerPhase::HalfOpen,
        }
    }

    /// Whether a regular call asking at `now` would be refused: open within its cool-down, or half-open with its
    /// probe out and not yet past its deadline. (This is what an "open breakers" figure counts.)
    #[must_use]
    pub fn refuses_calls_at(&self, now: DateTime<Utc>) -> bool {
        match *self {
            Self::Closed { .. } => false,
            Self::Open { until: due } | Self::HalfOpen { probe_deadline: due } => now < due,
        }
    }

    /// The state as plain parts, to store.
    #[must_use]
    pub const fn to_parts(self) -> BreakerParts {
        match self {
            Self::Closed { failures } => BreakerParts { phase: BreakerPhase::Closed, failures, at: None },
            Self::Open { until } => BreakerParts { phase: BreakerPhase::Open, failures: 0, at: Some(until) },
            Self::HalfOpen { probe_deadline } => {
                BreakerParts { phase: BreakerPhase::HalfOpen, failures: 0, at: Some(probe_deadline) }
            }
        }
    }

    /// Rebuilds a stored state.
    ///
    /// # Errors
    /// [`BreakerPartsError::MissingInstant`] for an open or half-open state without its instant, and
    /// [`BreakerPartsError::UnexpectedInstant`] for a closed one with an instant.
    pub const fn from_parts(parts: BreakerParts) -> Result<Self, BreakerPartsError> {
        match (parts.phase, parts.at) {
            (BreakerPhase::Closed, None) => Ok(Self::Closed { failures: parts.failures }),
            (BreakerPhase::Open, Some(until)) => Ok(Self::Open { until }),
            (BreakerPhase::HalfOpen, Some(probe_deadline)) => Ok(Self::HalfOpen { probe_deadline }),
            (BreakerPhase::Closed, Some(_)) => Err(BreakerPartsError::UnexpectedInstant),
            (phase @ (BreakerPhase::Open | BreakerPhase::HalfOpen), None) => {
                Err(BreakerPartsError::MissingInstant { phase })
            }
        }
    }
}

/// A [`BreakerState`] as plain parts: a phase, the failure count (0 unless closed) and the instant that ends the
/// phase (the cool-down's end when open, the probe's deadline when half-open, none when closed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerParts {
    /// The phase.
    pub phase: BreakerPhase,
    /// Consecutive failures (closed only; 0 otherwise).
    pub failures: u32,
    /// The end of the cool-down (open) or the probe's deadline (half-open); `None` when closed.
    pub at: Option<DateTime<Utc>>,
}

/// Stored parts that do not make a [`BreakerState`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BreakerPartsError {
    /// The phase name is not one of `closed`, `open`, `half_open`.
    #[error("unknown breaker phase {phase:?}")]
    UnknownPhase {
        /// The name found.
        phase: String,
    },
    /// An open or half-open state needs its instant.
    #[error("a {phase} breaker needs an instant")]
    MissingInstant {
        /// The phase found.
        phase: BreakerPhase,
    },
    /// A closed state has no instant.
    #[error("a closed breaker has no instant")]
    UnexpectedInstant,
}

/// `at + by`, saturating at the largest instant instead of overflowing.
fn add(at: DateTime<Utc>, by: TimeDelta) -> DateTime<Utc> {
    at.checked_add_signed(by).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

#[cfg(test)]
#[path = "breaker_tests.rs"]
mod tests;
