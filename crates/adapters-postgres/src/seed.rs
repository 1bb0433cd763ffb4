//! Bulk demo data for `taskflow seed`: users idempotently, tasks with `INSERT ... SELECT FROM generate_series`.

use chrono::{DateTime, Utc};
use futures::{StreamExt, stream};
use sea_orm::{ConnectionTrait, TransactionTrait};
use taskflow_domain::user::User;
use taskflow_domain::{RepoError, UserId};
use uuid::Uuid;

use crate::error::map_db_err;
use sea_orm::sea_query::OnConflict;

use crate::read::Sql;
use crate::rows::build;
use crate::storage::PgStorage;
use crate::tx::insert_user;

/// Rows per `INSERT ... SELECT` batch: large enough to amortise round trips, small enough for smooth progress.
pub const SEED_BATCH: u64 = 50_000;

/// Batches written at once, on separate pooled connections.
const SEED_PARALLELISM: usize = 3;

/// Writes demo data in bulk.
#[derive(Debug, Clone)]
pub struct PgSeeder {
    storage: PgStorage,
}

impl PgSeeder {
    /// A seeder on this storage.
    #[must_use]
    pub fn new(storage: PgStorage) -> Self {
        Self { storage }
    }

    /// Creates the users that do not exist yet (by id or email); existing ones are left as they are.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] or [`RepoError::Unexpected`].
    pub async fn ensure_users(&self, users: &[User]) -> Result<(), RepoError> {
        for user in users {
            let insert = insert_user(user)?.on_conflict(OnConflict::new().do_nothing().to_owned()).to_owned();
            self.storage.db.execute_raw(build(&insert)).await.map_err(map_db_err)?;
        }
        Ok(())
    }

    /// Inserts `count` generated tasks spread round-robin over `owners` (which must exist), created before `now`,
    /// with a mix of statuses, priorities and due dates (past, future and none). Calls `progress` with the number
    /// of tasks written so far after every batch, then refreshes the planner's statistics. Returns `count`.
    ///
    /// # Errors
    /// [`RepoError::MissingReference`] when an owner does not exist; [`RepoError::Unavailable`];
    /// [`RepoError::Unexpected`]. Batches already written stay.
    pub async fn seed_tasks(
        &self,
        owners: &[UserId],
        count: u64,
        now: DateTime<Utc>,
        mut progress: impl FnMut(u64) + Send,
    ) -> Result<u64, RepoError> {
        if owners.is_empty() || count == 0 {
            return Ok(0);
        }
        let owners: Vec<Uuid> = owners.iter().map(UserId::as_uuid).collect();
        // Statuses, priorities and due dates cycle on co-prime periods so every combination occurs; one task in
        // five has no due date; completed tasks were completed when created. Ids are UUIDv7-shaped (time first) so
        // the primary key grows at one end instead of splitting random pages; descriptions come from a small
        // vocabulary, which keeps the trigram index's posting lists few and long.
        // Placeholders are taken as values are bound (see [`Sql`]), so no text depends on a parameter's position.
        let statement = |first: u64, last: u64| {
            let mut sql = Sql::default();
            let (first, last) = (sql.bind(to_i64(first)), sql.bind(to_i64(last)));
            let (now, owners) = (sql.bind(now), sql.bind(owners.clone()));
            let text = format!(
                r"
            INSERT INTO tasks (id, title, description, status, priority, due_date, completed_at, user_id,
                               created_at, updated_at, version)
            SELECT (lpad(to_hex((extract(epoch FROM s.created_at) * 1000)::bigint), 12, '0')
                    || '7' || substr(s.r, 1, 3) || '8' || substr(s.r, 4, 15))::uuid,
                   s.title, s.description, s.status, s.priority, s.due_date,
                   CASE WHEN s.status = 'COMPLETED' THEN s.created_at END, s.user_id, s.created_at, s.created_at, 1
            FROM (
                SELECT 'Demo task #' || g || ' ' || (ARRAY['report', 'invoice', 'meeting', 'review', 'deploy',
                           'backup', 'email', 'design', 'budget', 'hiring'])[1 + g % 10] AS title,
                       CASE WHEN g % 4 = 0 THEN NULL
                            ELSE 'Seeded demo task: ' || (ARRAY['call the client', 'write the quarterly report',
                                'fix the login bug', 'plan the offsite', 'review pull requests', 'update the roadmap',
                                'pay the invoices'])[1 + g % 7] END AS description,
                       (ARRAY['PENDING', 'IN_PROGRESS', 'COMPLETED'])[1 + g % 3] AS status,
                       (ARRAY['LOW', 'MEDIUM', 'HIGH'])[1 + (g / 3) % 3] AS priority,
                       CASE WHEN g % 5 = 0 THEN NULL
                            ELSE {now}::timestamptz + ((g % 61) - 30) * interval '1 day' END AS due_date,
                       {now}::timestamptz - g * interval '1 second' AS created_at,
                       ({owners}::uuid[])[1 + g % cardinality({owners}::uuid[])] AS user_id,
                       md5(g::text || random()::text) AS r
                FROM generate_series({first}::bigint, {last}::bigint) AS g
            ) AS s"
            );
            sql.into_statement(text)
        };
        let batches: Vec<(u64, u64)> =
            (0..count.div_ceil(SEED_BATCH)).map(|b| (b * SEED_BATCH + 1, ((b + 1) * SEED_BATCH).min(count))).collect();
        let insert = |(first, last): (u64, u64)| {
            let insert = statement(first, last);
            async move {
                // Each batch is its own transaction, free of the pool's statement timeout.
                let txn = self.storage.db.begin().await.map_err(map_db_err)?;
                txn.execute_unprepared("SET LOCAL statement_timeout = 0; SET LOCAL synchronous_commit = off")
                    .await
                    .map_err(map_db_err)?;
                txn.execute_raw(insert).await.map_err(map_db_err)?;
                txn.commit().await.map_err(map_db_err)?;
                Ok::<u64, RepoError>(last - first + 1)
            }
        };
        // A few batches at once keep every core busy with index maintenance.
        let mut running = stream::iter(batches).map(insert).buffer_unordered(SEED_PARALLELISM);
        let mut written = 0;
        while let Some(n) = running.next().await {
            written += n?;
            progress(written);
        }
        self.storage.db.execute_unprepared("ANALYZE tasks").await.map_err(map_db_err)?;
        Ok(count)
    }
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}
