//! `idempotency_keys`: claimed keys and the responses kept for replay.

use sea_orm_migration::prelude::*;

use super::run;

/// Creates `idempotency_keys`.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(
            manager,
            r"
            -- No foreign key to users: a key is a cache of a response and must not block deleting its owner.
            CREATE TABLE idempotency_keys (
                owner_id         uuid NOT NULL,
                key              text NOT NULL CHECK (char_length(key) BETWEEN 1 AND 255),
                fingerprint      text NOT NULL,
                status           text NOT NULL CHECK (status IN ('in_progress', 'completed')),
                response_status  smallint,
                response_headers jsonb,
                response_body    bytea,
                created_at       timestamptz NOT NULL DEFAULT now(),
                expires_at       timestamptz NOT NULL,
                PRIMARY KEY (owner_id, key),
                CONSTRAINT idempotency_keys_response_when_completed
                    CHECK ((status = 'completed') = (response_status IS NOT NULL))
            );
            -- For purging expired keys.
            CREATE INDEX idempotency_keys_expires_idx ON idempotency_keys (expires_at);
            ",
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, "DROP TABLE idempotency_keys;").await
    }
}
