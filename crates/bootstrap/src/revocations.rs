//! Keeps this instance's set of deleted users ([`RevokedUsers`](taskflow_application::auth::RevokedUsers)) in
//! step with the stored tombstones, so that a deletion made on another instance is refused here within one
//! [`PERIOD`] (ADR 0007).

use std::time::Duration;

use taskflow_application::Deps;
use tokio_util::sync::CancellationToken;

/// How often the tombstones are read: one small indexed query per period and instance, none per request.
pub const PERIOD: Duration = Duration::from_secs(2);

/// How many periods pass between two prunings of old tombstones (about five minutes).
const PRUNE_EVERY: u32 = 150;

/// Refreshes `deps.revoked_users` every [`PERIOD`] and prunes old tombstones now and then, until `stop`.
/// Failures are logged and retried at the next period; the set keeps what it had meanwhile.
pub async fn run(deps: Deps, stop: CancellationToken) {
    let revoked = deps.revoked_users;
    let mut round: u32 = 0;
    loop {
        round = round.wrapping_add(1);
        let now = deps.clock.now();
        match revoked.refresh(now).await {
            Ok(held) => tracing::trace!(held, "revoked users refreshed"),
            Err(err) => tracing::warn!(error = %err, "reading the tombstones of deleted users failed; retrying"),
        }
        if round.is_multiple_of(PRUNE_EVERY) {
            match revoked.prune_stored(now).await {
                Ok(pruned) => tracing::debug!(pruned, "old tombstones of deleted users pruned"),
                Err(err) => tracing::warn!(error = %err, "pruning the tombstones of deleted users failed"),
            }
        }
        tokio::select! {
            () = stop.cancelled() => break,
            () = tokio::time::sleep(PERIOD) => {}
        }
    }
}
