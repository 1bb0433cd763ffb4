//! Shared helpers of this crate's integration tests (the database harness itself is `testing`).

#![allow(dead_code)]

use std::pin::Pin;
use std::task::{Context, Poll};

use sea_orm::{ConnectionTrait, Statement};
use taskflow_adapters_postgres::{PgSeeder, PgStorage};
use taskflow_contract_tests::fixtures::{t0, user};
use taskflow_domain::UserId;
use taskflow_domain::ports::UnitOfWork;
use taskflow_domain::task::Task;
use taskflow_domain::user::User;

/// Stores users in one committed unit of work.
pub async fn store_users(s: &PgStorage, users: &[User]) {
    let tx = s.begin().await.expect("begin");
    for u in users {
        tx.users().insert(u).await.expect("insert user");
    }
    tx.commit().await.expect("commit");
}

/// Stores tasks in one committed unit of work.
pub async fn store_tasks(s: &PgStorage, tasks: &[Task]) {
    let tx = s.begin().await.expect("begin");
    for t in tasks {
        tx.tasks().insert(t).await.expect("insert task");
    }
    tx.commit().await.expect("commit");
}

/// `n` users, stored.
pub async fn stored_users(s: &PgStorage, n: usize) -> Vec<User> {
    let users: Vec<User> = (0..n).map(|i| user(&format!("u{i}"))).collect();
    store_users(s, &users).await;
    users
}

/// Seeds `count` tasks over `owners` with the bulk seeder, at `t0()`.
pub async fn seed(s: &PgStorage, owners: &[UserId], count: u64) {
    PgSeeder::new(s.clone()).seed_tasks(owners, count, t0(), |_| {}).await.expect("seed");
}

/// Polls the inner future at most `polls` times; if it is still pending then, it is dropped where it stands.
pub struct CancelAfter<F: Future> {
    inner: Pin<Box<F>>,
    polls: usize,
}

impl<F: Future> Future for CancelAfter<F> {
    type Output = Option<F::Output>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if self.polls == 0 {
            return Poll::Ready(None);
        }
        self.polls -= 1;
        self.inner.as_mut().poll(cx).map(Some)
    }
}

/// `inner`, dropped after `polls` polls if it has not completed by then.
pub fn cancel_after<F: Future>(polls: usize, inner: F) -> CancelAfter<F> {
    CancelAfter { inner: Box::pin(inner), polls }
}

/// The `n` column of `sql`'s one row, read on the pool.
pub async fn count(s: &PgStorage, sql: &str) -> i64 {
    let row = s
        .connection()
        .query_one_raw(Statement::from_string(sea_orm::DbBackend::Postgres, sql))
        .await
        .expect("count")
        .expect("a row");
    row.try_get::<i64>("", "n").expect("n")
}
