//! The builder's defaults, and the embedder's conveniences around it.

use std::sync::Arc;

use claims::{assert_err, assert_ok};
use taskflow_adapters_crypto::{Argon2PasswordHasher, PasetoTokenIssuer};
use taskflow_adapters_memory::InMemoryStore;
use taskflow_domain::events::TaskEventKind;
use taskflow_domain::policy::Actor;
use taskflow_domain::user::{EmailAddress, Role, UserName};
use taskflow_domain::webhook::{EventTypes, NewWebhook, WebhookUrl};

use crate::auth::{AuthSettings, Registration};
use crate::tasks::{CreateTask, ListTasks, PageMeta};
use crate::users::NewAccount;
use crate::{AppError, Deps, DepsBuilder, MissingPort};

/// The builder over a fresh in-memory store, with cheap hashing.
fn over_memory() -> DepsBuilder {
    Deps::builder()
        .store(Arc::new(InMemoryStore::new()))
        .hasher(Arc::new(Argon2PasswordHasher::insecure_fast()))
        .tokens(Arc::new(PasetoTokenIssuer::ephemeral()))
}

#[test]
fn a_builder_missing_a_port_without_default_names_it() {
    for (builder, missing, why) in [
        (Deps::builder(), "tombstones", "nothing given"),
        (Deps::builder().revoked_users(over_memory().build().unwrap().revoked_users), "uow", "no storage"),
        (
            Deps::builder().uow(Arc::new(InMemoryStore::new())).tombstones(Arc::new(InMemoryStore::new())),
            "task_reads",
            "no read side",
        ),
    ] {
        assert_eq!(builder.build().err(), Some(MissingPort(missing)), "{why}");
    }
    assert!(MissingPort("uow").to_string().contains("uow"));
}

#[tokio::test]
async fn a_store_a_hasher_and_a_token_issuer_are_a_whole_application() {
    // Arrange
    let app = over_memory().build_app().unwrap();

    // Act
    let session = app.auth.register(Registration::parse("ada@example.com", "correct horse", "Ada").unwrap()).await;
    let me = assert_ok!(session).actor();
    assert_ok!(app.tasks.create_task(me, CreateTask::titled("First").unwrap()).await);
    let url = WebhookUrl::parse("https://hooks.example.com/taskflow").unwrap();
    let events = EventTypes::of(&[TaskEventKind::Created]).unwrap();
    let hook = app.webhooks.create_webhook(me, NewWebhook { url, events, description: None }).await;

    // Assert
    let page = app.tasks.list_tasks(me, ListTasks::default()).await.unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.meta, PageMeta::Offset { page: 1, limit: 20, total: 1, total_pages: 1 });
    assert_ok!(hook, "webhooks are kept without a sender");
}

#[tokio::test]
async fn a_session_acts_as_its_user_as_the_access_token_does() {
    let app = over_memory().build_app().unwrap();
    let session = app.auth.register(Registration::parse("ada@example.com", "correct horse", "Ada").unwrap()).await;
    let session = session.unwrap();
    assert_eq!(session.actor(), Actor { user_id: session.user.id(), role: Role::User });
    assert_eq!(app.actor(&session.access_token).unwrap(), session.actor());
    assert_eq!(Actor::from(&session.user), session.actor());
}

#[test]
fn the_default_token_lifetimes_are_the_services() {
    let settings = AuthSettings::default();
    assert_eq!(settings.access_ttl.num_seconds(), 900, "ACCESS_TOKEN_TTL_SECS");
    assert_eq!(settings.refresh_ttl.num_seconds(), 604_800, "REFRESH_TOKEN_TTL_SECS");
    let built = over_memory().auth(AuthSettings { access_ttl: chrono::Duration::minutes(5), ..settings });
    let horizon = built.build().unwrap().revoked_users.horizon();
    assert_eq!(horizon, chrono::Duration::minutes(5) + crate::auth::RevokedUsers::CLOCK_SKEW_MARGIN);
}

#[test]
fn a_registration_names_every_invalid_member() {
    let Err(AppError::Validation(errors)) = Registration::parse("not an email", "short", " ") else {
        panic!("invalid registration accepted");
    };
    let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["email", "password", "name"]);
    assert_ok!(Registration::parse("ada@example.com", "correct horse", "Ada"));
}

#[test]
fn a_create_request_is_the_callers_unless_given_an_owner() {
    let create = CreateTask::titled("  Write  ").unwrap();
    assert_eq!((create.task.title.as_str(), create.user_id), ("Write", None));
    let owner = taskflow_domain::UserId::from_uuid(uuid::Uuid::from_u128(9));
    assert_eq!(create.for_user(owner).user_id, Some(owner));
    let Err(AppError::Validation(errors)) = CreateTask::titled("") else { panic!("empty title accepted") };
    assert_eq!(errors[0].field, "title");
    assert_err!(CreateTask::titled(&"x".repeat(201)));
}

/// An account to provision.
fn account(email: &str, role: Role) -> NewAccount {
    NewAccount { email: EmailAddress::parse(email).unwrap(), name: UserName::parse("Provisioned").unwrap(), role }
}

#[tokio::test]
async fn without_a_hasher_or_token_issuer_provisioned_accounts_own_tasks_and_nobody_logs_in() {
    // Arrange: storage only.
    let app = Deps::builder().store(Arc::new(InMemoryStore::new())).build_app().unwrap();

    // Act
    let user = app.users.provision_user(account("ada@example.com", Role::User)).await.unwrap();
    let me = Actor::of(&user);
    let created = app.tasks.create_task(me, CreateTask::titled("Mine").unwrap()).await;
    let registered = app.auth.register(Registration::parse("bob@example.com", "correct horse", "Bob").unwrap()).await;
    let logged_in = app.auth.login("ada@example.com", "any password at all").await;

    // Assert
    assert_eq!(assert_ok!(created).owner.id, user.id());
    assert!(matches!(registered, Err(AppError::Unexpected(_))), "registering needs a hasher: {registered:?}");
    assert!(matches!(logged_in, Err(AppError::Unauthenticated)), "{logged_in:?}");
    assert!(matches!(app.auth.authenticate("v4.local.anything"), Err(AppError::Unauthenticated)));
    let duplicate = app.users.provision_user(account("ada@example.com", Role::Admin)).await;
    assert!(matches!(duplicate, Err(AppError::Conflict(_))), "{duplicate:?}");
}

#[tokio::test]
async fn a_provisioned_account_cannot_log_in_even_with_a_real_hasher() {
    let app = over_memory().build_app().unwrap();
    let admin = app.users.provision_user(account("root@example.com", Role::Admin)).await.unwrap();
    assert_eq!(Actor::of(&admin).role, Role::Admin, "a provisioned role is kept");
    for password in ["!", "", "correct horse"] {
        let refused = app.auth.login("root@example.com", password).await;
        assert!(matches!(refused, Err(AppError::Unauthenticated)), "{password:?}: {refused:?}");
    }
}
