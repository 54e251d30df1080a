//! sqlrail: a PostgreSQL migration runner and static SQL linter with three strict phases
//! (schema changes, concurrent index builds, batched backfills).

pub mod sql;
