//! `refresh_token_families` and `refresh_tokens`: one family per login, tokens stored only as hashes.

use sea_orm_migration::prelude::*;

use super::run;

/// Creates the refresh-token tables.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(
            manager,
            r"
            CREATE TABLE refresh_token_families (
                id         uuid PRIMARY KEY,
                user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                created_at timestamptz NOT NULL,
                -- Set on logout, reuse detection or user revocation; a revoked family never comes back.
                revoked_at timestamptz
            );
            CREATE INDEX refresh_token_families_user_idx ON refresh_token_families (user_id) WHERE revoked_at IS NULL;
            CREATE TABLE refresh_tokens (
                hash        text PRIMARY KEY,
                family_id   uuid NOT NULL REFERENCES refresh_token_families (id) ON DELETE CASCADE,
                user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                issued_at   timestamptz NOT NULL,
                expires_at  timestamptz NOT NULL,
                consumed_at timestamptz
            );
            CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
            CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id);
            CREATE INDEX refresh_tokens_expires_idx ON refresh_tokens (expires_at);
            ",
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, "DROP TABLE refresh_tokens; DROP TABLE refresh_token_families;").await
    }
}
