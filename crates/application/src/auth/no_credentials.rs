//! [`NoCredentials`]: the password hasher and token issuer of a wiring without the crypto adapter.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use taskflow_domain::RepoError;
use taskflow_domain::auth::{AccessClaims, NewRefreshToken, RefreshTokenHash};
use taskflow_domain::ports::{PasswordHasher, TokenError, TokenIssuer};
use taskflow_domain::user::{Password, PasswordHash};
use taskflow_domain::webhook::WebhookSecret;
use uuid::Uuid;

/// No passwords and no access tokens, the default of [`crate::DepsBuilder`] when it is given no hasher and no
/// token issuer: registering and issuing tokens fail with [`RepoError::Unexpected`] (so `register`, `login` and
/// `refresh` do), every password and every token is refused, and accounts come from
/// [`crate::users::UserService::provision_user`]. Webhook secrets are still random: 32 bytes of the operating
/// system's generator (through `uuid`), of which 244 bits random.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoCredentials;

/// Why [`NoCredentials`] refused.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("no {0} is configured: give Deps::builder() one, or enable taskflow-embedded's `crypto` feature")]
struct NotConfigured(&'static str);

/// 32 bytes from two UUIDv4s (each 122 random bits from the operating system's generator).
fn random_32() -> [u8; 32] {
    let mut bytes = [0; 32];
    bytes[..16].copy_from_slice(Uuid::new_v4().as_bytes());
    bytes[16..].copy_from_slice(Uuid::new_v4().as_bytes());
    bytes
}

#[async_trait]
impl PasswordHasher for NoCredentials {
    async fn hash(&self, _: &Password) -> Result<PasswordHash, RepoError> {
        Err(RepoError::unexpected(NotConfigured("password hasher")))
    }

    async fn verify(&self, _: &Password, _: &PasswordHash) -> Result<bool, RepoError> {
        Ok(false)
    }

    async fn verify_dummy(&self, _: &Password) -> Result<(), RepoError> {
        Ok(())
    }
}

impl TokenIssuer for NoCredentials {
    fn issue_access(&self, _: &AccessClaims) -> Result<String, RepoError> {
        Err(RepoError::unexpected(NotConfigured("token issuer")))
    }

    fn verify_access(&self, _: &str, _: DateTime<Utc>) -> Result<AccessClaims, TokenError> {
        Err(TokenError::Invalid)
    }

    fn new_refresh_token(&self) -> NewRefreshToken {
        let secret = hex::encode(random_32());
        NewRefreshToken { hash: self.hash_refresh_token(&secret), secret }
    }

    fn hash_refresh_token(&self, secret: &str) -> RefreshTokenHash {
        RefreshTokenHash::from_hex(hex::encode(Sha256::digest(secret.as_bytes())))
    }

    fn new_webhook_secret(&self) -> WebhookSecret {
        WebhookSecret::from_key(random_32())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_random_and_refresh_tokens_hash_as_presented() {
        assert_ne!(NoCredentials.new_webhook_secret(), NoCredentials.new_webhook_secret());
        let token = NoCredentials.new_refresh_token();
        assert_eq!(token.secret.len(), 64);
        assert_eq!(NoCredentials.hash_refresh_token(&token.secret), token.hash);
        assert_ne!(NoCredentials.new_refresh_token().secret, token.secret);
    }
}
