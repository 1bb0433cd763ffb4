//! A task's history: its events from the permanent log, oldest first, in keyset pages. Whoever may see the task
//! may read it; once the task is deleted, its owner and admins still may, and nobody else.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use taskflow_domain::events::DomainEvent;
use taskflow_domain::policy::Actor;
use taskflow_domain::{EventId, TaskId};

use super::{PageMeta, TaskService};
use crate::cursor::CursorError;
use crate::error::AppError;

/// The largest page of a history.
pub const MAX_HISTORY_LIMIT: u32 = 100;

/// One page of a task's history.
#[derive(Debug, Clone)]
pub struct TaskHistory {
    /// The events, oldest first (in commit order).
    pub events: Vec<DomainEvent>,
    /// Always [`PageMeta::Keyset`]: the page size and the next page's cursor (`None` on the last page).
    pub meta: PageMeta,
}

impl TaskService {
    /// Up to `limit` (1..=[`MAX_HISTORY_LIMIT`]) events of task `id`, oldest first, starting after `cursor` (the
    /// previous page's `next_cursor`; `None` for the first page).
    ///
    /// Visibility is decided from the events themselves, each of which carries its task's snapshot: a task's owner
    /// never changes, so the page's first event says whose it is, whether the task still exists or not. A page
    /// therefore costs one read of the log, and no read of the task.
    ///
    /// # Errors
    /// [`AppError::Validation`] (`limit`, `cursor`) for a page size out of range or a cursor that is not ours or
    /// belongs to another task; [`AppError::NotFound`] for a task with no events (unknown) or one the caller may
    /// not see.
    #[tracing::instrument(name = "tasks.history", skip_all, fields(user_id = %actor.user_id, task_id = %id))]
    pub async fn task_history(
        &self,
        actor: Actor,
        id: TaskId,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<TaskHistory, AppError> {
        if !(1..=MAX_HISTORY_LIMIT).contains(&limit) {
            return Err(AppError::invalid("limit", "must be an integer from 1 to 100"));
        }
        let after = cursor.map(|c| decode(c, id)).transpose().map_err(|e| AppError::invalid("cursor", message(e)))?;
        let page = limit as usize;
        // One more than asked: whether it comes back says if there is a next page.
        let mut events = self.deps.events.history(id, after, page + 1).await?;
        // Empty: an unknown task, or a cursor that leads nowhere, which ours never do (the log only grows and a
        // cursor is issued only when an event follows it). Either way nothing proves the caller may see the task.
        let owner = events.first().map(|e| e.task.owner()).ok_or(AppError::NotFound("task"))?;
        if !actor.task_scope().includes(owner) {
            return Err(AppError::NotFound("task"));
        }
        let next_cursor = if events.len() > page {
            events.truncate(page);
            events.last().map(|last| encode(last.id, id))
        } else {
            None
        };
        Ok(TaskHistory { events, meta: PageMeta::Keyset { limit, next_cursor } })
    }
}

/// A history cursor on the wire: the task's fingerprint and the last event shown.
#[derive(Serialize, Deserialize)]
struct Wire {
    /// Fingerprint of the history it belongs to.
    q: String,
    /// The last event of the previous page.
    i: uuid::Uuid,
}

/// What a history cursor is bound to. Versioned like the listing keys of [`crate::query_key`]: changing what it
/// contains means a new version, on purpose, since clients hold cursors across releases.
fn history_key(task: TaskId) -> String {
    format!("v1;history;task={task}")
}

fn fingerprint(task: TaskId) -> String {
    let digest = Sha256::digest(history_key(task).as_bytes());
    hex::encode(&digest[..8])
}

/// The cursor of the page after the event `last` of `task`'s history.
fn encode(last: EventId, task: TaskId) -> String {
    let wire = Wire { q: fingerprint(task), i: last.as_uuid() };
    // Serialising a string and a UUID cannot fail.
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&wire).unwrap_or_default())
}

/// The event a cursor made by [`encode`] for `task` continues after.
fn decode(cursor: &str, task: TaskId) -> Result<EventId, CursorError> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| CursorError::Malformed)?;
    let wire: Wire = serde_json::from_slice(&bytes).map_err(|_| CursorError::Malformed)?;
    if wire.q != fingerprint(task) {
        return Err(CursorError::OtherQuery);
    }
    Ok(EventId::from_uuid(wire.i))
}

fn message(error: CursorError) -> &'static str {
    match error {
        CursorError::Malformed => "the cursor is malformed",
        CursorError::OtherQuery => "the cursor belongs to another task's history",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(n: u128) -> TaskId {
        TaskId::from_uuid(uuid::Uuid::from_u128(n))
    }

    #[test]
    fn a_cursor_round_trips_for_its_own_task_only() {
        let event = EventId::from_uuid(uuid::Uuid::now_v7());
        let cursor = encode(event, task(1));
        assert_eq!(decode(&cursor, task(1)), Ok(event));
        assert_eq!(decode(&cursor, task(2)), Err(CursorError::OtherQuery));
    }

    /// Clients keep cursors across releases: the encoding is part of the contract.
    #[test]
    fn a_cursor_issued_today_decodes_tomorrow() {
        let issued = encode(EventId::from_uuid(uuid::Uuid::from_u128(7)), task(1));
        assert_eq!(
            issued,
            "eyJxIjoiMTk0YTM5NTY5ODRiYTMxOCIsImkiOiIwMDAwMDAwMC0wMDAwLTAwMDAtMDAwMC0wMDAwMDAwMDAwMDcifQ"
        );
        assert_eq!(decode(&issued, task(1)), Ok(EventId::from_uuid(uuid::Uuid::from_u128(7))));
    }

    #[test]
    fn garbage_and_listing_cursors_are_refused() {
        for junk in ["", "!!!", "eyJ9", "bm90IGpzb24"] {
            assert_eq!(decode(junk, task(1)), Err(CursorError::Malformed), "{junk:?}");
        }
        let listing =
            "eyJxIjoiYzkxZGY4OTNlMmE4YzM0YSIsImsiOjIsImkiOiIwMDAwMDAwMC0wMDAwLTAwMDAtMDAwMC0wMDAwMDAwMDAwMDAifQ";
        assert_eq!(decode(listing, task(1)), Err(CursorError::OtherQuery));
    }
}
