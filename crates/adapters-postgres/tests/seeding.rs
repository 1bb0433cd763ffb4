//! The bulk seeder: idempotent users, progress, and (ignored by default) the 1,000,000-task figure.

mod support;

use std::time::Instant;

use taskflow_adapters_postgres::PgSeeder;
use taskflow_adapters_postgres::testing::fresh_storage;
use taskflow_contract_tests::fixtures::{t0, user};
use taskflow_domain::policy::TaskScope;
use taskflow_domain::ports::{TaskReadModel, UserReadModel};
use taskflow_domain::query::PageRequest;
use taskflow_domain::task::{TaskPriority, TaskStatus};

#[tokio::test]
async fn seeding_twice_keeps_one_copy_of_each_user_and_reports_progress() {
    // Arrange
    let s = fresh_storage().await;
    let seeder = PgSeeder::new(s.clone());
    let users = vec![user("admin"), user("demo")];

    // Act
    seeder.ensure_users(&users).await.expect("first");
    seeder.ensure_users(&users).await.expect("second");
    let mut seen = Vec::new();
    let owners: Vec<_> = users.iter().map(|u| u.id()).collect();
    let n = seeder.seed_tasks(&owners, 120_000, t0(), |done| seen.push(done)).await.expect("seed");

    // Assert
    let (_, total_users) = UserReadModel::list(&s, PageRequest { page: 1, limit: 10 }).await.expect("users");
    assert_eq!(total_users, 2);
    assert_eq!(n, 120_000);
    assert_eq!(seen.len(), 3, "one report per batch");
    assert_eq!(seen.last(), Some(&120_000));
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "progress only grows: {seen:?}");
    let stats = s.stats(TaskScope::All, t0()).await.expect("stats");
    assert_eq!(stats.total, 120_000);
    assert!(TaskStatus::ALL.iter().all(|&s| stats.by_status.of(s) > 0), "{stats:?}");
    assert!(TaskPriority::ALL.iter().all(|&p| stats.by_priority.of(p) > 0), "{stats:?}");
    assert!(stats.overdue > 0);
    let mine = s.stats(TaskScope::Owner(owners[0]), t0()).await.expect("stats");
    assert_eq!(mine.total, 60_000, "spread evenly over the owners");
}

/// `cargo test -p taskflow-adapters-postgres --test seeding -- --ignored --nocapture`
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "takes tens of seconds: run by hand to measure the seeding rate"]
async fn seeding_a_million_tasks_takes_well_under_a_minute() {
    let s = fresh_storage().await;
    let seeder = PgSeeder::new(s.clone());
    let users: Vec<_> = (0..12).map(|i| user(&format!("seed{i}"))).collect();
    seeder.ensure_users(&users).await.expect("users");
    let owners: Vec<_> = users.iter().map(|u| u.id()).collect();
    let started = Instant::now();
    let n = seeder.seed_tasks(&owners, 1_000_000, t0(), |_| {}).await.expect("seed");
    let took = started.elapsed();
    #[allow(clippy::cast_precision_loss)]
    let rate = n as f64 / took.as_secs_f64();
    println!(
        "seeded {n} tasks in {:.1} s: {rate:.0} tasks/s (all indexes in place, ANALYZE included)",
        took.as_secs_f64()
    );
    assert!(took.as_secs() < 60, "took {took:?}");
    assert_eq!(s.stats(TaskScope::All, t0()).await.expect("stats").total, 1_000_000);
}
