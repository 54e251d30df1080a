//! One module per command: each takes its parsed arguments and returns how it ended.

pub mod apply;
mod completions;
mod connection;
mod fleet;
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

use crate::cli::{Cli, Command, ManifestCommand, ReadArgs};
use crate::error::{Error, Exit};
use crate::fleet::outcome::FleetCommand;

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
        Command::Plan(args) => read_only(FleetCommand::Plan, &args, plan::run),
        Command::Status(args) => read_only(FleetCommand::Status, &args, status::run),
        Command::Verify(args) => read_only(FleetCommand::Verify, &args, verify::run),
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

/// `plan`, `status` and `verify`: on one database, or with `--targets` on each of a fleet.
fn read_only(
    command: FleetCommand,
    args: &ReadArgs,
    one: fn(&crate::cli::DbArgs) -> Result<Exit, Error>,
) -> Result<Exit, Error> {
    match &args.targets {
        Some(file) => fleet::run(file, command, Vec::new(), args.db.format),
        None => one(&args.db),
    }
}
