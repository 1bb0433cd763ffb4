//! Builds the SQL of a task listing: filters, search, sort and keyset predicate, mirroring
//! `taskflow_domain::query::{TaskFilter::matches, compare}` exactly.

use chrono::{DateTime, Utc};
use sea_orm::{Statement, Value};
use taskflow_domain::RepoError;
use taskflow_domain::policy::TaskScope;
use taskflow_domain::query::{KeysetPosition, SortField, SortOrder, SortValue, TaskFilter};

use crate::rows::{stmt, task_column_list};

/// SQL text being assembled with its positional parameters.
#[derive(Debug, Default)]
pub(crate) struct Sql {
    values: Vec<Value>,
}

impl Sql {
    /// Binds a value and returns its placeholder (`$n`).
    pub(crate) fn bind(&mut self, v: impl Into<Value>) -> String {
        self.values.push(v.into());
        format!("${}", self.values.len())
    }

    /// The finished statement.
    pub(crate) fn into_statement(self, text: String) -> Statement {
        stmt(text, self.values)
    }
}

/// Escapes `\`, `%` and `_` so a search term is matched as literal text by `ILIKE ... ESCAPE '\'`.
pub(crate) fn like_pattern(term: &str) -> String {
    let mut p = String::with_capacity(term.len() + 2);
    p.push('%');
    for c in term.chars() {
        if matches!(c, '\\' | '%' | '_') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// The `WHERE` conditions of `filter` at `now` (never empty: `TRUE` when there is nothing to filter).
pub(crate) fn where_clause(filter: &TaskFilter, now: DateTime<Utc>, sql: &mut Sql) -> String {
    let mut conds: Vec<String> = Vec::new();
    if let TaskScope::Owner(owner) = filter.scope {
        conds.push(format!("t.user_id = {}", sql.bind(owner.as_uuid())));
    }
    // A single value is an equality so the planner can walk an ordered index; several are an ANY.
    match filter.statuses.as_slice() {
        [] => {}
        [one] => conds.push(format!("t.status = {}", sql.bind(one.as_str()))),
        many => {
            let names: Vec<String> = many.iter().map(|s| s.as_str().to_owned()).collect();
            conds.push(format!("t.status = ANY({})", sql.bind(names)));
        }
    }
    // Priorities filter on the rank, so the (user_id, priority_rank, id) index serves filter and sort alike.
    match filter.priorities.as_slice() {
        [] => {}
        [one] => conds.push(format!("t.priority_rank = {}", sql.bind(one.rank()))),
        many => {
            let ranks: Vec<i16> = many.iter().map(|p| p.rank()).collect();
            conds.push(format!("t.priority_rank = ANY({})", sql.bind(ranks)));
        }
    }
    if let Some(term) = &filter.search {
        let p = sql.bind(like_pattern(term.as_ref()));
        conds.push(format!(r"(t.title ILIKE {p} ESCAPE '\' OR t.description ILIKE {p} ESCAPE '\')"));
    }
    if let Some(before) = filter.due_before {
        conds.push(format!("t.due_date < {}", sql.bind(before)));
    }
    if let Some(after) = filter.due_after {
        conds.push(format!("t.due_date > {}", sql.bind(after)));
    }
    match filter.overdue {
        None => {}
        Some(true) => conds.push(format!("(t.status <> 'COMPLETED' AND t.due_date < {})", sql.bind(now))),
        Some(false) => {
            conds.push(format!("(t.status = 'COMPLETED' OR t.due_date IS NULL OR t.due_date >= {})", sql.bind(now)))
        }
    }
    if conds.is_empty() { "TRUE".to_owned() } else { conds.join(" AND ") }
}

/// The sort key's SQL expression. Titles compare by code point, as Rust's `str` does.
const fn key(sort: SortField) -> &'static str {
    match sort {
        SortField::CreatedAt => "t.created_at",
        SortField::UpdatedAt => "t.updated_at",
        SortField::DueDate => "t.due_date",
        SortField::Priority => "t.priority_rank",
        SortField::Title => r#"t.title COLLATE "C""#,
    }
}

/// The `ORDER BY` list: the key, then the id in the same direction; due dates keep NULLs last both ways.
pub(crate) fn order_by(sort: SortField, order: SortOrder) -> String {
    let dir = if order == SortOrder::Asc { "ASC" } else { "DESC" };
    let nulls = if sort == SortField::DueDate { " NULLS LAST" } else { "" };
    format!("{} {dir}{nulls}, t.id {dir}", key(sort))
}

/// The condition selecting the rows strictly after `after` in the listing order.
///
/// # Errors
/// [`RepoError::Unexpected`] when the position was made for another sort field.
pub(crate) fn after_clause(
    sort: SortField,
    order: SortOrder,
    after: &KeysetPosition,
    sql: &mut Sql,
) -> Result<String, RepoError> {
    if !after.value.fits(sort) {
        return Err(RepoError::unexpected(format!("a keyset position does not fit the sort by {}", sort.as_str())));
    }
    let cmp = if order == SortOrder::Asc { ">" } else { "<" };
    let id = sql.bind(after.id.as_uuid());
    let row = |v: String| format!("({}, t.id) {cmp} ({v}, {id})", key(sort));
    Ok(match &after.value {
        SortValue::Time(t) => row(sql.bind(*t)),
        SortValue::Rank(r) => row(sql.bind(*r)),
        SortValue::Text(s) => row(format!(r#"{} COLLATE "C""#, sql.bind(s.clone()))),
        // A dated position: later dates in the direction, then the whole undated group.
        SortValue::MaybeTime(Some(t)) => format!("({} OR t.due_date IS NULL)", row(sql.bind(*t))),
        // Inside the undated group only ids are left to compare.
        SortValue::MaybeTime(None) => format!("(t.due_date IS NULL AND t.id {cmp} {id})"),
    })
}

/// The rows to fetch for a page of `rows`: the least of 10, 20, 50 and 100 that holds them (the caller keeps the
/// first `rows`; a keyset page fetches one more), so that pages of any size share four statement texts per shape.
pub(crate) fn fetch_size(rows: u32) -> u32 {
    [10, 20, 50, 100].into_iter().find(|size| *size >= rows).unwrap_or(rows)
}

/// The page statement: tasks with their owner's name and email, in listing order. With `total`, every row also
/// carries the count of every task matching `condition` (an uncorrelated subquery: PostgreSQL runs it once).
///
/// `limit` is written into the statement, not bound, and `offset` (a placeholder) is given only past the first
/// page: PostgreSQL plans a statement whose `LIMIT` or `OFFSET` is a parameter afresh at every execution (its
/// generic plan, blind to the limit, always looks dearer than a custom one), and for a page that planning cost
/// more CPU than running it (docs/performance.md, "Listing plans"). Callers pass a [`fetch_size`], so each
/// listing shape has a handful of texts in the statement cache, and a first page is planned once per connection.
pub(crate) fn page_sql(
    condition: &str,
    sort: SortField,
    order: SortOrder,
    limit: u32,
    offset: Option<&str>,
    total: bool,
) -> String {
    let offset = offset.map(|o| format!(" OFFSET {o}")).unwrap_or_default();
    let extra =
        if total { format!(", (SELECT count(*) FROM tasks t WHERE {condition}) AS total") } else { String::new() };
    format!(
        "SELECT {}, u.name AS owner_name, u.email AS owner_email{extra} \
         FROM tasks t JOIN users u ON u.id = t.user_id \
         WHERE {condition} ORDER BY {} LIMIT {limit}{offset}",
        task_column_list("t"),
        order_by(sort, order)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_of_any_size_are_fetched_in_four_sizes() {
        let sizes: std::collections::BTreeSet<u32> = (1..=100).map(fetch_size).collect();
        assert_eq!(sizes.into_iter().collect::<Vec<_>>(), [10, 20, 50, 100]);
        assert!((1..=100).all(|rows| fetch_size(rows) >= rows));
    }

    #[test]
    fn search_wildcards_are_escaped() {
        assert_eq!(like_pattern(r"50%_off\now"), r"%50\%\_off\\now%");
        assert_eq!(like_pattern("plain"), "%plain%");
    }

    #[test]
    fn due_dates_keep_nulls_last_in_both_directions() {
        assert_eq!(order_by(SortField::DueDate, SortOrder::Desc), "t.due_date DESC NULLS LAST, t.id DESC");
        assert_eq!(order_by(SortField::DueDate, SortOrder::Asc), "t.due_date ASC NULLS LAST, t.id ASC");
        assert_eq!(order_by(SortField::Title, SortOrder::Asc), r#"t.title COLLATE "C" ASC, t.id ASC"#);
    }
}
