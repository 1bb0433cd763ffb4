//! A webhook and its deliveries on the wire: request bodies and query parameters, validated into the use cases'
//! input, and the shapes responses show. The secret appears in [`CreatedWebhookOut`] only.

use serde::{Deserialize, Serialize};
use taskflow_application::FieldError;
use taskflow_application::domain::webhook::{
    Delivery, DeliveryStatus, EventTypes, NewWebhook, Webhook, WebhookDescription, WebhookPatch, WebhookUrl,
};
use taskflow_application::webhooks::{CreatedWebhook, ListDeliveries};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::dto::{double_option, page_and_limit, timestamp};
use crate::error::ApiError;
use crate::schemas::{
    DeliveryStatusSchema, EventTypeSchema, EventTypesSchema, LimitSchema, PageSchema, WebhookDescriptionSchema,
    WebhookUrlSchema,
};

/// A new webhook.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhookIn {
    /// Where events are posted.
    #[schema(value_type = WebhookUrlSchema)]
    url: String,
    /// 1 to 5 distinct event kinds.
    #[schema(value_type = EventTypesSchema)]
    events: Vec<String>,
    /// A note for humans.
    #[schema(value_type = Option<WebhookDescriptionSchema>)]
    description: Option<String>,
}

/// A change to a webhook: at least one member. `null` clears `description`; `null` for the others is 400.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(min_properties = 1)]
pub struct UpdateWebhookIn {
    /// A new URL, vetted as at creation.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = WebhookUrlSchema)]
    url: Option<Option<String>>,
    /// A new set of 1 to 5 distinct event kinds.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = EventTypesSchema)]
    events: Option<Option<Vec<String>>>,
    /// A new description, or `null` to clear it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<WebhookDescriptionSchema>)]
    description: Option<Option<String>>,
    /// `false` pauses deliveries, `true` resumes them.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = bool)]
    active: Option<Option<bool>>,
}

/// Parameters of a deliveries listing.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeliveryParams {
    /// Only deliveries in this status.
    #[param(value_type = Option<DeliveryStatusSchema>)]
    status: Option<String>,
    /// Page from 1 (default 1).
    #[param(value_type = Option<PageSchema>)]
    page: Option<String>,
    /// 1 to 100 (default 20).
    #[param(value_type = Option<LimitSchema>)]
    limit: Option<String>,
}

/// Collects field errors while parsing.
#[derive(Default)]
struct Errors(Vec<FieldError>);

impl Errors {
    fn take<T, E: ToString>(&mut self, field: &str, r: Result<T, E>) -> Option<T> {
        r.map_err(|e| self.0.push(FieldError::new(field, e))).ok()
    }

    /// A member that may be absent but not `null`.
    fn non_null<R, T, E: ToString>(
        &mut self,
        field: &str,
        raw: Option<Option<R>>,
        parse: impl FnOnce(R) -> Result<T, E>,
    ) -> Option<T> {
        match raw {
            None => None,
            Some(None) => self.take(field, Err::<T, _>("must not be null")),
            Some(Some(v)) => self.take(field, parse(v)),
        }
    }

    fn finish<T>(self, value: impl FnOnce() -> T) -> Result<T, ApiError> {
        if self.0.is_empty() { Ok(value()) } else { Err(ApiError::validation(self.0)) }
    }
}

fn events(raw: &[String]) -> Result<EventTypes, String> {
    EventTypes::parse(raw).map_err(|e| e.to_string())
}

impl CreateWebhookIn {
    pub fn try_into_domain(self) -> Result<NewWebhook, ApiError> {
        let mut e = Errors::default();
        let url = e.take("url", WebhookUrl::parse(&self.url));
        let events = e.take("events", events(&self.events));
        let description = self.description.and_then(|d| e.take("description", WebhookDescription::parse(&d))).flatten();
        match (url, events) {
            (Some(url), Some(events)) => e.finish(|| NewWebhook { url, events, description }),
            _ => Err(ApiError::validation(e.0)),
        }
    }
}

impl UpdateWebhookIn {
    pub fn try_into_domain(self) -> Result<WebhookPatch, ApiError> {
        let mut e = Errors::default();
        let description = match self.description {
            None => None,
            Some(None) => Some(None),
            Some(Some(d)) => e.take("description", WebhookDescription::parse(&d)),
        };
        let patch = WebhookPatch {
            url: e.non_null("url", self.url, |u| WebhookUrl::parse(&u)),
            events: e.non_null("events", self.events, |v| events(&v)),
            description,
            active: e.non_null("active", self.active, Ok::<bool, String>),
        };
        e.finish(|| patch)
    }
}

