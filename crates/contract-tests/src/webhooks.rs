//! The webhook contract: subscriptions are stored whole, seen only within their owner's scope, and take their
//! deliveries with them when deleted (with their owner, too).
//!
//! Every case takes fresh [`QueuePorts`].

use chrono::{DateTime, TimeDelta, Utc};
use taskflow_domain::RepoError;
use taskflow_domain::events::{DomainEvent, TaskEventKind};
use taskflow_domain::ids::{UserId, WebhookId};
use taskflow_domain::policy::TaskScope;
use taskflow_domain::query::PageRequest;
use taskflow_domain::task::Task;
use taskflow_domain::webhook::{
    EventTypes, NewWebhook, Webhook, WebhookDescription, WebhookPatch, WebhookSecret, WebhookUrl,
};
use uuid::Uuid;

use crate::QueuePorts;
use crate::fixtures::{self, at, stored_user};

/// An active webhook of `owner` for `kinds`, created at `created_at`, with a URL and a secret of its own.
///
/// # Panics
/// When `kinds` is empty (a bug in the test).
#[must_use]
pub fn webhook(owner: UserId, kinds: &[TaskEventKind], created_at: DateTime<Utc>) -> Webhook {
    let id = Uuid::now_v7();
    let new = NewWebhook {
        url: WebhookUrl::parse(&format!("https://hooks.example.com/{}", id.simple())).expect("fixture url is valid"),
        events: EventTypes::of(kinds).expect("fixture events are not empty"),
        description: WebhookDescription::parse("fixture").expect("fixture description is valid"),
    };
    let mut key = [0u8; 32];
    key[..16].copy_from_slice(id.as_bytes());
    key[16..].copy_from_slice(Uuid::new_v4().as_bytes());
    Webhook::new(new, WebhookId::from_uuid(id), owner, WebhookSecret::from_key(key), created_at)
}

/// Stores a webhook of `owner` for `kinds`, created at `at(0)`.
pub async fn stored_webhook(ports: &QueuePorts, owner: UserId, kinds: &[TaskEventKind]) -> Webhook {
    let hook = webhook(owner, kinds, at(0));
    ports.webhooks.insert(&hook).await.expect("insert webhook");
    hook
}

/// Every event kind.
pub const ALL_KINDS: [TaskEventKind; 5] = TaskEventKind::ALL;

/// Commits `events` in one unit of work.
pub async fn commit_events(ports: &QueuePorts, events: &[DomainEvent]) {
    let tx = ports.storage.uow.begin().await.expect("begin");
    tx.outbox().append(events).await.expect("append");
    tx.commit().await.expect("commit events");
}

/// Commits one `kind` event about `task` and returns it.
pub async fn commit_event(ports: &QueuePorts, kind: TaskEventKind, task: &Task) -> DomainEvent {
    let event = crate::storage::event(kind, task);
    commit_events(ports, std::slice::from_ref(&event)).await;
    event
}

/// A stored task of `owner`, created at `at(0)`.
pub async fn stored_task(ports: &QueuePorts, owner: UserId) -> Task {
    let task = fixtures::task(owner, at(0));
    fixtures::insert_tasks(&ports.storage, std::slice::from_ref(&task)).await;
    task
}

/// The first page of up to 100 deliveries of `hook`, and the total.
pub async fn deliveries_of(ports: &QueuePorts, hook: WebhookId) -> Vec<taskflow_domain::webhook::Delivery> {
    let (items, total) =
        ports.deliveries.list(hook, None, PageRequest { page: 1, limit: 100 }).await.expect("list deliveries");
    assert_eq!(items.len() as u64, total, "one page holds every delivery of a test");
    items
}

