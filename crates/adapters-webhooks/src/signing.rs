//! Standard Webhooks signatures.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use taskflow_domain::webhook::WebhookSecret;

/// The `User-Agent` every delivery carries.
pub const USER_AGENT: &str = concat!("TaskFlow-Webhooks/", env!("CARGO_PKG_VERSION"));

/// The `webhook-signature` header value for one attempt: `v1,` then the base64 of the HMAC-SHA256, keyed with the
/// secret's 32 bytes, of `"{msg_id}.{timestamp}.{body}"`.
#[must_use]
pub fn sign(secret: &WebhookSecret, msg_id: &str, timestamp: i64, body: &[u8]) -> String {
    sign_with_key(secret.key(), msg_id, timestamp, body)
}

fn sign_with_key(key: &[u8], msg_id: &str, timestamp: i64, body: &[u8]) -> String {
    // HMAC accepts keys of any length, so this never fails.
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(msg_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signing_matches_the_standard_webhooks_reference_vector() {
        // The vector of the reference Rust library's own `test_sign` (crate `standardwebhooks` 1.0.1, src/lib.rs):
        // its secret is 24 bytes, so it goes through the key-level function.
        let key = STANDARD.decode("C2FVsBQIhrscChlQIMV+b5sSYspob7oD").unwrap();
        let body = br#"{"email":"test@example.com","username":"test_user"}"#;

        let signature = sign_with_key(&key, "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk", 1_649_367_553, body);

        assert_eq!(signature, "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=");
    }

    #[test]
    fn every_signed_part_changes_the_signature() {
        let secret = WebhookSecret::from_key([7; 32]);
        let base = sign(&secret, "id", 10, b"{}");

        let variants = [
            (sign(&WebhookSecret::from_key([8; 32]), "id", 10, b"{}"), "another key"),
            (sign(&secret, "id2", 10, b"{}"), "another id"),
            (sign(&secret, "id", 11, b"{}"), "another timestamp"),
            (sign(&secret, "id", 10, b"{ }"), "another body"),
        ];
        for (other, what) in variants {
            assert_ne!(other, base, "{what} must change the signature");
        }
        assert!(base.starts_with("v1,"));
    }

    #[test]
    fn the_user_agent_names_the_version() {
        assert_eq!(USER_AGENT, format!("TaskFlow-Webhooks/{}", env!("CARGO_PKG_VERSION")));
    }
}
