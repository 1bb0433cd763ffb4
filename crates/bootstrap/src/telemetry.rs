//! One tracing subscriber factory: `RUST_LOG` filter, JSON or pretty output, colour only on a terminal.

use std::io::IsTerminal as _;

use tracing::Subscriber;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::fmt::format::FmtSpan;
use tracing_subscriber::util::SubscriberInitExt as _;

use crate::config::LogFormat;

/// Installs the global subscriber, writing to stdout, with ANSI colour codes only when stdout is a terminal (so
/// files, pipes and log collectors get plain text), and the Prometheus recorder with every metric's description.
/// Safe to call more than once (later calls are ignored), so tests can call it. `filter` has been validated with
/// the configuration (`RUST_LOG`).
pub fn init(filter: &str, format: LogFormat) {
    let _ = subscriber(filter, format, std::io::stdout().is_terminal(), std::io::stdout).try_init();
    // Installed before any adapter is built, so figures recorded while connecting (the Redis breaker's first
    // state) are not lost to the no-op recorder.
    let _ = taskflow_adapters_http::observability::prometheus_handle();
}

/// The subscriber [`init`] installs, writing to `writer`, with colour codes when `ansi` (pretty format only:
/// JSON never has them).
pub fn subscriber<W>(filter: &str, format: LogFormat, ansi: bool, writer: W) -> Box<dyn Subscriber + Send + Sync>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    // Config validation refuses a bad RUST_LOG before we get here; the fallback only serves other callers.
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_span_events(FmtSpan::NONE).with_writer(writer);
    match format {
        LogFormat::Json => {
            Box::new(builder.json().flatten_event(true).with_current_span(true).with_ansi(false).finish())
        }
        LogFormat::Pretty => Box::new(builder.compact().with_ansi(ansi).finish()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_log::Sink;

    fn log_one_line(format: LogFormat, ansi: bool) -> String {
        let sink = Sink::default();
        tracing::subscriber::with_default(subscriber("info", format, ansi, sink.clone()), || {
            tracing::warn!(status = 200_u16, latency_ms = 1.5_f64, "request");
        });
        String::from_utf8(sink.0.lock().unwrap().clone()).unwrap()
    }

    #[test]
    fn no_colour_codes_when_not_on_a_terminal() {
        let plain = log_one_line(LogFormat::Pretty, false);
        assert!(plain.contains("WARN") && plain.contains("request"), "{plain}");
        assert!(!plain.contains('\u{1b}'), "colour codes in plain output: {plain:?}");
        // The same line on a terminal is coloured, so the check above is meaningful.
        assert!(log_one_line(LogFormat::Pretty, true).contains('\u{1b}'));
    }

    #[test]
    fn json_lines_have_numbers_as_numbers_and_no_colour() {
        let line = log_one_line(LogFormat::Json, true);
        assert!(!line.contains('\u{1b}'), "{line:?}");
        let value: serde_json::Value = serde_json::from_str(line.trim()).unwrap();
        assert_eq!(value["status"], 200, "{value}");
        assert_eq!(value["latency_ms"], 1.5, "{value}");
        assert_eq!(value["level"], "WARN", "{value}");
    }
}
