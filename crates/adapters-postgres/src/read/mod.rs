//! The read side (CQRS): whole queries answered in one or two statements on the pool, outside units of work.

mod listing;
mod tasks;
mod users;

pub(crate) use listing::Sql;
