//! Bulk writes: `complete_many` and `delete_many` and their [`BulkOutcome`](taskflow_domain::query::BulkOutcome).

use std::collections::HashSet;

use taskflow_domain::ids::TaskId;
use taskflow_domain::policy::TaskScope;
use taskflow_domain::task::{Task, TaskStatus};

use crate::StoragePorts;
use crate::fixtures::{self, TaskSpec, at, insert_tasks, stored_user};

fn ids(tasks: &[Task]) -> HashSet<TaskId> {
    tasks.iter().map(Task::id).collect()
}

fn sorted(mut ids: Vec<TaskId>) -> Vec<TaskId> {
    ids.sort();
    ids
}

/// Ids given twice are found once; ids outside the scope or unknown are not found.
pub async fn complete_many_counts_duplicates_once_and_skips_out_of_scope_ids(ports: StoragePorts) {
    // Arrange
    let ann = stored_user(&ports, "ann").await;
    let bob = stored_user(&ports, "bob").await;
    let mut mine: Vec<_> = (0..3).map(|i| fixtures::task(ann.id(), at(i))).collect();
    mine[1] = TaskSpec::new(ann.id(), at(1)).status(TaskStatus::InProgress).build();
    let theirs = fixtures::task(bob.id(), at(0));
    insert_tasks(&ports, &mine).await;
    insert_tasks(&ports, std::slice::from_ref(&theirs)).await;
    let unknown = fixtures::task(ann.id(), at(0)).id();
    let request = [mine[0].id(), mine[1].id(), mine[0].id(), theirs.id(), unknown, mine[2].id()];

    // Act
    let tx = ports.uow.begin().await.expect("begin");
    let outcome = tx.tasks().complete_many(&request, TaskScope::Owner(ann.id()), at(10)).await.expect("complete");
    tx.commit().await.expect("commit");

    // Assert
    assert_eq!(sorted(outcome.found.clone()), sorted(mine.iter().map(Task::id).collect()), "found: ann's, once each");
    assert_eq!(ids(&outcome.changed), ids(&mine), "changed: ann's tasks");
    assert_eq!(outcome.previous_status.len(), outcome.changed.len(), "one previous status per changed task");
    for (changed, previous) in outcome.changed.iter().zip(&outcome.previous_status) {
        let expected = if changed.id() == mine[1].id() { TaskStatus::InProgress } else { TaskStatus::Pending };
        assert_eq!(*previous, expected, "the status each task had before, in the order of `changed`");
    }
    for changed in &outcome.changed {
        assert_eq!(changed.status(), TaskStatus::Completed, "returned as completed");
        assert_eq!(changed.completed_at(), Some(at(10)), "completed now");
        assert_eq!(changed.updated_at(), at(10), "updated now");
        assert_eq!(changed.version().get(), 2, "version bumped once, even when the id was given twice");
        let stored = ports.tasks.get(changed.id(), TaskScope::All).await.expect("get").expect("exists").task;
        assert_eq!(&stored, changed, "the returned task is what was stored");
    }
    let bobs = ports.tasks.get(theirs.id(), TaskScope::All).await.expect("get").expect("exists").task;
    assert_eq!(bobs, theirs, "a task outside the scope is untouched");
}

/// A task that is already completed is found but not changed.
pub async fn complete_many_finds_but_does_not_change_completed_tasks(ports: StoragePorts) {
    // Arrange
    let ann = stored_user(&ports, "ann").await;
    let done = TaskSpec::new(ann.id(), at(0)).status(TaskStatus::Completed).build();
    let open = fixtures::task(ann.id(), at(1));
    insert_tasks(&ports, &[done.clone(), open.clone()]).await;

    // Act
    let tx = ports.uow.begin().await.expect("begin");
    let outcome = tx.tasks().complete_many(&[done.id(), open.id()], TaskScope::All, at(10)).await.expect("complete");
    tx.commit().await.expect("commit");

    // Assert
    assert_eq!(sorted(outcome.found), sorted(vec![done.id(), open.id()]), "both are found");
    assert_eq!(outcome.changed.iter().map(Task::id).collect::<Vec<_>>(), vec![open.id()], "only the open one changed");
    assert_eq!(outcome.previous_status, vec![TaskStatus::Pending], "the status it had, for its event");
    let stored = ports.tasks.get(done.id(), TaskScope::All).await.expect("get").expect("exists").task;
    assert_eq!(stored, done, "the completed task keeps its version and completion time");
}

/// `delete_many` deletes the tasks in scope, returns them as they were, and leaves the rest.
pub async fn delete_many_deletes_only_tasks_in_scope(ports: StoragePorts) {
    // Arrange
    let ann = stored_user(&ports, "ann").await;
    let bob = stored_user(&ports, "bob").await;
    let mine: Vec<_> = (0..2).map(|i| fixtures::task(ann.id(), at(i))).collect();
    let theirs = fixtures::task(bob.id(), at(0));
    insert_tasks(&ports, &mine).await;
    insert_tasks(&ports, std::slice::from_ref(&theirs)).await;
    let request = [mine[0].id(), theirs.id(), mine[1].id(), mine[1].id(), fixtures::task(ann.id(), at(0)).id()];

    // Act
    let tx = ports.uow.begin().await.expect("begin");
    let outcome = tx.tasks().delete_many(&request, TaskScope::Owner(ann.id())).await.expect("delete");
    tx.commit().await.expect("commit");

    // Assert
    assert_eq!(sorted(outcome.found), sorted(mine.iter().map(Task::id).collect()), "found: ann's, once each");
    let mut changed = outcome.changed.clone();
    changed.sort_by_key(Task::id);
    let mut expected = mine.clone();
    expected.sort_by_key(Task::id);
    assert_eq!(changed, expected, "changed: the deleted tasks as they were");
    for task in &mine {
        assert_eq!(ports.tasks.get(task.id(), TaskScope::All).await.expect("get"), None, "deleted");
    }
    assert!(ports.tasks.get(theirs.id(), TaskScope::All).await.expect("get").is_some(), "bob's task stays");
}

/// A thousand ids complete and delete in one unit of work.
pub async fn bulk_operations_handle_a_thousand_ids(ports: StoragePorts) {
    // Arrange
    let ann = stored_user(&ports, "ann").await;
    let tasks: Vec<_> = (0..1000).map(|i| fixtures::task(ann.id(), at(i))).collect();
    insert_tasks(&ports, &tasks).await;
    let all: Vec<_> = tasks.iter().map(Task::id).collect();

    // Act
    let tx = ports.uow.begin().await.expect("begin");
    let completed = tx.tasks().complete_many(&all, TaskScope::Owner(ann.id()), at(2000)).await.expect("complete");
    tx.commit().await.expect("commit");
    let tx = ports.uow.begin().await.expect("begin");
    let deleted = tx.tasks().delete_many(&all, TaskScope::All).await.expect("delete");
    tx.commit().await.expect("commit");

    // Assert
    assert_eq!(completed.found.len(), 1000, "all found for completion");
    assert_eq!(completed.changed.len(), 1000, "all completed");
    assert_eq!(deleted.found.len(), 1000, "all found for deletion");
    assert_eq!(deleted.changed.len(), 1000, "all deleted");
    assert!(deleted.changed.iter().all(|t| t.status() == TaskStatus::Completed), "deleted as they were: completed");
    let stats = ports.tasks.stats(TaskScope::All, at(0)).await.expect("stats");
    assert_eq!(stats.total, 0, "nothing is left");
}
