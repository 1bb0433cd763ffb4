//! The webhook use cases over hand-written doubles of the storage ports (the in-memory store's come later) and a
//! sender whose vetting a test decides.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use chrono::TimeDelta;
use claims::{assert_matches, assert_ok};
use taskflow_domain::events::TaskEventKind;
use taskflow_domain::policy::Actor;
use taskflow_domain::ports::Clock as _;
use taskflow_domain::webhook::{
    Delivery, DeliveryStatus, EventTypes, NewWebhook, WebhookDescription, WebhookPatch, WebhookUrl,
};
use taskflow_domain::{DeliveryId, EventId, WebhookId};
use uuid::Uuid;

use super::{CreatedWebhook, ListDeliveries, MAX_WEBHOOKS_PER_USER, WebhookService};
use crate::error::AppError;
use crate::ports::UrlRefusal;
use crate::tasks::PageMeta;
use crate::test_support::{ListedDeliveries, ResetBreakers, VettingSender, World, world};

/// A world whose webhook service uses `sender` and the deliveries in `queue`.
struct Hooks {
    w: World,
    service: WebhookService,
    sender: Arc<VettingSender>,
    queue: Arc<ListedDeliveries>,
    breakers: Arc<ResetBreakers>,
}

fn hooks_with(sender: VettingSender) -> Hooks {
    let w = world();
    let (sender, queue) = (Arc::new(sender), Arc::new(ListedDeliveries::default()));
    let breakers = Arc::new(ResetBreakers::default());
    let deps = crate::Deps {
        webhook_sender: sender.clone(),
        deliveries: queue.clone(),
        webhook_breakers: breakers.clone(),
        ..w.deps.clone()
    };
    Hooks { service: WebhookService::new(deps), w, sender, queue, breakers }
}

fn hooks() -> Hooks {
    hooks_with(VettingSender::allowing())
}

fn new_webhook(url: &str) -> NewWebhook {
    NewWebhook {
        url: WebhookUrl::parse(url).unwrap(),
        events: EventTypes::parse(&["task.created", "task.completed"]).unwrap(),
        description: WebhookDescription::parse("ci").unwrap(),
    }
}

async fn create(h: &Hooks, actor: Actor) -> CreatedWebhook {
    h.service.create_webhook(actor, new_webhook("https://example.com/hook")).await.unwrap()
}

fn delivery(h: &Hooks, webhook: WebhookId, n: u128, status: DeliveryStatus) -> Delivery {
    let at = h.w.clock.now() + TimeDelta::seconds(i64::try_from(n).unwrap());
    Delivery {
        id: DeliveryId::from_uuid(Uuid::from_u128(1000 + n)),
        webhook_id: webhook,
        event_id: EventId::from_uuid(Uuid::from_u128(2000 + n)),
        event: TaskEventKind::Created,
        status,
        attempts: if status == DeliveryStatus::Pending { 0 } else { 8 },
        next_attempt_at: None,
        last_status_code: Some(500),
        last_error: Some("status 500".into()),
        duration_ms: Some(12),
        created_at: at,
        updated_at: at,
    }
}

#[tokio::test]
async fn creating_a_webhook_vets_its_url_and_returns_its_secret() {
    // Arrange
    let h = hooks();
    let (_, ann) = h.w.user("ann@example.com").await;

    // Act
    let created = create(&h, ann).await;

    // Assert
    assert!(created.secret.expose().starts_with("whsec_"));
    assert_eq!(created.webhook.secret(), &created.secret);
    assert_eq!(created.webhook.owner(), ann.user_id);
    assert!(created.webhook.active());
    assert_eq!(h.sender.vetted.load(Ordering::SeqCst), 1);
    let stored = h.service.get_webhook(ann, created.webhook.id()).await.unwrap();
    assert_eq!(stored, created.webhook);
}

#[tokio::test]
async fn a_refused_url_is_a_validation_error_on_url_and_nothing_is_stored() {
    for refusal in [UrlRefusal::AddressNotAllowed, UrlRefusal::Unresolvable] {
        // Arrange
        let h = hooks_with(VettingSender::refusing(refusal));
        let (_, ann) = h.w.user("ann@example.com").await;

        // Act
        let result = h.service.create_webhook(ann, new_webhook("http://10.0.0.1/")).await;

        // Assert
        let err = result.expect_err("a refused URL was accepted");
        assert_matches!(&err, AppError::Validation(errors) if errors.len() == 1 && errors[0].field == "url",
            "{refusal:?}: {err:?}");
        assert!(h.service.list_webhooks(ann).await.unwrap().is_empty(), "{refusal:?}");
    }
}

