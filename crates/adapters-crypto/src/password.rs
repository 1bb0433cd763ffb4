//! Password hashing with Argon2id, run on tokio's blocking pool.

use std::fmt;
use std::sync::Arc;

use argon2::password_hash::phc::PasswordHash as PhcHash;
use argon2::{Algorithm, Argon2, Params, PasswordHasher as _, PasswordVerifier as _, Version};
use async_trait::async_trait;
use taskflow_domain::error::RepoError;
use taskflow_domain::ports::PasswordHasher;
use taskflow_domain::user::{Password, PasswordHash};

/// The password the dummy hash is made from; any value works, it is never compared with a real one.
const DUMMY_PASSWORD: &[u8] = b"taskflow-dummy-password-for-unknown-emails";
/// A fixed salt for the dummy hash: the dummy protects no secret, so it needs no randomness.
const DUMMY_SALT: &[u8] = b"taskflow-dummy-salt";

/// The most memory a stored hash may ask for at verification (1 GiB).
const MAX_VERIFY_MEMORY_KIB: u32 = 1 << 20;
/// The most iterations a stored hash may ask for at verification.
const MAX_VERIFY_ITERATIONS: u32 = 64;

/// Argon2 cost parameters that are not acceptable.
#[derive(Debug, thiserror::Error)]
#[error("invalid Argon2 parameters")]
pub struct InvalidArgon2Params(#[source] Box<dyn std::error::Error + Send + Sync>);

/// A [`PasswordHasher`] using Argon2id (version 0x13) with PHC-string output.
///
/// Hashing and verifying run in [`tokio::task::spawn_blocking`], inside the caller's tracing span, so they never
/// stall the async worker threads. Verification reads the cost parameters from the stored hash, so hashes made with
/// older parameters still verify after the defaults change.
#[derive(Clone)]
pub struct Argon2PasswordHasher {
    params: Params,
    /// A hash made with `params` at construction, verified by [`PasswordHasher::verify_dummy`].
    dummy: Arc<str>,
}

impl Argon2PasswordHasher {
    /// The OWASP-recommended Argon2id cost: 19 MiB of memory, 2 iterations, 1 lane.
    pub const OWASP_MEMORY_KIB: u32 = 19_456;
    /// See [`Self::OWASP_MEMORY_KIB`].
    pub const OWASP_ITERATIONS: u32 = 2;
    /// See [`Self::OWASP_MEMORY_KIB`].
    pub const OWASP_PARALLELISM: u32 = 1;

    /// A hasher with the OWASP-recommended parameters (m = 19456 KiB, t = 2, p = 1), for production.
    ///
    /// Computes the dummy hash once, which takes as long as one login.
    ///
    /// # Panics
    /// Never in practice: the parameters are constants known to be valid.
    #[must_use]
    pub fn new() -> Self {
        Self::with_params(Self::OWASP_MEMORY_KIB, Self::OWASP_ITERATIONS, Self::OWASP_PARALLELISM)
            .expect("the OWASP Argon2 parameters are valid")
    }

    /// A hasher with custom costs: `memory_kib` KiB of memory, `iterations` passes, `parallelism` lanes.
    ///
    /// # Errors
    /// [`InvalidArgon2Params`] when a cost is out of Argon2's range (for example memory below 8 KiB per lane), or
    /// above what verification accepts (1 GiB of memory, 64 iterations).
    pub fn with_params(memory_kib: u32, iterations: u32, parallelism: u32) -> Result<Self, InvalidArgon2Params> {
        if memory_kib > MAX_VERIFY_MEMORY_KIB || iterations > MAX_VERIFY_ITERATIONS {
            return Err(InvalidArgon2Params("costs above what verification accepts".into()));
        }
        let params =
            Params::new(memory_kib, iterations, parallelism, None).map_err(|e| InvalidArgon2Params(e.into()))?;
        let dummy = argon2(&params)
            .hash_password_with_salt(DUMMY_PASSWORD, DUMMY_SALT)
            .map_err(|e| InvalidArgon2Params(e.into()))?
            .to_string();
        Ok(Self { params, dummy: dummy.into() })
    }

    /// A hasher with the smallest costs Argon2 allows (8 KiB, 1 iteration, 1 lane): fast, and **insecure**.
    /// For tests only.
    ///
    /// # Panics
    /// Never in practice: the parameters are constants known to be valid.
    #[must_use]
    pub fn insecure_fast() -> Self {
        Self::with_params(Params::MIN_M_COST, Params::MIN_T_COST, Params::MIN_P_COST)
            .expect("the minimal Argon2 parameters are valid")
    }

    /// Runs `work` on the blocking pool inside the current tracing span.
    async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, RepoError> {
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || span.in_scope(work)).await.map_err(RepoError::unexpected)
    }
}

