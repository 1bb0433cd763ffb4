//! Schemas of the wire values whose rules live in the domain (statuses, priorities, roles, titles, names, search
//! terms, paging...), written once from the domain's own lists and limits and referenced by the DTOs' and
//! parameters' `#[schema(value_type = ...)]`, so that the OpenAPI document states the rules the server applies.
//!
//! Text members are trimmed (`str::trim`, Unicode white space) before their length is counted: the patterns say
//! so exactly, since `maxLength` alone would count the white space too.

use std::borrow::Cow;

use taskflow_application::domain::events::TaskEventKind;
use taskflow_application::domain::query::{SearchTerm, SortField};
use taskflow_application::domain::task::{TaskDescription, TaskPriority, TaskStatus, TaskTitle};
use taskflow_application::domain::user::{EmailAddress, Password, Role, UserName};
use taskflow_application::domain::webhook::{DeliveryStatus, WebhookDescription, WebhookUrl};
use utoipa::openapi::schema::{KnownFormat, Object, ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::{RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};

fn string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
}

/// Declares a unit type whose schema is built by `$schema` and named `$name` in `components.schemas`.
macro_rules! domain_schema {
    ($(#[$doc:meta])* $ty:ident, $name:literal, $schema:expr) => {
        $(#[$doc])*
        pub struct $ty;

        impl PartialSchema for $ty {
            fn schema() -> RefOr<Schema> {
                let object: Object = $schema;
                RefOr::T(Schema::Object(object))
            }
        }

        impl ToSchema for $ty {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed($name)
            }
        }
    };
}

fn one_of(values: impl IntoIterator<Item = &'static str>, description: &str) -> Object {
    string().enum_values(Some(values)).description(Some(description)).build()
}

domain_schema!(
    /// A task's status.
    TaskStatusSchema,
    "TaskStatus",
    one_of(TaskStatus::ALL.map(TaskStatus::as_str), "A task's status.")
);
domain_schema!(
    /// A task's priority.
    TaskPrioritySchema,
    "TaskPriority",
    one_of(TaskPriority::ALL.map(TaskPriority::as_str), "A task's priority.")
);
domain_schema!(
    /// A user's role.
    RoleSchema,
    "Role",
    one_of([Role::User, Role::Admin].map(Role::as_str), "A user's role.")
);
domain_schema!(
    /// What a listing is sorted by.
    SortFieldSchema,
    "SortField",
    one_of(SortField::ALL.map(SortField::as_str), "What a listing is sorted by.")
);

domain_schema!(
    /// The direction of a listing.
    SortOrderSchema,
    "SortOrder",
    one_of(["asc", "desc"], "The direction of a listing.")
);
domain_schema!(
    /// What a batch does.
    BatchActionSchema,
    "BatchAction",
    one_of(["complete", "delete"], "What a batch does to each task.")
);
domain_schema!(
    /// An offset page number.
    PageSchema,
    "Page",
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .minimum(Some(1))
        .maximum(Some(u32::MAX))
        .description(Some("A page number, from 1."))
        .build()
);
domain_schema!(
    /// A page size.
    LimitSchema,
    "Limit",
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .minimum(Some(1))
        .maximum(Some(100))
        .description(Some("A page size, 1 to 100."))
        .build()
);

/// The white space `str::trim` removes (Unicode `White_Space`), as a character-class body.
const TRIMMED: &str = r"\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000";
/// Control characters (Unicode category Cc), as a character-class body.
const CONTROL: &str = r"\x00-\x1f\x7f-\x9f";

/// A pattern for a line that is trimmed, then 1 to `max` characters without control characters.
fn bounded_line_pattern(max: usize) -> String {
    let edge = format!(r"[^{CONTROL}{TRIMMED}]");
    let inner = format!(r"[^{CONTROL}]");
    format!(r"^[{TRIMMED}]*{edge}(?:{inner}{{0,{}}}{edge})?[{TRIMMED}]*$", max - 2)
}

/// A pattern for a description: trimmed, then at most `max` characters with no control character other than
/// line breaks and tabs.
fn description_pattern(max: usize) -> String {
    let allowed_controls = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f";
    let edge = format!(r"[^{allowed_controls}{TRIMMED}]");
    let inner = format!(r"[^{allowed_controls}]");
    format!(r"^[{TRIMMED}]*(?:{edge}(?:{inner}{{0,{}}}{edge})?)?[{TRIMMED}]*$", max - 2)
}

domain_schema!(
    /// A task title.
    TitleSchema,
    "TaskTitle",
    string()
        .pattern(Some(bounded_line_pattern(TaskTitle::MAX_LEN)))
        .description(Some("1 to 200 characters once trimmed, no control characters."))
        .examples(["Write the report"])
        .build()
);
domain_schema!(
    /// A task description.
    DescriptionSchema,
    "TaskDescription",
    string()
        .pattern(Some(description_pattern(TaskDescription::MAX_LEN)))
        .description(Some("At most 10,000 characters once trimmed; no control characters but line breaks and tabs."))
        .build()
);
domain_schema!(
    /// A display name.
    UserNameSchema,
    "UserName",
    string()
        .pattern(Some(bounded_line_pattern(UserName::MAX_LEN)))
        .description(Some("1 to 100 characters once trimmed, no control characters."))
        .examples(["Ann Example"])
        .build()
);
domain_schema!(
    /// An email address as registration and updates take it.
    EmailSchema,
    "EmailAddress",
    string()
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Email)))
        .max_length(Some(EmailAddress::MAX_LEN))
        .description(Some(
            "Trimmed and lower-cased; at most 254 characters. A dot-atom local part (letters, digits and \
             !#$%&'*+/=?^_`{|}~.-, no leading, trailing or double dot, at most 64 bytes) and a domain of at \
             least two labels of letters, digits and inner hyphens.",
        ))
        .examples(["ann@example.com"])
        .build()
);
domain_schema!(
    /// A new password.
    PasswordSchema,
    "Password",
    string()
        .min_length(Some(Password::MIN_LEN))
        .max_length(Some(Password::MAX_LEN))
        .description(Some("8 to 128 characters."))
        .build()
);