/// A stored webhook is read back whole, by its owner and by admins, and is invisible to anyone else.
pub async fn a_webhook_is_read_back_whole_within_its_owners_scope(ports: QueuePorts) {
    // Arrange
    let ann = stored_user(&ports.storage, "ann").await;
    let bob = stored_user(&ports.storage, "bob").await;
    let hook = webhook(ann.id(), &[TaskEventKind::Created, TaskEventKind::Overdue], at(0));

    // Act
    ports.webhooks.insert(&hook).await.expect("insert");
    let own = ports.webhooks.get(hook.id(), TaskScope::Owner(ann.id())).await.expect("get");
    let admin = ports.webhooks.get(hook.id(), TaskScope::All).await.expect("get");
    let other = ports.webhooks.get(hook.id(), TaskScope::Owner(bob.id())).await.expect("get");
    let unknown = ports.webhooks.get(WebhookId::from_uuid(Uuid::now_v7()), TaskScope::All).await.expect("get");

    // Assert
    assert_eq!(own.as_ref(), Some(&hook), "the owner reads it whole, secret included");
    assert_eq!(admin.as_ref(), Some(&hook), "an admin reads it");
    assert_eq!(other, None, "another user does not see it");
    assert_eq!(unknown, None, "an unknown id is absent");
}

/// A webhook of a user who does not exist is refused.
pub async fn inserting_a_webhook_for_a_missing_owner_is_a_missing_reference(ports: QueuePorts) {
    // Arrange
    let hook = webhook(fixtures::user_id(), &[TaskEventKind::Created], at(0));

    // Act
    let result = ports.webhooks.insert(&hook).await;

    // Assert
    assert!(matches!(result, Err(RepoError::MissingReference)), "{result:?}");
}

/// Webhooks are listed oldest first and counted, per owner or for everyone.
pub async fn webhooks_are_listed_oldest_first_and_counted_per_scope(ports: QueuePorts) {
    // Arrange
    let ann = stored_user(&ports.storage, "ann").await;
    let bob = stored_user(&ports.storage, "bob").await;
    let later = webhook(ann.id(), &[TaskEventKind::Created], at(5));
    let earlier = webhook(ann.id(), &[TaskEventKind::Created], at(1));
    let bobs = webhook(bob.id(), &[TaskEventKind::Deleted], at(3));
    for hook in [&later, &earlier, &bobs] {
        ports.webhooks.insert(hook).await.expect("insert");
    }

    // Act
    let anns = ports.webhooks.list(TaskScope::Owner(ann.id())).await.expect("list");
    let all = ports.webhooks.list(TaskScope::All).await.expect("list");
    let counts = (
        ports.webhooks.count(TaskScope::Owner(ann.id())).await.expect("count"),
        ports.webhooks.count(TaskScope::Owner(bob.id())).await.expect("count"),
        ports.webhooks.count(TaskScope::All).await.expect("count"),
    );

    // Assert
    assert_eq!(anns, vec![earlier.clone(), later.clone()], "ann's, oldest first");
    assert_eq!(all, vec![earlier, bobs, later], "everyone's, oldest first");
    assert_eq!(counts, (2, 1, 3), "counts per scope");
}

/// An update is stored whole; updating a webhook that is gone reports `false`.
pub async fn updating_a_webhook_is_stored_and_a_missing_one_reports_false(ports: QueuePorts) {
    // Arrange
    let ann = stored_user(&ports.storage, "ann").await;
    let mut hook = stored_webhook(&ports, ann.id(), &[TaskEventKind::Created]).await;
    let patch = WebhookPatch {
        url: Some(WebhookUrl::parse("https://elsewhere.example.com/in").expect("url")),
        events: Some(EventTypes::of(&[TaskEventKind::Completed, TaskEventKind::Deleted]).expect("events")),
        description: Some(None),
        active: Some(false),
    };
    assert!(hook.apply(patch, at(7)), "the patch changes it");
    let ghost = webhook(ann.id(), &[TaskEventKind::Created], at(0));

    // Act
    let stored = ports.webhooks.update(&hook).await.expect("update");
    let missing = ports.webhooks.update(&ghost).await.expect("update");

    // Assert
    assert!(stored, "the webhook existed");
    assert!(!missing, "a webhook never stored is not updated");
    assert_eq!(ports.webhooks.get(hook.id(), TaskScope::All).await.expect("get"), Some(hook), "stored whole");
    assert_eq!(ports.webhooks.get(ghost.id(), TaskScope::All).await.expect("get"), None, "not created by update");
}

