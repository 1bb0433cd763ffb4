//! The claim walks the queue receiver by receiver (see `claim_skipping` in `deliveries.rs`): open deliveries are
//! indexed by `(webhook_id, next_attempt_at)` instead of by due time alone, so that a claim that leaves a receiver out
//! never reads that receiver's deliveries.

use sea_orm_migration::prelude::*;

use super::run;

/// Replaces `webhook_deliveries_due_idx` by `webhook_deliveries_open_idx`.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(
            manager,
            r"
            -- The claim: the receivers that have open deliveries (one probe each), and each one's due deliveries in
            -- due order; finished ones drop out of the index.
            CREATE INDEX webhook_deliveries_open_idx ON webhook_deliveries (webhook_id, next_attempt_at)
                WHERE status IN ('pending', 'failed');
            DROP INDEX webhook_deliveries_due_idx;
            ",
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(
            manager,
            r"
            CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at)
                WHERE status IN ('pending', 'failed');
            DROP INDEX webhook_deliveries_open_idx;
            ",
        )
        .await
    }
}
