//! `user_tombstones`: who was deleted and when, so that every instance refuses a deleted user's access tokens
//! (ADR 0007).

use sea_orm_migration::prelude::*;

use super::run;

/// Creates `user_tombstones`.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(
            manager,
            r"
            -- No foreign key: the user is gone. Rows older than the access-token lifetime are pruned.
            CREATE TABLE user_tombstones (
                user_id    uuid PRIMARY KEY,
                deleted_at timestamptz NOT NULL
            );
            -- Every instance reads the recent rows every few seconds; pruning deletes the old ones.
            CREATE INDEX user_tombstones_deleted_at_idx ON user_tombstones (deleted_at);
            ",
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, "DROP TABLE user_tombstones;").await
    }
}
