//! Password hashing with Argon2id on a bounded set of workers that reuse their memory.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash as PhcHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use async_trait::async_trait;
use rand::RngCore as _;
use taskflow_domain::error::RepoError;
use taskflow_domain::ports::PasswordHasher;
use taskflow_domain::user::{Password, PasswordHash};
use tokio::sync::Semaphore;

/// The password the dummy hash is made from; any value works, it is never compared with a real one.
const DUMMY_PASSWORD: &[u8] = b"taskflow-dummy-password-for-unknown-emails";
/// A fixed salt for the dummy hash: the dummy protects no secret, so it needs no randomness.
const DUMMY_SALT: &[u8] = b"taskflow-dummy-salt";
/// Bytes of random salt in each new hash.
const SALT_LEN: usize = 16;

/// The most memory a stored hash may ask for at verification (1 GiB).
const MAX_VERIFY_MEMORY_KIB: u32 = 1 << 20;
/// The most iterations a stored hash may ask for at verification.
const MAX_VERIFY_ITERATIONS: u32 = 64;

/// Argon2 cost parameters that are not acceptable.
#[derive(Debug, thiserror::Error)]
#[error("invalid Argon2 parameters")]
pub struct InvalidArgon2Params(#[source] Box<dyn std::error::Error + Send + Sync>);

/// Every password worker is busy and the waiting line is full: the caller should retry later (503).
#[derive(Debug, thiserror::Error)]
#[error("password hashing is saturated: {running} running and {waiting} waiting")]
pub struct PasswordWorkSaturated {
    running: usize,
    waiting: usize,
}

/// How much password work may run and wait at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordWorkLimits {
    /// Hashes computed at the same time, each with its own reused work area (default: the number of cores).
    pub concurrency: usize,
    /// Callers allowed to wait for a worker; one more is refused at once (default: 8 per worker).
    pub queue: usize,
}

impl Default for PasswordWorkLimits {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
        Self { concurrency: cores, queue: 8 * cores }
    }
}

/// The workers: a semaphore for concurrency, a count of admitted callers for the queue, and the work areas.
struct Workers {
    limits: PasswordWorkLimits,
    running: Semaphore,
    admitted: AtomicUsize,
    /// Work areas not in use, each `retained_blocks` long; at most `limits.concurrency` ever exist.
    areas: Mutex<Vec<Vec<Block>>>,
    retained_blocks: usize,
    areas_allocated: AtomicUsize,
}

/// A caller counted against the queue bound until dropped (done, or cancelled while waiting).
struct Admission<'a>(&'a AtomicUsize);

impl Drop for Admission<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Workers {
    fn admit(&self) -> Result<Admission<'_>, RepoError> {
        let bound = self.limits.concurrency + self.limits.queue;
        let before = self.admitted.fetch_add(1, Ordering::AcqRel);
        let admission = Admission(&self.admitted);
        if before >= bound {
            metrics::counter!("password_work_refused_total").increment(1);
            let running = self.limits.concurrency - self.running.available_permits();
            return Err(RepoError::unavailable(PasswordWorkSaturated { running, waiting: before - running }));
        }
        Ok(admission)
    }

    fn take_area(&self) -> Vec<Block> {
        let reused = self.areas.lock().unwrap_or_else(PoisonError::into_inner).pop();
        reused.unwrap_or_else(|| {
            self.areas_allocated.fetch_add(1, Ordering::Relaxed);
            vec![Block::default(); self.retained_blocks]
        })
    }

    fn put_back(&self, area: Vec<Block>) {
        self.areas.lock().unwrap_or_else(PoisonError::into_inner).push(area);
    }
}

/// A [`PasswordHasher`] using Argon2id (version 0x13) with PHC-string output.
///
/// At most [`PasswordWorkLimits::concurrency`] hashes run at once, on tokio's blocking pool inside the caller's
/// tracing span, each in a work area that is kept and reused (Argon2 hashes into a caller's memory), so resident
/// memory stays at about `concurrency` × the memory cost however many logins arrive. Up to
/// [`PasswordWorkLimits::queue`] callers wait for a worker; the next one gets [`RepoError::Unavailable`] at once
/// (503 with `Retry-After` at the edge). Verification reads the cost parameters from the stored hash, so hashes made
/// with older parameters still verify after the defaults change.
#[derive(Clone)]
pub struct Argon2PasswordHasher {
    params: Params,
    /// A hash made with `params` at construction, verified by [`PasswordHasher::verify_dummy`].
    dummy: Arc<str>,
    workers: Arc<Workers>,
}

