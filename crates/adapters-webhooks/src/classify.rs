//! Turning what the HTTP client reports into an [`AttemptOutcome`] with a short failure class.

use std::error::Error as StdError;
use std::io;
use std::iter;
use std::time::SystemTime;

use chrono::TimeDelta;
use taskflow_domain::webhook::{AttemptOutcome, FailureClass, RetryPolicy};

use crate::resolver::{AddressNotAllowed, ResolveFailed};

/// The outcome of an answer with HTTP status `status`.
pub(crate) fn from_status(status: u16, retry_after: Option<&str>, now: SystemTime, duration_ms: u32) -> AttemptOutcome {
    match status {
        200..=299 => AttemptOutcome::Succeeded { status, duration_ms },
        410 => AttemptOutcome::Gone { duration_ms },
        300..=399 => failed(FailureClass::Redirect(status), Some(status), None, duration_ms),
        // Only these two statuses define Retry-After as "come back later"; elsewhere it is ignored.
        429 | 503 => {
            let retry_after = retry_after.and_then(|raw| parse_retry_after(raw, now));
            failed(FailureClass::Status(status), Some(status), retry_after, duration_ms)
        }
        _ => failed(FailureClass::Status(status), Some(status), None, duration_ms),
    }
}

/// The outcome of an attempt that got no answer.
pub(crate) fn from_error(err: &hyper_util::client::legacy::Error, duration_ms: u32) -> AttemptOutcome {
    failed(class_of(err), None, None, duration_ms)
}

pub(crate) const fn failed(
    class: FailureClass,
    status: Option<u16>,
    retry_after: Option<TimeDelta>,
    duration_ms: u32,
) -> AttemptOutcome {
    AttemptOutcome::Failed { class, status, retry_after, duration_ms }
}

fn class_of(err: &hyper_util::client::legacy::Error) -> FailureClass {
    let chain = || sources(err);
    // Our resolver's verdicts first: they are wrapped as connect errors.
    if chain().any(|e| e.is::<AddressNotAllowed>()) {
        return FailureClass::AddressNotAllowed;
    }
    if chain().any(|e| e.is::<ResolveFailed>()) {
        return FailureClass::Dns;
    }
    for e in chain() {
        if e.is::<rustls::Error>() {
            return FailureClass::Tls;
        }
        match e.downcast_ref::<io::Error>().map(io::Error::kind) {
            Some(io::ErrorKind::ConnectionRefused) => return FailureClass::ConnectionRefused,
            // The connector's own connect timeout.
            Some(io::ErrorKind::TimedOut) => return FailureClass::Timeout,
            _ => {}
        }
    }
    // Refused, reset or closed mid-request: hyper reports the broken connection itself.
    if err.is_connect() || chain().any(|e| e.is::<hyper::Error>()) {
        return FailureClass::Connection;
    }
    FailureClass::Other
}

/// `err` and every error below it. An `io::Error` wrapping another error reports that error's source, not the error
/// itself, so io errors are looked into with `get_ref`.
fn sources<'a>(err: &'a (dyn StdError + 'static)) -> impl Iterator<Item = &'a (dyn StdError + 'static)> {
    iter::successors(Some(err), |e| match e.downcast_ref::<io::Error>().and_then(io::Error::get_ref) {
        Some(inner) => Some(inner as &(dyn StdError + 'static)),
        None => (*e).source(),
    })
}

/// `Retry-After` as delay-seconds or an HTTP-date, capped at the retry policy's cap. A date in the past gives
/// `None`, so the ordinary backoff applies rather than an immediate retry.
pub(crate) fn parse_retry_after(raw: &str, now: SystemTime) -> Option<TimeDelta> {
    let raw = raw.trim();
    let delay = if !raw.is_empty() && raw.bytes().all(|b| b.is_ascii_digit()) {
        let secs = raw.parse::<u64>().unwrap_or(u64::MAX);
        TimeDelta::try_seconds(i64::try_from(secs).unwrap_or(i64::MAX)).unwrap_or(RetryPolicy::CAP)
    } else {
        let at = httpdate::parse_http_date(raw).ok()?;
        let ahead = at.duration_since(now).ok()?;
        TimeDelta::from_std(ahead).unwrap_or(RetryPolicy::CAP)
    };
    Some(delay.min(RetryPolicy::CAP))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn statuses_are_classified() {
        let now = SystemTime::now();
        let cases = [
            (200, AttemptOutcome::Succeeded { status: 200, duration_ms: 5 }),
            (204, AttemptOutcome::Succeeded { status: 204, duration_ms: 5 }),
            (299, AttemptOutcome::Succeeded { status: 299, duration_ms: 5 }),
            (410, AttemptOutcome::Gone { duration_ms: 5 }),
            (301, failed(FailureClass::Redirect(301), Some(301), None, 5)),
            (304, failed(FailureClass::Redirect(304), Some(304), None, 5)),
            (308, failed(FailureClass::Redirect(308), Some(308), None, 5)),
            (400, failed(FailureClass::Status(400), Some(400), None, 5)),
            (404, failed(FailureClass::Status(404), Some(404), None, 5)),
            (500, failed(FailureClass::Status(500), Some(500), None, 5)),
        ];
        for (status, expected) in cases {
            assert_eq!(from_status(status, None, now, 5), expected, "status {status}");
        }
    }

    #[test]
    fn retry_after_counts_on_429_and_503_only() {
        let now = SystemTime::now();
        let seven = Some(TimeDelta::seconds(7));
        let cases = [(429, seven), (503, seven), (500, None), (502, None), (410, None), (302, None), (200, None)];
        for (status, expected) in cases {
            let retry_after = match from_status(status, Some("7"), now, 1) {
                AttemptOutcome::Failed { retry_after, .. } => retry_after,
                _ => None,
            };
            assert_eq!(retry_after, expected, "status {status}");
        }
    }

    #[test]
    fn retry_after_reads_seconds_and_every_http_date_form() {
        // 2015-10-21 07:27:00 UTC.
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_420);
        let cases = [
            ("7", Some(TimeDelta::seconds(7)), "delay-seconds"),
            (" 0 ", Some(TimeDelta::zero()), "zero, padded"),
            ("Wed, 21 Oct 2015 07:28:00 GMT", Some(TimeDelta::seconds(60)), "IMF-fixdate"),
            ("Wednesday, 21-Oct-15 07:28:00 GMT", Some(TimeDelta::seconds(60)), "RFC 850 date"),
            ("Wed Oct 21 07:28:00 2015", Some(TimeDelta::seconds(60)), "asctime date"),
            ("Wed, 21 Oct 2015 07:26:00 GMT", None, "a date in the past"),
            ("99999999999999999999999", Some(RetryPolicy::CAP), "huge, capped"),
            ("86400", Some(RetryPolicy::CAP), "a day, capped at 10 hours"),
            ("-1", None, "negative"),
            ("1.5", None, "fractional"),
            ("soon", None, "garbage"),
            ("", None, "empty"),
        ];
        for (raw, expected, what) in cases {
            assert_eq!(parse_retry_after(raw, now), expected, "{what}: {raw:?}");
        }
    }
}
