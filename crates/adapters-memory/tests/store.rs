//! In-memory specifics the shared contracts cannot check: time-driven expiry, write serialization, and index
//! upkeep inside one unit of work.

use std::sync::Arc;
use std::time::Duration;

use taskflow_adapters_memory::InMemoryStore;
use taskflow_application::clock::ManualClock;
use taskflow_contract_tests::fixtures::{self, at, idempotency_key, response, user_id};

use taskflow_application::ports::{IdempotencyBegin, IdempotencyStore, WorkSignal};
use taskflow_domain::events::TaskEventKind;
use taskflow_domain::policy::TaskScope;
use taskflow_domain::ports::{TaskReadModel, UnitOfWork, UserReadModel};
use taskflow_domain::user::UserPatch;

const TTL: Duration = Duration::from_secs(60);

#[tokio::test]
async fn idempotency_keys_expire_after_their_ttl() {
    // Arrange
    let time = Arc::new(ManualClock::new(chrono::DateTime::UNIX_EPOCH));
    let store: Arc<dyn IdempotencyStore> = Arc::new(InMemoryStore::with_clock(time.clone()));
    let (owner, running, done) = (user_id(), idempotency_key(), idempotency_key());
    store.begin(owner, &running, "fp", TTL).await.expect("begin");
    store.begin(owner, &done, "fp", TTL).await.expect("begin");
    store.complete(owner, &done, &response(201, "{}"), TTL).await.expect("complete");

    // Act
    time.pass(TTL - Duration::from_secs(1));
    let before = store.begin(owner, &done, "fp", TTL).await.expect("begin");
    time.pass(Duration::from_secs(1));
    let after = (
        store.begin(owner, &running, "other", TTL).await.expect("begin"),
        store.begin(owner, &done, "other", TTL).await.expect("begin"),
    );

    // Assert
    assert!(matches!(before, IdempotencyBegin::Completed(_)), "still replayed just before the ttl: {before:?}");
    assert_eq!(after, (IdempotencyBegin::Started, IdempotencyBegin::Started), "both keys are free at their ttl");
}

