//! The error a command ends with, and the exit code it maps to. Exit codes (`design.md`
//! §1): 0 success, 1 findings or a failed migration, 2 usage, configuration or input
//! error, 3 could not take the migration lock; commands add their variants as they land.

use crate::adopt::InitError;
use crate::config::ConfigError;
use crate::db::recreate::ResetError;
use crate::exec::ddl::DdlError;
use crate::exec::executor::ExecError;
use crate::fleet::FleetError;
use crate::lint::baseline::BaselineError;
use crate::lint::target::TargetError;
use crate::project::ProjectError;

/// How a command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Success = 0,
    /// Lint findings at or above the fail level.
    Findings = 1,
    /// Usage, configuration or input error.
    Input = 2,
    /// The migration lock was not free within `--lock-wait`.
    Lock = 3,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Problems already reported one by one (e.g. per file); this only sets the exit code.
    #[error("{0}")]
    Reported(String),
    #[error("cannot write output: {0}")]
    Output(#[from] std::io::Error),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Project(#[from] ProjectError),
    #[error(transparent)]
    Target(#[from] TargetError),
    #[error(transparent)]
    Baseline(#[from] BaselineError),
    /// A command-line value clap cannot check (an unknown rule id, …).
    #[error("{0}")]
    Usage(String),
    /// The database could not be reached or the connection settings are wrong.
    #[error("{0}")]
    Connect(String),
    #[error(transparent)]
    Ddl(#[from] DdlError),
    #[error(transparent)]
    Reset(#[from] ResetError),
    #[error(transparent)]
    Init(#[from] InitError),
    #[error(transparent)]
    Fleet(#[from] FleetError),
}

impl From<ExecError> for Error {
    fn from(e: ExecError) -> Self {
        Error::Ddl(DdlError::Exec(e))
    }
}

impl Error {
    /// The process's exit code: [`Error::exit`]'s, or 128 + the signal's number for a run
    /// a stop signal ended (130 for SIGINT, 143 for SIGTERM), as a shell reports it.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Ddl(DdlError::Exec(ExecError::Stopped { signal, .. })) => signal.exit_code(),
            other => other.exit() as u8,
        }
    }

    pub fn exit(&self) -> Exit {
        match self {
            Error::Reported(_)
            | Error::Output(_)
            | Error::Config(_)
            | Error::Project(_)
            | Error::Target(_)
            | Error::Baseline(_)
            | Error::Usage(_)
            | Error::Connect(_)
            | Error::Fleet(_) => Exit::Input,
            Error::Ddl(e) => match e {
                DdlError::Drift { .. } | DdlError::Migration(_) | DdlError::Placed { .. } => {
                    Exit::Findings
                }
                DdlError::Input { .. } | DdlError::Adopt(_) => Exit::Input,
                DdlError::Exec(ExecError::Connect { .. } | ExecError::ReadOnly { .. }) => {
                    Exit::Input
                }
                DdlError::Exec(ExecError::LockWait { .. }) => Exit::Lock,
                DdlError::Exec(_) => Exit::Findings,
            },
            Error::Reset(ResetError::Seed { .. }) => Exit::Findings,
            Error::Reset(_) | Error::Init(_) => Exit::Input,
        }
    }
}
