//! [`UserReadModel`]: lookups by id and email, and numbered pages oldest first.

use async_trait::async_trait;
use sea_orm::ConnectionTrait;
use taskflow_domain::ports::UserReadModel;
use taskflow_domain::query::PageRequest;
use taskflow_domain::user::{EmailAddress, User};
use taskflow_domain::{RepoError, UserId};

use crate::error::{bounded, corrupt, map_db_err};
use crate::rows::{USER_COLUMNS, stmt, user_from};
use crate::storage::PgStorage;

#[async_trait]
impl UserReadModel for PgStorage {
    async fn get(&self, id: UserId) -> Result<Option<User>, RepoError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        let row = bounded(self.deadline, self.db.query_one_raw(stmt(sql, [id.as_uuid().into()]))).await?;
        row.as_ref().map(user_from).transpose()
    }

    async fn find_by_email(&self, email: &EmailAddress) -> Result<Option<User>, RepoError> {
        // lower(email) is what the unique index users_email_key covers.
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE lower(email) = lower($1)");
        let row = bounded(self.deadline, self.db.query_one_raw(stmt(sql, [email.as_ref().into()]))).await?;
        row.as_ref().map(user_from).transpose()
    }

    async fn list(&self, page: PageRequest) -> Result<(Vec<User>, u64), RepoError> {
        let offset = i64::try_from(page.offset()).unwrap_or(i64::MAX);
        let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY created_at, id LIMIT $1 OFFSET $2");
        let page_stmt = stmt(sql, [i64::from(page.limit).into(), offset.into()]);
        let count_stmt = stmt("SELECT count(*) AS total FROM users", []);
        let (rows, total) = self.read_page_and_count(page_stmt, count_stmt).await?;
        let total: i64 = match total {
            Some(row) => row.try_get("", "total").map_err(map_db_err)?,
            None => 0,
        };
        let users = rows.iter().map(user_from).collect::<Result<Vec<_>, _>>()?;
        Ok((users, u64::try_from(total).map_err(|e| corrupt("count", e))?))
    }
}
