//! Explicit, stable text encodings of listing queries, for keyset-cursor fingerprints and read-cache keys.
//!
//! They are written out member by member, never taken from `Debug`: a derive or a rename must not silently turn
//! every issued cursor into "another query" or orphan every cache entry. Each encoding starts with its version;
//! changing what it contains means a new version, on purpose. Free text is length-prefixed, so no value can
//! imitate a separator.

use std::fmt::Write as _;

use chrono::{DateTime, SecondsFormat, Utc};
use taskflow_domain::policy::TaskScope;
use taskflow_domain::query::{KeysetPosition, Paging, SortField, SortOrder, SortValue, TaskFilter, TaskQuery};

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Nanos, true)
}

fn text(out: &mut String, s: &str) {
    let _ = write!(out, "{}:{s}", s.len());
}

fn list<T>(items: &[T], name: impl Fn(&T) -> &'static str) -> String {
    items.iter().map(name).collect::<Vec<_>>().join(",")
}

/// The scope: `all` or `u:<user id>`.
#[must_use]
pub fn scope_key(scope: TaskScope) -> String {
    match scope {
        TaskScope::All => "all".to_owned(),
        TaskScope::Owner(owner) => format!("u:{owner}"),
    }
}

/// Which tasks, in which order: what a keyset cursor is bound to.
#[must_use]
pub fn filter_key(sort: SortField, order: SortOrder, filter: &TaskFilter) -> String {
    let mut out = format!(
        "v1;sort={};order={};scope={};status={};priority={};search=",
        sort.as_str(),
        match order {
            SortOrder::Asc => "asc",
            SortOrder::Desc => "desc",
        },
        scope_key(filter.scope),
        list(&filter.statuses, |s| s.as_str()),
        list(&filter.priorities, |p| p.as_str()),
    );
    match &filter.search {
        Some(term) => text(&mut out, term.as_ref()),
        None => out.push('-'),
    }
    let _ = write!(
        out,
        ";before={};after={};overdue={}",
        filter.due_before.map_or_else(|| "-".to_owned(), time),
        filter.due_after.map_or_else(|| "-".to_owned(), time),
        match filter.overdue {
            Some(true) => "true",
            Some(false) => "false",
            None => "-",
        }
    );
    out
}

fn position_key(out: &mut String, position: &KeysetPosition) {
    match &position.value {
        SortValue::Time(t) | SortValue::MaybeTime(Some(t)) => {
            let _ = write!(out, "t:{}", time(*t));
        }
        SortValue::MaybeTime(None) => out.push_str("t:-"),
        SortValue::Rank(r) => {
            let _ = write!(out, "r:{r}");
        }
        SortValue::Text(s) => {
            out.push_str("s:");
            text(out, s);
        }
    }
    let _ = write!(out, "/{}", position.id);
}

/// A whole listing request: the filter, the page, and `now` when the result depends on it (the overdue filter).
#[must_use]
pub fn query_key(query: &TaskQuery, now: Option<DateTime<Utc>>) -> String {
    let mut out = filter_key(query.sort, query.order, &query.filter);
    match &query.paging {
        Paging::Offset { page, limit } => {
            let _ = write!(out, ";page={page};limit={limit}");
        }
        Paging::Keyset { after, limit } => {
            let _ = write!(out, ";limit={limit};after=");
            match after {
                Some(position) => position_key(&mut out, position),
                None => out.push('-'),
            }
        }
    }
    let _ = write!(out, ";now={}", now.map_or_else(|| "-".to_owned(), time));
    out
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone as _;
    use taskflow_domain::query::SearchTerm;
    use taskflow_domain::task::{TaskPriority, TaskStatus};
    use taskflow_domain::{TaskId, UserId};

    use super::*;

    fn at(s: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_800_000_000 + s, 0).single().unwrap()
    }

    fn full_filter() -> TaskFilter {
        TaskFilter {
            scope: TaskScope::Owner(UserId::from_uuid(uuid::Uuid::from_u128(7))),
            statuses: vec![TaskStatus::Pending, TaskStatus::InProgress],
            priorities: vec![TaskPriority::High],
            search: SearchTerm::parse("a;b=c").unwrap(),
            due_before: Some(at(60)),
            due_after: Some(at(0)),
            overdue: Some(false),
        }
    }

    /// These strings are the keys of issued cursors and cached pages: if this test has to change, cursors
    /// in clients' hands stop working and the cache starts cold, so it must be a deliberate new version.
    #[test]
    fn the_encodings_are_stable() {
        assert_eq!(
            filter_key(SortField::DueDate, SortOrder::Asc, &full_filter()),
            "v1;sort=dueDate;order=asc;scope=u:00000000-0000-0000-0000-000000000007;status=PENDING,IN_PROGRESS;\
             priority=HIGH;search=5:a;b=c;before=2027-01-15T08:01:00.000000000Z;after=2027-01-15T08:00:00.000000000Z;\
             overdue=false"
        );
        let position =
            KeysetPosition { value: SortValue::Text("x/y".into()), id: TaskId::from_uuid(uuid::Uuid::nil()) };
        let query = TaskQuery {
            filter: TaskFilter::scoped(TaskScope::All),
            sort: SortField::Title,
            order: SortOrder::Desc,
            paging: Paging::Keyset { after: Some(position), limit: 20 },
            now: at(0),
        };
        assert_eq!(
            query_key(&query, None),
            "v1;sort=title;order=desc;scope=all;status=;priority=;search=-;before=-;after=-;overdue=-;limit=20;\
             after=s:3:x/y/00000000-0000-0000-0000-000000000000;now=-"
        );
    }

    #[test]
    fn every_member_of_the_query_changes_the_key() {
        let base = full_filter();
        let key = |f: &TaskFilter| filter_key(SortField::DueDate, SortOrder::Asc, f);
        let variants = [
            TaskFilter { scope: TaskScope::All, ..base.clone() },
            TaskFilter { statuses: vec![TaskStatus::Pending], ..base.clone() },
            TaskFilter { priorities: vec![], ..base.clone() },
            TaskFilter { search: None, ..base.clone() },
            TaskFilter { due_before: None, ..base.clone() },
            TaskFilter { due_after: Some(at(1)), ..base.clone() },
            TaskFilter { overdue: Some(true), ..base.clone() },
        ];
        for variant in &variants {
            assert_ne!(key(variant), key(&base), "{variant:?}");
        }
        assert_ne!(key(&base), filter_key(SortField::DueDate, SortOrder::Desc, &base));
        assert_ne!(key(&base), filter_key(SortField::Title, SortOrder::Asc, &base));
    }
}
