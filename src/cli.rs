//! Command-line definitions (clap derive). Doc comments here are the `--help` text.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::config::{Phase, Severity};
pub use crate::report::LintFormat;

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
    /// Run as if sqlrail was started in DIR (as `git -C`): the project is found from
    /// there, and relative paths are read from there. Example: `sqlrail -C services/api
    /// apply`
    #[arg(short = 'C', value_name = "DIR", global = true)]
    pub directory: Option<std::path::PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check migrations statically: phases, lock hazards, the manifest (CI on pull requests).
    ///
    /// With no PATH, lints the project around the current directory (the nearest directory
    /// with a manifest.yaml): every file under sql/ddl, sql/indexes and sql/backfills, and
    /// the manifest's consistency with them. With PATHs (files or directories), lints those
    /// files; a file's phase comes from the nearest ddl, indexes or backfills directory in
    /// its path (DDL otherwise), or from --as. A PATH that is a project directory lints that
    /// project. The nearest lint-rules.yaml (current directory upward) configures the rules.
    ///
    /// Exceptions: `-- sqlrail:allow <rule> reason="…"` before a statement, or
    /// `-- sqlrail:allow-file <rule> reason="…"` anywhere in a file.
    ///
    /// Exit status: 0 no finding at or above the fail level, 1 findings, 2 usage,
    /// configuration or input error (unreadable, non-UTF-8 or unterminated files are
    /// reported and the other files still linted).
    ///
    /// Examples:
    ///   sqlrail lint
    ///   sqlrail lint --format github --fail-on medium
    ///   sqlrail lint --as backfills scratch/fix_phones.sql
    ///   sqlrail lint --explain dml-in-ddl
    #[command(verbatim_doc_comment)]
    Lint(LintArgs),
    /// Apply pending migrations to the database (the deploy step): DDL, then index builds,
    /// then backfills.
    ///
    /// DDL (sql/ddl): every migration the ledger (sqlrail.schema_migrations) does not
    /// record, in version order, each in one transaction together with its ledger row,
    /// with the manifest's lock_timeout (5s) retried on the lock-retry schedule; index
    /// files and backfills placed in the DDL sequence (`before:`/`after:`) run at their
    /// point. A failure stops apply. When the ledger records nothing and the database is
    /// not empty, the database is first placed in the history (by the ledger of the tool
    /// it was adopted from, or by what the migrations' fingerprints answer) and the
    /// migrations it already has are recorded as reconciled, not run; when it cannot be
    /// placed, nothing is applied (see `sqlrail mark`).
    ///
    /// Indexes (sql/indexes): one CREATE INDEX CONCURRENTLY per file, outside transactions,
    /// without the DDL lock_timeout. A valid index of that name is recorded, an invalid one
    /// (an interrupted build) is dropped and built again. A failure is a warning.
    ///
    /// Backfills (sql/backfills): the statement runs batch by batch over :lo..:hi key
    /// ranges, one transaction per batch, highest priority first, resuming at its cursor on
    /// the next run; max_runtime stops it cleanly. A failure is a warning.
    ///
    /// Connection and TLS errors are retried on a fresh connection with backoff, after
    /// checking whether the unit had committed: nothing is applied twice. Every
    /// connection, the first included, is retried until settings.retry.connect_deadline
    /// (90s) when the failure may pass (refused, cut, starting up, a standby mid-failover);
    /// a wrong password, database or certificate fails at once. Only one runner applies at
    /// a time (a lease lock that works through PgBouncer); others wait (--lock-wait).
    /// Backfills pause while a replica lags (settings.backfills.max_replica_lag).
    ///
    /// Connection: --database-url, else DATABASE_URL_DIRECT + DATABASE_URL_POOLER (the
    /// direct URL is probed once for 5s and used if it answers), else DATABASE_URL, else
    /// libpq's PGHOST, PGPORT, PGUSER, PGDATABASE, PGPASSWORD, PGSSLMODE, PGSSLROOTCERT,
    /// PGTARGETSESSIONATTRS (PGHOST or PGDATABASE must be set: with none of these, nothing
    /// is guessed, exit 2). Without a password: PGPASSWORD, else the password file
    /// (PGPASSFILE, else ~/.pgpass). sslmode: disable, prefer, require, verify-ca,
    /// verify-full (with sslrootcert). Several hosts (host1:5432,host2:5432) with
    /// target_session_attrs=read-write follow a failover.
    ///
    /// SIGINT/SIGTERM stop cleanly: the unit in flight is rolled back (an index build is
    /// cancelled and its invalid index dropped), the lock is released; a second signal
    /// exits at once.
    ///
    /// Exit status: 0 applied (or nothing to do; index and backfill failures are
    /// warnings), 1 a DDL migration failed or drift was found (or, with --strict, an index
    /// or backfill failed), 2 usage, configuration or connection error (a standby given as
    /// the target too), 3 the lock was not free within --lock-wait, 130/143 stopped by
    /// SIGINT/SIGTERM.
    ///
    /// Examples:
    ///   sqlrail apply --database-url postgres://app@db.internal/crm?sslmode=verify-full
    ///   DATABASE_URL=postgres://postgres@127.0.0.1/crm sqlrail apply --lock-wait 2m
    ///   sqlrail apply --phase backfills --strict
    #[command(verbatim_doc_comment)]
    Apply(ApplyArgs),
    /// Drop and recreate a local development database, then apply the project to it.
    ///
    /// Terminates the database's other sessions (saying whose), drops it, creates it
    /// empty, applies every phase (--phase ddl or indexes stops after that phase) and runs
    /// --seed FILE, a plain SQL file, in one transaction through the same retrying executor.
    ///
    /// Safety: the host must be local (a unix socket, localhost, 127.0.0.0/8 or ::1) unless
    /// --force; databases in the manifest's protected_databases (and postgres, template0
    /// and template1 always) are refused even with --force; on a terminal it asks before
    /// dropping, elsewhere it needs --yes. It connects to the direct URL, never a pooler.
    ///
    /// Exit status: 0 reset (index and backfill failures are warnings), 1 a DDL migration
    /// or the seed failed, 2 refused, not confirmed, usage, configuration or connection
    /// error, 3 the lock was not free within --lock-wait.
    ///
    /// Examples:
    ///   sqlrail reset --database-url postgres://postgres@127.0.0.1/crm_dev
    ///   sqlrail reset --yes --seed sql/seed/dev.sql
    ///   sqlrail reset --yes --phase ddl
    #[command(verbatim_doc_comment)]
    Reset(ResetArgs),
    /// Start a project, or adopt another tool's migration history.
    ///
    /// In a folder without migrations, writes a commented manifest.yaml and lint-rules.yaml
    /// and creates sql/{ddl,indexes,backfills}.
    ///
    /// In a folder that holds another tool's history, adopts it: the layout is recognised
    /// (diesel's <version>_<name>/up.sql, goose's `-- +goose Up` files, golang-migrate's
    /// N_name.up.sql, dbmate's `-- migrate:up`, Flyway's V1__x.sql, sqitch's sqitch.plan,
    /// refinery, or plain numbered files) and its migrations are taken in that tool's
    /// order, with only their up SQL (down scripts and sections are left out). They are
    /// written as sqlrail files in the same order, so a fresh database gets the schema the
    /// history built: everything in sql/ddl, except statements that cannot run in a
    /// transaction (CREATE/DROP INDEX CONCURRENTLY, REINDEX CONCURRENTLY), which become
    /// index files placed at their point (`after:` in the manifest); seed rows and data
    /// fixes stay where they ran. The manifest gets each file's checksum, a fingerprint
    /// proven against the history (what the migration itself makes), its version in the
    /// other tool (`origin:`) and `adopted_from:`, so that a database the other tool
    /// migrated part-way is adopted by the next apply. The history's lint findings are
    /// grandfathered in lint-baseline.json. Files that are not migrations are reported and
    /// left alone; so are the originals, unless --rename.
    ///
    /// Exit status: 0 written (or printed, with --dry-run), 2 the folder is already a
    /// project, a file cannot be read or split, or a destination exists.
    ///
    /// Examples:
    ///   sqlrail init
    ///   sqlrail init db/migrations --dry-run
    ///   sqlrail init --rename
    #[command(verbatim_doc_comment)]
    Init(InitArgs),
    /// Print a shell completion script.
    ///
    /// Examples:
    ///   sqlrail completions bash > /etc/bash_completion.d/sqlrail
    ///   sqlrail completions zsh > "${fpath[1]}/_sqlrail"
    ///   sqlrail completions fish > ~/.config/fish/completions/sqlrail.fish
    #[command(verbatim_doc_comment)]
    Completions(CompletionsArgs),
    /// Show what apply would do, migration by migration; changes nothing.
    ///
    /// Lists every step of the DDL sequence (`applied`, `drifted`, `reconcile` when a database
    /// without ledger rows already has it, `run`), then the index phase (`build`,
    /// `rebuild`, `recorded`) and the backfills (`run`, `resume` at a cursor, `done`,
    /// `paused`), with counts per phase; says where a database without ledger rows stands
    /// in the history. Exit status: 0, 1 if drift was found, 2 on errors.
    ///
    /// Example:
    ///   sqlrail plan --database-url postgres://postgres@127.0.0.1/crm
    #[command(verbatim_doc_comment)]
    Plan(ReadArgs),
    /// List migrations as applied, reconciled, pending or drifted, with times.
    ///
    /// Exit status: 0, 1 if drift was found, 2 on errors.
    ///
    /// Example:
    ///   sqlrail status --format json
    #[command(verbatim_doc_comment)]
    Status(ReadArgs),
    /// Check that every recorded migration's fingerprint answers as the history says.
    ///
    /// A fingerprint of an object a later recorded migration drops, renames or replaces is
    /// expected not to hold; drift is a check that disagrees with the history.
    ///
    /// Exit status: 0 no drift, 1 drift (listed), 2 on errors.
    ///
    /// Example:
    ///   sqlrail verify --database-url postgres://postgres@127.0.0.1/crm
    #[command(verbatim_doc_comment)]
    Verify(ReadArgs),
    /// Record, on purpose and with a reason, that a migration is applied (or remove its row).
    ///
    /// For changes sqlrail did not make: a migration applied by hand during an incident
    /// (`mark ID`), a database another tool migrated up to a point (`--through ID`:
    /// every unrecorded step of the DDL sequence up to and including ID), or a row to take
    /// back so the migration runs again (`--remove`). Nothing is run; the row is written
    /// under the migration lock with the reason, which `status` shows.
    ///
    /// Exit status: 0 written, 2 an unknown or (for --remove) unrecorded migration, an
    /// empty reason, or a connection error, 3 the lock was not free within --lock-wait.
    ///
    /// Examples:
    ///   sqlrail mark ddl/V12__add_leads_email --reason "added by hand in incident 231"
    ///   sqlrail mark --through ddl/V40__invoices --reason "migrated by goose up to 20220530"
    ///   sqlrail mark --remove ddl/V12__add_leads_email --reason "the hand-made column was dropped"
    #[command(verbatim_doc_comment)]
    Mark(MarkArgs),
    /// Create the next migration file of a phase, with its manifest entry.
    ///
    /// The file is sql/<PHASE>/V<next>__<NAME>.sql, where <next> follows the highest
    /// version among the phase's files and manifest entries. Its header says what belongs
    /// in it. A backfill needs --table (and --key when the key column is not `id`). When
    /// the file is written, `sqlrail manifest sync` records its checksum.
    ///
    /// Examples:
    ///   sqlrail new ddl add_leads_score
    ///   sqlrail new indexes leads_score
    ///   sqlrail new backfills leads_score --table leads
    ///   sqlrail new indexes users_email_uniq --before ddl/V12__users_email_key
    #[command(verbatim_doc_comment)]
    New(NewArgs),
    /// Keep manifest.yaml in step with the files under sql/.
    #[command(subcommand)]
    Manifest(ManifestCommand),
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

