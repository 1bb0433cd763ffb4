//! `/users`: list (admin), get, update, delete (admin).

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use serde::Deserialize;
use taskflow_application::FieldError;
use taskflow_application::domain::UserId;
use taskflow_application::domain::query::PageRequest;
use taskflow_application::domain::user::{EmailAddress, Password, Role, UserName};
use taskflow_application::users::UserUpdate;
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::dto::{PageOut, Paged, UserOut, double_option, page_and_limit};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery, CurrentUser, IdPath};
use crate::schemas::{EmailSchema, LimitSchema, PageSchema, PasswordSchema, RoleSchema, UserNameSchema};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/users", get(list_users))
        .route("/users/{id}", get(get_user).patch(update_user).delete(delete_user))
}

/// Offset paging parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Page number, from 1 (default 1).
    #[param(value_type = Option<PageSchema>)]
    page: Option<String>,
    /// Page size, 1 to 100 (default 20).
    #[param(value_type = Option<LimitSchema>)]
    limit: Option<String>,
}

/// A change to a user: at least one member, none `null`; `role` needs an admin.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(min_properties = 1)]
pub struct UpdateUserIn {
    /// New display name.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = UserNameSchema)]
    name: Option<Option<String>>,
    /// New email.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = EmailSchema)]
    email: Option<Option<String>>,
    /// New password; ends the user's other sessions.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = PasswordSchema)]
    password: Option<Option<String>>,
    /// New role (admins only).
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = RoleSchema)]
    role: Option<Option<String>>,
}

/// Parses one optional, non-null member with `parse`, collecting its error.
fn member<T, E: ToString>(
    errors: &mut Vec<FieldError>,
    field: &str,
    raw: Option<Option<String>>,
    parse: impl FnOnce(&str) -> Result<T, E>,
) -> Option<T> {
    match raw {
        None => None,
        Some(None) => {
            errors.push(FieldError::new(field, "must not be null"));
            None
        }
        Some(Some(v)) => parse(&v).map_err(|e| errors.push(FieldError::new(field, e))).ok(),
    }
}

impl UpdateUserIn {
    fn try_into_domain(self) -> Result<UserUpdate, ApiError> {
        let mut errors = Vec::new();
        let update = UserUpdate {
            name: member(&mut errors, "name", self.name, UserName::parse),
            email: member(&mut errors, "email", self.email, EmailAddress::parse),
            password: member(&mut errors, "password", self.password, Password::parse),
            role: member(&mut errors, "role", self.role, Role::parse),
        };
        if !errors.is_empty() {
            return Err(ApiError::validation(errors));
        }
        if update.name.is_none() && update.email.is_none() && update.password.is_none() && update.role.is_none() {
            return Err(ApiError::invalid("body", "name at least one field to change"));
        }
        Ok(update)
    }
}

/// List users (admins only).
#[utoipa::path(get, path = "/users", tag = "users", params(PageParams), security(("bearer" = [])), responses(
    (status = 200, description = "A page of users.", body = Paged<UserOut>),
    (status = 403, description = "The caller is not an admin.", body = Problem)))]
pub async fn list_users(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    ApiQuery(params): ApiQuery<PageParams>,
) -> ApiResult<Json<Paged<UserOut>>> {
    let (page, limit) =
        page_and_limit(params.page.as_deref(), params.limit.as_deref()).map_err(ApiError::validation)?;
    let (users, total) = state.users.list_users(actor, PageRequest { page, limit }).await?;
    Ok(Json(Paged {
        data: users.iter().map(UserOut::from).collect(),
        meta: PageOut {
            page: Some(page),
            limit,
            total: Some(total),
            total_pages: Some(total.div_ceil(u64::from(limit))),
            next_cursor: None,
        },
    }))
}

/// A user: the user themself or an admin; anyone else gets 404.
#[utoipa::path(get, path = "/users/{id}", tag = "users", params(("id" = Uuid, Path)), security(("bearer" = [])), responses(
    (status = 200, description = "The user.", body = UserOut),
    (status = 404, description = "No such user, or not the caller and the caller is no admin.", body = Problem)))]
pub async fn get_user(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    IdPath(id): IdPath,
) -> ApiResult<Json<UserOut>> {
    Ok(Json(UserOut::from(&state.users.get_user(actor, UserId::from_uuid(id)).await?)))
}

/// Update a user. Changing `role` needs an admin; a password change ends the user's other sessions.
#[utoipa::path(patch, path = "/users/{id}", tag = "users", params(("id" = Uuid, Path)), request_body = UpdateUserIn,
    security(("bearer" = [])), responses(
    (status = 200, description = "The updated user.", body = UserOut),
    (status = 403, description = "Only an admin may change a role.", body = Problem),
    (status = 404, description = "No such user, or not the caller and the caller is no admin.", body = Problem),
    (status = 409, description = "The email is taken.", body = Problem)))]
pub async fn update_user(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<UpdateUserIn>,
) -> ApiResult<Json<UserOut>> {
    let user = state.users.update_user(actor, UserId::from_uuid(id), body.try_into_domain()?).await?;
    Ok(Json(UserOut::from(&user)))
}

/// Delete a user and their tasks (admins only).
#[utoipa::path(delete, path = "/users/{id}", tag = "users", params(("id" = Uuid, Path)), security(("bearer" = [])), responses(
    (status = 204, description = "The user, their tasks and their sessions are deleted."),
    (status = 403, description = "The caller is not an admin.", body = Problem),
    (status = 404, description = "No such user.", body = Problem)))]
pub async fn delete_user(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    IdPath(id): IdPath,
) -> ApiResult<StatusCode> {
    state.users.delete_user(actor, UserId::from_uuid(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}
