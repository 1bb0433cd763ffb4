//! The suite macros: each expands into one `#[tokio::test]` per case at the call site.

/// Expands into one multi-threaded `#[tokio::test]` per named case of `$module`, each calling
/// `$crate::$module::$case($factory().await)`.
#[doc(hidden)]
#[macro_export]
macro_rules! __contract_cases {
    ($factory:path, $module:ident, [$($case:ident),* $(,)?]) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $case() {
                $crate::$module::$case($factory().await).await;
            }
        )*
    };
}

/// The storage contract (`UnitOfWork`, read models, outbox, refresh tokens, user tombstones).
///
/// `$factory` is a path to an `async fn() -> StoragePorts` that returns fresh, empty storage on every call.
#[macro_export]
macro_rules! storage_contract_tests {
    ($factory:path) => {
        $crate::__storage_cases!($factory);
        $crate::__refresh_token_cases!($factory);
        $crate::__tombstone_cases!($factory);
    };
}

/// The rate-limiter contract. `$factory` is a path to an `async fn() -> Arc<dyn RateLimiter>` whose keys are
/// fresh on every call.
#[macro_export]
macro_rules! rate_limiter_contract_tests {
    ($factory:path) => {
        $crate::__rate_limiter_cases!($factory);
    };
}

/// The idempotency-store contract. `$factory` is a path to an `async fn() -> Arc<dyn IdempotencyStore>` whose
/// keys are fresh on every call.
#[macro_export]
macro_rules! idempotency_contract_tests {
    ($factory:path) => {
        $crate::__idempotency_cases!($factory);
    };
}

/// The cache contract. `$factory` is a path to an `async fn() -> Arc<dyn CacheStore>` whose keys are fresh on
/// every call.
#[macro_export]
macro_rules! cache_contract_tests {
    ($factory:path) => {
        $crate::__cache_cases!($factory);
    };
}

/// The webhook, delivery-queue, overdue-scan and job-lease contracts.
///
/// `$factory` is a path to an `async fn() -> QueuePorts` that returns fresh, empty storage on every call.
#[macro_export]
macro_rules! queue_contract_tests {
    ($factory:path) => {
        $crate::__webhook_cases!($factory);
        $crate::__delivery_cases!($factory);
        $crate::__overdue_cases!($factory);
        $crate::__job_lease_cases!($factory);
        $crate::__feed_cases!($factory);
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __feed_cases {
    ($factory:path) => {
        $crate::__contract_cases!(
            $factory,
            feed,
            [
                events_join_the_feed_when_relayed_in_log_order,
                the_feed_is_read_by_range_owner_and_limit,
                concurrent_relays_publish_each_event_once_in_commit_order_per_task,
            ]
        );
    };
}
