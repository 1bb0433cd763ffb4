//! The shared port contract suites, run unchanged against PostgreSQL (one fresh database per case).

use std::sync::Arc;

use taskflow_adapters_postgres::testing::fresh_storage;
use taskflow_application::ports::IdempotencyStore;
use taskflow_contract_tests::StoragePorts;

async fn storage_ports() -> StoragePorts {
    let s = fresh_storage().await;
    StoragePorts {
        uow: Arc::new(s.clone()),
        tasks: Arc::new(s.clone()),
        users: Arc::new(s.clone()),
        outbox: Arc::new(s.clone()),
        refresh_tokens: Arc::new(s.clone()),
        tombstones: Arc::new(s),
    }
}

async fn idempotency_store() -> Arc<dyn IdempotencyStore> {
    Arc::new(fresh_storage().await)
}

taskflow_contract_tests::storage_contract_tests!(storage_ports);
taskflow_contract_tests::idempotency_contract_tests!(idempotency_store);
