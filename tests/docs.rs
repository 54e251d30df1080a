//! The documentation cannot drift from the code: every `sqlrail …` command written in the
//! README, docs/ and ci/ parses with the real command-line definition, every command's
//! `--help` has an example, and docs/getting-started.md's `sh` blocks run, in order,
//! against a real database (`shell` blocks are not run, except the install steps, in a fresh HOME).

mod support;

use std::path::{Path, PathBuf};

use clap::{CommandFactory, Parser};
use sqlrail::cli::Cli;
use support::{TestDb, repo_root};

/// Files whose `sqlrail …` commands must parse.
fn documented_files() -> Vec<PathBuf> {
    let mut files = vec![repo_root().join("README.md")];
    for dir in ["docs", "ci"] {
        for entry in walkdir::WalkDir::new(repo_root().join(dir)) {
            let entry = entry.unwrap();
            let path = entry.path();
            if path
                .extension()
                .is_some_and(|e| e == "md" || e == "yml" || e == "sh")
            {
                files.push(path.to_owned());
            }
        }
    }
    files
}

/// The arguments of a `sqlrail …` command on `line`, up to a shell operator or comment,
/// and whether it is inline code (a mention such as `sqlrail split` may leave out
/// required arguments; it must still name real commands and flags).
fn command_args(line: &str) -> Option<(Vec<String>, bool)> {
    let at = line.find("sqlrail ")?;
    // Only commands: the word starts the line, a pipeline stage, or follows `$ `, `- `,
    // `run: ` or an environment assignment.
    let before = line[..at].trim_end();
    let starts_command = before.is_empty()
        || before.ends_with(['|', '&', ';', '$', '-', '`', '('])
        || before.ends_with("run:")
        || before.split_whitespace().all(|w| w.contains('='));
    if !starts_command {
        return None;
    }
    let mut rest = &line[at + "sqlrail ".len()..];
    // Inline code: the command ends at the closing backtick.
    if before.ends_with('`') {
        rest = rest.split('`').next().unwrap_or_default();
    }
    let args: Vec<String> = rest
        .split_whitespace()
        .take_while(|a| {
            !a.starts_with('>')
                && !a.starts_with('#')
                && !a.starts_with('`')
                && !matches!(*a, "||" | "&&" | "|" | ";" | "2>&1" | "<")
        })
        .map(|a| a.trim_matches(|c| c == '\'' || c == '"').to_owned())
        .collect();
    (!args.is_empty()).then_some((args, before.ends_with('`')))
}