#[derive(Debug, clap::Args)]
pub struct DbArgs {
    /// Connection string (URL or libpq key=value) [default: DATABASE_URL_DIRECT +
    /// DATABASE_URL_POOLER, DATABASE_URL, or the PG* variables].
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
    /// Output: text for people (stderr), json (one document on stdout).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// `plan`, `status` and `verify`: one database, or a fleet.
#[derive(Debug, clap::Args)]
pub struct ReadArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// Run against every database FILE lists (YAML: targets, discover, rollout; see
    /// docs/fleets.md), at the file's rollout.concurrency, with a line per target and a
    /// table at the end. Exit 0 every target fine, 1 any failed or unreachable, 2 FILE is
    /// wrong (nothing ran).
    #[arg(long, value_name = "FILE", conflicts_with = "database_url")]
    pub targets: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct ApplyArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// Apply to every database FILE lists or discovers (YAML; see docs/fleets.md): the
    /// rollout's canaries first, one at a time (a failure stops everything), then the
    /// rest at most rollout.concurrency at once; on_failure: stop starts no new target
    /// after a failure, continue goes on. Each target is a whole `apply` of its own.
    /// Exit 0 every target applied, 1 any failed, was unreachable or not started, 2 FILE
    /// is wrong (nothing ran), 3 only lock waits ran out.
    #[arg(long, value_name = "FILE", conflicts_with = "database_url")]
    pub targets: Option<PathBuf>,
    /// Run only this phase [default: ddl, then indexes, then backfills].
    #[arg(long, value_enum)]
    pub phase: Option<PhaseToApply>,
    /// Exit 1 when an index build or a backfill fails (they are warnings otherwise).
    #[arg(long)]
    pub strict: bool,
    /// How long to wait for another runner's migration lock (e.g. 30s, 5m) before
    /// exiting 3 [default: wait].
    #[arg(long, value_name = "DURATION")]
    pub lock_wait: Option<crate::config::HumanDuration>,
    /// Apply even though recorded migrations changed since they were applied.
    #[arg(long)]
    pub allow_drift: bool,
    /// Apply the DDL sequence up to and including this DDL migration (its id,
    /// `ddl/V12__add_email`, or its version, `12`), then stop: the migrations after it,
    /// the index phase and the backfill phase wait for a run without --to. Example:
    /// `sqlrail apply --to ddl/V12__add_email`
    #[arg(long, value_name = "ID", conflicts_with = "phase")]
    pub to: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct MarkArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// The migration to record (`ddl/V12__add_leads_email`).
    #[arg(
        value_name = "ID",
        required_unless_present = "through",
        conflicts_with = "through"
    )]
    pub id: Option<String>,
    /// Record every unrecorded migration of the DDL sequence up to and including this one.
    #[arg(long, value_name = "ID", conflicts_with = "remove")]
    pub through: Option<String>,
    /// Remove the migration's row instead: it runs again on the next apply.
    #[arg(long)]
    pub remove: bool,
    /// Why (kept with the row, shown by `status`).
    #[arg(long, required = true)]
    pub reason: String,
    /// How long to wait for another runner's migration lock before exiting 3.
    #[arg(long, value_name = "DURATION")]
    pub lock_wait: Option<crate::config::HumanDuration>,
}

