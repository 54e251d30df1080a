//! The error a command ends with, and the exit code each kind maps to (`design.md` §1).

use std::path::PathBuf;

use crate::config::ConfigError;
use crate::project::ProjectError;

/// Exit codes: 0 success, 1 findings/failed DDL/drift, 2 usage, configuration or input
/// error, 3 could not take the migration lock in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Success = 0,
    Failure = 1,
    Input = 2,
    Locked = 3,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Project(#[from] ProjectError),
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Problems already reported one by one (e.g. per file); this only sets the exit code.
    #[error("{0}")]
    Reported(String),
    #[error("cannot write output: {0}")]
    Output(#[from] std::io::Error),
}

impl Error {
    pub fn exit(&self) -> Exit {
        match self {
            Error::Config(_)
            | Error::Project(_)
            | Error::Read { .. }
            | Error::Reported(_)
            | Error::Output(_) => Exit::Input,
        }
    }
}