impl DeliveryParams {
    pub fn try_into_domain(self) -> Result<ListDeliveries, ApiError> {
        let mut e = Errors::default();
        let status = self.status.and_then(|s| e.take("status", DeliveryStatus::parse(&s)));
        let (page, limit) = page_and_limit(self.page.as_deref(), self.limit.as_deref()).unwrap_or_else(|errors| {
            e.0.extend(errors);
            (1, 20)
        });
        e.finish(|| ListDeliveries { status, page, limit })
    }
}

/// A webhook (its secret is shown once, at creation).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookOut {
    /// Id.
    pub id: Uuid,
    /// Where events are posted.
    pub url: String,
    /// The event kinds it receives.
    #[schema(value_type = EventTypesSchema)]
    pub events: Vec<&'static str>,
    /// A note for humans.
    pub description: Option<String>,
    /// Whether deliveries are made.
    pub active: bool,
    /// Creation time.
    #[schema(format = DateTime)]
    pub created_at: String,
    /// Last change.
    #[schema(format = DateTime)]
    pub updated_at: String,
}

impl From<&Webhook> for WebhookOut {
    fn from(w: &Webhook) -> Self {
        Self {
            id: w.id().as_uuid(),
            url: w.url().to_string(),
            events: w.events().names(),
            description: w.description().map(|d| d.as_str().to_owned()),
            active: w.active(),
            created_at: timestamp(w.created_at()),
            updated_at: timestamp(w.updated_at()),
        }
    }
}

/// A new webhook, with its signing secret: the only answer that shows it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedWebhookOut {
    /// Id.
    pub id: Uuid,
    /// Where events are posted.
    pub url: String,
    /// The event kinds it receives.
    #[schema(value_type = EventTypesSchema)]
    pub events: Vec<&'static str>,
    /// A note for humans.
    pub description: Option<String>,
    /// Whether deliveries are made.
    pub active: bool,
    /// Creation time.
    #[schema(format = DateTime)]
    pub created_at: String,
    /// Last change.
    #[schema(format = DateTime)]
    pub updated_at: String,
    /// The signing secret (`whsec_` and the base64 of 32 bytes): keep it, it is never shown again.
    #[schema(pattern = "^whsec_[A-Za-z0-9+/]{43}=$")]
    pub secret: String,
}

impl From<&CreatedWebhook> for CreatedWebhookOut {
    fn from(c: &CreatedWebhook) -> Self {
        let WebhookOut { id, url, events, description, active, created_at, updated_at } = (&c.webhook).into();
        Self { id, url, events, description, active, created_at, updated_at, secret: c.secret.expose() }
    }
}

/// One delivery of one event to a webhook.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryOut {
    /// Id (sent as `TaskFlow-Delivery`).
    pub id: Uuid,
    /// The event's kind.
    #[schema(value_type = EventTypeSchema)]
    pub event: &'static str,
    /// The event's id (sent as `webhook-id`, the same on every attempt).
    pub event_id: Uuid,
    /// Where it stands.
    #[schema(value_type = DeliveryStatusSchema)]
    pub status: &'static str,
    /// Attempts made since it was created or last retried by hand.
    #[schema(minimum = 0)]
    pub attempts: u32,
    /// When the next attempt is due, while it is open.
    #[schema(format = DateTime)]
    pub next_attempt_at: Option<String>,
    /// The HTTP status of the last answer.
    #[schema(minimum = 100, maximum = 999)]
    pub last_status_code: Option<u16>,
    /// A short class of the last failure (`timeout`, `status 500`, ...).
    pub last_error: Option<String>,
    /// How long the last attempt took, in milliseconds.
    #[schema(minimum = 0)]
    pub duration_ms: Option<u32>,
    /// Creation time.
    #[schema(format = DateTime)]
    pub created_at: String,
    /// Last change.
    #[schema(format = DateTime)]
    pub updated_at: String,
}

impl From<&Delivery> for DeliveryOut {
    fn from(d: &Delivery) -> Self {
        Self {
            id: d.id.as_uuid(),
            event: d.event.as_str(),
            event_id: d.event_id.as_uuid(),
            status: d.status.as_str(),
            attempts: d.attempts,
            next_attempt_at: d.next_attempt_at.map(timestamp),
            last_status_code: d.last_status_code,
            last_error: d.last_error.clone(),
            duration_ms: d.duration_ms,
            created_at: timestamp(d.created_at),
            updated_at: timestamp(d.updated_at),
        }
    }
}
