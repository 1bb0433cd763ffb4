//! [`UserReadModel`]: lookups by id and email, and numbered pages oldest first.

use async_trait::async_trait;
use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Expr, ExprTrait, Func, Order, Query};
use taskflow_domain::ports::UserReadModel;
use taskflow_domain::query::PageRequest;
use taskflow_domain::user::{EmailAddress, User};
use taskflow_domain::{RepoError, UserId};

use crate::error::{bounded, corrupt, map_db_err};
use crate::rows::{build, select_users, user_from, users};
use crate::storage::PgStorage;

#[async_trait]
impl UserReadModel for PgStorage {
    async fn get(&self, id: UserId) -> Result<Option<User>, RepoError> {
        let select = select_users().and_where(Expr::col(users::Column::Id).eq(id.as_uuid())).to_owned();
        let row = bounded(self.deadline, self.held.query_one_raw(build(&select))).await?;
        row.as_ref().map(user_from).transpose()
    }

    async fn find_by_email(&self, email: &EmailAddress) -> Result<Option<User>, RepoError> {
        // lower(email) is what the unique index users_email_key covers.
        let select = select_users()
            .and_where(Expr::expr(Func::lower(Expr::col(users::Column::Email))).eq(Func::lower(email.as_ref())))
            .to_owned();
        let row = bounded(self.deadline, self.held.query_one_raw(build(&select))).await?;
        row.as_ref().map(user_from).transpose()
    }

    async fn list(&self, page: PageRequest) -> Result<(Vec<User>, u64), RepoError> {
        // One statement, one snapshot: the page and, beside it, the total (an uncorrelated count, run once). A page
        // past the end has no row to carry the total, so then, and only then, a second statement counts.
        const COUNT: &str = "(SELECT count(*) FROM users)";
        let page_stmt = select_users()
            .expr_as(Expr::cust(COUNT), "total")
            .order_by(users::Column::CreatedAt, Order::Asc)
            .order_by(users::Column::Id, Order::Asc)
            .limit(u64::from(page.limit))
            .offset(page.offset())
            .to_owned();
        let rows = bounded(self.deadline, self.held.query_all_raw(build(&page_stmt))).await?;
        let total: i64 = match rows.first() {
            Some(row) => row.try_get("", "total").map_err(map_db_err)?,
            None if page.offset() == 0 => 0,
            None => {
                let count = Query::select().expr_as(Expr::cust(COUNT), "total").to_owned();
                let row = bounded(self.deadline, self.held.query_one_raw(build(&count))).await?;
                row.map(|row| row.try_get("", "total")).transpose().map_err(map_db_err)?.unwrap_or(0)
            }
        };
        let users = rows.iter().map(user_from).collect::<Result<Vec<_>, _>>()?;
        Ok((users, u64::try_from(total).map_err(|e| corrupt("count", e))?))
    }
}
