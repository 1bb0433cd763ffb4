//! The shared port contracts, run against the in-memory adapters.

use std::sync::Arc;

use taskflow_adapters_memory::{InMemoryBreakers, InMemoryCacheStore, InMemoryRateLimiter, InMemoryStore};
use taskflow_application::ports::{CacheStore, IdempotencyStore, RateLimiter};
use taskflow_contract_tests::breakers::BreakerHandles;
use taskflow_contract_tests::{QueuePorts, StoragePorts};

async fn fresh_storage() -> StoragePorts {
    storage_of(&InMemoryStore::new())
}

fn storage_of(store: &InMemoryStore) -> StoragePorts {
    StoragePorts {
        uow: Arc::new(store.clone()),
        tasks: Arc::new(store.clone()),
        users: Arc::new(store.clone()),
        outbox: Arc::new(store.clone()),
        events: Arc::new(store.clone()),
        refresh_tokens: Arc::new(store.clone()),
        tombstones: Arc::new(store.clone()),
    }
}

async fn fresh_queue() -> QueuePorts {
    let store = InMemoryStore::new();
    QueuePorts {
        storage: storage_of(&store),
        webhooks: Arc::new(store.clone()),
        deliveries: Arc::new(store.clone()),
        overdue: Arc::new(store.clone()),
        feed: Arc::new(store.clone()),
        job_lease: Arc::new(store),
    }
}

async fn fresh_rate_limiter() -> Arc<dyn RateLimiter> {
    Arc::new(InMemoryRateLimiter::new())
}

async fn fresh_idempotency_store() -> Arc<dyn IdempotencyStore> {
    Arc::new(InMemoryStore::new())
}

async fn fresh_cache() -> Arc<dyn CacheStore> {
    Arc::new(InMemoryCacheStore::new())
}

/// Two clones of one store stand for two instances sharing it.
async fn fresh_breakers() -> BreakerHandles {
    let breakers = InMemoryBreakers::new();
    BreakerHandles { one: Arc::new(breakers.clone()), two: Arc::new(breakers) }
}

taskflow_contract_tests::storage_contract_tests!(fresh_storage);
taskflow_contract_tests::queue_contract_tests!(fresh_queue);
taskflow_contract_tests::rate_limiter_contract_tests!(fresh_rate_limiter);
taskflow_contract_tests::idempotency_contract_tests!(fresh_idempotency_store);
taskflow_contract_tests::cache_contract_tests!(fresh_cache);
taskflow_contract_tests::breaker_store_contract_tests!(fresh_breakers);