#[tokio::test]
async fn releasing_a_completed_key_keeps_its_replay() {
    // Arrange
    let store: Arc<dyn IdempotencyStore> = Arc::new(InMemoryStore::new());
    let (owner, key) = (user_id(), idempotency_key());
    store.begin(owner, &key, "fp", TTL).await.expect("begin");
    store.complete(owner, &key, &response(200, "done"), TTL).await.expect("complete");

    // Act
    store.release(owner, &key).await.expect("release");

    // Assert
    let replay = store.begin(owner, &key, "fp", TTL).await.expect("begin");
    assert_eq!(replay, IdempotencyBegin::Completed(response(200, "done")), "the response is still replayed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_unit_of_work_waits_for_the_first_while_readers_do_not() {
    // Arrange
    let store = InMemoryStore::new();
    let first = UnitOfWork::begin(&store).await.expect("begin");
    let contender = {
        let store = store.clone();
        tokio::spawn(async move { UnitOfWork::begin(&store).await.map(drop) })
    };

    // Act
    tokio::time::sleep(Duration::from_millis(50)).await;
    let waiting = !contender.is_finished();
    let read = tokio::time::timeout(Duration::from_secs(1), TaskReadModel::stats(&store, TaskScope::All, at(0))).await;
    drop(first);
    let after = tokio::time::timeout(Duration::from_secs(1), contender).await;

    // Assert
    assert!(waiting, "the second unit of work waits while the first is open");
    assert!(read.is_ok(), "a reader does not wait for the open unit of work");
    assert!(matches!(after, Ok(Ok(Ok(())))), "the second starts once the first is dropped");
}

#[tokio::test]
async fn two_users_can_swap_emails_in_one_unit_of_work() {
    // Arrange
    let store = Arc::new(InMemoryStore::new());
    let (ann, bob) = (fixtures::user("ann"), fixtures::user("bob"));
    let tx = UnitOfWork::begin(&*store).await.expect("begin");
    tx.users().insert(&ann).await.expect("ann");
    tx.users().insert(&bob).await.expect("bob");
    tx.commit().await.expect("commit");
    let parking = fixtures::email("parking");

    // Act: ann moves away, bob takes her email, ann takes his
    let tx = UnitOfWork::begin(&*store).await.expect("begin");
    let mut ann2 = ann.clone();
    ann2.apply(UserPatch { email: Some(parking), ..UserPatch::default() }, at(1));
    tx.users().update(&ann2).await.expect("ann parks");
    let mut bob2 = bob.clone();
    bob2.apply(UserPatch { email: Some(ann.email().clone()), ..UserPatch::default() }, at(1));
    tx.users().update(&bob2).await.expect("bob takes ann's email");
    ann2.apply(UserPatch { email: Some(bob.email().clone()), ..UserPatch::default() }, at(1));
    tx.users().update(&ann2).await.expect("ann takes bob's email");
    tx.commit().await.expect("commit");

    // Assert
    let by_email = |e| {
        let store = store.clone();
        async move { store.find_by_email(e).await.expect("find").map(|u| u.id()) }
    };
    assert_eq!(by_email(bob.email()).await, Some(ann.id()), "bob's old email is ann's");
    assert_eq!(by_email(ann.email()).await, Some(bob.id()), "ann's old email is bob's");
}

#[tokio::test]
async fn a_deleted_users_email_can_be_reused_in_the_same_unit_of_work() {
    // Arrange
    let store = Arc::new(InMemoryStore::new());
    let ann = fixtures::user("ann");
    let tx = UnitOfWork::begin(&*store).await.expect("begin");
    tx.users().insert(&ann).await.expect("insert");
    tx.tasks().insert(&fixtures::task(ann.id(), at(0))).await.expect("task");
    tx.commit().await.expect("commit");
    let heir = taskflow_domain::user::User::from_record(taskflow_domain::user::UserRecord {
        id: user_id(),
        created_at: at(1),
        updated_at: at(1),
        ..ann.record().clone()
    });

    // Act
    let tx = UnitOfWork::begin(&*store).await.expect("begin");
    assert!(tx.users().delete(ann.id(), at(2)).await.expect("delete"), "ann existed");
    let orphan = tx.tasks().insert(&fixtures::task(ann.id(), at(2))).await;
    tx.users().insert(&heir).await.expect("the email is free once ann is deleted");
    tx.commit().await.expect("commit");

    // Assert
    assert!(orphan.is_err(), "a deleted user cannot get new tasks");
    assert_eq!(store.find_by_email(ann.email()).await.expect("find").map(|u| u.id()), Some(heir.id()));
    assert_eq!(TaskReadModel::stats(&*store, TaskScope::All, at(0)).await.expect("stats").total, 0, "cascade");
}

/// Polls `future` once, without a runtime wake-up: whether it is ready now.
fn ready_now<F: std::future::Future + ?Sized>(future: std::pin::Pin<&mut F>) -> bool {
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    future.poll(&mut cx).is_ready()
}

#[tokio::test]
async fn only_a_committed_unit_that_appended_events_wakes_the_workers() {
    // Arrange: a worker waiting for work (the first poll registers it)
    let store = InMemoryStore::new();
    let ann = fixtures::user("ann");
    let task = fixtures::task(ann.id(), at(0));
    let created = taskflow_contract_tests::storage::event(TaskEventKind::Created, &task);
    let mut wait = WorkSignal::wait(&store);
    assert!(!ready_now(wait.as_mut()), "no work yet");

    // Act & Assert: a commit without events, then a rolled-back unit with one, then a committed one
    let tx = UnitOfWork::begin(&store).await.expect("begin");
    tx.users().insert(&ann).await.expect("insert user");
    tx.commit().await.expect("commit");
    assert!(!ready_now(wait.as_mut()), "a commit without events is no work");

    let tx = UnitOfWork::begin(&store).await.expect("begin");
    tx.tasks().insert(&task).await.expect("insert task");
    tx.outbox().append(std::slice::from_ref(&created)).await.expect("append");
    drop(tx);
    assert!(!ready_now(wait.as_mut()), "a rolled-back unit wakes nobody");

    let tx = UnitOfWork::begin(&store).await.expect("begin");
    tx.tasks().insert(&task).await.expect("insert task");
    tx.outbox().append(std::slice::from_ref(&created)).await.expect("append");
    tx.commit().await.expect("commit");
    assert!(ready_now(wait.as_mut()), "the commit of new events wakes the waiting worker");
}
