//! `sqlrail init`: starts a project in an empty folder, or adopts the migration history of
//! another tool found in it (`crate::adopt`): writes the history as sqlrail files under
//! `sql/`, the manifest (checksums, fingerprints proven against the history, each file's
//! place and its version in the other tool), the lint configuration and a lint baseline
//! of what the history already does, so that only new migrations are judged. The
//! originals are left as they were unless `--rename`.

use std::path::{Path, PathBuf};

use crate::adopt::{self, Adopted, Found, InitError, shown};
use crate::cli::{InitArgs, LintArgs, LintFormat};
use crate::config::{Manifest, ManifestText, NEW_MANIFEST, Phase};
use crate::error::{Error, Exit};
use crate::history::History;
use crate::project::{Migration, Project, checksum};

use super::manifest::{
    new_entry_fields, no_proposal_note, print_no_proposal_notes, proposal_for, write_atomically,
};

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
    let mut found = adopt::find(&root)?;
    let adopted = adopt::plan(&mut found)?;
    let (manifest_text, notes) = manifest(&root, &manifest_path, &found, &adopted)?;
    report(&root, &found, &adopted, &notes, args);
    if args.dry_run {
        crate::say!("--dry-run: nothing was written");
        return Ok(Exit::Success);
    }
    write_files(&root, &adopted, args.rename)?;
    write_atomically(&manifest_path, &manifest_text)?;
    let rules_path = root.join("lint-rules.yaml");
    if !rules_path.exists() {
        std::fs::write(&rules_path, NEW_LINT_RULES)?;
    }
    crate::say!(
        "created {} ({} migration{}), {} and sql/{{ddl,indexes,backfills}}",
        manifest_path.display(),
        adopted.len(),
        if adopted.len() == 1 { "" } else { "s" },
        rules_path.display()
    );
    if adopted.is_empty() {
        crate::say!(
            "next: `sqlrail new ddl <name>` for a first migration, `sqlrail lint`, `sqlrail apply`"
        );
        return Ok(Exit::Success);
    }
    grandfather(&root)?;
    if !args.rename && adopted.iter().any(|a| a.from != a.to(&root)) {
        crate::say!(
            "the originals were left as they were: once sqlrail applies this project, delete them (or run init with --rename to move what was adopted unchanged)"
        );
    }
    crate::say!("next: `sqlrail plan` against a database, then `sqlrail apply`");
    Ok(Exit::Success)
}

/// The manifest for the adopted files, and notes on the fingerprints it could not give.
fn manifest(
    root: &Path,
    manifest_path: &Path,
    found: &Found,
    adopted: &[Adopted],
) -> Result<(String, Vec<String>), Error> {
    let mut text = NEW_MANIFEST.to_owned();
    if let Some(tool) = found
        .tool
        .filter(|_| adopted.iter().any(|a| a.origin.is_some()))
    {
        // Before `migrations:`: a database that tool migrated is adopted from its ledger.
        text = text.replace(
            "migrations:\n",
            &format!(
                "settings:\n  # The history came from {0}; a database {0} migrated is adopted from its ledger.\n  adopted_from: {{ tool: {0}{1} }}\nmigrations:\n",
                tool.as_str(),
                found
                    .project
                    .as_deref()
                    .map(|p| format!(", project: {}", crate::config::yaml_scalar(p)))
                    .unwrap_or_default()
            ),
        );
    }
    let migrations: Vec<Migration> = adopted
        .iter()
        .map(|a| migration(root, a))
        .collect::<Result<_, _>>()?;
    // The history of the files as adopted, with their places, decides each fingerprint.
    let mut placed = ManifestText::new(manifest_path, &text);
    for a in adopted {
        placed
            .append_entry(&a.id(), &place_fields(a))
            .map_err(|e| Error::Usage(e.to_string()))?;
    }
    let shape = Manifest::parse(manifest_path, &placed.text())?;
    let project = Project::new(root, manifest_path.to_owned(), shape, migrations);
    let history = History::of(&project);
    let mut edit = ManifestText::new(manifest_path, &text);
    let mut notes = Vec::new();
    for (a, m) in adopted.iter().zip(&project.migrations) {
        let proposed = proposal_for(&history, m);
        if proposed.is_none() && m.phase == Phase::Ddl {
            notes.push(no_proposal_note(&history, m));
        }
        let mut fields = new_entry_fields(m, proposed.as_ref())?;
        fields.extend(place_fields(a));
        edit.append_entry(&a.id(), &fields)
            .map_err(|e| Error::Usage(e.to_string()))?;
    }
    edit.validate()?;
    Ok((edit.text(), notes))
}

