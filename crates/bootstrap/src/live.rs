//! The live event hub's loop: start it where the feed stands, then read what is published whenever the feed signals
//! (and every second regardless, in case a signal was lost), end streams whose token expired or whose user was
//! deleted, and close every stream when the instance stops.

use std::sync::Arc;
use std::time::Duration;

use taskflow_application::events::LiveEvents;
use taskflow_application::ports::WorkSignal;
use taskflow_domain::ports::Clock;
use tokio_util::sync::CancellationToken;

use crate::worker::backoff;

/// How often the hub reads the feed without a signal, and ends expired streams.
const TICK: Duration = Duration::from_secs(1);

/// Runs the hub until `stop`, then closes its streams.
pub async fn run(hub: Arc<LiveEvents>, signal: Arc<dyn WorkSignal>, clock: Arc<dyn Clock>, stop: CancellationToken) {
    let mut failures = 0;
    loop {
        match hub.start().await {
            Ok(()) => break,
            Err(err) => {
                failures += 1;
                tracing::warn!(error = %err, "live events: cannot read the feed's head; retrying");
                tokio::select! {
                    () = stop.cancelled() => return hub.close(),
                    () = tokio::time::sleep(backoff(failures)) => {}
                }
            }
        }
    }
    let mut failures = 0;
    let mut next_sweep = tokio::time::Instant::now() + TICK;
    loop {
        // Listen before reading, so that a publication during the read wakes the next round.
        let woken = signal.wait();
        let wait = match hub.poll().await {
            Ok(_) => {
                failures = 0;
                TICK
            }
            Err(err) => {
                failures += 1;
                tracing::warn!(error = %err, "live events: reading the feed failed; retrying");
                backoff(failures)
            }
        };
        if tokio::time::Instant::now() >= next_sweep {
            hub.sweep(clock.now());
            next_sweep = tokio::time::Instant::now() + TICK;
        }
        tokio::select! {
            () = stop.cancelled() => break,
            () = woken => {}
            () = tokio::time::sleep(wait.min(next_sweep.saturating_duration_since(tokio::time::Instant::now()))) => {}
        }
    }
    hub.close();
}
