//! `users`: accounts, with emails unique case-insensitively.

use sea_orm_migration::prelude::*;

use super::run;

/// Creates `users`.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(
            manager,
            r"
            CREATE TABLE users (
                id            uuid PRIMARY KEY,
                email         text NOT NULL CHECK (char_length(email) BETWEEN 3 AND 254),
                name          text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
                role          text NOT NULL CHECK (role IN ('user', 'admin')),
                password_hash text NOT NULL,
                created_at    timestamptz NOT NULL,
                updated_at    timestamptz NOT NULL
            );
            -- The domain lower-cases emails already; the index on lower(email) keeps the rule even for rows written
            -- by hand, and its name is what RepoError::Duplicate reports.
            CREATE UNIQUE INDEX users_email_key ON users (lower(email));
            -- GET /users pages oldest first, ties on id.
            CREATE INDEX users_created_at_id_idx ON users (created_at, id);
            ",
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, "DROP TABLE users;").await
    }
}
