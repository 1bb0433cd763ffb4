//! Refresh-token secrets and their hashes, through the `TokenIssuer` port.

use std::collections::HashSet;

use taskflow_adapters_crypto::PasetoTokenIssuer;
use taskflow_domain::ports::TokenIssuer;

#[test]
fn a_refresh_token_is_43_base64url_characters_without_padding() {
    let token = PasetoTokenIssuer::ephemeral().new_refresh_token();
    assert_eq!(token.secret.len(), 43);
    assert!(token.secret.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
}

#[test]
fn the_hash_is_64_lower_case_hex_characters() {
    let token = PasetoTokenIssuer::ephemeral().new_refresh_token();
    let hex = token.hash.as_hex();
    assert_eq!(hex.len(), 64);
    assert!(hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
}

#[test]
fn hashing_a_presented_secret_gives_the_stored_hash() {
    let issuer = PasetoTokenIssuer::ephemeral();
    let token = issuer.new_refresh_token();
    assert_eq!(issuer.hash_refresh_token(&token.secret), token.hash);
    assert_eq!(issuer.hash_refresh_token(&token.secret), issuer.hash_refresh_token(&token.secret));
}

#[test]
fn the_hash_does_not_depend_on_the_access_token_key() {
    let a = PasetoTokenIssuer::ephemeral();
    let b = PasetoTokenIssuer::ephemeral();
    assert_eq!(a.hash_refresh_token("some-secret"), b.hash_refresh_token("some-secret"));
}

#[test]
fn different_secrets_hash_differently() {
    let issuer = PasetoTokenIssuer::ephemeral();
    assert_ne!(issuer.hash_refresh_token("secret-a"), issuer.hash_refresh_token("secret-b"));
}

#[test]
fn two_refresh_tokens_differ() {
    let issuer = PasetoTokenIssuer::ephemeral();
    let secrets: HashSet<String> = (0..100).map(|_| issuer.new_refresh_token().secret).collect();
    assert_eq!(secrets.len(), 100);
}

#[test]
fn debug_of_a_new_refresh_token_hides_the_secret() {
    let token = PasetoTokenIssuer::ephemeral().new_refresh_token();
    assert!(!format!("{token:?}").contains(&token.secret));
}
