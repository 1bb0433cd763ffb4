//! The outbox becomes the permanent event log: who made each change, what it changed and the version it made, and
//! an index to read one task's history in commit order.

use sea_orm_migration::prelude::*;

use super::run;

/// Adds `actor_id`, `version` and `changes` to `outbox_events`, and the `(task_id, seq)` history index.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(
            manager,
            r"
            -- Constant defaults: PostgreSQL adds these columns without rewriting the table. Events written before
            -- this migration read back with no actor, version 0 and no changes.
            ALTER TABLE outbox_events
                -- NULL only for system events (task.overdue). No foreign key: the log outlives users.
                ADD COLUMN actor_id uuid,
                -- The task's version the event describes (the snapshot's), queryable without the payload.
                ADD COLUMN version  bigint NOT NULL DEFAULT 0,
                -- {field: {from, to}} for each member that changed; times as RFC 3339 UTC with milliseconds.
                ADD COLUMN changes  jsonb  NOT NULL DEFAULT '{}';
            -- A task's history is read oldest first with a keyset on seq: one index range scan, no sort. It
            -- replaces the bare task_id index, which it covers. The relay keeps its partial index on the
            -- undispatched rows (outbox_events_pending_idx, migration 5): a relayed row is marked, never deleted,
            -- and drops out of that index, so it stays as small as the backlog however long the log grows.
            CREATE INDEX outbox_events_task_seq_idx ON outbox_events (task_id, seq);
            DROP INDEX outbox_events_task_idx;
            ",
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(
            manager,
            r"
            CREATE INDEX outbox_events_task_idx ON outbox_events (task_id);
            DROP INDEX outbox_events_task_seq_idx;
            ALTER TABLE outbox_events DROP COLUMN changes, DROP COLUMN version, DROP COLUMN actor_id;
            ",
        )
        .await
    }
}
