//! Offset and keyset paging over task listings, and the task counts.

use std::collections::HashSet;

use taskflow_domain::ids::TaskId;
use taskflow_domain::policy::TaskScope;
use taskflow_domain::query::{
    KeysetPosition, Paging, PriorityCounts, SortField, SortOrder, StatusCounts, TaskFilter, TaskStats,
};
use taskflow_domain::task::TaskStatus;

use super::listing::{dataset, expected, now, query};
use crate::StoragePorts;
use crate::fixtures::stored_user;

/// Every id of a keyset walk with pages of `limit`, checking each page's cursor on the way.
async fn keyset_walk(
    ports: &StoragePorts,
    filter: &TaskFilter,
    sort: SortField,
    order: SortOrder,
    limit: u32,
) -> Vec<TaskId> {
    let mut ids = Vec::new();
    let mut after: Option<KeysetPosition> = None;
    for _ in 0..1000 {
        let q = query(filter.clone(), sort, order, Paging::Keyset { after: after.clone(), limit });
        let page = ports.tasks.list(&q).await.expect("keyset list");
        assert_eq!(page.total, None, "keyset pages carry no total");
        assert!(page.items.len() <= limit as usize, "a page holds at most `limit` items");
        ids.extend(page.items.iter().map(|v| v.task.id()));
        match page.next {
            None => return ids,
            Some(next) => {
                let last = page.items.last().expect("a page with a next cursor is not empty");
                assert_eq!(next, KeysetPosition::of(&last.task, sort), "next is the position of the last item");
                after = Some(next);
            }
        }
    }
    panic!("keyset paging by {sort:?} {order:?} did not end");
}

/// Consecutive offset pages of any size cover the listing exactly once.
pub async fn offset_pages_never_overlap_or_skip(ports: StoragePorts) {
    // Arrange
    let (_, _, tasks) = dataset(&ports).await;
    let all = TaskFilter::scoped(TaskScope::All);

    // Act and Assert
    for sort in SortField::ALL {
        let want = expected(&tasks, &all, sort, SortOrder::Desc);
        let mut got = Vec::new();
        for page in 1..=6 {
            let q = query(all.clone(), sort, SortOrder::Desc, Paging::Offset { page, limit: 7 });
            let result = ports.tasks.list(&q).await.expect("list");
            assert_eq!(result.total, Some(36), "page {page} by {sort:?} carries the total");
            got.extend(result.items.iter().map(|v| v.task.id()));
        }
        assert_eq!(got, want, "pages of 7 by {sort:?} concatenate to the whole listing");
    }
}

/// A page past the end is empty and still reports the real total.
pub async fn offset_page_past_the_end_is_empty_with_the_real_total(ports: StoragePorts) {
    // Arrange
    let (ann, _, tasks) = dataset(&ports).await;
    let filter =
        TaskFilter { statuses: vec![TaskStatus::InProgress], ..TaskFilter::scoped(TaskScope::Owner(ann.id())) };
    let total = expected(&tasks, &filter, SortField::CreatedAt, SortOrder::Desc).len() as u64;

    // Act
    let q = query(filter, SortField::CreatedAt, SortOrder::Desc, Paging::Offset { page: 50, limit: 20 });
    let page = ports.tasks.list(&q).await.expect("list");

    // Assert
    assert!(page.items.is_empty(), "no items past the end");
    assert_eq!(page.total, Some(total), "the total counts every match");
    assert!(total > 0, "the filter matches something");
}

/// Keyset pages walk every listing to `next: None`, in order, without overlap or gap, for every sort.
pub async fn keyset_pages_walk_the_whole_listing_for_every_sort(ports: StoragePorts) {
    // Arrange
    let (_, _, tasks) = dataset(&ports).await;
    let all = TaskFilter::scoped(TaskScope::All);

    // Act and Assert
    for sort in SortField::ALL {
        for order in [SortOrder::Asc, SortOrder::Desc] {
            for limit in [1, 5, 36, 100] {
                let got = keyset_walk(&ports, &all, sort, order, limit).await;
                let unique: HashSet<_> = got.iter().collect();
                assert_eq!(unique.len(), got.len(), "no overlap by {sort:?} {order:?} limit {limit}");
                assert_eq!(got, expected(&tasks, &all, sort, order), "{sort:?} {order:?} limit {limit}");
            }
        }
    }
}

/// Keyset pages apply the filters too, and a listing that fits one page has no next cursor.
pub async fn keyset_paging_respects_filters(ports: StoragePorts) {
    // Arrange
    let (ann, _, tasks) = dataset(&ports).await;
    let filter = TaskFilter { overdue: Some(false), ..TaskFilter::scoped(TaskScope::Owner(ann.id())) };
    let want = expected(&tasks, &filter, SortField::DueDate, SortOrder::Desc);

    // Act
    let walked = keyset_walk(&ports, &filter, SortField::DueDate, SortOrder::Desc, 4).await;
    let q = query(filter.clone(), SortField::DueDate, SortOrder::Desc, Paging::Keyset { after: None, limit: 100 });
    let single = ports.tasks.list(&q).await.expect("list");
    let exact = u32::try_from(want.len()).expect("small");
    let q = query(filter, SortField::DueDate, SortOrder::Desc, Paging::Keyset { after: None, limit: exact });
    let exact_page = ports.tasks.list(&q).await.expect("list");

    // Assert
    assert_eq!(walked, want, "the walk yields exactly the filtered listing");
    assert_eq!(single.next, None, "everything fits in one page: no next cursor");
    assert_eq!(single.items.len(), want.len(), "one page holds everything");
    assert_eq!(exact_page.items.len(), want.len(), "a page of exactly the size holds everything");
    assert_eq!(exact_page.next, None, "a page that ends exactly at the end has no next cursor");
}

/// Stats count every task in scope by status and priority, and the overdue ones at `now`.
pub async fn stats_count_by_status_priority_and_overdue(ports: StoragePorts) {
    // Arrange
    let (ann, _, tasks) = dataset(&ports).await;

    // Act
    let all = ports.tasks.stats(TaskScope::All, now()).await.expect("stats");
    let anns = ports.tasks.stats(TaskScope::Owner(ann.id()), now()).await.expect("stats");

    // Assert
    for (stats, scope) in [(all, TaskScope::All), (anns, TaskScope::Owner(ann.id()))] {
        let mine: Vec<_> = tasks.iter().filter(|t| scope.includes(t.owner())).collect();
        let want = TaskStats {
            total: mine.len() as u64,
            overdue: mine.iter().filter(|t| t.is_overdue(now())).count() as u64,
            by_status: mine.iter().fold(StatusCounts::default(), |mut c, t| {
                c.count(t.status());
                c
            }),
            by_priority: mine.iter().fold(PriorityCounts::default(), |mut c, t| {
                c.count(t.priority());
                c
            }),
        };
        assert_eq!(stats, want, "stats for {scope:?}");
    }
}

/// A scope without tasks counts zero everywhere.
pub async fn stats_of_an_empty_scope_are_all_zero(ports: StoragePorts) {
    // Arrange
    let ann = stored_user(&ports, "ann").await;

    // Act
    let stats = ports.tasks.stats(TaskScope::Owner(ann.id()), now()).await.expect("stats");

    // Assert
    assert_eq!(stats, TaskStats::default(), "every count is zero");
}
