//! Cryptography adapters for TaskFlow: the [`PasswordHasher`](taskflow_domain::ports::PasswordHasher) and
//! [`TokenIssuer`](taskflow_domain::ports::TokenIssuer) ports.
//!
//! - [`Argon2PasswordHasher`]: Argon2id with the OWASP parameters, off the async threads.
//! - [`PasetoTokenIssuer`]: PASETO v4.local access tokens, and refresh-token secrets (256 random bits, stored as
//!   their SHA-256).

mod password;
mod random;
mod refresh;
mod token;

pub use password::{Argon2PasswordHasher, InvalidArgon2Params, PasswordWorkLimits, PasswordWorkSaturated};
pub use token::{AUDIENCE, ISSUER, KEY_LEN, KeyError, PasetoTokenIssuer};
