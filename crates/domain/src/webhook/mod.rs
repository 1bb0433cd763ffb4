//! Webhook subscriptions and their deliveries.
//!
//! A [`Webhook`] asks for some [`TaskEventKind`]s of its owner's tasks to be `POST`ed to a URL, signed with its
//! [`WebhookSecret`] the Standard Webhooks way. Each matching event becomes one [`Delivery`], retried by the
//! [`RetryPolicy`] until it succeeds or is `dead`.

pub mod address;
mod delivery;
pub mod ports;
mod values;

pub use delivery::{AttemptOutcome, Delivery, DeliveryStatus, FailureClass, RetryPolicy, UnknownDeliveryStatus};
pub use values::{
    EventTypes, EventTypesError, WebhookDescription, WebhookDescriptionError, WebhookSecret, WebhookSecretError,
    WebhookUrl, WebhookUrlError, WebhookUrlHost,
};

use chrono::{DateTime, Utc};

use crate::events::TaskEventKind;
use crate::ids::{UserId, WebhookId};

/// A webhook subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    id: WebhookId,
    owner: UserId,
    url: WebhookUrl,
    events: EventTypes,
    description: Option<WebhookDescription>,
    active: bool,
    secret: WebhookSecret,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

/// What a new webhook is made of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewWebhook {
    /// Where events are posted.
    pub url: WebhookUrl,
    /// Which events.
    pub events: EventTypes,
    /// A note for humans.
    pub description: Option<WebhookDescription>,
}

/// A change to a webhook: `None` leaves a member alone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WebhookPatch {
    /// A new URL.
    pub url: Option<WebhookUrl>,
    /// A new set of events.
    pub events: Option<EventTypes>,
    /// A new description; `Some(None)` clears it.
    pub description: Option<Option<WebhookDescription>>,
    /// Pauses (`false`) or resumes (`true`) deliveries.
    pub active: Option<bool>,
}

/// Every member of a stored webhook, for adapters that rebuild one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookRecord {
    /// Its id.
    pub id: WebhookId,
    /// Who owns it (it receives this user's task events only).
    pub owner: UserId,
    /// Where events are posted.
    pub url: WebhookUrl,
    /// Which events.
    pub events: EventTypes,
    /// A note for humans.
    pub description: Option<WebhookDescription>,
    /// Whether deliveries are made.
    pub active: bool,
    /// The signing secret.
    pub secret: WebhookSecret,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl Webhook {
    /// A new, active webhook.
    #[must_use]
    pub fn new(new: NewWebhook, id: WebhookId, owner: UserId, secret: WebhookSecret, now: DateTime<Utc>) -> Self {
        Self {
            id,
            owner,
            url: new.url,
            events: new.events,
            description: new.description,
            active: true,
            secret,
            created_at: now,
            updated_at: now,
        }
    }

    /// Rebuilds a stored webhook.
    #[must_use]
    pub fn from_record(r: WebhookRecord) -> Self {
        Self {
            id: r.id,
            owner: r.owner,
            url: r.url,
            events: r.events,
            description: r.description,
            active: r.active,
            secret: r.secret,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }

    /// Every member, for storage.
    #[must_use]
    pub fn record(&self) -> WebhookRecord {
        WebhookRecord {
            id: self.id,
            owner: self.owner,
            url: self.url.clone(),
            events: self.events,
            description: self.description.clone(),
            active: self.active,
            secret: self.secret.clone(),
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }

    /// Applies a change at `now`; returns whether anything changed.
    pub fn apply(&mut self, patch: WebhookPatch, now: DateTime<Utc>) -> bool {
        let before = self.clone();
        if let Some(url) = patch.url {
            self.url = url;
        }
        if let Some(events) = patch.events {
            self.events = events;
        }
        if let Some(description) = patch.description {
            self.description = description;
        }
        if let Some(active) = patch.active {
            self.active = active;
        }
        let changed = *self != before;
        if changed {
            self.updated_at = now;
        }
        changed
    }

    /// Whether this webhook wants events of `kind` (and is active).
    #[must_use]
    pub fn wants(&self, kind: TaskEventKind) -> bool {
        self.active && self.events.contains(kind)
    }

    /// Its id.
    #[must_use]
    pub const fn id(&self) -> WebhookId {
        self.id
    }
    /// Its owner.
    #[must_use]
    pub const fn owner(&self) -> UserId {
        self.owner
    }
    /// Its URL.
    #[must_use]
    pub const fn url(&self) -> &WebhookUrl {
        &self.url
    }
    /// The events it receives.
    #[must_use]
    pub const fn events(&self) -> EventTypes {
        self.events
    }
    /// Its description.
    #[must_use]
    pub const fn description(&self) -> Option<&WebhookDescription> {
        self.description.as_ref()
    }
    /// Whether deliveries are made.
    #[must_use]
    pub const fn active(&self) -> bool {
        self.active
    }
    /// Its signing secret.
    #[must_use]
    pub const fn secret(&self) -> &WebhookSecret {
        &self.secret
    }
    /// When it was created.
    #[must_use]
    pub const fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }
    /// When it last changed.
    #[must_use]
    pub const fn updated_at(&self) -> DateTime<Utc> {
        self.updated_at
    }
}
