//! Keyset cursors: an opaque, URL-safe encoding of a listing position, bound to the sort, the direction and the
//! filters it was made for, so a cursor replayed against another query is refused instead of skipping rows.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use taskflow_domain::TaskId;
use taskflow_domain::query::{KeysetPosition, SortField, SortOrder, SortValue, TaskFilter};

/// A cursor that is not one of ours, or was made for another query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CursorError {
    /// Not a cursor this service made.
    #[error("the cursor is malformed")]
    Malformed,
    /// A cursor for another sort, direction or filter.
    #[error("the cursor belongs to a different query; repeat the same filters and sort")]
    OtherQuery,
}

#[derive(Serialize, Deserialize)]
struct Wire {
    /// Fingerprint of sort, order and filters.
    q: String,
    /// The sort value (shape depends on the sort field).
    k: serde_json::Value,
    /// The tie-breaking id.
    i: uuid::Uuid,
}

fn fingerprint(sort: SortField, order: SortOrder, filter: &TaskFilter) -> String {
    let digest = Sha256::digest(crate::query_key::filter_key(sort, order, filter).as_bytes());
    hex::encode(&digest[..8])
}

/// Encodes `position` for a query sorted by `sort` in `order` over `filter`.
#[must_use]
pub fn encode(position: &KeysetPosition, sort: SortField, order: SortOrder, filter: &TaskFilter) -> String {
    let k = match &position.value {
        SortValue::Time(t) => serde_json::json!(t.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)),
        SortValue::MaybeTime(t) => {
            serde_json::json!(t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)))
        }
        SortValue::Rank(r) => serde_json::json!(r),
        SortValue::Text(s) => serde_json::json!(s),
    };
    let wire = Wire { q: fingerprint(sort, order, filter), k, i: position.id.as_uuid() };
    // Serialising a struct of strings and numbers cannot fail.
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&wire).unwrap_or_default())
}

/// Decodes a cursor made by [`encode`] for the same sort, order and filter.
///
/// # Errors
/// [`CursorError::Malformed`] for anything we did not make; [`CursorError::OtherQuery`] for another query's cursor.
pub fn decode(
    cursor: &str,
    sort: SortField,
    order: SortOrder,
    filter: &TaskFilter,
) -> Result<KeysetPosition, CursorError> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| CursorError::Malformed)?;
    let wire: Wire = serde_json::from_slice(&bytes).map_err(|_| CursorError::Malformed)?;
    if wire.q != fingerprint(sort, order, filter) {
        return Err(CursorError::OtherQuery);
    }
    let time = |v: &serde_json::Value| -> Result<DateTime<Utc>, CursorError> {
        let s = v.as_str().ok_or(CursorError::Malformed)?;
        DateTime::parse_from_rfc3339(s).map(|t| t.with_timezone(&Utc)).map_err(|_| CursorError::Malformed)
    };
    let value = match sort {
        SortField::CreatedAt | SortField::UpdatedAt => SortValue::Time(time(&wire.k)?),
        SortField::DueDate if wire.k.is_null() => SortValue::MaybeTime(None),
        SortField::DueDate => SortValue::MaybeTime(Some(time(&wire.k)?)),
        SortField::Priority => {
            let rank = wire.k.as_i64().and_then(|r| i16::try_from(r).ok()).ok_or(CursorError::Malformed)?;
            SortValue::Rank(rank)
        }
        SortField::Title => {
            let title = wire.k.as_str().ok_or(CursorError::Malformed)?;
            // No title holds a control character; a cursor that does was not made by us (and NUL cannot reach SQL).
            if title.chars().any(char::is_control) {
                return Err(CursorError::Malformed);
            }
            SortValue::Text(title.to_owned())
        }
    };
    Ok(KeysetPosition { value, id: TaskId::from_uuid(wire.i) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use taskflow_domain::UserId;
    use taskflow_domain::policy::TaskScope;

    fn filter() -> TaskFilter {
        TaskFilter::scoped(TaskScope::Owner(UserId::from_uuid(uuid::Uuid::nil())))
    }

    #[test]
    fn every_sort_value_round_trips() {
        let id = TaskId::from_uuid(uuid::Uuid::now_v7());
        for (sort, value) in [
            (SortField::CreatedAt, SortValue::Time(Utc::now())),
            (SortField::DueDate, SortValue::MaybeTime(None)),
            (SortField::DueDate, SortValue::MaybeTime(Some(Utc::now()))),
            (SortField::Priority, SortValue::Rank(3)),
            (SortField::Title, SortValue::Text("ü \"quoted\"".into())),
        ] {
            let pos = KeysetPosition { value, id };
            let c = encode(&pos, sort, SortOrder::Asc, &filter());
            assert_eq!(decode(&c, sort, SortOrder::Asc, &filter()), Ok(pos), "{sort:?}");
        }
    }

    /// A cursor issued for this query must keep working across releases: its fingerprint is part of the contract
    /// with clients that hold it.
    #[test]
    fn a_cursor_issued_today_decodes_tomorrow() {
        let pos = KeysetPosition { value: SortValue::Rank(2), id: TaskId::from_uuid(uuid::Uuid::nil()) };
        let issued = encode(&pos, SortField::Priority, SortOrder::Desc, &filter());
        assert_eq!(
            issued,
            "eyJxIjoiYzkxZGY4OTNlMmE4YzM0YSIsImsiOjIsImkiOiIwMDAwMDAwMC0wMDAwLTAwMDAtMDAwMC0wMDAwMDAwMDAwMDAifQ"
        );
        assert_eq!(decode(&issued, SortField::Priority, SortOrder::Desc, &filter()), Ok(pos));
    }

    #[test]
    fn garbage_is_malformed() {
        for junk in ["", "!!!", "eyJ9", "bm90IGpzb24"] {
            assert_eq!(decode(junk, SortField::CreatedAt, SortOrder::Desc, &filter()), Err(CursorError::Malformed));
        }
    }

    #[test]
    fn a_cursor_for_another_query_is_refused() {
        let pos = KeysetPosition { value: SortValue::Rank(1), id: TaskId::from_uuid(uuid::Uuid::nil()) };
        let c = encode(&pos, SortField::Priority, SortOrder::Asc, &filter());
        assert_eq!(decode(&c, SortField::Priority, SortOrder::Desc, &filter()), Err(CursorError::OtherQuery));
        assert_eq!(decode(&c, SortField::Title, SortOrder::Asc, &filter()), Err(CursorError::OtherQuery));
        let other = TaskFilter { overdue: Some(true), ..filter() };
        assert_eq!(decode(&c, SortField::Priority, SortOrder::Asc, &other), Err(CursorError::OtherQuery));
    }
}