/// A pattern for an optional line: trimmed, then at most `max` characters without control characters (empty is
/// allowed).
fn optional_line_pattern(max: usize) -> String {
    let edge = format!(r"[^{CONTROL}{TRIMMED}]");
    let inner = format!(r"[^{CONTROL}]");
    format!(r"^[{TRIMMED}]*(?:{edge}(?:{inner}{{0,{}}}{edge})?)?[{TRIMMED}]*$", max - 2)
}

domain_schema!(
    /// The kind of a task event, as webhooks subscribe to it.
    EventTypeSchema,
    "EventType",
    one_of(TaskEventKind::ALL.map(TaskEventKind::as_str), "The kind of a task event.")
);
/// The event kinds a webhook receives: 1 to 5 distinct [`EventTypeSchema`]s.
pub struct EventTypesSchema;

impl PartialSchema for EventTypesSchema {
    fn schema() -> RefOr<Schema> {
        let item = RefOr::Ref(utoipa::openapi::Ref::from_schema_name(EventTypeSchema::name()));
        let array = utoipa::openapi::schema::ArrayBuilder::new()
            .items(item)
            .min_items(Some(1))
            .max_items(Some(TaskEventKind::ALL.len()))
            .unique_items(true)
            .description(Some("1 to 5 distinct event kinds."))
            .build();
        RefOr::T(Schema::Array(array))
    }
}

impl ToSchema for EventTypesSchema {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("EventTypes")
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((EventTypeSchema::name().into_owned(), EventTypeSchema::schema()));
    }
}

domain_schema!(
    /// Where a webhook delivery stands.
    DeliveryStatusSchema,
    "DeliveryStatus",
    one_of(
        DeliveryStatus::ALL.map(DeliveryStatus::as_str),
        "`pending` (not attempted yet), `succeeded`, `failed` (another attempt is scheduled), `dead` (no attempt \
         left) or `cancelled` (its webhook was deleted or answered 410 Gone).",
    )
);
domain_schema!(
    /// A webhook URL.
    WebhookUrlSchema,
    "WebhookUrl",
    string()
        .format(Some(SchemaFormat::Custom("uri".to_owned())))
        .max_length(Some(WebhookUrl::MAX_LEN))
        .pattern(Some(r"^[Hh][Tt][Tt][Pp][Ss]?://[^\s/?#@]+(?:[/?#][^\s]*)?$"))
        .description(Some(
            "An absolute http or https URL of at most 2,048 characters, without user-info. Its host must be, and \
             resolve only to, public addresses: loopback, private, link-local, CGNAT, unspecified, multicast, \
             documentation and metadata addresses (numeric forms included) are refused with 400.",
        ))
        .examples(["https://example.com/hooks/taskflow"])
        .build()
);
domain_schema!(
    /// A webhook description.
    WebhookDescriptionSchema,
    "WebhookDescription",
    string()
        .pattern(Some(optional_line_pattern(WebhookDescription::MAX_LEN)))
        .description(Some("At most 500 characters once trimmed, no control characters; empty means none."))
        .examples(["CI notifications"])
        .build()
);

/// The pattern of a comma-separated list of `values`, each item trimmed.
fn list_pattern(values: &[&str]) -> String {
    let item = format!("[{TRIMMED}]*(?:{})[{TRIMMED}]*", values.join("|"));
    format!("^{item}(?:,{item})*$")
}

domain_schema!(
    /// `status` of a listing: one status or a comma-separated list.
    StatusListSchema,
    "TaskStatusList",
    string()
        .pattern(Some(list_pattern(&TaskStatus::ALL.map(TaskStatus::as_str))))
        .description(Some("One status or a comma-separated list (PENDING, IN_PROGRESS, COMPLETED)."))
        .examples(["PENDING,IN_PROGRESS"])
        .build()
);
domain_schema!(
    /// `priority` of a listing: one priority or a comma-separated list.
    PriorityListSchema,
    "TaskPriorityList",
    string()
        .pattern(Some(list_pattern(&TaskPriority::ALL.map(TaskPriority::as_str))))
        .description(Some("One priority or a comma-separated list (LOW, MEDIUM, HIGH)."))
        .examples(["HIGH"])
        .build()
);
domain_schema!(
    /// A search term.
    SearchSchema,
    "SearchTerm",
    string()
        .max_length(Some(SearchTerm::MAX_LEN))
        .pattern(Some(format!("^[^{CONTROL}]*$")))
        .description(Some("At most 200 characters, no control characters; empty means no search."))
        .build()
);
domain_schema!(
    /// An `Idempotency-Key` header value.
    IdempotencyKeySchema,
    "IdempotencyKey",
    string()
        .min_length(Some(1))
        .max_length(Some(255))
        .pattern(Some("^[\\x20-\\x7e]+$"))
        .description(Some("1 to 255 printable ASCII characters."))
        .build()
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_pattern_counts_characters_after_trimming() {
        let pattern = bounded_line_pattern(5);
        assert_eq!(
            pattern,
            format!(r"^[{TRIMMED}]*[^{CONTROL}{TRIMMED}](?:[^{CONTROL}]{{0,3}}[^{CONTROL}{TRIMMED}])?[{TRIMMED}]*$")
        );
    }
}
