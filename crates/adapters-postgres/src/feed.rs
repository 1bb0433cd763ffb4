//! [`EventFeed`]: published events by `outbox_events.stream_pos`, the number the relay gave them.
//!
//! Why the positions can be trusted by a reader that only moves forward: relays take turns (a transaction-scoped
//! advisory lock, released at commit), and each numbers its events from a sequence after taking its turn. So when
//! a reader sees position `p` committed, every relay that numbered below `p` has committed before, and nothing
//! will ever be published behind `p`. Numbering by `seq` at insert time, or by transaction id, would not do: a
//! transaction that started first can commit last.

use async_trait::async_trait;
use sea_orm::ConnectionTrait;
use taskflow_domain::events::DomainEvent;
use taskflow_domain::ports::{EventFeed, FeedPosition};
use taskflow_domain::{EventId, RepoError, UserId};

use crate::error::{bounded, corrupt, map_db_err};
use crate::outbox::{EVENT_COLUMNS, event_from};
use crate::read::Sql;
use crate::rows::stmt;
use crate::storage::PgStorage;

fn position(pos: i64) -> Result<FeedPosition, RepoError> {
    u64::try_from(pos).map(FeedPosition::new).map_err(|e| corrupt("stream position", e))
}

fn bind_position(sql: &mut Sql, at: FeedPosition) -> String {
    sql.bind(i64::try_from(at.get()).unwrap_or(i64::MAX))
}

#[async_trait]
impl EventFeed for PgStorage {
    async fn head(&self) -> Result<FeedPosition, RepoError> {
        // The last entry of the stream_pos index.
        let text = "SELECT coalesce(max(stream_pos), 0) AS head FROM outbox_events";
        let row = bounded(self.deadline, self.db.query_one_raw(stmt(text, []))).await?;
        let head: i64 = row.ok_or_else(|| corrupt("feed head", "no row"))?.try_get("", "head").map_err(map_db_err)?;
        position(head)
    }

    async fn position_of(&self, id: EventId) -> Result<Option<FeedPosition>, RepoError> {
        let text = "SELECT stream_pos FROM outbox_events WHERE id = $1";
        let row = bounded(self.deadline, self.db.query_one_raw(stmt(text, [id.as_uuid().into()]))).await?;
        let Some(row) = row else { return Ok(None) };
        let pos: Option<i64> = row.try_get("", "stream_pos").map_err(map_db_err)?;
        pos.map(position).transpose()
    }

    async fn published(
        &self,
        after: FeedPosition,
        until: Option<FeedPosition>,
        owner: Option<UserId>,
        limit: usize,
    ) -> Result<Vec<(FeedPosition, DomainEvent)>, RepoError> {
        let mut sql = Sql::default();
        let mut filter = format!("stream_pos > {}", bind_position(&mut sql, after));
        if let Some(until) = until {
            filter.push_str(&format!(" AND stream_pos <= {}", bind_position(&mut sql, until)));
        }
        if let Some(owner) = owner {
            filter.push_str(&format!(" AND owner_id = {}", sql.bind(owner.as_uuid())));
        }
        let limit = sql.bind(i64::try_from(limit).unwrap_or(i64::MAX));
        // A range scan of the stream_pos index; a replay for one owner filters the range it scans.
        let text = format!(
            "SELECT stream_pos, {} FROM outbox_events WHERE {filter} ORDER BY stream_pos LIMIT {limit}",
            EVENT_COLUMNS.join(", ")
        );
        let rows = bounded(self.deadline, self.db.query_all_raw(sql.into_statement(text))).await?;
        rows.iter()
            .map(|row| {
                let pos: i64 = row.try_get("", "stream_pos").map_err(map_db_err)?;
                Ok((position(pos)?, event_from(row, "")?))
            })
            .collect()
    }
}
