//! sqlrail: a PostgreSQL migration runner and static SQL linter with three strict phases
//! (schema changes, concurrent index builds, batched backfills).
//!
//! Data flows one way: files (`project`, `config`) → `sql` (lexer, splitter) → commands.

/// `eprintln!` that never panics. Every progress line, warning and summary goes to
/// stderr; when the reader goes away (a deploy job piping the log through `head`, a CI
/// runner cancelled mid-log) `eprintln!` would panic and stop the run between two
/// migrations. What cannot be shown is dropped; the run goes on and its exit code says
/// how it ended.
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

pub mod adopt;
pub mod cli;
pub mod commands;
pub mod config;
pub mod db;
pub mod error;
pub mod exec;
pub mod fleet;
pub mod history;
pub mod ledger;
pub mod lint;
pub mod project;
pub mod report;
pub mod speed;
pub mod sql;
