//! [`TaskReadModel`]: `get` in one statement, `list` in two (offset) or one (keyset), `stats` in one.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ConnectionTrait, FromQueryResult};
use taskflow_domain::policy::TaskScope;
use taskflow_domain::ports::TaskReadModel;
use taskflow_domain::query::{
    KeysetPosition, Paging, PriorityCounts, StatusCounts, TaskFilter, TaskPage, TaskQuery, TaskStats, TaskView,
};
use taskflow_domain::{RepoError, TaskId};

use super::listing::{Sql, after_clause, fetch_size, page_sql, where_clause};
use crate::error::{bounded, corrupt, map_db_err};
use crate::rows::{build, scope_condition, select_views, tasks, view_from};
use crate::storage::PgStorage;

/// The counts of `stats`, as one row.
#[derive(Debug, FromQueryResult)]
struct StatsRow {
    total: i64,
    overdue: i64,
    pending: i64,
    in_progress: i64,
    completed: i64,
    low: i64,
    medium: i64,
    high: i64,
}

fn count(n: i64) -> Result<u64, RepoError> {
    u64::try_from(n).map_err(|e| corrupt("count", e))
}

impl PgStorage {
    async fn offset_page(&self, q: &TaskQuery, page: u32, limit: u32) -> Result<TaskPage, RepoError> {
        let mut sql = Sql::default();
        let condition = where_clause(&q.filter, q.now, &mut sql);
        let offset = i64::from(page.saturating_sub(1)) * i64::from(limit);
        let o = (offset > 0).then(|| sql.bind(offset));
        // One statement, one snapshot: the page (through the sort's index) and, beside it, the total (a count over
        // the same condition, run once). Every row carries the total; a page past the end has no row to carry it,
        // so then, and only then, a second statement counts.
        let text = page_sql(&condition, q.sort, q.order, fetch_size(limit), o.as_deref(), true);
        let mut rows = bounded(self.deadline, self.held.query_all_raw(sql.into_statement(text))).await?;
        rows.truncate(limit as usize);
        let total = match rows.first() {
            Some(row) => count(row.try_get::<i64>("", "total").map_err(map_db_err)?)?,
            None if offset == 0 => 0,
            None => self.count_where(q).await?,
        };
        let items = rows.iter().map(view_from).collect::<Result<Vec<_>, _>>()?;
        Ok(TaskPage { items, total: Some(total), next: None })
    }

    /// How many tasks match the listing's condition.
    async fn count_where(&self, q: &TaskQuery) -> Result<u64, RepoError> {
        let mut sql = Sql::default();
        let condition = where_clause(&q.filter, q.now, &mut sql);
        let text = format!("SELECT count(*) AS total FROM tasks t WHERE {condition}");
        let row = bounded(self.deadline, self.held.query_one_raw(sql.into_statement(text))).await?;
        match row {
            Some(row) => count(row.try_get::<i64>("", "total").map_err(map_db_err)?),
            None => Ok(0),
        }
    }

    async fn keyset_page(
        &self,
        q: &TaskQuery,
        after: Option<&KeysetPosition>,
        limit: u32,
    ) -> Result<TaskPage, RepoError> {
        let mut sql = Sql::default();
        let mut condition = where_clause(&q.filter, q.now, &mut sql);
        if let Some(after) = after {
            condition = format!("{condition} AND {}", after_clause(q.sort, q.order, after, &mut sql)?);
        }
        // One row more than asked tells whether there is a next page.
        let page = sql.into_statement(page_sql(&condition, q.sort, q.order, fetch_size(limit) + 1, None, false));
        let mut rows = bounded(self.deadline, self.held.query_all_raw(page)).await?;
        rows.truncate(limit as usize + 1);
        let mut items = rows.iter().map(view_from).collect::<Result<Vec<TaskView>, _>>()?;
        let more = items.len() > limit as usize;
        items.truncate(limit as usize);
        let next = if more { items.last().map(|v| KeysetPosition::of(&v.task, q.sort)) } else { None };
        Ok(TaskPage { items, total: None, next })
    }
}

#[async_trait]
impl TaskReadModel for PgStorage {
    async fn get(&self, id: TaskId, scope: TaskScope) -> Result<Option<TaskView>, RepoError> {
        let select = select_views()
            .and_where(Expr::col((tasks::Entity, tasks::Column::Id)).eq(id.as_uuid()))
            .and_where_option(scope_condition(scope))
            .to_owned();
        let row = bounded(self.deadline, self.held.query_one_raw(build(&select))).await?;
        row.as_ref().map(view_from).transpose()
    }

    async fn list(&self, query: &TaskQuery) -> Result<TaskPage, RepoError> {
        match &query.paging {
            Paging::Offset { page, limit } => self.offset_page(query, *page, *limit).await,
            Paging::Keyset { after, limit } => self.keyset_page(query, after.as_ref(), *limit).await,
        }
    }

    async fn stats(&self, scope: TaskScope, now: DateTime<Utc>) -> Result<TaskStats, RepoError> {
        let mut sql = Sql::default();
        let condition = where_clause(&TaskFilter::scoped(scope), now, &mut sql);
        let now = sql.bind(now);
        let text = format!(
            "SELECT count(*) AS total, \
               count(*) FILTER (WHERE t.status <> 'COMPLETED' AND t.due_date < {now}) AS overdue, \
               count(*) FILTER (WHERE t.status = 'PENDING') AS pending, \
               count(*) FILTER (WHERE t.status = 'IN_PROGRESS') AS in_progress, \
               count(*) FILTER (WHERE t.status = 'COMPLETED') AS completed, \
               count(*) FILTER (WHERE t.priority = 'LOW') AS low, \
               count(*) FILTER (WHERE t.priority = 'MEDIUM') AS medium, \
               count(*) FILTER (WHERE t.priority = 'HIGH') AS high \
             FROM tasks t WHERE {condition}"
        );
        let row = bounded(self.deadline, self.held.query_one_raw(sql.into_statement(text))).await?;
        let Some(row) = row else { return Ok(TaskStats::default()) };
        let r = StatsRow::from_query_result(&row, "").map_err(map_db_err)?;
        Ok(TaskStats {
            total: count(r.total)?,
            overdue: count(r.overdue)?,
            by_status: StatusCounts {
                pending: count(r.pending)?,
                in_progress: count(r.in_progress)?,
                completed: count(r.completed)?,
            },
            by_priority: PriorityCounts { low: count(r.low)?, medium: count(r.medium)?, high: count(r.high)? },
        })
    }
}
