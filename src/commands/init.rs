//! `sqlrail init`: starts a project in an empty folder, or adopts a folder of existing
//! `.sql` migrations (Flyway, refinery, golang-migrate, dbmate, sqitch, numbered files):
//! each gets a phase from what its statements do and a refinery-style name, and the
//! manifest is written with checksums under those names. Files move only with `--rename`.

use std::path::{Path, PathBuf};

use regex::Regex;

use crate::cli::InitArgs;
use crate::config::parse_file_name;
use crate::config::{ManifestText, NEW_MANIFEST, Phase};
use crate::error::{Error, Exit};
use crate::project::{Migration, checksum, read_sql, unterminated};
use crate::sql::code::{Code, index_statement};
use crate::sql::{StatementKind, split};

use super::manifest::{new_entry_fields, write_atomically};

/// The lint configuration a new project starts with: every knob, at its default.
pub const NEW_LINT_RULES: &str = "\
# sqlrail lint configuration. Reference: docs/lint-rules.md
fail_on: low                 # findings at or above this severity fail `sqlrail lint`
# Writes to these tables inside sql/ddl are HIGH severity: they are big and busy.
hot_tables: []
seed_rows_max: 10            # INSERT ... VALUES of at most this many rows into a non-hot table is LOW
# rules:                     # change a rule's severity, or switch it off
#   rename: warning
#   drop: off
# custom:                    # your own regex rules
#   - id: no-truncate-cascade
#     message: TRUNCATE ... CASCADE empties every referencing table too
#     pattern: '(?i)\\bTRUNCATE\\b[\\s\\S]*\\bCASCADE\\b'
#     directories: [ddl, backfills]
#     severity: high
";

#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error(
        "{path} already exists: {dir} is a sqlrail project; use `sqlrail manifest sync` to add files to it"
    )]
    AlreadyProject { path: PathBuf, dir: PathBuf },
    #[error("{path}: {message}")]
    File { path: PathBuf, message: String },
    #[error("cannot move {from} to {to}: {message}")]
    Move {
        from: PathBuf,
        to: PathBuf,
        message: String,
    },
}

/// A file `init` does not adopt, and why.
type Skipped = (PathBuf, String);

/// One adopted file and where it goes.
#[derive(Debug)]
struct Adopted {
    from: PathBuf,
    phase: Phase,
    /// `V3__create_leads`.
    stem: String,
    sql: String,
    notes: Vec<String>,
}

impl Adopted {
    fn id(&self) -> String {
        format!("{}/{}", self.phase.dir(), self.stem)
    }
    fn to(&self, root: &Path) -> PathBuf {
        root.join("sql")
            .join(self.phase.dir())
            .join(format!("{}.sql", self.stem))
    }
}

