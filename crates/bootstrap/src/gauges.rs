//! Periodic gauges for `/metrics` that nothing else records as it happens: the database pool's occupancy.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::backends::Storage;

/// How often the gauges are refreshed.
const PERIOD: Duration = Duration::from_secs(5);

/// Records `db_pool_connections{state="idle"|"in_use"}` and `db_pool_max_connections` until `stop`.
pub async fn run(storage: Storage, max_connections: u32, stop: CancellationToken) {
    let Storage::Postgres(pg) = storage else { return };
    metrics::gauge!("db_pool_max_connections").set(f64::from(max_connections));
    loop {
        let (size, idle) = pg.connections();
        let idle = u32::try_from(idle).unwrap_or(u32::MAX);
        metrics::gauge!("db_pool_connections", "state" => "idle").set(f64::from(idle));
        metrics::gauge!("db_pool_connections", "state" => "in_use").set(f64::from(size.saturating_sub(idle)));
        tokio::select! {
            () = stop.cancelled() => break,
            () = tokio::time::sleep(PERIOD) => {}
        }
    }
}
