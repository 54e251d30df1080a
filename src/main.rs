//! The `sqlrail` binary: parse the arguments, run, turn the outcome into an exit code.

use std::process::ExitCode;

use clap::Parser;
use sqlrail::cli::Cli;
use sqlrail::commands;
use sqlrail::error::{Error, Exit};

/// mimalloc (see `sqlrail::speed::alloc`).
#[global_allocator]
static ALLOCATOR: sqlrail::speed::alloc::MiMalloc = sqlrail::speed::alloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let code = match commands::run(cli) {
        Ok(exit) => exit as u8,
        // A closed pipe (`sqlrail split … | head`) is not a failure.
        Err(Error::Output(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => Exit::Success as u8,
        Err(error) => {
            sqlrail::say!("error: {error}");
            error.exit_code()
        }
    };
    ExitCode::from(code)
}
