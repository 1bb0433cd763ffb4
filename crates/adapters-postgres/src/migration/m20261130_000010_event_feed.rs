//! The event feed (issue 10): `outbox_events.stream_pos`, the position at which the relay published each event,
//! numbered from the sequence `outbox_stream_pos` by relays that take turns (see `DeliveryQueue::relay` in
//! `deliveries.rs`), so that a reader that has seen position `p` has seen every event up to it. Live event streams
//! read the feed by position; `Last-Event-ID` is turned into a position through the primary key.

use sea_orm_migration::prelude::*;

use super::run;

/// Adds `stream_pos`, its sequence and its index, and numbers the events already relayed in their log order.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(
            manager,
            r"
            CREATE SEQUENCE outbox_stream_pos AS bigint;
            ALTER TABLE outbox_events ADD COLUMN stream_pos bigint;
            UPDATE outbox_events o SET stream_pos = n.pos
            FROM (SELECT id, row_number() OVER (ORDER BY seq) AS pos FROM outbox_events
                  WHERE dispatched_at IS NOT NULL) n
            WHERE o.id = n.id;
            SELECT setval('outbox_stream_pos', coalesce((SELECT max(stream_pos) FROM outbox_events), 0) + 1, false);
            -- Streams read forward from a position; events not yet published are not in it.
            CREATE UNIQUE INDEX outbox_events_stream_pos_idx ON outbox_events (stream_pos)
                WHERE stream_pos IS NOT NULL;
            -- The relay now takes events in log order (seq), which is each task's commit order.
            CREATE INDEX outbox_events_unrelayed_idx ON outbox_events (seq) WHERE dispatched_at IS NULL;
            DROP INDEX outbox_events_pending_idx;
            ",
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(
            manager,
            r"
            CREATE INDEX outbox_events_pending_idx ON outbox_events (occurred_at, seq) WHERE dispatched_at IS NULL;
            DROP INDEX outbox_events_unrelayed_idx;
            ALTER TABLE outbox_events DROP COLUMN stream_pos;
            DROP SEQUENCE outbox_stream_pos;
            ",
        )
        .await
    }
}
