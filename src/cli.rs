//! Command-line definitions (clap derive). Doc comments here are the `--help` text.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// PostgreSQL migrations in three strict phases: schema changes (fail fast), concurrent index
/// builds (warn, never block), batched backfills (resumable). Plus a static SQL linter.
#[derive(Debug, Parser)]
#[command(
    name = "sqlrail",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show how SQL files split into statements, exactly as PostgreSQL's parser splits them.
    ///
    /// Each statement is listed with its line and column, its kind (ddl, index, dml, select,
    /// transaction-control, procedural, utility), its command, the tables its own DML writes,
    /// its named parameters (:lo, :hi, …) and whether it must run outside a transaction.
    /// psql-only syntax (meta-commands such as \set, COPY … FROM stdin data) is listed too.
    ///
    /// Exit status: 0 when every file split, 2 when a file could not be read or holds an
    /// unterminated string, quoted identifier, dollar quote or comment.
    ///
    /// Example:
    ///   sqlrail split sql/ddl/V6__updated_at_trigger.sql
    ///   sqlrail split --format json sql/backfills/*.sql
    #[command(verbatim_doc_comment)]
    Split(SplitArgs),
}

#[derive(Debug, clap::Args)]
pub struct SplitArgs {
    /// SQL files to split.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Output format: text for people, json (on stdout) for tools.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definitions_are_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn split_needs_files_and_takes_a_format() {
        assert!(Cli::try_parse_from(["sqlrail", "split"]).is_err());
        let cli = Cli::try_parse_from(["sqlrail", "split", "--format", "json", "a.sql"]).unwrap();
        let Command::Split(args) = cli.command;
        assert_eq!((args.format, args.files.len()), (Format::Json, 1));
        assert!(Cli::try_parse_from(["sqlrail", "split", "--format", "yaml", "a.sql"]).is_err());
    }
}
