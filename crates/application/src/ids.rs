//! Id generators: time-ordered UUIDv7 for production, a counter for deterministic tests.

use std::sync::atomic::{AtomicU64, Ordering};

use taskflow_domain::ids::{EventId, FamilyId, TaskId, UserId, WebhookId};
use taskflow_domain::ports::IdGenerator;
use uuid::Uuid;

/// Random, time-ordered UUIDv7 ids.
#[derive(Debug, Clone, Copy, Default)]
pub struct UuidV7Generator;

impl IdGenerator for UuidV7Generator {
    fn task_id(&self) -> TaskId {
        TaskId::from_uuid(Uuid::now_v7())
    }
    fn user_id(&self) -> UserId {
        UserId::from_uuid(Uuid::now_v7())
    }
    fn family_id(&self) -> FamilyId {
        FamilyId::from_uuid(Uuid::now_v7())
    }
    fn event_id(&self) -> EventId {
        EventId::from_uuid(Uuid::now_v7())
    }
    fn webhook_id(&self) -> WebhookId {
        WebhookId::from_uuid(Uuid::now_v7())
    }
}

/// Ids 1, 2, 3, ... (as UUIDs `00000000-0000-0000-0000-000000000001`, ...), one counter for every kind, so a
/// test knows every id in advance.
#[derive(Debug, Default)]
pub struct SequentialIdGenerator {
    last: AtomicU64,
}

impl SequentialIdGenerator {
    /// A generator whose first id is `first`.
    #[must_use]
    pub fn starting_at(first: u64) -> Self {
        Self { last: AtomicU64::new(first.saturating_sub(1)) }
    }

    fn next(&self) -> Uuid {
        Uuid::from_u128(u128::from(self.last.fetch_add(1, Ordering::Relaxed) + 1))
    }
}

impl IdGenerator for SequentialIdGenerator {
    fn task_id(&self) -> TaskId {
        TaskId::from_uuid(self.next())
    }
    fn user_id(&self) -> UserId {
        UserId::from_uuid(self.next())
    }
    fn family_id(&self) -> FamilyId {
        FamilyId::from_uuid(self.next())
    }
    fn event_id(&self) -> EventId {
        EventId::from_uuid(self.next())
    }
    fn webhook_id(&self) -> WebhookId {
        WebhookId::from_uuid(self.next())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequential_ids_count_up_across_kinds() {
        let ids = SequentialIdGenerator::default();
        assert_eq!(ids.task_id().as_uuid().as_u128(), 1);
        assert_eq!(ids.user_id().as_uuid().as_u128(), 2);
        assert_eq!(SequentialIdGenerator::starting_at(10).event_id().as_uuid().as_u128(), 10);
    }

    #[test]
    fn v7_ids_are_version_7() {
        assert_eq!(UuidV7Generator.task_id().as_uuid().get_version_num(), 7);
    }
}