#[tokio::test]
async fn a_user_may_hold_at_most_one_hundred_webhooks() {
    // Arrange
    let h = hooks();
    let (_, ann) = h.w.user("ann@example.com").await;
    let (_, bob) = h.w.user("bob@example.com").await;
    for _ in 0..MAX_WEBHOOKS_PER_USER {
        create(&h, ann).await;
    }

    // Act
    let one_more = h.service.create_webhook(ann, new_webhook("https://example.com/101")).await;

    // Assert
    assert_matches!(one_more, Err(AppError::Conflict(_)));
    assert_eq!(h.service.list_webhooks(ann).await.unwrap().len(), 100);
    assert_ok!(h.service.create_webhook(bob, new_webhook("https://example.com/bob")).await, "the cap is per user");
}

#[tokio::test]
async fn another_users_webhook_and_its_deliveries_are_not_found_but_an_admin_sees_all() {
    // Arrange
    let h = hooks();
    let (_, ann) = h.w.user("ann@example.com").await;
    let (_, bob) = h.w.user("bob@example.com").await;
    let admin = h.w.admin("root@example.com").await;
    let id = create(&h, ann).await.webhook.id();
    let bobs = create(&h, bob).await.webhook.id();
    let dead = delivery(&h, id, 1, DeliveryStatus::Dead);
    h.queue.0.lock().unwrap().push(dead.clone());

    // Act + Assert: Bob
    let not_found = |r: Result<_, AppError>| matches!(r, Err(AppError::NotFound(_)));
    assert!(not_found(h.service.get_webhook(bob, id).await.map(drop)));
    let pause = WebhookPatch { active: Some(false), ..Default::default() };
    assert!(not_found(h.service.update_webhook(bob, id, pause).await.map(drop)));
    assert!(not_found(h.service.list_deliveries(bob, id, ListDeliveries::default()).await.map(drop)));
    assert!(not_found(h.service.retry_delivery(bob, id, dead.id).await.map(drop)));
    assert!(not_found(h.service.delete_webhook(bob, id).await));
    assert!(not_found(h.service.retry_delivery(ann, bobs, dead.id).await.map(drop)), "a delivery of another hook");
    let listed: Vec<_> = h.service.list_webhooks(bob).await.unwrap().iter().map(|w| w.id()).collect();
    assert_eq!(listed, [bobs]);

    // Act + Assert: the admin
    let all: Vec<_> = h.service.list_webhooks(admin).await.unwrap().iter().map(|w| w.id()).collect();
    assert_eq!(all, [id, bobs]);
    assert_ok!(h.service.get_webhook(admin, id).await);
    assert_eq!(h.service.list_deliveries(admin, id, ListDeliveries::default()).await.unwrap().items, [dead]);
    assert_ok!(h.service.delete_webhook(admin, bobs).await);
}

#[tokio::test]
async fn an_update_changes_only_what_it_names_and_vets_only_a_new_url() {
    // Arrange
    let h = hooks();
    let (_, ann) = h.w.user("ann@example.com").await;
    let created = create(&h, ann).await.webhook;
    h.w.clock.advance(TimeDelta::seconds(5));
    let same_url = WebhookPatch { url: Some(created.url().clone()), active: Some(false), ..Default::default() };

    // Act
    let paused = h.service.update_webhook(ann, created.id(), same_url).await.unwrap();
    let vetted_after_same_url = h.sender.vetted.load(Ordering::SeqCst);
    let moved = WebhookPatch {
        url: Some(WebhookUrl::parse("https://example.org/new").unwrap()),
        description: Some(None),
        ..Default::default()
    };
    let moved = h.service.update_webhook(ann, created.id(), moved).await.unwrap();

    // Assert
    assert!(!paused.active());
    assert_eq!(paused.updated_at(), h.w.clock.now());
    assert_eq!(vetted_after_same_url, 1, "an unchanged URL is not vetted again");
    assert_eq!(h.sender.vetted.load(Ordering::SeqCst), 2, "a new URL is vetted");
    assert_eq!(moved.url().as_str(), "https://example.org/new");
    assert_eq!(moved.description(), None);
    assert_eq!(moved.events(), created.events());
    assert!(!moved.active());
    assert_eq!(h.service.get_webhook(ann, created.id()).await.unwrap(), moved, "the change is stored");
}

#[tokio::test]
async fn reactivating_a_webhook_closes_its_breaker_and_pausing_does_not() {
    let h = hooks();
    let (_, ann) = h.w.user("ann@example.com").await;
    let id = create(&h, ann).await.webhook.id();
    let patch = |active| WebhookPatch { active: Some(active), ..Default::default() };

    h.service.update_webhook(ann, id, patch(false)).await.unwrap();
    assert!(h.breakers.resets.lock().unwrap().is_empty(), "pausing leaves the breaker alone");
    h.service.update_webhook(ann, id, patch(true)).await.unwrap();

    assert_eq!(h.breakers.resets.lock().unwrap().as_slice(), [id], "active: true closes the breaker");
}

