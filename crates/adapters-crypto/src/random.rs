//! Random bytes from the operating system.

use rand::TryRngCore as _;
use rand::rngs::OsRng;

/// `N` bytes from the operating system's random number generator.
///
/// # Panics
/// If the operating system's generator fails, which leaves no safe way to make keys or secrets.
pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    OsRng.try_fill_bytes(&mut bytes).expect("the operating system's random number generator failed");
    bytes
}
