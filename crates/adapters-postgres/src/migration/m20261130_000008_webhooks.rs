//! Webhooks and the delivery queue: `webhooks`, `webhook_deliveries` (the queue itself, claimed with leases),
//! `delivery_attempts`, `job_leases` (roles held by one instance) and `overdue_marks` (the overdue scan's unique key).

use sea_orm_migration::prelude::*;

use super::run;

/// Creates the webhook tables.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(
            manager,
            r"
            CREATE TABLE webhooks (
                id          uuid PRIMARY KEY,
                owner_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                url         text NOT NULL CHECK (char_length(url) <= 2048),
                events      text[] NOT NULL CHECK (cardinality(events) BETWEEN 1 AND 5),
                description text CHECK (char_length(description) <= 500),
                active      boolean NOT NULL,
                -- The whsec_ form: the signing key must be readable to sign, so it is not hashed.
                secret      text NOT NULL,
                created_at  timestamptz NOT NULL,
                updated_at  timestamptz NOT NULL
            );
            -- Listing per owner (oldest first) and the relay's fan-out to an event owner's webhooks.
            CREATE INDEX webhooks_owner_idx ON webhooks (owner_id, created_at, id);

            CREATE TABLE webhook_deliveries (
                id               uuid PRIMARY KEY,
                webhook_id       uuid NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
                event_id         uuid NOT NULL REFERENCES outbox_events (id),
                event            text NOT NULL,
                status           text NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed', 'dead', 'cancelled')),
                attempts         integer NOT NULL CHECK (attempts >= 0),
                -- When it is due; while leased, when the lease runs out (so an expired lease is simply due).
                next_attempt_at  timestamptz,
                lease_token      uuid,
                lease_expires_at timestamptz,
                last_status_code integer,
                last_error       text,
                duration_ms      integer,
                created_at       timestamptz NOT NULL,
                updated_at       timestamptz NOT NULL,
                -- One delivery per (event, webhook), whatever relays race; also the index of the event_id key.
                CONSTRAINT webhook_deliveries_event_webhook_key UNIQUE (event_id, webhook_id)
            );
            -- The claim: open deliveries by due time; finished ones drop out of the index.
            CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at)
                WHERE status IN ('pending', 'failed');
            -- The owner's listing, newest first; also the index of the webhook_id key.
            CREATE INDEX webhook_deliveries_webhook_idx ON webhook_deliveries (webhook_id, created_at DESC, id DESC);
            -- Pruning: final deliveries by age.
            CREATE INDEX webhook_deliveries_final_idx ON webhook_deliveries (updated_at)
                WHERE status IN ('succeeded', 'dead', 'cancelled');

            -- Every attempt; a retry by hand starts the count again, so (delivery, attempt) is not unique.
            CREATE TABLE delivery_attempts (
                id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                delivery_id uuid NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
                attempt     integer NOT NULL CHECK (attempt >= 1),
                at          timestamptz NOT NULL,
                status_code integer,
                error       text,
                duration_ms integer NOT NULL
            );
            CREATE INDEX delivery_attempts_delivery_idx ON delivery_attempts (delivery_id, id);

            -- Roles held by one instance at a time (the overdue scheduler), until expires_at.
            CREATE TABLE job_leases (
                name       text PRIMARY KEY,
                holder     uuid NOT NULL,
                expires_at timestamptz NOT NULL
            );

            -- One task.overdue event per task per due date, whatever the timing of concurrent scans.
            CREATE TABLE overdue_marks (
                task_id   uuid NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
                due_date  timestamptz NOT NULL,
                marked_at timestamptz NOT NULL,
                PRIMARY KEY (task_id, due_date)
            );
            ",
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(
            manager,
            "DROP TABLE overdue_marks; DROP TABLE job_leases; DROP TABLE delivery_attempts; \
             DROP TABLE webhook_deliveries; DROP TABLE webhooks;",
        )
        .await
    }
}
