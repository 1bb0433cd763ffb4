//! The shared port contract suites, run unchanged against PostgreSQL (one fresh database per case).

use std::sync::Arc;

use taskflow_adapters_postgres::testing::{fresh_database, fresh_storage, test_settings};
use taskflow_adapters_postgres::{PgStorage, connect};
use taskflow_application::ports::IdempotencyStore;
use taskflow_contract_tests::breakers::BreakerHandles;
use taskflow_contract_tests::{QueuePorts, StoragePorts};

async fn storage_ports() -> StoragePorts {
    storage_of(&fresh_storage().await)
}

fn storage_of(s: &PgStorage) -> StoragePorts {
    StoragePorts {
        uow: Arc::new(s.clone()),
        tasks: Arc::new(s.clone()),
        users: Arc::new(s.clone()),
        outbox: Arc::new(s.clone()),
        events: Arc::new(s.clone()),
        refresh_tokens: Arc::new(s.clone()),
        tombstones: Arc::new(s.clone()),
    }
}

async fn queue_ports() -> QueuePorts {
    let s = fresh_storage().await;
    QueuePorts {
        storage: storage_of(&s),
        webhooks: Arc::new(s.clone()),
        deliveries: Arc::new(s.clone()),
        overdue: Arc::new(s.clone()),
        feed: Arc::new(s.clone()),
        job_lease: Arc::new(s),
    }
}

async fn idempotency_store() -> Arc<dyn IdempotencyStore> {
    Arc::new(fresh_storage().await)
}

/// Two pools on one fresh database stand for two instances; the database goes with the last of them.
async fn breakers() -> BreakerHandles {
    let (url, guard) = fresh_database().await;
    let guard = Arc::new(guard);
    let handle = |storage: PgStorage| -> Arc<dyn taskflow_application::breakers::BreakerStore> {
        Arc::new(storage.leasing(guard.clone()))
    };
    let settings = test_settings(&url);
    let (one, two) = match (connect(&settings).await, connect(&settings).await) {
        (Ok(one), Ok(two)) => (one, two),
        (Err(e), _) | (_, Err(e)) => panic!("cannot connect to the test database: {e:?}"),
    };
    BreakerHandles { one: handle(one), two: handle(two) }
}

taskflow_contract_tests::storage_contract_tests!(storage_ports);
taskflow_contract_tests::queue_contract_tests!(queue_ports);
taskflow_contract_tests::idempotency_contract_tests!(idempotency_store);
taskflow_contract_tests::breaker_store_contract_tests!(breakers);
