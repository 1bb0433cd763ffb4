//! Task listings: filter with [`TaskFilter::matches`], order with [`compare`], then page, sorting only the part
//! of the matches a page needs.

use std::cmp::Ordering;

use taskflow_domain::RepoError;
use taskflow_domain::query::{KeysetPosition, OwnerSummary, Paging, TaskPage, TaskQuery, TaskView, compare};
use taskflow_domain::task::Task;

use super::tables::Tables;

/// A matching task with its place in the order.
type Ranked<'a> = (KeysetPosition, &'a Task);

/// Answers `query` over the committed `tables`.
pub(crate) fn list(tables: &Tables, query: &TaskQuery) -> Result<TaskPage, RepoError> {
    let order = query.order;
    let cmp = |a: &Ranked<'_>, b: &Ranked<'_>| compare(&a.0, &b.0, order);
    let matching = tables.tasks_in(query.filter.scope).filter(|t| query.filter.matches(t, query.now));
    match &query.paging {
        Paging::Offset { page, limit } => {
            let mut ranked: Vec<Ranked<'_>> = matching.map(|t| (KeysetPosition::of(t, query.sort), t)).collect();
            let total = ranked.len();
            let start = usize::try_from(u64::from(page.saturating_sub(1)) * u64::from(*limit)).unwrap_or(usize::MAX);
            let end = start.saturating_add(*limit as usize).min(total);
            let items = if start >= total { Vec::new() } else { smallest(&mut ranked, end, cmp)[start..].to_vec() };
            Ok(TaskPage { items: views(tables, &items)?, total: Some(total as u64), next: None })
        }
        Paging::Keyset { after, limit } => {
            let limit = *limit as usize;
            let mut ranked: Vec<Ranked<'_>> = matching
                .map(|t| (KeysetPosition::of(t, query.sort), t))
                .filter(|(pos, _)| after.as_ref().is_none_or(|a| compare(pos, a, order) == Ordering::Greater))
                .collect();
            // One more than a page tells whether there is a next page.
            let mut items = smallest(&mut ranked, limit + 1, cmp).to_vec();
            let more = items.len() > limit;
            items.truncate(limit);
            let next = if more { items.last().map(|(pos, _)| pos.clone()) } else { None };
            Ok(TaskPage { items: views(tables, &items)?, total: None, next })
        }
    }
}

/// The `n` first of `ranked` in order, sorted; the rest is left unordered (linear selection, then a small sort).
fn smallest<'v, 'a>(
    ranked: &'v mut [Ranked<'a>],
    n: usize,
    mut cmp: impl FnMut(&Ranked<'a>, &Ranked<'a>) -> Ordering,
) -> &'v [Ranked<'a>] {
    let n = n.min(ranked.len());
    if n == 0 {
        return &[];
    }
    if n < ranked.len() {
        ranked.select_nth_unstable_by(n - 1, &mut cmp);
    }
    let head = &mut ranked[..n];
    head.sort_unstable_by(cmp);
    head
}

/// The views of `items`, each with its owner's summary.
fn views(tables: &Tables, items: &[Ranked<'_>]) -> Result<Vec<TaskView>, RepoError> {
    items.iter().map(|(_, task)| view(tables, task)).collect()
}

/// One task with its owner's summary.
pub(crate) fn view(tables: &Tables, task: &Task) -> Result<TaskView, RepoError> {
    let owner = tables
        .users
        .get(&task.owner())
        .ok_or_else(|| RepoError::unexpected(format!("task {} has no owner {}", task.id(), task.owner())))?;
    Ok(TaskView {
        task: task.clone(),
        owner: OwnerSummary { id: owner.id(), name: owner.name().clone(), email: owner.email().clone() },
    })
}