pub fn run(args: &InitArgs) -> Result<Exit, Error> {
    let root = match &args.dir {
        Some(dir) => dir.clone(),
        None => std::env::current_dir()?,
    };
    std::fs::create_dir_all(&root)?;
    let manifest_path = root.join("manifest.yaml");
    if manifest_path.exists() {
        return Err(InitError::AlreadyProject {
            path: manifest_path,
            dir: root,
        }
        .into());
    }
    let (sources, skipped) = sql_files(&root)?;
    for (path, why) in &skipped {
        eprintln!("skipped {}: {why}", shown(&root, path));
    }
    let adopted = plan(&root, sources)?;

    let mut manifest = ManifestText::new(&manifest_path, NEW_MANIFEST);
    for a in &adopted {
        let fields = entry_fields(a)?;
        manifest
            .append_entry(&a.id(), &fields)
            .map_err(|e| Error::Usage(e.to_string()))?;
    }
    manifest.validate()?;

    for a in &adopted {
        let to = a.to(&root);
        let action = if a.from == to {
            "keeps"
        } else if args.rename {
            "moved to"
        } else {
            "proposed"
        };
        eprintln!(
            "{:<44} {action} {}",
            shown(&root, &a.from),
            shown(&root, &to)
        );
        for note in &a.notes {
            eprintln!("    note: {note}");
        }
    }
    for phase in Phase::ALL {
        let dir = root.join("sql").join(phase.dir());
        std::fs::create_dir_all(&dir)?;
        let keep = dir.join(".gitkeep");
        if !keep.exists() {
            std::fs::write(keep, "")?;
        }
    }
    let moves: Vec<(&Path, PathBuf)> = adopted
        .iter()
        .map(|a| (a.from.as_path(), a.to(&root)))
        .filter(|(from, to)| from != to)
        .collect();
    if args.rename {
        // Every destination is checked before the first file moves.
        if let Some((from, to)) = moves.iter().find(|(_, to)| to.exists()) {
            return Err(InitError::Move {
                from: from.to_path_buf(),
                to: to.clone(),
                message: "the destination exists; nothing was moved or written".into(),
            }
            .into());
        }
        for (from, to) in &moves {
            move_file(from, to)?;
        }
    }
    write_atomically(&manifest_path, &manifest.text())?;
    let rules_path = root.join("lint-rules.yaml");
    if !rules_path.exists() {
        std::fs::write(&rules_path, NEW_LINT_RULES)?;
    }
    let unmoved = moves.len();
    eprintln!(
        "created {} ({} migration{}), {} and sql/{{ddl,indexes,backfills}}",
        manifest_path.display(),
        adopted.len(),
        if adopted.len() == 1 { "" } else { "s" },
        rules_path.display()
    );
    if unmoved > 0 && !args.rename {
        eprintln!(
            "no file was moved: the manifest names the proposed paths above. Move the {unmoved} file(s) there (or delete manifest.yaml and run `sqlrail init --rename`), then run `sqlrail lint`"
        );
    } else {
        eprintln!(
            "next: `sqlrail new ddl <name>` for a first migration, `sqlrail lint`, `sqlrail apply`"
        );
    }
    Ok(Exit::Success)
}

/// The `.sql` files below `root` worth adopting, and the ones skipped with why. Hidden
/// directories, build output and dependency folders are not looked into.
fn sql_files(root: &Path) -> Result<(Vec<PathBuf>, Vec<Skipped>), Error> {
    let mut files = Vec::new();
    let mut skipped = Vec::new();
    let walk = walkdir::WalkDir::new(root)
        .follow_links(false)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| {
            let name = e.file_name().to_string_lossy();
            e.depth() == 0 || !(name.starts_with('.') || name == "target" || name == "node_modules")
        });
    for entry in walk {
        let entry =
            entry.map_err(|e| Error::Usage(format!("cannot list {}: {e}", root.display())))?;
        let path = entry.path();
        if !entry.file_type().is_file() || path.extension().is_none_or(|e| e != "sql") {
            continue;
        }
        let name = entry.file_name().to_string_lossy().to_lowercase();
        let in_dir = |dir: &str| {
            path.strip_prefix(root)
                .is_ok_and(|p| p.components().any(|c| c.as_os_str() == dir))
        };
        if name.ends_with(".down.sql") || in_dir("revert") || in_dir("verify") {
            skipped.push((
                path.to_owned(),
                "a down, revert or verify script: sqlrail migrates forward only".into(),
            ));
        } else if name.starts_with("u") && name[1..].starts_with(|c: char| c.is_ascii_digit()) {
            skipped.push((
                path.to_owned(),
                "a Flyway undo migration: sqlrail migrates forward only".into(),
            ));
        } else if name.starts_with("r__") {
            skipped.push((
                path.to_owned(),
                "a Flyway repeatable migration: add its current body as a DDL migration by hand"
                    .into(),
            ));
        } else {
            files.push(path.to_owned());
        }
    }
    Ok((files, skipped))
}

