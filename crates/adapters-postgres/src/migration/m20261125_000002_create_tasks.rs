//! `tasks`, with one index per access path of the read side.

use sea_orm_migration::prelude::*;

use super::run;

/// Creates `tasks` and its indexes (and the `pg_trgm` extension for substring search).
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(
            manager,
            r#"
            CREATE EXTENSION IF NOT EXISTS pg_trgm;
            CREATE TABLE tasks (
                id            uuid PRIMARY KEY,
                title         text NOT NULL CHECK (char_length(title) BETWEEN 1 AND 200),
                description   text CHECK (char_length(description) <= 10000),
                status        text NOT NULL CHECK (status IN ('PENDING', 'IN_PROGRESS', 'COMPLETED')),
                priority      text NOT NULL CHECK (priority IN ('LOW', 'MEDIUM', 'HIGH')),
                -- Sorting by priority means by rank, never alphabetically; stored so it can be indexed.
                priority_rank smallint NOT NULL GENERATED ALWAYS AS (
                    CASE priority WHEN 'LOW' THEN 1 WHEN 'MEDIUM' THEN 2 ELSE 3 END
                ) STORED,
                due_date      timestamptz,
                completed_at  timestamptz,
                user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                created_at    timestamptz NOT NULL,
                updated_at    timestamptz NOT NULL,
                version       bigint NOT NULL CHECK (version >= 1),
                CONSTRAINT tasks_completed_at_matches_status CHECK ((status = 'COMPLETED') = (completed_at IS NOT NULL))
            );
            -- Per-user listing, one index per sort key, ending in id (the tie-breaker) so ORDER BY ... LIMIT and
            -- keyset predicates are index range scans in both directions.
            CREATE INDEX tasks_user_created_idx  ON tasks (user_id, created_at, id);
            CREATE INDEX tasks_user_updated_idx  ON tasks (user_id, updated_at, id);
            CREATE INDEX tasks_user_priority_idx ON tasks (user_id, priority_rank, id);
            CREATE INDEX tasks_user_title_idx    ON tasks (user_id, title COLLATE "C", id);
            -- Tasks without a due date come last in both directions, which one B-tree cannot give backwards.
            CREATE INDEX tasks_user_due_asc_idx  ON tasks (user_id, due_date ASC NULLS LAST, id ASC);
            CREATE INDEX tasks_user_due_desc_idx ON tasks (user_id, due_date DESC NULLS LAST, id DESC);
            -- Admin listing across users by the default sort.
            CREATE INDEX tasks_created_idx ON tasks (created_at, id);
            -- Status filters, per user in the default order. Priority filters use tasks_user_priority_idx through
            -- priority_rank; a bare index on a three-valued status would hardly ever beat a scan.
            CREATE INDEX tasks_user_status_idx ON tasks (user_id, status, created_at, id);
            -- The overdue scan only ever looks at unfinished tasks with a due date.
            CREATE INDEX tasks_overdue_idx ON tasks (due_date, id) WHERE status <> 'COMPLETED' AND due_date IS NOT NULL;
            -- Case-insensitive substring search (ILIKE '%term%').
            CREATE INDEX tasks_title_trgm_idx ON tasks USING gin (title gin_trgm_ops);
            CREATE INDEX tasks_description_trgm_idx ON tasks USING gin (description gin_trgm_ops);
            "#,
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // pg_trgm stays: other schemas in the same database may use it.
        run(manager, "DROP TABLE tasks;").await
    }
}
