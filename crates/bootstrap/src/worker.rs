//! Background jobs. Today: the outbox relay, which takes committed domain events from the outbox in order and
//! publishes them (to the log and the `events_published_total` metric) before marking them dispatched. Webhook
//! delivery subscribes here when it lands; nothing is marked dispatched before it was handed on.

use std::sync::Arc;
use std::time::Duration;

use taskflow_domain::ports::OutboxReader;
use tokio_util::sync::CancellationToken;

/// How many events one relay round takes.
const BATCH: usize = 500;

/// Runs the relay until `stop` is cancelled. Storage errors are logged and retried with backoff, never fatal.
pub async fn run(outbox: Arc<dyn OutboxReader>, stop: CancellationToken) {
    tracing::info!("background worker started");
    let mut idle = Duration::from_millis(200);
    loop {
        let wait = match relay_once(outbox.as_ref()).await {
            Ok(0) => idle,
            Ok(_) => Duration::ZERO,
            Err(err) => {
                tracing::warn!(error = %err, "outbox relay failed; retrying");
                idle = (idle * 2).min(Duration::from_secs(10));
                idle
            }
        };
        tokio::select! {
            () = stop.cancelled() => break,
            () = tokio::time::sleep(wait) => {}
        }
    }
    tracing::info!("background worker stopped");
}

/// One round: returns how many events were relayed.
///
/// # Errors
/// When the outbox cannot be read or updated.
pub async fn relay_once(outbox: &dyn OutboxReader) -> Result<usize, taskflow_domain::RepoError> {
    let events = outbox.pending(BATCH).await?;
    if events.is_empty() {
        return Ok(0);
    }
    for event in &events {
        tracing::debug!(event_id = %event.id, kind = event.kind.as_str(), task_id = %event.task.id(), "event published");
        metrics::counter!("events_published_total", "kind" => event.kind.as_str()).increment(1);
    }
    let ids: Vec<_> = events.iter().map(|e| e.id).collect();
    outbox.mark_dispatched(&ids).await?;
    Ok(ids.len())
}