#[tokio::test]
async fn an_update_to_a_refused_url_changes_nothing() {
    // Arrange
    let allowing = hooks();
    let (_, ann) = allowing.w.user("ann@example.com").await;
    let created = create(&allowing, ann).await.webhook;
    let refusing = WebhookService::new(crate::Deps {
        webhook_sender: Arc::new(VettingSender::refusing(UrlRefusal::AddressNotAllowed)),
        ..allowing.w.deps.clone()
    });
    let patch = WebhookPatch {
        url: Some(WebhookUrl::parse("http://169.254.169.254/").unwrap()),
        active: Some(false),
        ..Default::default()
    };

    // Act
    let result = refusing.update_webhook(ann, created.id(), patch).await;

    // Assert
    assert_matches!(result, Err(AppError::Validation(errors)) if errors[0].field == "url");
    assert_eq!(allowing.service.get_webhook(ann, created.id()).await.unwrap(), created);
}

#[tokio::test]
async fn an_empty_update_is_invalid() {
    let h = hooks();
    let (_, ann) = h.w.user("ann@example.com").await;
    let id = create(&h, ann).await.webhook.id();
    let result = h.service.update_webhook(ann, id, WebhookPatch::default()).await;
    assert_matches!(result, Err(AppError::Validation(errors)) if errors[0].field == "body");
}

#[tokio::test]
async fn a_deleted_webhook_is_gone() {
    // Arrange
    let h = hooks();
    let (_, ann) = h.w.user("ann@example.com").await;
    let id = create(&h, ann).await.webhook.id();

    // Act
    assert_ok!(h.service.delete_webhook(ann, id).await);

    // Assert
    assert_matches!(h.service.get_webhook(ann, id).await, Err(AppError::NotFound(_)));
    assert_matches!(h.service.delete_webhook(ann, id).await, Err(AppError::NotFound(_)));
}

#[tokio::test]
async fn deliveries_are_listed_newest_first_in_pages_and_by_status() {
    // Arrange
    let h = hooks();
    let (_, ann) = h.w.user("ann@example.com").await;
    let id = create(&h, ann).await.webhook.id();
    let statuses = [DeliveryStatus::Succeeded, DeliveryStatus::Dead, DeliveryStatus::Succeeded, DeliveryStatus::Failed];
    let all: Vec<Delivery> = (0..4).map(|n| delivery(&h, id, n, statuses[n as usize])).collect();
    h.queue.0.lock().unwrap().extend(all.iter().cloned());
    let req = |status, page, limit| ListDeliveries { status, page, limit };

    // Act
    let first = h.service.list_deliveries(ann, id, req(None, 1, 3)).await.unwrap();
    let second = h.service.list_deliveries(ann, id, req(None, 2, 3)).await.unwrap();
    let succeeded = h.service.list_deliveries(ann, id, req(Some(DeliveryStatus::Succeeded), 1, 20)).await.unwrap();

    // Assert
    let ids = |list: &super::DeliveryList| list.items.iter().map(|d| d.id).collect::<Vec<_>>();
    assert_eq!(ids(&first), [all[3].id, all[2].id, all[1].id]);
    assert_eq!(first.meta, PageMeta::Offset { page: 1, limit: 3, total: 4, total_pages: 2 });
    assert_eq!(ids(&second), [all[0].id]);
    assert_eq!(ids(&succeeded), [all[2].id, all[0].id]);
    assert_eq!(succeeded.meta, PageMeta::Offset { page: 1, limit: 20, total: 2, total_pages: 1 });
}

#[tokio::test]
async fn a_page_below_one_or_a_limit_outside_one_to_one_hundred_is_invalid() {
    let h = hooks();
    let (_, ann) = h.w.user("ann@example.com").await;
    let id = create(&h, ann).await.webhook.id();
    for (page, limit, field) in [(0, 20, "page"), (1, 0, "limit"), (1, 101, "limit")] {
        let result = h.service.list_deliveries(ann, id, ListDeliveries { status: None, page, limit }).await;
        assert_matches!(&result, Err(AppError::Validation(errors)) if errors[0].field == field,
            "page {page}, limit {limit}: {result:?}");
    }
}

#[tokio::test]
async fn a_dead_delivery_is_retried_with_a_fresh_budget_and_a_succeeded_one_is_a_conflict() {
    // Arrange
    let h = hooks();
    let (_, ann) = h.w.user("ann@example.com").await;
    let id = create(&h, ann).await.webhook.id();
    let dead = delivery(&h, id, 1, DeliveryStatus::Dead);
    let done = delivery(&h, id, 2, DeliveryStatus::Succeeded);
    h.queue.0.lock().unwrap().extend([dead.clone(), done.clone()]);

    // Act
    let retried = h.service.retry_delivery(ann, id, dead.id).await.unwrap();
    let refused = h.service.retry_delivery(ann, id, done.id).await;
    let unknown = h.service.retry_delivery(ann, id, DeliveryId::from_uuid(Uuid::from_u128(9))).await;

    // Assert
    assert_eq!(retried.status, DeliveryStatus::Pending);
    assert_eq!(retried.attempts, 0);
    assert_eq!(retried.next_attempt_at, Some(h.w.clock.now()));
    assert_matches!(refused, Err(AppError::Conflict(why)) if why.contains("succeeded"));
    assert_matches!(unknown, Err(AppError::NotFound("delivery")));
}
