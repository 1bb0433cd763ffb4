//! Task writes inside units of work: references, scopes, optimistic versions and isolation.

use std::sync::Arc;

use taskflow_domain::RepoError;
use taskflow_domain::policy::TaskScope;
use taskflow_domain::task::{TaskPatch, TaskPriority, Version};

use crate::StoragePorts;
use crate::fixtures::{self, at, insert_tasks, stored_user};

/// A task must belong to an existing user.
pub async fn inserting_a_task_for_a_missing_owner_is_a_missing_reference(ports: StoragePorts) {
    // Arrange
    let task = fixtures::task(fixtures::user_id(), at(0));

    // Act
    let tx = ports.uow.begin().await.expect("begin");
    let result = tx.tasks().insert(&task).await;
    drop(tx);

    // Assert
    assert!(matches!(result, Err(RepoError::MissingReference)), "expected MissingReference, got {result:?}");
    assert_eq!(ports.tasks.get(task.id(), TaskScope::All).await.expect("get"), None, "nothing was stored");
}

/// A committed task reads back whole, with its owner's summary.
pub async fn a_task_can_be_inserted_and_read_with_its_owner(ports: StoragePorts) {
    // Arrange
    let ann = stored_user(&ports, "ann").await;
    let task = fixtures::TaskSpec::new(ann.id(), at(0))
        .title("Write the contract")
        .description("with every case")
        .priority(TaskPriority::High)
        .due(Some(at(60)))
        .build();

    // Act
    insert_tasks(&ports, std::slice::from_ref(&task)).await;

    // Assert
    let view = ports.tasks.get(task.id(), TaskScope::Owner(ann.id())).await.expect("get").expect("stored");
    assert_eq!(view.task, task, "the task reads back unchanged");
    assert_eq!(view.owner.id, ann.id(), "owner id");
    assert_eq!(&view.owner.name, ann.name(), "owner name");
    assert_eq!(&view.owner.email, ann.email(), "owner email");
}

/// The read side hides tasks outside the scope.
pub async fn get_respects_the_scope(ports: StoragePorts) {
    // Arrange
    let ann = stored_user(&ports, "ann").await;
    let bob = stored_user(&ports, "bob").await;
    let task = fixtures::task(ann.id(), at(0));
    insert_tasks(&ports, std::slice::from_ref(&task)).await;

    // Act
    let as_bob = ports.tasks.get(task.id(), TaskScope::Owner(bob.id())).await.expect("get");
    let as_admin = ports.tasks.get(task.id(), TaskScope::All).await.expect("get");

    // Assert
    assert_eq!(as_bob, None, "another owner does not see the task");
    assert_eq!(as_admin.map(|v| v.task), Some(task), "the whole scope sees it");
}

/// `find_for_update` only finds tasks inside the scope.
pub async fn find_for_update_respects_the_scope(ports: StoragePorts) {
    // Arrange
    let ann = stored_user(&ports, "ann").await;
    let bob = stored_user(&ports, "bob").await;
    let task = fixtures::task(ann.id(), at(0));
    insert_tasks(&ports, std::slice::from_ref(&task)).await;

    // Act
    let tx = ports.uow.begin().await.expect("begin");
    let as_owner = tx.tasks().find_for_update(task.id(), TaskScope::Owner(ann.id())).await.expect("find");
    let as_other = tx.tasks().find_for_update(task.id(), TaskScope::Owner(bob.id())).await.expect("find");
    let as_admin = tx.tasks().find_for_update(task.id(), TaskScope::All).await.expect("find");
    let missing = tx.tasks().find_for_update(fixtures::task(ann.id(), at(0)).id(), TaskScope::All).await;
    drop(tx);

    // Assert
    assert_eq!(as_owner.as_ref(), Some(&task), "the owner finds it");
    assert_eq!(as_other, None, "another owner does not");
    assert_eq!(as_admin.as_ref(), Some(&task), "the whole scope finds it");
    assert_eq!(missing.expect("find"), None, "an unknown id is None");
}

/// An update against the current version is stored, version and all.
pub async fn update_with_the_current_version_is_stored(ports: StoragePorts) {
    // Arrange
    let ann = stored_user(&ports, "ann").await;
    let task = fixtures::task(ann.id(), at(0));
    insert_tasks(&ports, std::slice::from_ref(&task)).await;

    // Act
    let tx = ports.uow.begin().await.expect("begin");
    let mut locked = tx.tasks().find_for_update(task.id(), TaskScope::All).await.expect("find").expect("exists");
    let expected = locked.version();
    locked.apply(TaskPatch { title: Some(fixtures::title("Renamed")), ..TaskPatch::default() }, at(1));
    tx.tasks().update(&locked, expected).await.expect("update");
    tx.commit().await.expect("commit");

    // Assert
    let read = ports.tasks.get(task.id(), TaskScope::All).await.expect("get").expect("exists").task;
    assert_eq!(read, locked, "the changed task was stored");
    assert_eq!(read.version().get(), 2, "the version grew by one");
}

/// An update against an older version is refused.
pub async fn update_with_stale_version_is_a_conflict(ports: StoragePorts) {
    // Arrange: the stored task is at version 2
    let ann = stored_user(&ports, "ann").await;
    let task = fixtures::task(ann.id(), at(0));
    insert_tasks(&ports, std::slice::from_ref(&task)).await;
    let mut v2 = task.clone();
    v2.apply(TaskPatch { priority: Some(TaskPriority::High), ..TaskPatch::default() }, at(1));
    let tx = ports.uow.begin().await.expect("begin");
    tx.tasks().update(&v2, Version::INITIAL).await.expect("first update");
    tx.commit().await.expect("commit");

    // Act: a writer still holding version 1
    let mut stale = task.clone();
    stale.apply(TaskPatch { title: Some(fixtures::title("Stale")), ..TaskPatch::default() }, at(2));
    let tx = ports.uow.begin().await.expect("begin");
    let result = tx.tasks().update(&stale, Version::INITIAL).await;
    drop(tx);

    // Assert
    assert!(matches!(result, Err(RepoError::Conflict)), "expected Conflict, got {result:?}");
    let read = ports.tasks.get(task.id(), TaskScope::All).await.expect("get").expect("exists").task;
    assert_eq!(read, v2, "the stored task is the first update");
}

