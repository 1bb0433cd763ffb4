//! PASETO v4.local access tokens, through the `TokenIssuer` port.

use chrono::{DateTime, TimeDelta, Utc};
use pasetors::claims::Claims;
use pasetors::keys::{AsymmetricKeyPair, Generate, SymmetricKey};
use pasetors::version4::{LocalToken, V4};
use serde_json::{Value, json};
use taskflow_adapters_crypto::{KeyError, PasetoTokenIssuer};
use taskflow_domain::UserId;
use taskflow_domain::auth::AccessClaims;
use taskflow_domain::ports::{TokenError, TokenIssuer};
use taskflow_domain::user::Role;

const KEY: [u8; 32] = [7; 32];

fn at(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339).unwrap().with_timezone(&Utc)
}

fn claims(role: Role) -> AccessClaims {
    let issued_at = at("2026-03-01T12:00:00.250Z");
    AccessClaims {
        user_id: UserId::from_uuid(uuid::Uuid::new_v4()),
        role,
        issued_at,
        expires_at: issued_at + TimeDelta::minutes(15),
    }
}

/// A token encrypted with `KEY` around an arbitrary payload, as a forger holding the key could make.
fn local_token_with(payload: &Value) -> String {
    LocalToken::encrypt(&SymmetricKey::<V4>::from(&KEY).unwrap(), payload.to_string().as_bytes(), None, None).unwrap()
}

fn payload(role: &str) -> Value {
    json!({
        "iss": "taskflow", "aud": "taskflow-api", "sub": uuid::Uuid::new_v4().to_string(), "role": role,
        "iat": "2026-03-01T12:00:00Z", "nbf": "2026-03-01T12:00:00Z", "exp": "2026-03-01T12:15:00Z", "jti": "x",
    })
}

fn in_window() -> DateTime<Utc> {
    at("2026-03-01T12:05:00Z")
}

#[test]
fn a_token_round_trips_to_the_same_claims() {
    let issuer = PasetoTokenIssuer::from_key_bytes(KEY);
    for role in [Role::User, Role::Admin] {
        let claims = claims(role);
        let token = issuer.issue_access(&claims).unwrap();
        assert!(token.starts_with("v4.local."));
        assert_eq!(issuer.verify_access(&token, claims.issued_at), Ok(claims));
    }
}

#[test]
fn the_claims_are_encrypted_not_readable_in_the_token() {
    let claims = claims(Role::Admin);
    let token = PasetoTokenIssuer::ephemeral().issue_access(&claims).unwrap();
    assert!(!token.contains("admin") && !token.contains(&claims.user_id.to_string()));
}

#[test]
fn two_tokens_for_the_same_claims_differ() {
    let issuer = PasetoTokenIssuer::ephemeral();
    let claims = claims(Role::User);
    assert_ne!(issuer.issue_access(&claims).unwrap(), issuer.issue_access(&claims).unwrap());
}

#[test]
fn another_instance_with_the_same_key_accepts_the_token() {
    let claims = claims(Role::User);
    let token = PasetoTokenIssuer::from_key_bytes(KEY).issue_access(&claims).unwrap();
    let other = PasetoTokenIssuer::from_hex(&hex::encode(KEY)).unwrap();
    assert_eq!(other.verify_access(&token, in_window()), Ok(claims));
}

#[test]
fn expired_token_is_rejected_as_expired() {
    let issuer = PasetoTokenIssuer::ephemeral();
    let claims = claims(Role::User);
    let token = issuer.issue_access(&claims).unwrap();
    assert_eq!(issuer.verify_access(&token, claims.expires_at), Err(TokenError::Expired));
    assert_eq!(issuer.verify_access(&token, claims.expires_at + TimeDelta::days(1)), Err(TokenError::Expired));
    assert!(issuer.verify_access(&token, claims.expires_at - TimeDelta::nanoseconds(1)).is_ok());
}

#[test]
fn expiry_is_judged_by_the_given_now_not_the_wall_clock() {
    let issuer = PasetoTokenIssuer::ephemeral();
    let long_ago = AccessClaims {
        issued_at: at("2001-01-01T00:00:00Z"),
        expires_at: at("2001-01-01T00:15:00Z"),
        ..claims(Role::User)
    };
    let token = issuer.issue_access(&long_ago).unwrap();
    assert_eq!(issuer.verify_access(&token, at("2001-01-01T00:01:00Z")), Ok(long_ago));
}

#[test]
fn a_token_from_the_future_is_invalid() {
    let issuer = PasetoTokenIssuer::ephemeral();
    let claims = claims(Role::User);
    let token = issuer.issue_access(&claims).unwrap();
    assert_eq!(issuer.verify_access(&token, claims.issued_at - TimeDelta::minutes(5)), Err(TokenError::Invalid));
    assert!(issuer.verify_access(&token, claims.issued_at - TimeDelta::seconds(5)).is_ok(), "small skew is allowed");
}

#[test]
fn tampered_token_is_rejected_as_invalid() {
    let issuer = PasetoTokenIssuer::ephemeral();
    let token = issuer.issue_access(&claims(Role::User)).unwrap();
    for position in [token.len() / 2, "v4.local.".len() + 1, token.len() - 10] {
        let mut bytes = token.clone().into_bytes();
        bytes[position] = if bytes[position] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(bytes).unwrap();
        assert_eq!(issuer.verify_access(&tampered, in_window()), Err(TokenError::Invalid), "flipped at {position}");
    }
}

