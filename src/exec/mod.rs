//! Applying migrations: the retry executor (units of work) and the phase runners.

pub mod ddl;
pub mod executor;