/// Orders the files (by the version in their names, then by path), gives each a phase
/// and numbers each phase from 1.
fn plan(root: &Path, sources: Vec<PathBuf>) -> Result<Vec<Adopted>, Error> {
    let version = Regex::new(r"^[Vv]?(\d+)").expect("valid");
    let mut keyed: Vec<(Option<u128>, PathBuf)> = sources
        .into_iter()
        .map(|p| {
            let stem = p
                .file_stem()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            let v = version
                .captures(&stem)
                .and_then(|c| c[1].parse::<u128>().ok());
            (v, p)
        })
        .collect();
    // Versioned files first, in version order; the rest by path.
    keyed.sort_by(|a, b| (a.0.is_none(), a.0, &a.1).cmp(&(b.0.is_none(), b.0, &b.1)));
    let mut next = [1u64; 3];
    let mut adopted = Vec::new();
    for (_, path) in keyed {
        let sql = read_sql(&path)?;
        if sql
            .lines()
            .any(|l| l.trim_start().starts_with("-- migrate:down"))
        {
            eprintln!(
                "skipped {}: a dbmate file with a `-- migrate:down` section, which would run with the rest; remove that section and run init again",
                shown(root, &path)
            );
            continue;
        }
        let Some((phase, notes)) = classify(&path, &sql)? else {
            eprintln!("skipped {}: no SQL statements", shown(root, &path));
            continue;
        };
        // A file already at sql/<phase>/V<n>__name.sql keeps its name.
        let kept = parse_file_name(&path.file_name().unwrap_or_default().to_string_lossy())
            .filter(|_| path.parent() == Some(&root.join("sql").join(phase.dir())))
            .map(|(v, _)| {
                (
                    v,
                    path.file_stem()
                        .unwrap_or_default()
                        .to_string_lossy()
                        .into_owned(),
                )
            });
        let slot = Phase::ALL
            .iter()
            .position(|p| *p == phase)
            .expect("a phase");
        let stem = match kept {
            Some((v, stem)) => {
                next[slot] = next[slot].max(v + 1);
                stem
            }
            None => {
                let stem = format!("V{}__{}", next[slot], name_part(&path));
                next[slot] += 1;
                stem
            }
        };
        adopted.push(Adopted {
            from: path,
            phase,
            stem,
            sql,
            notes,
        });
    }
    let mut seen = std::collections::HashSet::new();
    for a in &adopted {
        if !seen.insert(a.id()) {
            return Err(InitError::File {
                path: a.from.clone(),
                message: format!("{} is proposed twice; rename one of the files", a.id()),
            }
            .into());
        }
    }
    Ok(adopted)
}

/// A file's phase from its statements, and notes on what lint will ask for. `None` for a file without statements.
fn classify(path: &Path, sql: &str) -> Result<Option<(Phase, Vec<String>)>, Error> {
    let file = split(sql).map_err(|e| unterminated(path, sql, e))?;
    if file.statements.is_empty() {
        return Ok(None);
    }
    let mut notes = Vec::new();
    if let Some(psql) = file.psql.first() {
        notes.push(format!(
            "line {}: psql-only syntax, which the server rejects; rewrite it as SQL",
            psql.line
        ));
    }
    let kinds: Vec<StatementKind> = file.statements.iter().map(|s| s.kind).collect();
    let concurrent_indexes = file
        .statements
        .iter()
        .filter(|s| {
            let text = s.text(sql);
            index_statement(&Code::of(text)).is_some_and(|i| i.concurrently)
        })
        .count();
    if kinds.contains(&StatementKind::TransactionControl) {
        notes.push(
            "holds BEGIN/COMMIT: sqlrail runs each migration in its own transaction; remove them"
                .into(),
        );
    }
    let phase = if concurrent_indexes > 0 && kinds.iter().all(|k| *k == StatementKind::Index) {
        if file.statements.len() > 1 {
            notes.push(format!(
                "holds {} index builds; sql/indexes takes one per file: split it",
                file.statements.len()
            ));
        }
        Phase::Indexes
    } else if kinds.contains(&StatementKind::Dml)
        && kinds
            .iter()
            .all(|k| matches!(k, StatementKind::Dml | StatementKind::Select))
    {
        if !file
            .statements
            .iter()
            .any(|s| s.params.iter().any(|p| p.name == "lo"))
        {
            notes.push("a backfill runs batch by batch: restrict its DML to `key BETWEEN :lo AND :hi` (lint: backfill-without-key-range), or set `status: done` in its `backfill:` settings if every database already has it".into());
        }
        Phase::Backfills
    } else {
        if kinds.contains(&StatementKind::Dml) {
            notes.push("mixes schema and data changes: move the data change to sql/backfills (lint: dml-in-ddl)".into());
        }
        if concurrent_indexes > 0 {
            notes.push("builds an index CONCURRENTLY among other statements: move it to its own file in sql/indexes (lint: non-transactional-in-ddl)".into());
        }
        Phase::Ddl
    };
    // Index builds and backfills keep their own state; only DDL needs a fingerprint.
    Ok(Some((phase, notes)))
}

