//! Test doubles that make a use case fail the ways real adapters do.
//!
//! The port is implemented by hand in the form `#[async_trait]` gives it, so the crate needs no `async-trait`
//! dependency for its tests.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use tokio::sync::Notify;

use taskflow_application::domain::RepoError;
use taskflow_application::domain::ports::PasswordHasher;
use taskflow_application::domain::user::{Password, PasswordHash};

/// What an adapter's error would say internally: it goes to the log, never to a client.
pub const INTERNAL_MESSAGE: &str = "connection to 10.1.2.3:5432 refused at src/store.rs:42 (SELECT password_hash)";

/// How [`FailingPasswordHasher`] fails.
#[derive(Debug, Clone)]
pub enum Failure {
    /// [`RepoError::Unavailable`], as when password work is saturated.
    Unavailable,
    /// [`RepoError::Unexpected`], a bug or an unexpected state.
    Unexpected,
    /// A panic carrying [`INTERNAL_MESSAGE`].
    Panic,
    /// No answer ever, as a dependency that hangs; the `Notify` is told each time a call starts waiting.
    Hang(Arc<Notify>),
}

/// A password hasher that fails every call in one way; registering, logging in and changing a password reach it.
#[derive(Debug)]
pub struct FailingPasswordHasher(pub Failure);

type PortFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, RepoError>> + Send + 'a>>;

impl FailingPasswordHasher {
    fn fail<'a, T: Send + 'a>(&self) -> PortFuture<'a, T> {
        let failure = self.0.clone();
        Box::pin(async move {
            match failure {
                Failure::Unavailable => Err(RepoError::unavailable(INTERNAL_MESSAGE)),
                Failure::Unexpected => Err(RepoError::unexpected(INTERNAL_MESSAGE)),
                Failure::Panic => panic!("{INTERNAL_MESSAGE}"),
                Failure::Hang(started) => {
                    started.notify_one();
                    std::future::pending().await
                }
            }
        })
    }
}

impl PasswordHasher for FailingPasswordHasher {
    fn hash<'life0, 'life1, 'async_trait>(&'life0 self, _: &'life1 Password) -> PortFuture<'async_trait, PasswordHash>
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        Self: 'async_trait,
    {
        self.fail()
    }

    fn verify<'life0, 'life1, 'life2, 'async_trait>(
        &'life0 self,
        _: &'life1 Password,
        _: &'life2 PasswordHash,
    ) -> PortFuture<'async_trait, bool>
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        'life2: 'async_trait,
        Self: 'async_trait,
    {
        self.fail()
    }

    fn verify_dummy<'life0, 'life1, 'async_trait>(&'life0 self, _: &'life1 Password) -> PortFuture<'async_trait, ()>
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        Self: 'async_trait,
    {
        self.fail()
    }
}