#[test]
fn every_documented_command_parses() {
    let mut checked = 0;
    for file in documented_files() {
        let text = std::fs::read_to_string(&file).unwrap();
        for (n, line) in text.lines().enumerate() {
            let Some((args, inline)) = command_args(line) else {
                continue;
            };
            // Prose such as "sqlrail is one binary" is not a command.
            let first = &args[0];
            let is_command = Cli::command()
                .get_subcommands()
                .any(|c| c.get_name() == first)
                || first.starts_with('-');
            if !is_command {
                continue;
            }
            let argv = std::iter::once("sqlrail".to_owned()).chain(args.iter().cloned());
            if let Err(e) = Cli::try_parse_from(argv) {
                use clap::error::ErrorKind;
                let mention = inline
                    && matches!(
                        e.kind(),
                        ErrorKind::MissingRequiredArgument
                            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
                    );
                // `sqlrail new <phase> <name>`: a placeholder where a value belongs.
                let placeholder = e.kind() == ErrorKind::InvalidValue
                    && args.iter().any(|a| a.starts_with('<') && a.ends_with('>'));
                if mention
                    || placeholder
                    || matches!(e.kind(), ErrorKind::DisplayVersion | ErrorKind::DisplayHelp)
                {
                    continue;
                }
                panic!(
                    "{}:{}: `sqlrail {}` does not parse:\n{e}",
                    file.display(),
                    n + 1,
                    args.join(" ")
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 40, "only {checked} documented commands found");
}

#[test]
fn every_command_has_an_example_in_its_help() {
    let mut cli = Cli::command();
    cli.build();
    let mut missing = Vec::new();
    for command in cli.get_subcommands_mut() {
        let name = command.get_name().to_owned();
        if name == "help" {
            continue;
        }
        let mut leaves: Vec<clap::Command> = command.get_subcommands().cloned().collect();
        if leaves.is_empty() {
            leaves.push(command.clone());
        }
        for mut leaf in leaves.into_iter().filter(|l| l.get_name() != "help") {
            let help = leaf.render_long_help().to_string();
            if !help.contains("Example") {
                missing.push(format!("{name} {}", leaf.get_name()));
            }
        }
    }
    assert!(missing.is_empty(), "--help without an example: {missing:?}");
}

/// The `sh` code blocks of a Markdown file, in order.
fn sh_blocks(markdown: &str) -> Vec<String> {
    fenced_blocks(markdown, "sh")
}

/// The code blocks of a Markdown file fenced as ```` ```language ````, in order.
fn fenced_blocks(markdown: &str, language: &str) -> Vec<String> {
    let opening = format!("```{language}");
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in markdown.lines() {
        match (&mut current, line.trim_end()) {
            (None, fence) if fence == opening => current = Some(String::new()),
            (Some(block), "```") => {
                blocks.push(std::mem::take(block));
                current = None;
            }
            (Some(block), _) => {
                block.push_str(line);
                block.push('\n');
            }
            (None, _) => {}
        }
    }
    blocks
}

/// The `yaml` code blocks of a Markdown file that are manifests (start with `settings:`
/// or `migrations:`).
fn manifest_blocks(markdown: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in markdown.lines() {
        match (&mut current, line.trim_end()) {
            (None, "```yaml") => current = Some(String::new()),
            (Some(block), "```") => {
                let block = std::mem::take(block);
                if block.starts_with("settings:") || block.starts_with("migrations:") {
                    blocks.push(block);
                }
                current = None;
            }
            (Some(block), _) => {
                block.push_str(line);
                block.push('\n');
            }
            (None, _) => {}
        }
    }
    blocks
}

#[test]
fn the_manifest_examples_of_the_docs_load() {
    let page = std::fs::read_to_string(repo_root().join("docs/manifest.md")).unwrap();
    let blocks = manifest_blocks(&page);
    assert!(blocks.len() >= 3, "{} manifest examples", blocks.len());
    for block in blocks {
        let parsed = sqlrail::config::Manifest::parse(Path::new("docs/manifest.md"), &block);
        assert!(parsed.is_ok(), "{parsed:?}\n{block}");
    }
}

#[test]
fn getting_started_runs_as_written() {
    let db = TestDb::new("getting_started");
    let work = tempfile::tempdir().unwrap();
    let page = std::fs::read_to_string(repo_root().join("docs/getting-started.md")).unwrap();
    let blocks = sh_blocks(&page);
    assert!(blocks.len() >= 6, "{} sh blocks", blocks.len());
    let script = format!("set -euxo pipefail\n{}", blocks.join("\n"));
    let binary = Path::new(env!("CARGO_BIN_EXE_sqlrail"));
    let path = format!(
        "{}:{}",
        binary.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = std::process::Command::new("bash")
        .args(["-c", &script])
        .current_dir(work.path())
        .env("PATH", path)
        .env(
            "DATABASE_URL",
            format!("postgres://postgres@127.0.0.1:5432/{}", db.name),
        )
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "getting-started.md failed:\n{stderr}");
    // What the page says the reset prints.
    for line in [
        "ddl: 1 applied, 0 reconciled",
        "indexes: 1 built, 0 reconciled, 0 failed",
        "ddl: nothing to apply",
        "fingerprint { table: leads }",
        "done             backfills/V1__phone_e164",
        "built            indexes/V2__leads_phone_uniq",
        "applied          ddl/V2__leads_phone_key",
        "applied          ddl/V3__leads_phone_format",
        "applied          ddl/V4__leads_phone_format_validate",
        "found a goose history: 2 migration(s)",
        "adopting: the ledger records nothing; the database has the changes of the history up to ddl/V1__create_orders",
        "reconciled       ddl/V1__create_orders",
        "applied          ddl/V2__add_status",
    ] {
        assert!(stderr.contains(line), "`{line}` missing from:\n{stderr}");
    }
    let status: i64 = db
        .client()
        .query_one(
            "SELECT count(*) FROM information_schema.columns WHERE table_name = 'orders' AND column_name = 'status'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(status, 1, "{stderr}");
}

/// The getting-started install block, run as a new user would in a fresh HOME (all but
/// `cargo install`, which the test binary stands in for): the completion install must
/// work where its directory does not exist yet.
#[test]
fn the_getting_started_install_steps_work_in_a_fresh_home() {
    let guide = std::fs::read_to_string(repo_root().join("docs/getting-started.md")).unwrap();
    let blocks = fenced_blocks(&guide, "shell");
    let install = blocks
        .iter()
        .find(|b| b.contains("sqlrail completions bash"))
        .expect("the install block");
    let script: String = install
        .lines()
        .filter(|l| !l.trim_start().starts_with("cargo install"))
        .map(|l| format!("{l}\n"))
        .collect();
    let home = tempfile::tempdir().unwrap();
    let bin = home.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_sqlrail"), bin.join("sqlrail")).unwrap();
    let out = std::process::Command::new("bash")
        .args(["-euo", "pipefail", "-c", &script])
        .env("HOME", home.path())
        .env(
            "PATH",
            format!("{}:{}", bin.display(), std::env::var("PATH").unwrap()),
        )
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{script}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let completion = home
        .path()
        .join(".local/share/bash-completion/completions/sqlrail");
    let text = std::fs::read_to_string(&completion).unwrap();
    assert!(text.contains("_sqlrail"), "{text}");
}

#[test]
fn the_fleet_example_of_the_docs_loads() {
    let page = std::fs::read_to_string(repo_root().join("docs/fleets.md")).unwrap();
    let blocks = fenced_blocks(&page, "yaml");
    assert_eq!(blocks.len(), 1, "docs/fleets.md has one targets file");
    let env = |_: &str| Some("postgres://app@db-1.internal/eu".to_owned());
    let file = sqlrail::fleet::TargetsFile::parse(Path::new("docs/fleets.md"), &blocks[0], &env)
        .unwrap_or_else(|e| panic!("docs/fleets.md: {e}"));
    assert_eq!(file.targets.len(), 2);
    assert_eq!(file.rollout.concurrency, 8);
    assert!(file.discover.is_some());
}
