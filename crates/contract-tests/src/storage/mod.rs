//! The storage contract: users, tasks, units of work, the outbox and the read models.
//!
//! Every case takes fresh, empty [`StoragePorts`](crate::StoragePorts).

mod bulk;
mod commands;
mod listing;
mod outbox;
mod paging;
mod tasks;
mod users;

pub use bulk::*;
pub use commands::*;
pub use listing::*;
pub use outbox::*;
pub use paging::*;
pub use tasks::*;
pub use users::*;

/// The storage cases, for [`crate::storage_contract_tests`].
#[doc(hidden)]
#[macro_export]
macro_rules! __storage_cases {
    ($factory:path) => {
        $crate::__contract_cases!(
            $factory,
            storage,
            [
                a_stored_user_can_be_read_by_id_and_by_email,
                a_second_user_with_the_same_email_is_a_duplicate,
                updating_a_user_is_visible_after_commit,
                updating_a_user_to_a_taken_email_is_a_duplicate,
                deleting_a_user_deletes_their_tasks,
                deleting_an_unknown_user_reports_false,
                users_are_listed_oldest_first_with_paging_and_total,
                inserting_a_task_for_a_missing_owner_is_a_missing_reference,
                create_task_stores_the_task_and_its_events_and_names_the_owner,
                read_task_sees_the_committed_task_within_the_scope,
                update_task_writes_only_at_the_version_read_and_its_events_with_it,
                delete_task_deletes_within_its_scope_and_records_the_task_as_it_was_last,
                a_task_can_be_inserted_and_read_with_its_owner,
                find_for_update_respects_the_scope,
                update_with_the_current_version_is_stored,
                update_with_stale_version_is_a_conflict,
                update_of_a_missing_task_is_a_conflict,
                only_one_of_twenty_concurrent_updates_with_the_same_version_commits,
                delete_returns_the_task_and_respects_the_scope,
                reads_inside_a_unit_of_work_see_its_own_writes,
                read_models_do_not_see_uncommitted_writes,
                read_tasks_reads_each_visible_task_once,
                write_tasks_writes_all_or_nothing,
                batches_handle_a_thousand_tasks,
                dropping_a_unit_of_work_rolls_back_tasks_and_events,
                committed_events_are_pending_once_until_dispatched,
                pending_events_honour_the_limit_and_come_oldest_first,
                actor_and_changes_round_trip_exactly,
                history_is_oldest_first_per_task_and_pages_by_keyset,
                dispatched_events_stay_in_the_history,
                list_filters_by_status_and_priority,
                list_search_is_case_insensitive_and_literal,
                list_due_filters_never_match_undated_tasks,
                list_filters_overdue_both_ways,
                list_scope_limits_the_owner,
                list_items_carry_the_owner_summary,
                list_sorts_by_every_field_in_both_directions_with_ties_on_id,
                offset_pages_never_overlap_or_skip,
                offset_page_past_the_end_is_empty_with_the_real_total,
                keyset_pages_walk_the_whole_listing_for_every_sort,
                keyset_paging_respects_filters,
                stats_count_by_status_priority_and_overdue,
                stats_of_an_empty_scope_are_all_zero,
                get_respects_the_scope,
            ]
        );
    };
}