impl Argon2PasswordHasher {
    /// The OWASP-recommended Argon2id cost: 19 MiB of memory, 2 iterations, 1 lane.
    pub const OWASP_MEMORY_KIB: u32 = 19_456;
    /// See [`Self::OWASP_MEMORY_KIB`].
    pub const OWASP_ITERATIONS: u32 = 2;
    /// See [`Self::OWASP_MEMORY_KIB`].
    pub const OWASP_PARALLELISM: u32 = 1;

    /// A hasher with the OWASP-recommended parameters (m = 19456 KiB, t = 2, p = 1) and the default limits, for
    /// production.
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
        let mut area = vec![Block::default(); params.block_count()];
        let dummy = hash_with_salt(&params, DUMMY_PASSWORD, DUMMY_SALT, &mut area)
            .map_err(|e| InvalidArgon2Params(e.into()))?;
        let workers = Workers {
            limits: PasswordWorkLimits::default(),
            running: Semaphore::new(PasswordWorkLimits::default().concurrency),
            admitted: AtomicUsize::new(0),
            areas: Mutex::new(vec![area]),
            retained_blocks: params.block_count(),
            areas_allocated: AtomicUsize::new(1),
        };
        Ok(Self { params, dummy: dummy.into(), workers: Arc::new(workers) })
    }

    /// The same hasher with other limits on concurrent and waiting work.
    ///
    /// # Panics
    /// When `limits.concurrency` is 0.
    #[must_use]
    pub fn with_limits(self, limits: PasswordWorkLimits) -> Self {
        assert!(limits.concurrency > 0, "password work needs at least one worker");
        let workers = Workers {
            limits,
            running: Semaphore::new(limits.concurrency),
            admitted: AtomicUsize::new(0),
            areas: Mutex::new(Vec::new()),
            retained_blocks: self.workers.retained_blocks,
            areas_allocated: AtomicUsize::new(0),
        };
        Self { workers: Arc::new(workers), ..self }
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

    /// How many work areas were ever allocated (never more than the concurrency, plus the one made at start).
    #[must_use]
    pub fn work_areas_allocated(&self) -> usize {
        self.workers.areas_allocated.load(Ordering::Relaxed)
    }

    /// Runs `work` with a work area on a worker, inside the current tracing span, if the queue admits the caller.
    async fn on_worker<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Vec<Block>) -> T + Send + 'static,
    ) -> Result<T, RepoError> {
        let _admission = self.workers.admit()?;
        let permit = self.workers.running.acquire().await.map_err(RepoError::unexpected)?;
        permit.forget();
        let (workers, span) = (Arc::clone(&self.workers), tracing::Span::current());
        tokio::task::spawn_blocking(move || {
            // The worker's slot and area come back even if the caller has gone meanwhile.
            let mut area = workers.take_area();
            let done = span.in_scope(|| work(&mut area));
            workers.put_back(area);
            workers.running.add_permits(1);
            done
        })
        .await
        .map_err(RepoError::unexpected)
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
            .field("limits", &self.workers.limits)
            .finish_non_exhaustive()
    }
}

/// Argon2id of `password` with `salt` and `params` into `area` (grown for this call only if `params` need more),
/// as a PHC string.
fn hash_with_salt(params: &Params, password: &[u8], salt: &[u8], area: &mut [Block]) -> Result<String, RepoError> {
    let salt = Salt::new(salt).map_err(RepoError::unexpected)?;
    let out = compute(Algorithm::Argon2id, Version::V0x13, params, password, &salt, Params::DEFAULT_OUTPUT_LEN, area)?;
    let phc = PhcHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(params).map_err(RepoError::unexpected)?,
        salt: Some(salt),
        hash: Some(out),
    };
    Ok(phc.to_string())
}

