//! Wire shapes shared by several resources, and conversions from domain types. Camel case, RFC 3339 UTC.

use chrono::{DateTime, SecondsFormat, Timelike, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use taskflow_application::domain::user::User;
use taskflow_application::tasks::{PageMeta, PagingRequest};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::schemas::{LimitSchema, PageSchema, RoleSchema};

/// RFC 3339 in UTC, to the microsecond, with only as many fractional digits as the instant needs.
///
/// PostgreSQL keeps microseconds: rendering the nanoseconds of the clock would make the answer to a write
/// differ from the same resource read back.
pub fn timestamp(t: DateTime<Utc>) -> String {
    let micros = t.with_nanosecond(t.nanosecond() / 1000 * 1000).unwrap_or(t);
    micros.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// Parses an RFC 3339 timestamp with any offset into UTC, as the instant every backend keeps.
///
/// One rule for both stores: a leap second (`23:59:60`) is the instant after `23:59:59` (the next day's
/// `00:00:00`, as PostgreSQL reads it), and precision stops at the microsecond (PostgreSQL's).
pub fn parse_timestamp(raw: &str) -> Result<DateTime<Utc>, String> {
    let t = DateTime::parse_from_rfc3339(raw)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| "must be an RFC 3339 timestamp such as 2026-11-25T09:00:00Z".to_owned())?;
    // chrono represents a leap second as nanoseconds past 1,000,000,000 within second 59.
    let (leap, nanos) = (t.nanosecond() >= 1_000_000_000, t.nanosecond() % 1_000_000_000);
    let t = t.with_nanosecond(nanos / 1000 * 1000).unwrap_or(t);
    Ok(if leap { t + chrono::TimeDelta::seconds(1) } else { t })
}

#[cfg(test)]
mod tests {
    use super::{parse_timestamp, timestamp};

    #[test]
    fn a_leap_second_is_the_next_instant_and_precision_stops_at_the_microsecond() {
        let cases = [
            ("2026-12-31T23:59:60Z", "2027-01-01T00:00:00Z"),
            ("2026-12-31T23:59:60.5Z", "2027-01-01T00:00:00.500Z"),
            ("2016-12-31T23:59:60+01:00", "2016-12-31T23:00:00Z"),
            ("2026-11-25T09:00:00.123456789Z", "2026-11-25T09:00:00.123456Z"),
            ("2026-11-25T10:00:00+01:00", "2026-11-25T09:00:00Z"),
        ];
        for (raw, expected) in cases {
            let parsed = parse_timestamp(raw).unwrap_or_else(|e| panic!("{raw}: {e}"));
            assert_eq!(timestamp(parsed), expected, "{raw}");
            assert!(parsed.timestamp_subsec_nanos() < 1_000_000_000, "{raw} is a plain instant");
        }
    }
}

/// Distinguishes an absent member (`None`) from an explicit `null` (`Some(None)`).
pub fn double_option<'de, T: Deserialize<'de>, D: Deserializer<'de>>(de: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(de).map(Some)
}

/// A user as the API shows it: never a password or hash.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserOut {
    /// Id.
    pub id: Uuid,
    /// Login email.
    pub email: String,
    /// Display name.
    pub name: String,
    /// `user` or `admin`.
    #[schema(value_type = RoleSchema)]
    pub role: &'static str,
    /// Registration time.
    #[schema(format = DateTime)]
    pub created_at: String,
    /// Last change.
    #[schema(format = DateTime)]
    pub updated_at: String,
}

impl From<&User> for UserOut {
    fn from(u: &User) -> Self {
        Self {
            id: u.id().as_uuid(),
            email: u.email().to_string(),
            name: u.name().to_string(),
            role: u.role().as_str(),
            created_at: timestamp(u.created_at()),
            updated_at: timestamp(u.updated_at()),
        }
    }
}

/// Paging facts: offset pages carry `page`, `total` and `totalPages`; keyset pages carry `nextCursor`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PageOut {
    /// The page number (offset paging).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<PageSchema>)]
    pub page: Option<u32>,
    /// The page size.
    #[schema(value_type = LimitSchema)]
    pub limit: u32,
    /// Matching items (offset paging).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
    /// Pages in all (offset paging).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_pages: Option<u64>,
    /// The next page's cursor, `null` on the last page (keyset paging).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub next_cursor: Option<Option<String>>,
}

impl From<PageMeta> for PageOut {
    fn from(meta: PageMeta) -> Self {
        match meta {
            PageMeta::Offset { page, limit, total, total_pages } => {
                Self { page: Some(page), limit, total: Some(total), total_pages: Some(total_pages), next_cursor: None }
            }
            PageMeta::Keyset { limit, next_cursor } => {
                Self { page: None, limit, total: None, total_pages: None, next_cursor: Some(next_cursor) }
            }
        }
    }
}

/// A page of items.
#[derive(Debug, Serialize, ToSchema)]
pub struct Paged<T: ToSchema> {
    /// The items.
    pub data: Vec<T>,
    /// Paging facts.
    pub meta: PageOut,
}

/// Parses `page` and `limit` query values (defaults 1 and 20; limit 1..=100).
pub fn page_and_limit(
    page: Option<&str>,
    limit: Option<&str>,
) -> Result<(u32, u32), Vec<taskflow_application::FieldError>> {
    use taskflow_application::FieldError;
    let mut errors = Vec::new();
    let page = match page.map(str::parse::<u32>) {
        None => 1,
        Some(Ok(p)) if p >= 1 => p,
        Some(_) => {
            errors.push(FieldError::new("page", "must be an integer >= 1"));
            1
        }
    };
    let limit = parse_limit(limit).unwrap_or_else(|e| {
        errors.push(e);
        PagingRequest::DEFAULT_LIMIT
    });
    if errors.is_empty() { Ok((page, limit)) } else { Err(errors) }
}

/// Parses a `limit` query value (default 20, the contract's for every listing; 1..=100).
pub fn parse_limit(limit: Option<&str>) -> Result<u32, taskflow_application::FieldError> {
    match limit.map(str::parse::<u32>) {
        None => Ok(PagingRequest::DEFAULT_LIMIT),
        Some(Ok(l)) if (1..=100).contains(&l) => Ok(l),
        Some(_) => Err(taskflow_application::FieldError::new("limit", "must be an integer from 1 to 100")),
    }
}
