//! Demo data: the two demo users (idempotently) and, for `taskflow seed --tasks N`, generated tasks.

use anyhow::Context as _;
use chrono::Utc;
use indicatif::{ProgressBar, ProgressStyle};
use taskflow_adapters_postgres::PgSeeder;
use taskflow_application::Deps;
use taskflow_domain::events::DomainEvent;
use taskflow_domain::task::{NewTask, Task, TaskPriority, TaskStatus, TaskTitle};
use taskflow_domain::user::{EmailAddress, NewUser, Password, Role, User, UserName};
use taskflow_domain::{RepoError, UserId};

use crate::backends::{Backends, Storage};

/// The demo accounts of the contract: email, password, name, role.
pub const DEMO_USERS: [(&str, &str, &str, Role); 2] = [
    ("admin@example.com", "admin123", "Demo Admin", Role::Admin),
    ("user@example.com", "user123", "Demo User", Role::User),
];

/// Creates the demo users that do not exist yet and returns the ids of all of them.
///
/// # Errors
/// When storage fails.
pub async fn ensure_demo_users(deps: &Deps) -> anyhow::Result<Vec<UserId>> {
    let mut ids = Vec::with_capacity(DEMO_USERS.len());
    for (email, password, name, role) in DEMO_USERS {
        let email = EmailAddress::parse(email)?;
        if let Some(existing) = deps.user_reads.find_by_email(&email).await? {
            ids.push(existing.id());
            continue;
        }
        // The demo passwords predate the password policy; they are hashed as presented.
        let password = Password::presented(password).context("demo password")?;
        let user = User::new(
            NewUser {
                email: email.clone(),
                name: UserName::parse(name)?,
                role,
                password_hash: deps.hasher.hash(&password).await?,
            },
            deps.ids.user_id(),
            deps.clock.now(),
        );
        let tx = deps.uow.begin().await?;
        match tx.users().insert(&user).await {
            // Another instance created it meanwhile.
            Err(RepoError::Duplicate { .. }) => {}
            other => {
                other?;
                tx.commit().await?;
            }
        }
        let stored = deps.user_reads.find_by_email(&email).await?.context("demo user vanished")?;
        ids.push(stored.id());
    }
    Ok(ids)
}

fn progress_bar(total: u64) -> ProgressBar {
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} tasks ({per_sec}, eta {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

/// Creates the demo users if missing, then `count` demo tasks spread over them, with a progress bar.
///
/// # Errors
/// When storage fails.
pub async fn seed(backends: &Backends, count: u64) -> anyhow::Result<()> {
    let owners = ensure_demo_users(&backends.deps).await?;
    if count == 0 {
        return Ok(());
    }
    let bar = progress_bar(count);
    let started = std::time::Instant::now();
    match &backends.storage {
        Storage::Postgres(pg) => {
            PgSeeder::new(pg.clone()).seed_tasks(&owners, count, Utc::now(), |done| bar.set_position(done)).await?;
        }
        Storage::Memory(_) => seed_through_units_of_work(&backends.deps, &owners, count, &bar).await?,
    }
    bar.finish();
    tracing::info!(count, seconds = started.elapsed().as_secs_f64(), "seeded demo tasks");
    Ok(())
}

/// The portable path: tasks created through the ports, a thousand per unit of work.
async fn seed_through_units_of_work(
    deps: &Deps,
    owners: &[UserId],
    count: u64,
    bar: &ProgressBar,
) -> anyhow::Result<()> {
    let mut written = 0;
    while written < count {
        let tx = deps.uow.begin().await?;
        let chunk = (count - written).min(1000);
        let mut events = Vec::new();
        for i in written..written + chunk {
            let task = Task::new(
                NewTask {
                    status: TaskStatus::ALL[usize::try_from(i % 3)?],
                    priority: TaskPriority::ALL[usize::try_from((i / 3) % 3)?],
                    ..NewTask::new(TaskTitle::parse(&format!("Demo task #{i}"))?)
                },
                owners[usize::try_from(i)? % owners.len()],
                deps.ids.task_id(),
                deps.clock.now(),
            );
            tx.tasks().insert(&task).await?;
            // The seeding is done by the demo data's owner, as if they had created each task.
            events.push(DomainEvent::created(deps.ids.event_id(), &task, task.owner(), deps.clock.now()));
        }
        tx.outbox().append(&events).await?;
        tx.commit().await?;
        written += chunk;
        bar.set_position(written);
    }
    Ok(())
}
