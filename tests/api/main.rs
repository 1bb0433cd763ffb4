//! End-to-end tests: the real `taskflow` application on a real socket, on the in-memory store and on
//! PostgreSQL (with Redis). Every case is one `async fn case(backend: Backend)`, run once per backend as
//! `<case>::memory` and `<case>::postgres`.

/// Runs `case` (an `async fn(Backend)` in scope) on both backends, as `case::memory` and `case::postgres`.
macro_rules! on_both_backends {
    ($case:ident) => {
        mod $case {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn memory() {
                super::$case(crate::helpers::Backend::Memory).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$case(crate::helpers::Backend::Postgres).await;
            }
        }
    };
}

mod auth;
mod deleted_users;
mod errors;
mod events;
mod hardening;
mod helpers;
mod history;
mod idempotency;
mod operations;
mod rate_limit;
mod receiver;
mod regressions;
mod task_batch;
mod task_listing;
mod tasks;
mod users;
mod webhooks;
mod worker_shutdown;
