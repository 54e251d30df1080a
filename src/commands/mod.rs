//! One module per command: each takes its parsed arguments and returns how it ended.

pub mod lint;
pub mod manifest;
pub mod new;
pub mod split;

use crate::cli::{Cli, Command, ManifestCommand};
use crate::error::{Error, Exit};

/// Runs the command line.
pub fn run(cli: Cli) -> Result<Exit, Error> {
    match cli.command {
        Command::Lint(args) => lint::run(&args),
        Command::New(args) => new::run(&args),
        Command::Manifest(ManifestCommand::Sync(args)) => manifest::sync(&args),
        Command::Split(args) => split::run(&args),
    }
}
