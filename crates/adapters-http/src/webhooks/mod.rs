//! `/webhooks`: create, list, get, update and delete webhooks; list a webhook's deliveries and retry one.

mod wire;

use axum::Json;
use axum::Router;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Serialize;
use taskflow_application::domain::{DeliveryId, WebhookId};
use utoipa::ToSchema;
use uuid::Uuid;

pub use wire::{CreateWebhookIn, CreatedWebhookOut, DeliveryOut, DeliveryParams, UpdateWebhookIn, WebhookOut};

use crate::AppState;
use crate::dto::Paged;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery, CurrentUser, IdPath};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/webhooks", get(list_webhooks).post(create_webhook))
        .route("/webhooks/{id}", get(get_webhook).patch(update_webhook).delete(delete_webhook))
        .route("/webhooks/{id}/deliveries", get(list_deliveries))
        .route("/webhooks/{id}/deliveries/{deliveryId}/retry", post(retry_delivery))
}

/// The two ids of `/webhooks/{id}/deliveries/{deliveryId}/...`; a malformed one is 400.
#[derive(Debug, Clone, Copy)]
pub struct DeliveryPath(WebhookId, DeliveryId);

impl<S: Send + Sync> FromRequestParts<S> for DeliveryPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Path((id, delivery)) =
            axum::extract::Path::<(String, String)>::from_request_parts(parts, state)
                .await
                .map_err(|_| ApiError::invalid("id", "must be a UUID"))?;
        let id = Uuid::parse_str(&id).map_err(|_| ApiError::invalid("id", "must be a UUID"))?;
        let delivery = Uuid::parse_str(&delivery).map_err(|_| ApiError::invalid("deliveryId", "must be a UUID"))?;
        Ok(Self(WebhookId::from_uuid(id), DeliveryId::from_uuid(delivery)))
    }
}

/// The caller's webhooks.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookListOut {
    /// The webhooks, oldest first.
    pub data: Vec<WebhookOut>,
}

/// Create a webhook. The answer carries its signing `secret`, which is never shown again.
#[utoipa::path(post, path = "/webhooks", tag = "webhooks", request_body = CreateWebhookIn, security(("bearer" = [])),
    responses((status = 201, description = "Created, with its secret.", body = CreatedWebhookOut,
        headers(("Location" = String))),
    (status = 400, description = "The input is invalid, or the URL's host is or resolves to an address that is not \
        public (`errors[].field` is `url`).", body = Problem),
    (status = 409, description = "The caller already has 100 webhooks, the most a user may hold.", body = Problem)))]
pub async fn create_webhook(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    ApiJson(body): ApiJson<CreateWebhookIn>,
) -> ApiResult<Response> {
    let created = state.webhooks.create_webhook(actor, body.try_into_domain()?).await?;
    let mut response = (StatusCode::CREATED, Json(CreatedWebhookOut::from(&created))).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("/webhooks/{}", created.webhook.id())) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    Ok(response)
}

/// The caller's webhooks (every webhook for an admin), oldest first.
#[utoipa::path(get, path = "/webhooks", tag = "webhooks", security(("bearer" = [])),
    responses((status = 200, description = "The webhooks.", body = WebhookListOut)))]
pub async fn list_webhooks(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
) -> ApiResult<Json<WebhookListOut>> {
    let hooks = state.webhooks.list_webhooks(actor).await?;
    Ok(Json(WebhookListOut { data: hooks.iter().map(WebhookOut::from).collect() }))
}

/// A webhook, without its secret.
#[utoipa::path(get, path = "/webhooks/{id}", tag = "webhooks", params(("id" = Uuid, Path)), security(("bearer" = [])),
    responses((status = 200, description = "The webhook.", body = WebhookOut),
    (status = 404, description = "No such webhook, or not the caller's and the caller is no admin.", body = Problem)))]
pub async fn get_webhook(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    IdPath(id): IdPath,
) -> ApiResult<Json<WebhookOut>> {
    let hook = state.webhooks.get_webhook(actor, WebhookId::from_uuid(id)).await?;
    Ok(Json(WebhookOut::from(&hook)))
}

/// Change a webhook's URL (vetted again), events, description or `active` state.
#[utoipa::path(patch, path = "/webhooks/{id}", tag = "webhooks", params(("id" = Uuid, Path)),
    request_body = UpdateWebhookIn, security(("bearer" = [])),
    responses((status = 200, description = "The changed webhook.", body = WebhookOut),
    (status = 400, description = "The input is invalid, names no member, or the new URL's host is or resolves to an \
        address that is not public (`errors[].field` is `url`).", body = Problem),
    (status = 404, description = "No such webhook, or not the caller's and the caller is no admin.", body = Problem)))]
pub async fn update_webhook(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<UpdateWebhookIn>,
) -> ApiResult<Json<WebhookOut>> {
    let patch = body.try_into_domain()?;
    let hook = state.webhooks.update_webhook(actor, WebhookId::from_uuid(id), patch).await?;
    Ok(Json(WebhookOut::from(&hook)))
}

/// Delete a webhook; its pending deliveries are cancelled.
#[utoipa::path(delete, path = "/webhooks/{id}", tag = "webhooks", params(("id" = Uuid, Path)),
    security(("bearer" = [])), responses((status = 204, description = "Deleted."),
    (status = 404, description = "No such webhook, or not the caller's and the caller is no admin.", body = Problem)))]
pub async fn delete_webhook(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    IdPath(id): IdPath,
) -> ApiResult<StatusCode> {
    state.webhooks.delete_webhook(actor, WebhookId::from_uuid(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A webhook's deliveries, newest first, optionally of one status.
#[utoipa::path(get, path = "/webhooks/{id}/deliveries", tag = "webhooks", params(("id" = Uuid, Path), DeliveryParams),
    security(("bearer" = [])), responses((status = 200, description = "A page of deliveries.", body = Paged<DeliveryOut>),
    (status = 404, description = "No such webhook, or not the caller's and the caller is no admin.", body = Problem)))]
pub async fn list_deliveries(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    IdPath(id): IdPath,
    ApiQuery(params): ApiQuery<DeliveryParams>,
) -> ApiResult<Json<Paged<DeliveryOut>>> {
    let req = params.try_into_domain()?;
    let list = state.webhooks.list_deliveries(actor, WebhookId::from_uuid(id), req).await?;
    Ok(Json(Paged { data: list.items.iter().map(DeliveryOut::from).collect(), meta: list.meta.into() }))
}

/// Send a `failed` or `dead` delivery back to `pending`, due now, with a fresh attempt budget.
#[utoipa::path(post, path = "/webhooks/{id}/deliveries/{deliveryId}/retry", tag = "webhooks",
    params(("id" = Uuid, Path), ("deliveryId" = Uuid, Path)), security(("bearer" = [])),
    responses((status = 202, description = "The delivery, back to `pending`.", body = DeliveryOut),
    (status = 404, description = "No such webhook or delivery, or not the caller's and the caller is no admin.",
        body = Problem),
    (status = 409, description = "The delivery is neither `failed` nor `dead`.", body = Problem)))]
pub async fn retry_delivery(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    DeliveryPath(id, delivery): DeliveryPath,
) -> ApiResult<(StatusCode, Json<DeliveryOut>)> {
    let delivery = state.webhooks.retry_delivery(actor, id, delivery).await?;
    Ok((StatusCode::ACCEPTED, Json(DeliveryOut::from(&delivery))))
}
