//! sqlrail: a PostgreSQL migration runner and static SQL linter with three strict phases
//! (schema changes, concurrent index builds, batched backfills).
//!
//! Data flows one way: files (`project`, `config`) → `sql` (lexer, splitter) → commands.

pub mod adopt;
pub mod cli;
pub mod commands;
pub mod config;
pub mod db;
pub mod error;
pub mod exec;
pub mod history;
pub mod ledger;
pub mod lint;
pub mod project;
pub mod report;
pub mod speed;
pub mod sql;