fn compute(
    algorithm: Algorithm,
    version: Version,
    params: &Params,
    password: &[u8],
    salt: &[u8],
    output_len: usize,
    area: &mut [Block],
) -> Result<Output, RepoError> {
    let needed = params.block_count();
    let mut larger;
    let blocks: &mut [Block] = if needed <= area.len() {
        &mut area[..needed]
    } else {
        // A stored hash with a higher cost than ours: a one-off area, not kept.
        larger = vec![Block::default(); needed];
        &mut larger
    };
    let mut out = vec![0u8; output_len];
    Argon2::new(algorithm, version, params.clone())
        .hash_password_into_with_memory(password, salt, &mut out, blocks)
        .map_err(RepoError::unexpected)?;
    Output::new(&out).map_err(RepoError::unexpected)
}

/// Checks `password` against the PHC string `phc`: `Ok(false)` on a mismatch, an error when `phc` is unusable.
///
/// Costs above [`MAX_VERIFY_MEMORY_KIB`] or [`MAX_VERIFY_ITERATIONS`] are refused before any work, so a corrupt
/// stored hash cannot make the process allocate unbounded memory (which would abort, not panic) or spin for minutes.
fn verify_phc(password: &[u8], phc: &str, area: &mut [Block]) -> Result<bool, RepoError> {
    let parsed = PhcHash::new(phc).map_err(RepoError::unexpected)?;
    let stored = Params::try_from(&parsed).map_err(RepoError::unexpected)?;
    if stored.m_cost() > MAX_VERIFY_MEMORY_KIB || stored.t_cost() > MAX_VERIFY_ITERATIONS {
        return Err(RepoError::unexpected("the stored password hash asks for unreasonable Argon2 costs"));
    }
    let algorithm = Algorithm::try_from(parsed.algorithm.as_str()).map_err(RepoError::unexpected)?;
    let version = parsed.version.map(Version::try_from).transpose().map_err(RepoError::unexpected)?.unwrap_or_default();
    let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
        return Err(RepoError::unexpected("the stored password hash has no salt or no output"));
    };
    let actual = compute(algorithm, version, &stored, password, salt, expected.len(), area)?;
    // `Output`'s equality is constant-time.
    Ok(&actual == expected)
}

#[async_trait]
impl PasswordHasher for Argon2PasswordHasher {
    async fn hash(&self, password: &Password) -> Result<PasswordHash, RepoError> {
        let (params, password) = (self.params.clone(), password.clone());
        let phc = self
            .on_worker(move |area| {
                let mut salt = [0u8; SALT_LEN];
                rand::rng().fill_bytes(&mut salt);
                hash_with_salt(&params, password.expose().as_bytes(), &salt, area)
            })
            .await??;
        Ok(PasswordHash::from_phc(phc))
    }

    async fn verify(&self, password: &Password, hash: &PasswordHash) -> Result<bool, RepoError> {
        let (password, phc) = (password.clone(), hash.as_phc().to_owned());
        self.on_worker(move |area| verify_phc(password.expose().as_bytes(), &phc, area)).await?
    }

    async fn verify_dummy(&self, password: &Password) -> Result<(), RepoError> {
        let (password, dummy) = (password.clone(), Arc::clone(&self.dummy));
        // The outcome is irrelevant: only the time spent matters.
        self.on_worker(move |area| {
            let _ = verify_phc(password.expose().as_bytes(), &dummy, area);
        })
        .await
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
        let mut area = Vec::new();
        let real = hash_with_salt(&params, b"password", b"saltsaltsalt", &mut area).unwrap();
        assert!(verify_phc(b"password", &real, &mut area).unwrap());
        assert!(!verify_phc(b"passwore", &real, &mut area).unwrap());
        for absurd in ["m=4294967295,t=1,p=1", "m=8,t=4294967295,p=1"] {
            let stored = real.replace("m=8,t=1,p=1", absurd);
            assert!(matches!(verify_phc(b"password", &stored, &mut area), Err(RepoError::Unexpected(_))), "{absurd}");
        }
    }

    #[test]
    fn debug_shows_the_costs_but_not_the_dummy_hash() {
        let shown = format!("{:?}", Argon2PasswordHasher::insecure_fast());
        assert!(shown.contains("limits"), "{shown}");
        assert!(shown.contains("memory_kib: 8"), "{shown}");
        assert!(!shown.contains("argon2id"), "{shown}");
    }
}