#[test]
fn a_token_made_with_another_key_is_invalid() {
    let token = PasetoTokenIssuer::ephemeral().issue_access(&claims(Role::User)).unwrap();
    assert_eq!(PasetoTokenIssuer::ephemeral().verify_access(&token, in_window()), Err(TokenError::Invalid));
}

#[test]
fn an_expired_token_made_with_another_key_is_invalid_not_expired() {
    let token = PasetoTokenIssuer::ephemeral().issue_access(&claims(Role::User)).unwrap();
    let later = in_window() + TimeDelta::days(1);
    assert_eq!(PasetoTokenIssuer::ephemeral().verify_access(&token, later), Err(TokenError::Invalid));
}

#[test]
fn garbage_is_invalid() {
    let issuer = PasetoTokenIssuer::ephemeral();
    for garbage in
        ["", "garbage", "Bearer x", "v4.local.", "v4.local.!!!", "v4.local.AAAA", "v2.local.AAAA", "a.b.c.d.e"]
    {
        assert_eq!(issuer.verify_access(garbage, in_window()), Err(TokenError::Invalid), "{garbage:?}");
    }
}

#[test]
fn a_v4_public_token_is_invalid() {
    let pair = AsymmetricKeyPair::<V4>::generate().unwrap();
    let mut claims = Claims::new().unwrap();
    claims.subject(&uuid::Uuid::new_v4().to_string()).unwrap();
    claims.add_additional("role", "user").unwrap();
    let token = pasetors::public::sign(&pair.secret, &claims, None, None).unwrap();
    assert_eq!(PasetoTokenIssuer::from_key_bytes(KEY).verify_access(&token, Utc::now()), Err(TokenError::Invalid));
}

#[test]
fn a_missing_or_unknown_role_is_invalid() {
    let issuer = PasetoTokenIssuer::from_key_bytes(KEY);
    assert!(issuer.verify_access(&local_token_with(&payload("admin")), in_window()).is_ok(), "the forgery works");
    for role in ["root", "Admin", ""] {
        assert_eq!(issuer.verify_access(&local_token_with(&payload(role)), in_window()), Err(TokenError::Invalid));
    }
    let mut no_role = payload("user");
    no_role.as_object_mut().unwrap().remove("role");
    assert_eq!(issuer.verify_access(&local_token_with(&no_role), in_window()), Err(TokenError::Invalid));
}

#[test]
fn a_wrong_or_missing_registered_claim_is_invalid() {
    let issuer = PasetoTokenIssuer::from_key_bytes(KEY);
    let changes: [(&str, Option<Value>); 9] = [
        ("iss", Some(json!("someone-else"))),
        ("iss", None),
        ("aud", Some(json!("other-api"))),
        ("aud", None),
        ("sub", Some(json!("not-a-uuid"))),
        ("sub", None),
        ("exp", None),
        ("exp", Some(json!(1_900_000_000))),
        ("iat", None),
    ];
    for (claim, value) in changes {
        let mut forged = payload("user");
        let object = forged.as_object_mut().unwrap();
        match &value {
            Some(v) => object.insert(claim.to_owned(), v.clone()),
            None => object.remove(claim),
        };
        let result = issuer.verify_access(&local_token_with(&forged), in_window());
        assert_eq!(result, Err(TokenError::Invalid), "{claim} = {value:?}");
    }
}

#[test]
fn a_hex_key_must_be_64_hex_characters() {
    assert!(PasetoTokenIssuer::from_hex(&"0a".repeat(32)).is_ok());
    assert!(PasetoTokenIssuer::from_hex(&"0A".repeat(32)).is_ok());
    assert!(PasetoTokenIssuer::from_hex(&format!("  {}\n", "0a".repeat(32))).is_ok(), "whitespace is trimmed");
    assert_eq!(
        PasetoTokenIssuer::from_hex(&"a".repeat(63)).unwrap_err(),
        KeyError::WrongLength { expected: 64, actual: 63 }
    );
    assert_eq!(
        PasetoTokenIssuer::from_hex(&"a".repeat(65)).unwrap_err(),
        KeyError::WrongLength { expected: 64, actual: 65 }
    );
    assert_eq!(PasetoTokenIssuer::from_hex("").unwrap_err(), KeyError::WrongLength { expected: 64, actual: 0 });
    assert_eq!(PasetoTokenIssuer::from_hex(&"g".repeat(64)).unwrap_err(), KeyError::NotHex);
    assert_eq!(PasetoTokenIssuer::from_hex(&format!("{}zz", "0a".repeat(31))).unwrap_err(), KeyError::NotHex);
    assert_eq!(
        PasetoTokenIssuer::from_hex(&"é".repeat(32)).unwrap_err(),
        KeyError::WrongLength { expected: 64, actual: 32 },
        "length counts characters, not bytes"
    );
}

#[test]
fn the_hex_key_error_says_what_is_expected() {
    let message = PasetoTokenIssuer::from_hex("abc").unwrap_err().to_string();
    assert!(message.contains("64 hex characters") && message.contains("got 3"), "{message}");
}