#[derive(Debug, clap::Args)]
pub struct ResetArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// Stop after this phase [default: all three].
    #[arg(long, value_enum)]
    pub phase: Option<PhaseToApply>,
    /// A SQL file to run after the migrations (one transaction).
    #[arg(long, value_name = "FILE")]
    pub seed: Option<PathBuf>,
    /// Drop without asking.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Allow a host that is not local (protected databases stay refused).
    #[arg(long)]
    pub force: bool,
    /// Exit 1 when an index build or a backfill fails.
    #[arg(long)]
    pub strict: bool,
    /// How long to wait for another runner's migration lock before exiting 3.
    #[arg(long, value_name = "DURATION")]
    pub lock_wait: Option<crate::config::HumanDuration>,
}

#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// The folder to set up [default: the current directory].
    #[arg(value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Move the adopted files that become a sqlrail file unchanged, instead of copying
    /// them (files that change, such as a goose file without its Down section, are
    /// written and their originals kept).
    #[arg(long)]
    pub rename: bool,
    /// Print what would be adopted and how, and write nothing.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Phases `apply --phase` runs (in this order: `reset --phase` runs up to one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
pub enum PhaseToApply {
    Ddl,
    Indexes,
    Backfills,
}

#[derive(Debug, Subcommand)]
pub enum ManifestCommand {
    /// Record checksums of new or unsynced files and add entries for new files.
    ///
    /// Creates manifest.yaml when there is none. Entries keep every hand-written field
    /// (fingerprints, backfill settings, comments); sync only adds `checksum:` lines and
    /// appends new entries (a new backfill's table is read from its DML). A file whose
    /// recorded checksum differs was edited after it was recorded: sync refuses (exit 2,
    /// nothing written) unless --allow-edit names it.
    ///
    /// Examples:
    ///   sqlrail manifest sync
    ///   sqlrail manifest sync --allow-edit ddl/V36__leads_score
    ///   sqlrail manifest sync --check      # in CI: exit 1 if the manifest is behind
    ///   sqlrail manifest sync --prune      # drop entries whose file was deleted
    #[command(verbatim_doc_comment)]
    Sync(ManifestSyncArgs),
}