/// Deleting respects the scope, and a deleted webhook's deliveries are never claimed again.
pub async fn deleting_a_webhook_respects_the_scope_and_ends_its_deliveries(ports: QueuePorts) {
    // Arrange
    let ann = stored_user(&ports.storage, "ann").await;
    let bob = stored_user(&ports.storage, "bob").await;
    let hook = stored_webhook(&ports, ann.id(), &ALL_KINDS).await;
    let kept = stored_webhook(&ports, ann.id(), &ALL_KINDS).await;
    let task = stored_task(&ports, ann.id()).await;
    commit_event(&ports, TaskEventKind::Created, &task).await;
    commit_event(&ports, TaskEventKind::Updated, &task).await;
    ports.deliveries.relay(100, at(1)).await.expect("relay");
    assert_eq!(deliveries_of(&ports, hook.id()).await.len(), 2, "two open deliveries before the deletion");

    // Act
    let by_other = ports.webhooks.delete(hook.id(), TaskScope::Owner(bob.id())).await.expect("delete");
    let by_owner = ports.webhooks.delete(hook.id(), TaskScope::Owner(ann.id())).await.expect("delete");
    let again = ports.webhooks.delete(hook.id(), TaskScope::All).await.expect("delete");
    let claimed = ports.deliveries.claim(100, at(2), TimeDelta::minutes(1)).await.expect("claim");

    // Assert
    assert!(!by_other, "another user cannot delete it");
    assert!(by_owner, "its owner can");
    assert!(!again, "it is gone");
    assert_eq!(ports.webhooks.get(hook.id(), TaskScope::All).await.expect("get"), None, "gone");
    assert!(deliveries_of(&ports, hook.id()).await.is_empty(), "its deliveries went with it");
    assert!(claimed.iter().all(|c| c.webhook_id == kept.id()), "none of its deliveries is claimed: {claimed:?}");
    assert_eq!(claimed.len(), 2, "the other webhook's deliveries are untouched");
}

/// Deleting a user deletes their webhooks.
pub async fn deleting_the_owner_deletes_their_webhooks(ports: QueuePorts) {
    // Arrange
    let ann = stored_user(&ports.storage, "ann").await;
    let bob = stored_user(&ports.storage, "bob").await;
    let anns = stored_webhook(&ports, ann.id(), &ALL_KINDS).await;
    let bobs = stored_webhook(&ports, bob.id(), &ALL_KINDS).await;

    // Act
    let tx = ports.storage.uow.begin().await.expect("begin");
    assert!(tx.users().delete(ann.id(), at(3)).await.expect("delete"), "ann existed");
    tx.commit().await.expect("commit");

    // Assert
    assert_eq!(ports.webhooks.get(anns.id(), TaskScope::All).await.expect("get"), None, "ann's webhook is gone");
    assert_eq!(ports.webhooks.get(bobs.id(), TaskScope::All).await.expect("get"), Some(bobs), "bob's stays");
}

/// The webhook cases, for [`crate::queue_contract_tests`].
#[doc(hidden)]
#[macro_export]
macro_rules! __webhook_cases {
    ($factory:path) => {
        $crate::__contract_cases!(
            $factory,
            webhooks,
            [
                a_webhook_is_read_back_whole_within_its_owners_scope,
                inserting_a_webhook_for_a_missing_owner_is_a_missing_reference,
                webhooks_are_listed_oldest_first_and_counted_per_scope,
                updating_a_webhook_is_stored_and_a_missing_one_reports_false,
                deleting_a_webhook_respects_the_scope_and_ends_its_deliveries,
                deleting_the_owner_deletes_their_webhooks,
            ]
        );
    };
}
