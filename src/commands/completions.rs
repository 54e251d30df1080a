//! `sqlrail completions <shell>`: clap_complete writes the script from the same command
//! definition `--help` is built from, so completions cannot drift from the flags.

use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs};
use crate::error::{Error, Exit};

pub fn run(args: &CompletionsArgs) -> Result<Exit, Error> {
    let mut command = Cli::command();
    let mut out = std::io::stdout().lock();
    clap_complete::generate(args.shell, &mut command, "sqlrail", &mut out);
    Ok(Exit::Success)
}
