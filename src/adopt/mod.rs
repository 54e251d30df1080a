//! Adopting another tool's migration history (`sqlrail init` in a folder that has one):
//! which layout it is (diesel, goose, golang-migrate, dbmate, Flyway, sqitch, refinery, or
//! plain numbered files), its migrations in that tool's order with only their "up" SQL,
//! and the sqlrail files they become.
//!
//! The files keep the history's order exactly, because a fresh database built from them
//! must get the schema the history built: everything stays in the DDL sequence except
//! statements that cannot run in a transaction (`CREATE INDEX CONCURRENTLY`, `DROP INDEX
//! CONCURRENTLY`, `REINDEX … CONCURRENTLY`), which become index files placed at their
//! point with `after:`. Seed rows and one-off data steps stay where history ran them.
//! Files the layout does not count as migrations (READMEs, seeds, schema dumps) are
//! reported and left alone.

mod layout;
mod split;

use std::path::{Path, PathBuf};

use crate::config::Tool;

pub use layout::find;
pub use split::{Adopted, plan};

/// One migration of the adopted tool, as that tool would run it.
#[derive(Debug, Clone)]
pub struct Source {
    /// The file its SQL comes from.
    pub path: PathBuf,
    /// Its version as the tool's ledger records it (`20190314093512`, `3`, `1.2`, a sqitch
    /// change name).
    pub origin: String,
    /// Its name, for the new file's name.
    pub name: String,
    /// The SQL the tool runs going up (a goose or dbmate file's Up section, diesel's
    /// up.sql), without the tool's own markers.
    pub sql: String,
    /// Whether the tool runs it in one transaction.
    pub transactional: bool,
    /// The phase it already has (files of an existing `sql/<phase>/` folder).
    pub phase: Option<crate::config::Phase>,
}

/// What was found in a folder.
#[derive(Debug, Default)]
pub struct Found {
    /// The tool whose layout it is (`None` for plain numbered files).
    pub tool: Option<Tool>,
    /// Its migrations, in its order.
    pub sources: Vec<Source>,
    /// Files looked at and not adopted, with why.
    pub skipped: Vec<(PathBuf, String)>,
    /// The tool's name for the project, where its ledger keeps several (sqitch's
    /// `%project`).
    pub project: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error(
        "{path} already exists: {dir} is a sqlrail project; use `sqlrail manifest sync` to add files to it"
    )]
    AlreadyProject { path: PathBuf, dir: PathBuf },
    #[error("{path}: {message}")]
    File { path: PathBuf, message: String },
    #[error("cannot write {path}: {message}")]
    Write { path: PathBuf, message: String },
    #[error("cannot list {path}: {message}")]
    List { path: PathBuf, message: String },
}

/// `path` relative to `root`, for messages.
pub fn shown(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}

#[cfg(test)]
mod tests;
