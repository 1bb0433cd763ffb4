//! `webhook_breakers`: the circuit breaker of each webhook receiver, shared by every instance (issue 9). One row per
//! receiver whose breaker ever left closed-with-no-failure; the transitions are the domain's, applied by
//! compare-and-set on `version` (see `breakers.rs`).

use sea_orm_migration::prelude::*;

use super::run;

/// Creates `webhook_breakers`.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(
            manager,
            r"
            -- Keyed by the webhook's id but without a foreign key, so it does not depend on the order in which the
            -- webhooks table and this one are created; a receiver's row is small and harmless once it is gone.
            CREATE TABLE webhook_breakers (
                webhook_id uuid PRIMARY KEY,
                phase      text NOT NULL CHECK (phase IN ('closed', 'open', 'half_open')),
                failures   integer NOT NULL DEFAULT 0 CHECK (failures >= 0),
                -- The end of the cool-down (open) or the probe's deadline (half-open); NULL when closed.
                ends_at    timestamptz,
                -- Bumped by every change: writers compare and set on it.
                version    bigint NOT NULL,
                updated_at timestamptz NOT NULL DEFAULT now(),
                CONSTRAINT webhook_breakers_ends_at_by_phase CHECK ((phase = 'closed') = (ends_at IS NULL))
            );
            -- The open-breakers gauge reads only the breakers that are not closed.
            CREATE INDEX webhook_breakers_not_closed_idx ON webhook_breakers (ends_at) WHERE phase <> 'closed';
            ",
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, "DROP TABLE webhook_breakers;").await
    }
}