/// An adopted file's place in the DDL sequence and its version in the other tool.
fn place_fields(a: &Adopted) -> Vec<String> {
    let mut fields = Vec::new();
    if let Some(after) = &a.after {
        fields.push(format!("after: {after}"));
    }
    if let Some(before) = &a.before {
        fields.push(format!("before: {before}"));
    }
    if let Some(origin) = &a.origin {
        fields.push(format!("origin: \"{origin}\""));
    }
    fields
}

fn migration(root: &Path, a: &Adopted) -> Result<Migration, Error> {
    let invalid = || InitError::File {
        path: a.from.clone(),
        message: format!("`{}` is not a name refinery accepts", a.stem),
    };
    let (version, name) = crate::config::parse_stem(&a.stem).ok_or_else(invalid)?;
    Ok(Migration {
        id: a.id(),
        phase: a.phase,
        version,
        name: name.to_owned(),
        path: a.to(root),
        checksum: checksum(&a.stem, &a.sql).ok_or_else(invalid)?,
        sql: a.sql.clone(),
    })
}

/// Says, per source file, what it became and what needs a decision.
fn report(root: &Path, found: &Found, adopted: &[Adopted], notes: &[String], args: &InitArgs) {
    match found.tool {
        Some(tool) if !adopted.is_empty() => crate::say!(
            "found a {} history: {} migration(s), adopted in {}'s order",
            tool.as_str(),
            found.sources.len(),
            tool.as_str()
        ),
        None if !adopted.is_empty() => crate::say!(
            "found {} numbered migration file(s), adopted in the order of their numbers",
            found.sources.len()
        ),
        _ => {}
    }
    let verb = |a: &Adopted| {
        if a.from == a.to(root) {
            "kept as"
        } else if args.rename && a.verbatim {
            "moved to"
        } else {
            "becomes"
        }
    };
    let mut last_from: Option<&PathBuf> = None;
    for a in adopted {
        let from = if last_from == Some(&a.from) {
            "  …and".to_owned()
        } else {
            shown(root, &a.from)
        };
        last_from = Some(&a.from);
        let place = match (&a.after, &a.before) {
            (Some(after), _) => format!(" (runs right after {after})"),
            (None, Some(before)) => format!(" (runs right before {before})"),
            _ => String::new(),
        };
        crate::say!("{from:<52} {} {}{place}", verb(a), shown(root, &a.to(root)));
        for note in &a.notes {
            crate::say!("    needs a decision: {note}");
        }
    }
    for (path, why) in &found.skipped {
        crate::say!("skipped {}: {why}", shown(root, path));
    }
    print_no_proposal_notes(notes);
}

/// Writes the sql/ tree: each adopted file at its place (moved with `--rename` when it is
/// its source unchanged). Every destination is checked before the first file is written.
fn write_files(root: &Path, adopted: &[Adopted], rename: bool) -> Result<(), Error> {
    let writes: Vec<&Adopted> = adopted.iter().filter(|a| a.from != a.to(root)).collect();
    if let Some(a) = writes.iter().find(|a| a.to(root).exists()) {
        return Err(InitError::Write {
            path: a.to(root),
            message: "it exists already; nothing was written".into(),
        }
        .into());
    }
    for phase in Phase::ALL {
        let dir = root.join("sql").join(phase.dir());
        std::fs::create_dir_all(&dir)?;
        let keep = dir.join(".gitkeep");
        if !keep.exists() {
            std::fs::write(keep, "")?;
        }
    }
    for a in writes {
        let to = a.to(root);
        let failed = |e: std::io::Error| InitError::Write {
            path: to.clone(),
            message: e.to_string(),
        };
        if rename && a.verbatim {
            std::fs::rename(&a.from, &to).map_err(failed)?;
        } else {
            std::fs::write(&to, &a.sql).map_err(failed)?;
        }
    }
    Ok(())
}

/// Records what `lint` finds in the adopted history as the baseline: that history ran
/// already, and only new migrations are judged.
fn grandfather(root: &Path) -> Result<(), Error> {
    let args = LintArgs {
        paths: vec![root.to_owned()],
        format: LintFormat::Text,
        fail_on: None,
        role: None,
        config: Some(root.join("lint-rules.yaml")),
        write_baseline: true,
        no_baseline: false,
        explain: None,
        list_rules: false,
    };
    super::lint::run(&args).map(|_| ())
}
