//! One module per command: each takes its parsed arguments and returns how it ended.

pub mod apply;
mod completions;
mod connection;
pub mod init;
pub mod lint;
pub mod manifest;
pub mod mark;
pub mod new;
pub mod plan;
pub mod reset;
pub mod split;
pub mod status;
pub mod verify;

use crate::cli::{Cli, Command, ManifestCommand};
use crate::error::{Error, Exit};

/// Runs the command line.
pub fn run(cli: Cli) -> Result<Exit, Error> {
    if let Some(dir) = &cli.directory {
        std::env::set_current_dir(dir).map_err(|e| {
            Error::Usage(format!(
                "-C {}: {e}; give a directory that exists",
                dir.display()
            ))
        })?;
    }
    match cli.command {
        Command::Apply(args) => apply::run(&args),
        Command::Plan(args) => plan::run(&args),
        Command::Status(args) => status::run(&args),
        Command::Verify(args) => verify::run(&args),
        Command::Lint(args) => lint::run(&args),
        Command::Mark(args) => mark::run(&args),
        Command::New(args) => new::run(&args),
        Command::Manifest(ManifestCommand::Sync(args)) => manifest::sync(&args),
        Command::Split(args) => split::run(&args),
        Command::Reset(args) => reset::run(&args),
        Command::Init(args) => init::run(&args),
        Command::Completions(args) => completions::run(&args),
    }
}
