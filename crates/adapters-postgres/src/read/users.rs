//! [`UserReadModel`]: lookups by id and email, and numbered pages oldest first.

use async_trait::async_trait;
use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Asterisk, Expr, ExprTrait, Func, Order, Query};
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
        let page_stmt = select_users()
            .order_by(users::Column::CreatedAt, Order::Asc)
            .order_by(users::Column::Id, Order::Asc)
            .limit(u64::from(page.limit))
            .offset(page.offset())
            .to_owned();
        let count_stmt =
            Query::select().expr_as(Func::count(Expr::col(Asterisk)), "total").from(users::Entity).to_owned();
        let (page_stmt, count_stmt) = (build(&page_stmt), build(&count_stmt));
        let (rows, total) = self.read_page_and_count(page_stmt, count_stmt).await?;
        let total: i64 = match total {
            Some(row) => row.try_get("", "total").map_err(map_db_err)?,
            None => 0,
        };
        let users = rows.iter().map(user_from).collect::<Result<Vec<_>, _>>()?;
        Ok((users, u64::try_from(total).map_err(|e| corrupt("count", e))?))
    }
}
