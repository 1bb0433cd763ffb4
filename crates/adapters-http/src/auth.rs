//! `/auth`: register, login, refresh, logout, me.

use axum::Router;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, extract::State};
use serde::{Deserialize, Serialize};
use taskflow_application::auth::{Registration, Session};
use utoipa::ToSchema;

use crate::AppState;
use crate::dto::UserOut;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiJson, CurrentUser};
use crate::schemas::{EmailSchema, PasswordSchema, UserNameSchema};

pub fn routes(_state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/auth/register", post(register))
        .route("/auth/login", post(login))
        .route("/auth/refresh", post(refresh))
        .route("/auth/logout", post(logout))
        .route("/auth/me", get(me))
}

/// Registration body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterIn {
    /// Trimmed and lower-cased; at most 254 characters.
    #[schema(value_type = EmailSchema)]
    email: String,
    /// 8 to 128 characters.
    #[schema(value_type = PasswordSchema)]
    password: String,
    /// 1 to 100 characters after trimming, no control characters.
    #[schema(value_type = UserNameSchema)]
    name: String,
}

impl RegisterIn {
    fn try_into_domain(self) -> Result<Registration, ApiError> {
        Ok(Registration::parse(&self.email, &self.password, &self.name)?)
    }
}

/// Login body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginIn {
    /// The login email.
    email: String,
    /// The password.
    password: String,
}

/// Refresh and logout body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RefreshIn {
    /// The refresh token from the last login or refresh.
    refresh_token: String,
}

/// Tokens and the user.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuthResponse {
    /// PASETO v4 access token for `Authorization: Bearer`.
    access_token: String,
    /// Opaque single-use refresh token.
    refresh_token: String,
    /// Always `Bearer`.
    #[schema(value_type = String, pattern = "^Bearer$", example = "Bearer")]
    token_type: &'static str,
    /// Access token lifetime in seconds (`ACCESS_TOKEN_TTL_SECS`).
    expires_in: u64,
    /// The user.
    user: UserOut,
}

impl From<Session> for AuthResponse {
    fn from(s: Session) -> Self {
        Self {
            access_token: s.access_token,
            refresh_token: s.refresh_token,
            token_type: "Bearer",
            expires_in: s.expires_in,
            user: UserOut::from(&s.user),
        }
    }
}

/// Register a new user (role `user`) and log in.
#[utoipa::path(post, path = "/auth/register", tag = "auth", request_body = RegisterIn, responses(
    (status = 201, description = "Registered and logged in.", body = AuthResponse),
    (status = 409, description = "The email is taken.", body = Problem)))]
pub async fn register(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<RegisterIn>,
) -> ApiResult<impl IntoResponse> {
    let session = state.auth.register(body.try_into_domain()?).await?;
    Ok((StatusCode::CREATED, Json(AuthResponse::from(session))))
}

/// Log in. Unknown emails and wrong passwords get the same 401.
#[utoipa::path(post, path = "/auth/login", tag = "auth", request_body = LoginIn, responses(
    (status = 200, description = "Logged in.", body = AuthResponse),
    (status = 401, description = "Unknown email or wrong password.", body = Problem)))]
pub async fn login(State(state): State<AppState>, ApiJson(body): ApiJson<LoginIn>) -> ApiResult<Json<AuthResponse>> {
    Ok(Json(state.auth.login(&body.email, &body.password).await?.into()))
}

/// Exchange a refresh token for new tokens. Presenting a consumed token revokes its whole family.
#[utoipa::path(post, path = "/auth/refresh", tag = "auth", request_body = RefreshIn, responses(
    (status = 200, description = "New tokens; the presented refresh token is consumed.", body = AuthResponse),
    (status = 401, description = "Unknown, expired, consumed or revoked refresh token.", body = Problem)))]
pub async fn refresh(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<RefreshIn>,
) -> ApiResult<Json<AuthResponse>> {
    Ok(Json(state.auth.refresh(&body.refresh_token).await?.into()))
}

/// Log out: revoke the refresh token's family. Unknown tokens are accepted silently. No access token is needed;
/// one that is presented and belongs to a deleted user is 401.
#[utoipa::path(post, path = "/auth/logout", tag = "auth", request_body = RefreshIn, responses(
    (status = 204, description = "The token's family is revoked (or the token was unknown)."),
    (status = 401, description = "A presented access token belongs to a deleted user.", body = Problem)))]
pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<RefreshIn>,
) -> ApiResult<StatusCode> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim());
    state.auth.logout(&body.refresh_token, bearer).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller's own account.
#[utoipa::path(get, path = "/auth/me", tag = "auth", security(("bearer" = [])), responses(
    (status = 200, description = "The caller.", body = UserOut)))]
pub async fn me(State(state): State<AppState>, CurrentUser(actor): CurrentUser) -> ApiResult<Json<UserOut>> {
    Ok(Json(UserOut::from(&state.auth.me(actor).await?)))
}