impl Default for Argon2PasswordHasher {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Argon2PasswordHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Argon2PasswordHasher")
            .field("memory_kib", &self.params.m_cost())
            .field("iterations", &self.params.t_cost())
            .field("parallelism", &self.params.p_cost())
            .finish_non_exhaustive()
    }
}

fn argon2(params: &Params) -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
}

/// Checks `password` against the PHC string `phc`: `Ok(false)` on a mismatch, an error when `phc` is unusable.
///
/// Costs above [`MAX_VERIFY_MEMORY_KIB`] or [`MAX_VERIFY_ITERATIONS`] are refused before any work, so a corrupt
/// stored hash cannot make the process allocate unbounded memory (which would abort, not panic) or spin for minutes.
fn verify_phc(params: &Params, password: &[u8], phc: &str) -> Result<bool, RepoError> {
    let parsed = PhcHash::new(phc).map_err(RepoError::unexpected)?;
    let stored = Params::try_from(&parsed).map_err(RepoError::unexpected)?;
    if stored.m_cost() > MAX_VERIFY_MEMORY_KIB || stored.t_cost() > MAX_VERIFY_ITERATIONS {
        return Err(RepoError::unexpected("the stored password hash asks for unreasonable Argon2 costs"));
    }
    match argon2(params).verify_password(password, &parsed) {
        Ok(()) => Ok(true),
        Err(argon2::password_hash::Error::PasswordInvalid) => Ok(false),
        Err(other) => Err(RepoError::unexpected(other)),
    }
}

#[async_trait]
impl PasswordHasher for Argon2PasswordHasher {
    async fn hash(&self, password: &Password) -> Result<PasswordHash, RepoError> {
        let (params, password) = (self.params.clone(), password.clone());
        let phc = Self::blocking(move || argon2(&params).hash_password(password.expose().as_bytes())).await?;
        Ok(PasswordHash::from_phc(phc.map_err(RepoError::unexpected)?.to_string()))
    }

    async fn verify(&self, password: &Password, hash: &PasswordHash) -> Result<bool, RepoError> {
        let (params, password, phc) = (self.params.clone(), password.clone(), hash.as_phc().to_owned());
        Self::blocking(move || verify_phc(&params, password.expose().as_bytes(), &phc)).await?
    }

    async fn verify_dummy(&self, password: &Password) {
        let (params, password, dummy) = (self.params.clone(), password.clone(), Arc::clone(&self.dummy));
        // The outcome is irrelevant: only the time spent matters.
        let _ = Self::blocking(move || verify_phc(&params, password.expose().as_bytes(), &dummy)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dummy_hash_uses_the_configured_parameters() {
        let hasher = Argon2PasswordHasher::with_params(64, 1, 1).unwrap();
        assert!(hasher.dummy.starts_with("$argon2id$v=19$m=64,t=1,p=1$"), "{}", hasher.dummy);
    }

    #[test]
    fn invalid_parameters_are_refused() {
        assert!(Argon2PasswordHasher::with_params(1, 1, 1).is_err());
        assert!(Argon2PasswordHasher::with_params(64, 0, 1).is_err());
        assert!(Argon2PasswordHasher::with_params(64, 1, 0).is_err());
        assert!(Argon2PasswordHasher::with_params(MAX_VERIFY_MEMORY_KIB + 1, 1, 1).is_err());
        assert!(Argon2PasswordHasher::with_params(64, MAX_VERIFY_ITERATIONS + 1, 1).is_err());
    }

    #[test]
    fn a_stored_hash_asking_for_absurd_costs_is_refused_before_hashing() {
        let params = Params::new(8, 1, 1, None).unwrap();
        let real = argon2(&params).hash_password_with_salt(b"password", b"saltsaltsalt").unwrap().to_string();
        assert!(verify_phc(&params, b"password", &real).unwrap());
        for absurd in ["m=4294967295,t=1,p=1", "m=8,t=4294967295,p=1"] {
            let stored = real.replace("m=8,t=1,p=1", absurd);
            assert!(matches!(verify_phc(&params, b"password", &stored), Err(RepoError::Unexpected(_))), "{absurd}");
        }
    }

    #[test]
    fn debug_shows_the_costs_but_not_the_dummy_hash() {
        let shown = format!("{:?}", Argon2PasswordHasher::insecure_fast());
        assert!(shown.contains("memory_kib: 8"), "{shown}");
        assert!(!shown.contains("argon2id"), "{shown}");
    }
}
