//! Applying migrations: the retry executor (units of work) and the phase runners.

pub mod adopt;
pub mod backfills;
mod batch_durations;
pub mod ddl;
pub mod executor;
pub mod indexes;
mod progress;
pub mod replica_lag;
pub mod stop;
pub mod up_to_date;