#[derive(Debug, clap::Args)]
pub struct ManifestSyncArgs {
    /// Accept the new checksum of this migration (`ddl/V36__leads_score`); only for
    /// migrations no database has applied. Repeatable.
    #[arg(long, value_name = "ID")]
    pub allow_edit: Vec<String>,
    /// Change nothing; exit 1 if manifest.yaml needs a sync (or lists migrations whose
    /// file is gone).
    #[arg(long)]
    pub check: bool,
    /// Remove the entries whose file is gone, naming each; only for migrations no
    /// database has applied (a deleted migration that ran somewhere is history: restore
    /// its file).
    #[arg(long, conflicts_with = "check")]
    pub prune: bool,
}

#[derive(Debug, clap::Args)]
pub struct NewArgs {
    /// ddl, indexes or backfills.
    #[arg(value_enum)]
    pub phase: PhaseArg,
    /// What the migration does, in letters, digits and `_` (`-` and spaces become `_`).
    pub name: String,
    /// For a backfill: the table whose key range it walks.
    #[arg(long)]
    pub table: Option<String>,
    /// For a backfill: the table's integer key column [default: id].
    #[arg(long, requires = "table")]
    pub key: Option<String>,
    /// For an index file or a backfill: run it in the DDL sequence right before this DDL
    /// migration (which needs it), instead of after the whole DDL phase.
    #[arg(long, value_name = "DDL_ID", conflicts_with = "after")]
    pub before: Option<String>,
    /// For an index file or a backfill: run it in the DDL sequence right after this DDL
    /// migration.
    #[arg(long, value_name = "DDL_ID")]
    pub after: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct LintArgs {
    /// Files or directories to lint (default: the project around the current directory).
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Output: text (snippets on stderr), or json, github, sarif, gcc (on stdout).
    #[arg(long, value_enum, default_value_t = LintFormat::Text)]
    pub format: LintFormat,
    /// Fail (exit 1) on findings at or above this severity [default: `fail_on` from
    /// lint-rules.yaml, else low].
    #[arg(long, value_enum, value_name = "SEVERITY")]
    pub fail_on: Option<SeverityArg>,
    /// Treat every file as a file of this phase, whatever its directory.
    #[arg(long = "as", value_enum, value_name = "PHASE")]
    pub role: Option<PhaseArg>,
    /// The lint-rules.yaml to use [default: the project's, else the nearest one upward].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Record the current findings in the baseline file (`baseline` in lint-rules.yaml),
    /// so that only new findings fail from now on; exits 0.
    #[arg(long, conflicts_with = "no_baseline")]
    pub write_baseline: bool,
    /// Report findings the baseline grandfathers too.
    #[arg(long)]
    pub no_baseline: bool,
    /// Print a rule's explanation (problem, safe alternative, example) and exit.
    #[arg(long, value_name = "RULE", exclusive = true)]
    pub explain: Option<String>,
    /// List every rule with its default severity and summary, and exit.
    #[arg(long, exclusive = true)]
    pub list_rules: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SeverityArg {
    High,
    Medium,
    Low,
    Warning,
}

impl From<SeverityArg> for Severity {
    fn from(s: SeverityArg) -> Severity {
        match s {
            SeverityArg::High => Severity::High,
            SeverityArg::Medium => Severity::Medium,
            SeverityArg::Low => Severity::Low,
            SeverityArg::Warning => Severity::Warning,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PhaseArg {
    Ddl,
    Indexes,
    Backfills,
}

impl From<PhaseArg> for Phase {
    fn from(p: PhaseArg) -> Phase {
        match p {
            PhaseArg::Ddl => Phase::Ddl,
            PhaseArg::Indexes => Phase::Indexes,
            PhaseArg::Backfills => Phase::Backfills,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lint(args: &[&str]) -> Result<LintArgs, clap::Error> {
        let cli = Cli::try_parse_from(["sqlrail", "lint"].iter().chain(args))?;
        match cli.command {
            Command::Lint(args) => Ok(args),
            _ => unreachable!(),
        }
    }

    #[test]
    fn lint_takes_paths_formats_and_levels() {
        let args = lint(&[
            "--format",
            "sarif",
            "--fail-on",
            "medium",
            "--as",
            "backfills",
            "a.sql",
            "dir",
        ])
        .unwrap();
        assert_eq!(args.format, LintFormat::Sarif);
        assert_eq!(args.fail_on.map(Severity::from), Some(Severity::Medium));
        assert_eq!(args.role.map(Phase::from), Some(Phase::Backfills));
        assert_eq!(args.paths.len(), 2);
        assert!(lint(&["--fail-on", "critical"]).is_err());
        // --explain and --list-rules stand alone; the baseline flags exclude each other.
        assert!(lint(&["--explain", "drop", "a.sql"]).is_err());
        assert!(lint(&["--write-baseline", "--no-baseline"]).is_err());
        assert!(lint(&["--list-rules"]).unwrap().list_rules);
    }

    #[test]
    fn definitions_are_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn split_needs_files_and_takes_a_format() {
        assert!(Cli::try_parse_from(["sqlrail", "split"]).is_err());
        let cli = Cli::try_parse_from(["sqlrail", "split", "--format", "json", "a.sql"]).unwrap();
        let Command::Split(args) = cli.command else {
            panic!("not split")
        };
        assert_eq!((args.format, args.files.len()), (Format::Json, 1));
        assert!(Cli::try_parse_from(["sqlrail", "split", "--format", "yaml", "a.sql"]).is_err());
    }
}
