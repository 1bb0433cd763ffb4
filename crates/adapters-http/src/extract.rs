//! Extractors that turn requests into validated input, with our error shape on every rejection.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;
use taskflow_application::domain::policy::Actor;
use uuid::Uuid;

use crate::error::ApiError;

/// A JSON body: `Content-Type: application/json` (else 415), at most the body limit (else 413), well-formed
/// and of the expected shape with no unknown members (else 400 naming the member).
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

fn is_json(parts: &Parts) -> bool {
    parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"))
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (parts, body) = req.into_parts();
        if !is_json(&parts) {
            return Err(ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "the body must be application/json"));
        }
        let bytes = Bytes::from_request(Request::from_parts(parts, body), state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "the body is larger than 1 MiB")
            } else if caused_by_body_deadline(&rejection) {
                // A body that stalls is the client's doing, not the server's: 408, not 503.
                ApiError::new(StatusCode::REQUEST_TIMEOUT, "the body did not arrive in time")
            } else {
                ApiError::new(StatusCode::BAD_REQUEST, "the body could not be read")
            }
        })?;
        parse_json(&bytes).map(Self)
    }
}

/// Whether reading the body failed because its deadline passed (the server's `RequestBodyDeadlineLayer`).
fn caused_by_body_deadline(rejection: &axum::extract::rejection::BytesRejection) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(rejection);
    while let Some(err) = cause {
        if err.is::<tower_http::timeout::TimeoutError>() {
            return true;
        }
        cause = err.source();
    }
    false
}

/// Deserialises `bytes`, which must hold one JSON object, naming the failing member on a shape error.
///
/// # Errors
/// 400 for malformed JSON, a body that is not an object (an array would otherwise fill a struct's members by
/// position), or a body of the wrong shape.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first.is_some_and(|b| *b != b'{') {
        return Err(ApiError::invalid("body", "must be a JSON object"));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            return ApiError::new(StatusCode::BAD_REQUEST, format!("malformed JSON: {inner}"));
        }
        let message = inner.to_string();
        // serde reports an unknown member at its parent's path; name the member itself.
        let field = message
            .strip_prefix("unknown field `")
            .or_else(|| message.strip_prefix("missing field `"))
            .and_then(|rest| rest.split('`').next())
            .map(str::to_owned)
            .unwrap_or_else(|| if path == "." { "body".to_owned() } else { path });
        // serde's messages carry " at line L column C"; the member name is enough.
        let message = without_type_names(message.split(" at line ").next().unwrap_or(&message));
        ApiError::invalid(field, message)
    })?;
    // One value and nothing after it but whitespace: `{"title":"t"} x` is not a body.
    de.end().map_err(|err| ApiError::new(StatusCode::BAD_REQUEST, format!("malformed JSON: {err}")))?;
    Ok(value)
}

/// serde's message with the names of our Rust types (`expected struct CreateTaskIn with 6 elements`) replaced by
/// what they are on the wire: no error names an internal type.
fn without_type_names(message: &str) -> String {
    let words: Vec<&str> = message.split(' ').collect();
    let mut out = Vec::with_capacity(words.len());
    let mut i = 0;
    while i < words.len() {
        match (words[i], words.get(i + 1)) {
            ("struct" | "map", Some(_)) if i > 0 && words[i - 1] == "expected" => {
                out.push("an object");
                i += 2;
                // "with N elements" belongs to the struct's name.
                if words.get(i) == Some(&"with") && words.get(i + 2).is_some_and(|w| w.starts_with("element")) {
                    i += 3;
                }
            }
            (word, _) => {
                out.push(word);
                i += 1;
            }
        }
    }
    out.join(" ")
}

/// The authenticated caller. Missing or bad credentials are 401 with `WWW-Authenticate: Bearer`.
#[derive(Debug, Clone, Copy)]
pub struct CurrentUser(pub Actor);

impl<S: Send + Sync> FromRequestParts<S> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        // The authentication middleware verified the bearer token once and left the actor here.
        parts.extensions.get::<Actor>().copied().map(Self).ok_or_else(ApiError::unauthenticated)
    }
}

/// A UUID path parameter; a malformed one is 400.
#[derive(Debug, Clone, Copy)]
pub struct IdPath(pub Uuid);

impl<S: Send + Sync> FromRequestParts<S> for IdPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Path(raw) = axum::extract::Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::invalid("id", "must be a UUID"))?;
        Uuid::parse_str(&raw).map(Self).map_err(|_| ApiError::invalid("id", "must be a UUID"))
    }
}

/// Whether every name and value of `query` is UTF-8 after percent-decoding (the decoder would otherwise replace
/// bad bytes with U+FFFD and let the request through).
fn query_is_utf8(query: &str) -> bool {
    let raw = query.as_bytes();
    let mut decoded = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        match raw[i] {
            b'%' if i + 2 < raw.len() => match (hex(raw[i + 1]), hex(raw[i + 2])) {
                (Some(hi), Some(lo)) => {
                    decoded.push(u8::try_from(hi * 16 + lo).unwrap_or(b'?'));
                    i += 3;
                }
                _ => {
                    decoded.push(b'%');
                    i += 1;
                }
            },
            b'&' | b'=' => {
                // Each name and value is checked on its own, as the decoder splits them.
                if std::str::from_utf8(&decoded).is_err() {
                    return false;
                }
                decoded.clear();
                i += 1;
            }
            other => {
                decoded.push(other);
                i += 1;
            }
        }
    }
    std::str::from_utf8(&decoded).is_ok()
}

/// Query parameters; unknown or repeated parameters and bad values are 400.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if !query_is_utf8(parts.uri.query().unwrap_or_default()) {
            return Err(ApiError::invalid("query", "must be UTF-8 once percent-decoded"));
        }
        axum::extract::Query::<T>::from_request_parts(parts, state).await.map(|q| Self(q.0)).map_err(|rejection| {
            let text = rejection.body_text();
            let message = text.strip_prefix("Failed to deserialize query string: ").unwrap_or(&text);
            ApiError::invalid("query", message)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::{parse_json, query_is_utf8, without_type_names};

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Login {
        email: String,
        password: String,
    }

    #[test]
    fn only_a_json_object_is_a_body() {
        for body in [r#"["user@example.com","user123"]"#, "null", "[]", " 1", r#""x""#, "true"] {
            let err = parse_json::<Login>(body.as_bytes()).expect_err(body);
            assert_eq!(err.status(), axum::http::StatusCode::BAD_REQUEST, "{body}");
        }
        assert!(parse_json::<Login>(br#" {"email":"a@b.c","password":"p"}"#).is_ok());
    }

    #[test]
    fn no_error_names_a_rust_type() {
        assert_eq!(
            without_type_names("invalid type: sequence, expected struct CreateTaskIn with 6 elements"),
            "invalid type: sequence, expected an object"
        );
        assert_eq!(
            without_type_names("invalid type: null, expected struct Login"),
            "invalid type: null, expected an object"
        );
        assert_eq!(without_type_names("missing field `title`"), "missing field `title`");
    }

    #[test]
    fn a_query_must_be_utf8_once_decoded() {
        for bad in ["search=%FF", "search=a%C3", "%FF=x", "search=%ED%A0%80"] {
            assert!(!query_is_utf8(bad), "{bad}");
        }
        for good in ["", "search=%C3%A9t%C3%A9", "search=100%", "search=%zz", "a=b&c=%E2%82%AC", "search=caf%C3%A9+x"] {
            assert!(query_is_utf8(good), "{good}");
        }
    }
}
