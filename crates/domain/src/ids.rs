//! Typed identifiers: a `TaskId` can never be passed where a `UserId` is expected.

use std::fmt;
use std::str::FromStr;

use uuid::Uuid;

macro_rules! typed_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(Uuid);

        impl $name {
            /// Wraps an existing UUID (from storage, a path parameter or an [`crate::ports::IdGenerator`]).
            #[must_use]
            pub const fn from_uuid(id: Uuid) -> Self {
                Self(id)
            }

            /// The underlying UUID.
            #[must_use]
            pub const fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }

        impl From<Uuid> for $name {
            fn from(id: Uuid) -> Self {
                Self(id)
            }
        }
    };
}

typed_id!(
    /// Identifies a task.
    TaskId
);
typed_id!(
    /// Identifies a user.
    UserId
);
typed_id!(
    /// Identifies a refresh-token family (one per login).
    FamilyId
);
typed_id!(
    /// Identifies a domain event (and so a webhook delivery's `eventId`).
    EventId
);

typed_id!(
    /// Identifies a webhook subscription.
    WebhookId
);
typed_id!(
    /// Identifies one delivery of one event to one webhook.
    DeliveryId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_their_text_form() {
        let id = TaskId::from_uuid(Uuid::now_v7());
        let parsed: TaskId = id.to_string().parse().unwrap();
        assert_eq!(parsed, id);
    }

    #[test]
    fn a_malformed_id_does_not_parse() {
        assert!("not-a-uuid".parse::<UserId>().is_err());
    }
}
