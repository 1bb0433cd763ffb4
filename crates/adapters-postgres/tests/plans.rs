//! Listing pages are planned once per connection: PostgreSQL plans a statement afresh at every execution when its
//! `LIMIT` or `OFFSET` is a parameter, and for a page that planning costs more than running it.

mod support;

use sea_orm::{ConnectionTrait, DbBackend, Statement};
use taskflow_adapters_postgres::PgSettings;
use taskflow_adapters_postgres::testing::{fresh_storage_with, test_settings};
use taskflow_contract_tests::fixtures::t0;
use taskflow_domain::policy::TaskScope;
use taskflow_domain::ports::TaskReadModel;
use taskflow_domain::query::{Paging, SortField, SortOrder, TaskFilter, TaskQuery};
use taskflow_domain::task::TaskStatus;

use support::{seed, stored_users};

fn query(scope: TaskScope, paging: Paging) -> TaskQuery {
    let filter = TaskFilter { statuses: vec![TaskStatus::Pending], ..TaskFilter::scoped(scope) };
    TaskQuery { filter, sort: SortField::CreatedAt, order: SortOrder::Desc, paging, now: t0() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_pages_are_planned_once_per_connection_not_at_every_execution() {
    // Arrange: one connection, so the pages and the look at its prepared statements share it; enough tasks,
    // analysed, for a page to be a small part of what matches (as in the benchmark: 1,000 per user)
    let s = fresh_storage_with(|url| PgSettings { max_connections: 1, min_connections: 1, ..test_settings(url) }).await;
    let users = stored_users(&s, 4).await;
    let owners: Vec<_> = users.iter().map(taskflow_domain::user::User::id).collect();
    seed(&s, &owners, 4_000).await;
    s.connection().execute_unprepared("ANALYZE").await.expect("analyze");
    let scope = TaskScope::Owner(users[0].id());

    // Act: an offset page (with its total) and a keyset page, ten times each, of 13 and 20 tasks in turn
    for limit in [13, 20].repeat(5) {
        let page = s.list(&query(scope, Paging::Offset { page: 1, limit })).await.expect("offset page");
        assert_eq!(page.items.len(), limit as usize);
        let page = s.list(&query(scope, Paging::Keyset { after: None, limit })).await.expect("keyset page");
        assert_eq!(page.items.len(), limit as usize);
        assert!(page.next.is_some());
    }

    // Assert: both sizes share one statement per kind of page, which after PostgreSQL's five custom plans runs on
    // its generic plan
    let look = "SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements \
                WHERE statement LIKE '%FROM tasks t JOIN users u%' \
                AND statement NOT LIKE '%pg_prepared_statements%'";
    let rows = s.connection().query_all_raw(Statement::from_string(DbBackend::Postgres, look)).await.expect("look");
    let plans: Vec<(i64, i64)> = rows
        .iter()
        .map(|r| (r.try_get::<i64>("", "generic_plans").unwrap(), r.try_get::<i64>("", "custom_plans").unwrap()))
        .collect();
    assert_eq!(plans.len(), 2, "one statement per kind of page: {plans:?}");
    for (generic, custom) in plans {
        assert!(custom <= 5 && generic >= 5, "planned {custom} times for 10 executions (generic {generic})");
    }
}
