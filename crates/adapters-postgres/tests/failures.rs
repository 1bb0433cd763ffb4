//! Error mapping and failure modes: duplicates by constraint name, missing owners, exhausted pools, timeouts,
//! a database gone, and reversible migrations.

mod support;

use std::time::Duration;

use sea_orm::ConnectionTrait;
use sea_orm_migration::MigratorTrait;
use taskflow_adapters_postgres::testing::{fresh_database, fresh_storage, fresh_storage_with, test_settings};
use taskflow_adapters_postgres::{Migrator, PgSettings, connect, map_db_err, migrate};
use taskflow_contract_tests::fixtures::{TaskSpec, t0, user};
use taskflow_domain::RepoError;
use taskflow_domain::ports::UnitOfWork;

use support::store_users;
use taskflow_application::ports::HealthProbe;

#[tokio::test]
async fn emails_are_unique_case_insensitively_even_for_rows_written_by_hand() {
    // Arrange
    let s = fresh_storage().await;
    let ann = user("ann");
    s.connection()
        .execute_unprepared(&format!(
            "INSERT INTO users (id, email, name, role, password_hash, created_at, updated_at) \
             VALUES (gen_random_uuid(), '{}', 'Ann', 'user', 'x', now(), now())",
            ann.email().as_ref().to_uppercase()
        ))
        .await
        .expect("raw insert");

    // Act
    let tx = s.begin().await.expect("begin");
    let err = tx.users().insert(&ann).await.expect_err("duplicate");

    // Assert
    assert!(matches!(&err, RepoError::Duplicate { constraint } if constraint == "users_email_key"), "{err:?}");
}

#[tokio::test]
async fn check_constraints_reject_what_the_domain_cannot_express() {
    let s = fresh_storage().await;
    let ann = user("ann");
    store_users(&s, std::slice::from_ref(&ann)).await;
    for (sql, why) in
        [("UPDATE users SET role = 'root'", "unknown role"), ("UPDATE users SET email = 'x'", "email too short")]
    {
        let err = s.connection().execute_unprepared(sql).await.map_err(map_db_err).expect_err(why);
        assert!(matches!(err, RepoError::Unexpected(_)), "{why}: {err:?}");
    }
    let task = TaskSpec::new(ann.id(), t0()).build();
    support::store_tasks(&s, &[task]).await;
    let err = s.connection().execute_unprepared("UPDATE tasks SET status = 'COMPLETED'").await.map_err(map_db_err);
    assert!(err.is_err(), "completed_at must be set with COMPLETED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exhausted_pool_is_unavailable_not_a_hang() {
    // Arrange
    let s = fresh_storage_with(|url| PgSettings {
        max_connections: 1,
        acquire_timeout: Duration::from_millis(200),
        ..test_settings(url)
    })
    .await;
    let _held = s.begin().await.expect("the only connection");

    // Act
    let started = std::time::Instant::now();
    let err = s.begin().await.err().expect("no connection left");

    // Assert
    assert!(matches!(err, RepoError::Unavailable(_)), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(2), "bounded by the acquire timeout");
}

#[tokio::test]
async fn a_statement_past_the_timeout_is_unavailable() {
    let s =
        fresh_storage_with(|url| PgSettings { statement_timeout: Duration::from_millis(100), ..test_settings(url) })
            .await;
    let err = s.connection().execute_unprepared("SELECT pg_sleep(2)").await.map_err(map_db_err).expect_err("timeout");
    assert!(matches!(err, RepoError::Unavailable(_)), "{err:?}");
}

#[tokio::test]
async fn an_unreachable_server_is_unavailable() {
    let settings = PgSettings {
        acquire_timeout: Duration::from_millis(500),
        ..PgSettings::new("postgres://postgres@127.0.0.1:1/none")
    };
    let err = connect(&settings).await.expect_err("nothing listens on port 1");
    assert!(matches!(err, RepoError::Unavailable(_)), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_health_probe_reports_up_and_then_down_when_the_database_goes() {
    // Arrange
    let (url, guard) = fresh_database().await;
    let s = connect(&PgSettings { acquire_timeout: Duration::from_millis(300), ..test_settings(&url) })
        .await
        .expect("connect");

    // Act and Assert
    let up = s.check().await;
    assert!(up.up && up.kind == "postgres", "{up:?}");
    drop(guard); // DROP DATABASE ... WITH (FORCE)
    let down = s.check().await;
    assert!(!down.up, "{down:?}");
    assert!(down.latency < Duration::from_secs(3));
}

#[tokio::test]
async fn migrations_are_reversible_and_idempotent() {
    let s = fresh_storage().await;
    migrate(s.connection()).await.expect("nothing pending is a no-op");
    Migrator::down(s.connection(), None).await.expect("down");
    let left = s.connection()
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            "SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> 'seaql_migrations'",
        ))
        .await
        .expect("count")
        .expect("row");
    assert_eq!(left.try_get::<i64>("", "n").expect("n"), 0, "down removes every table");
    migrate(s.connection()).await.expect("up again");
    store_users(&s, &[user("back")]).await;
}