/// Updating a task that does not exist is a conflict (it is gone).
pub async fn update_of_a_missing_task_is_a_conflict(ports: StoragePorts) {
    // Arrange
    let ann = stored_user(&ports, "ann").await;
    let task = fixtures::task(ann.id(), at(0));

    // Act
    let tx = ports.uow.begin().await.expect("begin");
    let result = tx.tasks().update(&task, Version::INITIAL).await;
    drop(tx);

    // Assert
    assert!(matches!(result, Err(RepoError::Conflict)), "expected Conflict, got {result:?}");
}

/// Twenty writers read the same version at once; exactly one of them may commit a change on top of it.
pub async fn only_one_of_twenty_concurrent_updates_with_the_same_version_commits(ports: StoragePorts) {
    // Arrange
    let ann = stored_user(&ports, "ann").await;
    let task = fixtures::task(ann.id(), at(0));
    insert_tasks(&ports, std::slice::from_ref(&task)).await;
    let ports = Arc::new(ports);

    // Act
    let writers = (0..20).map(|i| {
        let ports = Arc::clone(&ports);
        let (id, expected) = (task.id(), task.version());
        tokio::spawn(async move {
            let tx = ports.uow.begin().await?;
            let Some(mut locked) = tx.tasks().find_for_update(id, TaskScope::All).await? else {
                return Err(RepoError::Conflict);
            };
            locked.apply(
                TaskPatch { title: Some(fixtures::title(&format!("Writer {i}"))), ..TaskPatch::default() },
                at(1),
            );
            tx.tasks().update(&locked, expected).await?;
            tx.commit().await
        })
    });
    let results = futures::future::join_all(writers).await;

    // Assert
    let mut committed = 0;
    for result in results {
        match result.expect("the writer did not panic") {
            Ok(()) => committed += 1,
            Err(RepoError::Conflict) => {}
            Err(other) => panic!("a losing writer must see Conflict, got {other:?}"),
        }
    }
    assert_eq!(committed, 1, "exactly one writer commits");
    let read = ports.tasks.get(task.id(), TaskScope::All).await.expect("get").expect("exists").task;
    assert_eq!(read.version().get(), 2, "the task changed exactly once");
}

/// `delete` returns the task as it was, and leaves tasks outside the scope alone.
pub async fn delete_returns_the_task_and_respects_the_scope(ports: StoragePorts) {
    // Arrange
    let ann = stored_user(&ports, "ann").await;
    let bob = stored_user(&ports, "bob").await;
    let task = fixtures::task(ann.id(), at(0));
    insert_tasks(&ports, std::slice::from_ref(&task)).await;

    // Act
    let tx = ports.uow.begin().await.expect("begin");
    let by_other = tx.tasks().delete(task.id(), TaskScope::Owner(bob.id())).await.expect("delete as bob");
    let by_owner = tx.tasks().delete(task.id(), TaskScope::Owner(ann.id())).await.expect("delete as ann");
    let again = tx.tasks().delete(task.id(), TaskScope::All).await.expect("delete again");
    tx.commit().await.expect("commit");

    // Assert
    assert_eq!(by_other, None, "another owner deletes nothing");
    assert_eq!(by_owner, Some(task.clone()), "the owner gets the task as it was");
    assert_eq!(again, None, "a deleted task is gone inside the unit too");
    assert_eq!(ports.tasks.get(task.id(), TaskScope::All).await.expect("get"), None, "gone after commit");
}

/// Inside a unit of work, reads see the unit's own writes.
pub async fn reads_inside_a_unit_of_work_see_its_own_writes(ports: StoragePorts) {
    // Arrange
    let tx = ports.uow.begin().await.expect("begin");
    let ann = fixtures::user("ann");

    // Act
    tx.users().insert(&ann).await.expect("insert user");
    let task = fixtures::task(ann.id(), at(0));
    tx.tasks().insert(&task).await.expect("a task may reference a user inserted in the same unit");
    let found_user = tx.users().find_for_update(ann.id()).await.expect("find user");
    let found_task = tx.tasks().find_for_update(task.id(), TaskScope::Owner(ann.id())).await.expect("find task");
    tx.commit().await.expect("commit");

    // Assert
    assert_eq!(found_user, Some(ann), "the unit sees its own user");
    assert_eq!(found_task, Some(task), "the unit sees its own task");
}

/// The read side sees only committed state, and an open unit of work never blocks it.
pub async fn read_models_do_not_see_uncommitted_writes(ports: StoragePorts) {
    // Arrange
    let ann = stored_user(&ports, "ann").await;
    let task = fixtures::task(ann.id(), at(0));
    let tx = ports.uow.begin().await.expect("begin");
    tx.tasks().insert(&task).await.expect("insert");

    // Act
    let read = tokio::time::timeout(std::time::Duration::from_secs(5), ports.tasks.get(task.id(), TaskScope::All))
        .await
        .expect("a reader must not wait for an open unit of work")
        .expect("get");
    tx.commit().await.expect("commit");
    let after = ports.tasks.get(task.id(), TaskScope::All).await.expect("get");

    // Assert
    assert_eq!(read, None, "the uncommitted task is invisible");
    assert_eq!(after.map(|v| v.task), Some(task), "the committed task is visible");
}
