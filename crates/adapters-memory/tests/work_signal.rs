//! The in-memory `WorkSignal`s: relays waiting on the store wake when a commit appends events, senders waiting on
//! its delivery signal when a relay makes deliveries, and a commit does not wake the senders.

use std::time::Duration;

use taskflow_adapters_memory::InMemoryStore;
use taskflow_application::ports::WorkSignal;
use taskflow_contract_tests::fixtures::{at, task, user};
use taskflow_contract_tests::storage::event;
use taskflow_contract_tests::webhooks::webhook;
use taskflow_domain::events::TaskEventKind;
use taskflow_domain::ports::{DeliveryQueue, UnitOfWork, WebhookRepository};
use taskflow_domain::user::User;
use tokio::task::JoinHandle;

/// How long a test waits for a wake-up before failing.
const DEADLINE: Duration = Duration::from_secs(5);

fn waiter(signal: &(impl WorkSignal + Clone + 'static)) -> JoinHandle<()> {
    let signal = signal.clone();
    tokio::spawn(async move { signal.wait().await })
}

/// Repeats `poke` until `waiting` resolves (the waiter may not be registered yet at the first poke), failing after
/// [`DEADLINE`].
async fn wakes<F, Fut>(mut waiting: JoinHandle<()>, mut poke: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()>,
{
    let started = tokio::time::Instant::now();
    loop {
        poke().await;
        if tokio::time::timeout(Duration::from_millis(20), &mut waiting).await.is_ok() {
            return;
        }
        assert!(started.elapsed() < DEADLINE, "no wake-up within {DEADLINE:?}");
    }
}

async fn store_with_user() -> (InMemoryStore, User) {
    let store = InMemoryStore::new();
    let ann = user("ann");
    let tx = store.begin().await.expect("begin");
    tx.users().insert(&ann).await.expect("insert");
    tx.commit().await.expect("commit");
    (store, ann)
}

#[tokio::test]
async fn a_commit_that_appends_events_wakes_waiting_relays_and_not_senders() {
    // Arrange
    let (store, ann) = store_with_user().await;
    let task = task(ann.id(), at(0));
    let mut sender = waiter(&store.delivery_signal());

    // Act + Assert
    wakes(waiter(&store), || async {
        let tx = store.begin().await.expect("begin");
        tx.outbox().append(&[event(TaskEventKind::Updated, &task)]).await.expect("append");
        tx.commit().await.expect("commit");
    })
    .await;
    let woken = tokio::time::timeout(Duration::from_millis(200), &mut sender).await;
    assert!(woken.is_err(), "an appended event makes no delivery: the senders sleep on");
}

#[tokio::test]
async fn a_relay_that_makes_deliveries_wakes_waiting_senders() {
    // Arrange: the events are committed before the waiter starts, so only the relay can wake it.
    let (store, ann) = store_with_user().await;
    store.insert(&webhook(ann.id(), &TaskEventKind::ALL, at(0))).await.expect("webhook");
    let task = task(ann.id(), at(0));
    let events: Vec<_> = (0..300).map(|_| event(TaskEventKind::Updated, &task)).collect();
    let tx = store.begin().await.expect("begin");
    tx.outbox().append(&events).await.expect("append");
    tx.commit().await.expect("commit");

    // Act + Assert
    wakes(waiter(&store.delivery_signal()), || async {
        store.relay(1, at(1)).await.expect("relay");
    })
    .await;
}
