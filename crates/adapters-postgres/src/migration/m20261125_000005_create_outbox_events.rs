//! `outbox_events`: domain events written in the same transaction as the change they describe.

use sea_orm_migration::prelude::*;

use super::run;

/// Creates `outbox_events`.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(
            manager,
            r"
            -- No foreign keys: an event outlives the task (task.deleted) and its owner.
            CREATE TABLE outbox_events (
                seq           bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
                id            uuid PRIMARY KEY,
                kind          text NOT NULL CHECK (kind IN
                                  ('task.created', 'task.updated', 'task.completed', 'task.deleted', 'task.overdue')),
                task_id       uuid NOT NULL,
                owner_id      uuid NOT NULL,
                -- The task as it was right after the change (or right before a deletion).
                payload       jsonb NOT NULL,
                occurred_at   timestamptz NOT NULL,
                dispatched_at timestamptz
            );
            -- The dispatcher reads undelivered events, oldest first; delivered ones drop out of the index.
            CREATE INDEX outbox_events_pending_idx ON outbox_events (occurred_at, seq) WHERE dispatched_at IS NULL;
            CREATE INDEX outbox_events_task_idx ON outbox_events (task_id);
            ",
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, "DROP TABLE outbox_events;").await
    }
}
