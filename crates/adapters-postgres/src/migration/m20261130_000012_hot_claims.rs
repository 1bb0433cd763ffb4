//! Room on `webhook_deliveries`' pages for a claim's update to stay on the page (HOT: no new index entries). A claim
//! writes only the lease columns, which no index covers (see `claim_skipping` in `deliveries.rs`); PostgreSQL makes
//! such an update heap-only when the new row version fits on the page of the old one, which a table filled to 100 %
//! rarely allows.

use sea_orm_migration::prelude::*;

use super::run;

/// `fillfactor` 80 on `webhook_deliveries` (pages filled from now on keep a fifth free).
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, "ALTER TABLE webhook_deliveries SET (fillfactor = 80);").await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, "ALTER TABLE webhook_deliveries RESET (fillfactor);").await
    }
}
