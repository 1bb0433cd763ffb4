//! `PgWorkSignal`: relays wake on `NOTIFY taskflow_work` and senders on `NOTIFY taskflow_deliveries` (sent by the
//! statements that make such work, on commit), a task commit does not wake the senders, waiters wake after the
//! listening connection is lost and made again, and the listener goes away with its shutdown token.

use std::time::Duration;

use sea_orm::ConnectionTrait;
use taskflow_adapters_postgres::testing::fresh_storage;
use taskflow_adapters_postgres::{PgStorage, PgWorkSignal};
use taskflow_application::ports::WorkSignal;
use taskflow_contract_tests::fixtures::{at, task, user};
use taskflow_contract_tests::storage::event;
use taskflow_contract_tests::webhooks::webhook;
use taskflow_domain::events::{DomainEvent, TaskEventKind};
use taskflow_domain::ports::{DeliveryQueue, UnitOfWork, WebhookRepository};
use taskflow_domain::task::Task;
use taskflow_domain::user::User;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// How long a test waits for an effect before failing.
const DEADLINE: Duration = Duration::from_secs(10);

fn waiter(signal: &(impl WorkSignal + Clone + 'static)) -> JoinHandle<()> {
    let signal = signal.clone();
    tokio::spawn(async move { signal.wait().await })
}

/// Repeats `poke` until `waiting` resolves (the listener may not be listening yet at the first poke), failing after
/// [`DEADLINE`].
async fn wakes<F, Fut>(mut waiting: JoinHandle<()>, mut poke: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()>,
{
    let started = tokio::time::Instant::now();
    loop {
        poke().await;
        if tokio::time::timeout(Duration::from_millis(50), &mut waiting).await.is_ok() {
            return;
        }
        assert!(started.elapsed() < DEADLINE, "no wake-up within {DEADLINE:?}");
    }
}

/// The backends listening on the work channel in this test's database.
async fn listeners(s: &PgStorage) -> Vec<i32> {
    let sql = "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query ILIKE 'LISTEN%'";
    let rows =
        s.connection().query_all_raw(sea_orm::Statement::from_string(s.connection().get_database_backend(), sql));
    rows.await.expect("pg_stat_activity").iter().map(|r| r.try_get("", "pid").expect("pid")).collect()
}

/// Polls `listeners` until `done` holds of them, failing after [`DEADLINE`].
async fn until_listeners(s: &PgStorage, done: impl Fn(&[i32]) -> bool) -> Vec<i32> {
    let started = tokio::time::Instant::now();
    loop {
        let pids = listeners(s).await;
        if done(&pids) {
            return pids;
        }
        assert!(started.elapsed() < DEADLINE, "listeners never became as expected: {pids:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn notify(s: &PgStorage) {
    s.connection().execute_unprepared("SELECT pg_notify('taskflow_work', '')").await.expect("notify");
}

/// A fresh database whose signal listens, where the user `ann` was committed with `events(t)` for a task `t` of hers.
async fn listening(
    events: impl FnOnce(&Task) -> Vec<DomainEvent>,
) -> (PgStorage, CancellationToken, PgWorkSignal, User, Task) {
    let s = fresh_storage().await;
    let shutdown = CancellationToken::new();
    let signal = PgWorkSignal::listen(&s, &shutdown);
    until_listeners(&s, |pids| pids.len() == 1).await;
    let ann = user("ann");
    let t = task(ann.id(), at(0));
    let tx = s.begin().await.expect("begin");
    tx.users().insert(&ann).await.expect("user");
    tx.outbox().append(&events(&t)).await.expect("append");
    tx.commit().await.expect("commit");
    (s, shutdown, signal, ann, t)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_commit_wakes_waiting_relays_and_not_senders() {
    // Arrange
    let (s, shutdown, signal, _, t) = listening(|_| Vec::new()).await;
    let mut sender = waiter(&signal.deliveries());

    // Act + Assert: an appended event (a task change) wakes the relays, on commit.
    wakes(waiter(&signal), || async {
        let tx = s.begin().await.expect("begin");
        tx.outbox().append(&[event(TaskEventKind::Updated, &t)]).await.expect("append");
        tx.commit().await.expect("commit");
    })
    .await;
    let woken = tokio::time::timeout(Duration::from_millis(300), &mut sender).await;
    assert!(woken.is_err(), "an appended event makes no delivery: the senders sleep on");
    shutdown.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_that_makes_deliveries_wakes_waiting_senders() {
    // Arrange: events committed before anyone waits, so only the relay's notification can wake the waiter.
    let (s, shutdown, signal, ann, _) =
        listening(|t| (0..200).map(|_| event(TaskEventKind::Updated, t)).collect()).await;
    s.insert(&webhook(ann.id(), &TaskEventKind::ALL, at(0))).await.expect("webhook");

    // Act and Assert
    wakes(waiter(&signal.deliveries()), || async {
        s.relay(1, at(1)).await.expect("relay");
    })
    .await;
    shutdown.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_connection_is_made_again_and_wakes_workers() {
    // Arrange
    let s = fresh_storage().await;
    let shutdown = CancellationToken::new();
    let signal = PgWorkSignal::listen(&s, &shutdown);
    let first = until_listeners(&s, |pids| pids.len() == 1).await;
    let waiting = waiter(&signal);
    tokio::time::sleep(Duration::from_millis(50)).await; // lets the waiter register; a miss only fails the test

    // Act: the server drops the listening connection.
    let kill = format!("SELECT pg_terminate_backend({})", first[0]);
    s.connection().execute_unprepared(&kill).await.expect("terminate");

    // Assert: waiters wake (notifications may have been missed), a new connection listens, and it is heard.
    tokio::time::timeout(DEADLINE, waiting).await.expect("woken after the reconnection").expect("waiter");
    let second = until_listeners(&s, |pids| pids.len() == 1 && pids[0] != first[0]).await;
    assert_ne!(second, first, "a new connection");
    wakes(waiter(&signal), || notify(&s)).await;
    shutdown.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_listener_ends_with_its_shutdown_token_or_its_last_handle() {
    // Arrange
    let s = fresh_storage().await;
    let shutdown = CancellationToken::new();
    let cancelled = PgWorkSignal::listen(&s, &shutdown);
    let dropped = PgWorkSignal::listen(&s, &CancellationToken::new());
    until_listeners(&s, |pids| pids.len() == 2).await;

    // Act and Assert
    shutdown.cancel();
    until_listeners(&s, |pids| pids.len() == 1).await;
    drop(dropped);
    until_listeners(&s, <[i32]>::is_empty).await;
    drop(cancelled);
}
