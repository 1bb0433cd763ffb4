//! Refresh-token secrets: 256 random bits, stored only as their SHA-256.
//!
//! A slow password hash is not needed here: with 256 bits of entropy the secret cannot be guessed, so a fast hash
//! is enough to make a leaked table useless and lets the store look tokens up by hash.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest as _, Sha256};
use taskflow_domain::auth::{NewRefreshToken, RefreshTokenHash};

use crate::random::random_bytes;

/// The number of random bytes in a refresh-token secret.
pub(crate) const SECRET_BYTES: usize = 32;

/// A new secret (32 OS-random bytes, base64url without padding: 43 characters) and its hash.
pub(crate) fn new_refresh_token() -> NewRefreshToken {
    let secret = URL_SAFE_NO_PAD.encode(random_bytes::<SECRET_BYTES>());
    let hash = hash_refresh_token(&secret);
    NewRefreshToken { secret, hash }
}

/// The lower-case hex SHA-256 of the secret string as presented.
pub(crate) fn hash_refresh_token(secret: &str) -> RefreshTokenHash {
    RefreshTokenHash::from_hex(hex::encode(Sha256::digest(secret.as_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_is_the_sha256_of_the_secret_text() {
        // SHA-256("abc") from FIPS 180-2.
        assert_eq!(
            hash_refresh_token("abc").as_hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