/// The manifest fields of an adopted file, as `manifest sync` writes them for a new file:
/// its checksum under the proposed name, a DDL file's proposed fingerprint (so a database
/// that already has the change is reconciled, not re-run), a backfill's table.
fn entry_fields(a: &Adopted) -> Result<Vec<String>, Error> {
    let invalid = || InitError::File {
        path: a.from.clone(),
        message: format!("`{}` is not a name refinery accepts", a.stem),
    };
    let (version, name) = crate::config::parse_stem(&a.stem).ok_or_else(invalid)?;
    let migration = Migration {
        id: a.id(),
        phase: a.phase,
        version,
        name: name.to_owned(),
        path: a.from.clone(),
        checksum: checksum(&a.stem, &a.sql).ok_or_else(invalid)?,
        sql: a.sql.clone(),
    };
    new_entry_fields(&migration)
}

/// The name part of a proposed file name: what follows the version, in lower case, with
/// runs of anything but letters and digits turned into `_`.
fn name_part(path: &Path) -> String {
    let stem = path.file_stem().unwrap_or_default().to_string_lossy();
    let stem = stem.strip_suffix(".up").unwrap_or(&stem);
    // `V12__x`, `v1.2__x`, `001_x`, `20240101120000_x`: the version is not part of the name.
    let version = Regex::new(r"^[Vv]?\d+(?:\.\d+)*").expect("valid");
    let rest = version.find(stem).map_or(stem, |m| &stem[m.end()..]);
    let mut name = String::new();
    for c in rest.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            name.push(c);
        } else if !name.ends_with('_') {
            name.push('_');
        }
    }
    let name = name.trim_matches('_');
    if name.is_empty() {
        "migration".into()
    } else {
        name.to_owned()
    }
}

fn move_file(from: &Path, to: &Path) -> Result<(), InitError> {
    let failed = |message: String| InitError::Move {
        from: from.to_owned(),
        to: to.to_owned(),
        message,
    };
    if let Some(dir) = to.parent() {
        std::fs::create_dir_all(dir).map_err(|e| failed(e.to_string()))?;
    }
    std::fs::rename(from, to).map_err(|e| failed(e.to_string()))
}

fn shown(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::name_part;

    #[test]
    fn names_come_from_what_follows_the_version() {
        let cases = [
            ("V12__Add_Leads.sql", "add_leads"),
            ("001_create users.sql", "create_users"),
            ("20240101120000_add-index.up.sql", "add_index"),
            ("schema.sql", "schema"),
            ("0042.sql", "migration"),
            ("v1.2__x.sql", "x"),
            ("views.sql", "views"),
        ];
        for (file, name) in cases {
            assert_eq!(name_part(Path::new(file)), name, "{file}");
        }
    }
}
