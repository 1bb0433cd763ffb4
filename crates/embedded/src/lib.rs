//! TaskFlow in process: every use case over the in-memory adapters, in one call.
//!
//! For Rust programs that embed TaskFlow's task service (no HTTP, no database, no Redis) and for test harnesses
//! that want the real use cases over fakes they control. [`in_memory`] is the whole application;
//! [`in_memory_deps`] is the same wiring as a [`DepsBuilder`], so that a harness swaps one port (a clock, a unit of
//! work, a hasher) and keeps every other. The use cases are those of [`application`] (read its crate docs for the
//! guarantees), the rules those of [`domain`].
//!
//! # Twenty lines
//!
#![doc = concat!("```\n", include_str!("../examples/quickstart.rs"), "```")]
//!
//! (`examples/quickstart.rs`: `cargo run -p taskflow-embedded --example quickstart`.)
//!
//! # Swapping one port
//!
//! ```
//! use std::sync::Arc;
//! use taskflow_embedded::application::clock::ManualClock;
//! use taskflow_embedded::chrono::{TimeDelta, TimeZone, Utc};
//! use taskflow_embedded::{App, InMemoryStore};
//!
//! let start = Utc.with_ymd_and_hms(2026, 11, 30, 9, 0, 0).unwrap();
//! let clock = Arc::new(ManualClock::new(start));
//! // The store reads the same clock for its own expiries.
//! let store = InMemoryStore::with_clock(clock.clone());
//! let app: App = taskflow_embedded::in_memory_deps(&store).clock(clock.clone()).build_app().unwrap();
//! clock.advance(TimeDelta::days(1));
//! assert_eq!(app.deps.clock.now(), start + TimeDelta::days(1));
//! ```
//!
//! # Features
//!
//! `crypto` (on by default) brings Argon2id password hashing and PASETO access tokens
//! (`taskflow-adapters-crypto`), which registering and logging in need. Without it (`default-features = false`)
//! neither is compiled and the wiring has [`application::auth::NoCredentials`] instead: nobody registers or logs
//! in, and a program that authenticates its users itself provisions their accounts and acts as them. Or it gives
//! [`DepsBuilder::hasher`] and [`DepsBuilder::tokens`] adapters of its own.
//!
//! ```
//! use std::sync::Arc;
//! use taskflow_embedded::application::tasks::CreateTask;
//! use taskflow_embedded::application::users::NewAccount;
//! use taskflow_embedded::domain::policy::Actor;
//! use taskflow_embedded::domain::user::{EmailAddress, Role, UserName};
//! use taskflow_embedded::{Deps, InMemoryStore};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // What `in_memory()` is without the `crypto` feature.
//! let app = Deps::builder().store(Arc::new(InMemoryStore::new())).build_app()?;
//! let (email, name) = (EmailAddress::parse("ada@example.com")?, UserName::parse("Ada")?);
//! let account = NewAccount { email, name, role: Role::User };
//! let ada = Actor::of(&app.users.provision_user(account).await?);
//! app.tasks.create_task(ada, CreateTask::titled("Owned without a password")?).await?;
//! # Ok(())
//! # }
//! ```
//!
//! # Build profile
//!
//! Passwords are hashed with Argon2id at production cost, which takes about a second per hash in an unoptimised
//! build. Cargo applies only the profile of the top-level workspace, so an embedder adds to its own `Cargo.toml`:
//!
//! ```toml
//! [profile.dev.package.argon2]
//! opt-level = 3
//! [profile.dev.package.blake2]
//! opt-level = 3
//! ```
//!
//! Tests that register many users can swap in a cheap hasher instead:
//! `in_memory_deps(&store).hasher(Arc::new(crypto::Argon2PasswordHasher::insecure_fast()))`.

use std::sync::Arc;

/// The Argon2id password hasher and the PASETO token issuer.
#[cfg(feature = "crypto")]
pub use taskflow_adapters_crypto as crypto;
/// The in-memory adapters: [`InMemoryStore`] and the in-process rate limiter, cache and breakers.
pub use taskflow_adapters_memory as memory;
/// The use cases, their ports and [`App`].
pub use taskflow_application as application;
/// The rules, values and ports.
pub use taskflow_domain as domain;

pub use taskflow_adapters_memory::InMemoryStore;
pub use taskflow_application::{App, AppError, Deps, DepsBuilder, MissingPort};
pub use taskflow_domain::{async_trait, chrono, uuid};

/// Every use case over a new, empty in-memory store: Argon2id at production cost, PASETO access tokens with a key
/// made for this process (without the `crypto` feature: [`application::auth::NoCredentials`]), the system clock
/// and UUIDv7 ids, the service's token lifetimes. Webhooks are kept but not sent (no delivery worker runs in
/// process).
#[must_use]
pub fn in_memory() -> App {
    in_memory_deps(&InMemoryStore::new()).build_app().expect("the in-memory wiring sets every port")
}

/// The wiring of [`in_memory`] over `store`, as a builder: every storage port from the store, the receivers'
/// breakers in process (`InMemoryBreakers`, for an embedder that runs a delivery worker over these ports), and with
/// the `crypto` feature the hasher and the token issuer. Set any port to replace it, then
/// [`DepsBuilder::build_app`] (or [`DepsBuilder::build`] for the bare [`Deps`]).
///
/// The store keeps its own clock for idempotency-key expiries: give it the same clock
/// ([`InMemoryStore::with_clock`]) when swapping the clock.
pub fn in_memory_deps(store: &InMemoryStore) -> DepsBuilder {
    let builder = Deps::builder()
        .store(Arc::new(store.clone()))
        .webhook_breakers(Arc::new(taskflow_adapters_memory::InMemoryBreakers::new()));
    #[cfg(feature = "crypto")]
    let builder = builder
        .hasher(Arc::new(crypto::Argon2PasswordHasher::new()))
        .tokens(Arc::new(crypto::PasetoTokenIssuer::ephemeral()));
    builder
}
