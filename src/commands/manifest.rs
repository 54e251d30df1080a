//! `sqlrail manifest sync`: record the checksum of every migration file in `manifest.yaml`
//! and add entries for new files, without touching anything written by hand.

use std::path::{Path, PathBuf};

use crate::cli::ManifestSyncArgs;
use crate::config::{Fingerprint, Manifest, ManifestText, NEW_MANIFEST, Phase};
use crate::error::{Error, Exit};
use crate::history::History;
use crate::project::{Migration, Project, ProjectError, discover, find_root};

pub fn sync(args: &ManifestSyncArgs) -> Result<Exit, Error> {
    let cwd = std::env::current_dir()?;
    let root = find_root(&cwd).ok_or_else(|| {
        Error::Usage(format!(
            "no manifest.yaml or sql/ directory in {} or above it; run this inside a project",
            cwd.display()
        ))
    })?;
    let manifest_path = root.join("manifest.yaml");
    let (text, created) = read_or_new(&manifest_path)?;
    let manifest = Manifest::parse(&manifest_path, &text)?;
    let mut migrations = Vec::new();
    for phase in Phase::ALL {
        migrations.extend(discover(&root, phase)?);
    }
    for id in &args.allow_edit {
        if !migrations.iter().any(|m| &m.id == id) {
            return Err(Error::Usage(format!(
                "--allow-edit {id}: no such migration file under {}",
                root.join("sql").display()
            )));
        }
    }

    // Proposals are judged against the history of the files as they are now.
    let project = Project::new(
        &root,
        manifest_path.clone(),
        manifest.clone(),
        migrations.clone(),
    );
    let history = History::of(&project);
    let proposed_fingerprint = |m: &Migration| proposal_for(&history, m);
    let mut edit = ManifestText::new(&manifest_path, &text);
    let mut changes = Vec::new();
    let mut notes = Vec::new();
    let mut refused = Vec::new();
    for m in &migrations {
        let checksum = m.checksum;
        match manifest.entry(&m.id).map(|e| e.checksum.as_deref()) {
            None => {
                let proposed = proposed_fingerprint(m);
                if proposed.is_none() && m.phase == Phase::Ddl {
                    notes.push(no_proposal_note(&history, m));
                }
                edit.append_entry(&m.id, &new_entry_fields(m, proposed.as_ref())?)
                    .map_err(|e| Error::Usage(e.to_string()))?;
                changes.push(format!("added   {} (checksum {checksum})", m.id));
            }
            Some(None) => {
                edit.set_checksum(&m.id, checksum)
                    .map_err(|e| Error::Usage(e.to_string()))?;
                // The first sync of a file `new` created also proposes its fingerprint.
                let proposed = manifest
                    .entry(&m.id)
                    .is_some_and(|e| e.fingerprint.is_none())
                    .then(|| proposed_fingerprint(m))
                    .flatten()
                    .map(|f| f.to_string());
                match proposed {
                    Some(fingerprint) => {
                        edit.set_field(&m.id, "fingerprint", &fingerprint)
                            .map_err(|e| Error::Usage(e.to_string()))?;
                        changes.push(format!(
                            "filled  {} (checksum {checksum}, fingerprint {fingerprint})",
                            m.id
                        ));
                    }
                    None => {
                        if m.phase == Phase::Ddl
                            && manifest.entry(&m.id).is_some_and(|e| e.fingerprint.is_none())
                        {
                            notes.push(no_proposal_note(&history, m));
                        }
                        changes.push(format!("filled  {} (checksum {checksum})", m.id))
                    }
                }
            }
            Some(Some(recorded)) if recorded.parse::<u64>().ok() == Some(checksum) => {}
            Some(Some(recorded)) if args.allow_edit.contains(&m.id) => {
                edit.set_checksum(&m.id, checksum)
                    .map_err(|e| Error::Usage(e.to_string()))?;
                changes.push(format!("updated {} (checksum {recorded} -> {checksum})", m.id));
            }
            Some(Some(recorded)) => refused.push(format!(
                "{}: the file changed (checksum {checksum}, manifest records {recorded}); if no database has applied it, pass --allow-edit {}; otherwise restore it and write a new migration",
                m.id, m.id
            )),
        }
    }
    // Entries whose file is gone: `status` and `apply` refuse such a manifest, so sync
    // must not call it "in sync".
    let files: std::collections::HashSet<&str> = migrations.iter().map(|m| m.id.as_str()).collect();
    let gone: Vec<&str> = manifest
        .migrations
        .iter()
        .map(|e| e.id.as_str())
        .filter(|id| !files.contains(id))
        .collect();
    let mut stale = Vec::new();
    for id in &gone {
        if args.prune {
            edit.remove_entry(id)
                .map_err(|e| Error::Usage(e.to_string()))?;
            changes.push(format!("removed {id} (its file is gone)"));
        } else {
            stale.push(format!(
                "{id}: listed in manifest.yaml, but its file is gone; if no database has applied it, remove the entry with `sqlrail manifest sync --prune`; if one has, restore the file"
            ));
        }
    }
    if !refused.is_empty() {
        for r in &refused {
            crate::say!("error: {r}");
        }
        return Err(Error::Reported(format!(
            "{} changed migration{} refused; manifest.yaml not written",
            refused.len(),
            if refused.len() == 1 { "" } else { "s" }
        )));
    }
    edit.validate()?;
    for change in &changes {
        crate::say!("{change}");
    }
    print_no_proposal_notes(&notes);
    for s in &stale {
        crate::say!("error: {s}");
    }
    if changes.is_empty() && stale.is_empty() {
        crate::say!(
            "manifest.yaml is in sync with {} migration files",
            migrations.len()
        );
        return Ok(Exit::Success);
    }
    if changes.is_empty() {
        return Err(Error::Reported(format!(
            "{} entr{} without a file",
            stale.len(),
            if stale.len() == 1 { "y" } else { "ies" }
        )));
    }
    if args.check {
        crate::say!(
            "{} change(s) needed; run `sqlrail manifest sync`",
            changes.len()
        );
        return Ok(Exit::Findings);
    }
    write_atomically(&manifest_path, &edit.text())?;
    crate::say!(
        "{} {}: {} change(s)",
        if created { "created" } else { "updated" },
        manifest_path.display(),
        changes.len()
    );
    if !stale.is_empty() {
        return Err(Error::Reported(format!(
            "{} entr{} without a file",
            stale.len(),
            if stale.len() == 1 { "y" } else { "ies" }
        )));
    }
    Ok(Exit::Success)
}

/// The manifest's text, or a new manifest's (`true`) when there is none yet.
pub fn read_or_new(path: &Path) -> Result<(String, bool), Error> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok((text, false)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok((NEW_MANIFEST.to_owned(), true)),
        Err(source) => Err(ProjectError::Read {
            path: path.to_owned(),
            source,
        }
        .into()),
    }
}

/// A DDL file's proposed fingerprint (`None` for other phases, and when no check proves
/// the migration's own effect).
pub(crate) fn proposal_for(history: &History<'_>, m: &Migration) -> Option<Fingerprint> {
    if m.phase != Phase::Ddl {
        return None;
    }
    history
        .step_of(&m.id)
        .and_then(|step| crate::history::proposal::propose(history, step))
}

/// Why `m` gets no fingerprint: one line for the notes `no_proposal_notes` prints.
pub(crate) fn no_proposal_note(history: &History<'_>, m: &Migration) -> String {
    let why = history
        .step_of(&m.id)
        .map_or("it is not in the history", |step| {
            crate::history::proposal::why_none(history, step)
        });
    format!("{}: {why}", m.id)
}

/// Prints the migrations that got no fingerprint, once, with what that means.
pub(crate) fn print_no_proposal_notes(notes: &[String]) {
    if notes.is_empty() {
        return;
    }
    crate::say!(
        "note: {} DDL migration(s) get no fingerprint, because no catalog check proves them:",
        notes.len()
    );
    for note in notes {
        crate::say!("  {note}");
    }
    crate::say!(
        "  That is fine: a database sqlrail migrates records them in its ledger. A database migrated without sqlrail is placed by its neighbours' checks (and data probes); to check one itself, write a `sql:` check true exactly after it (docs/manifest.md#fingerprints)."
    );
}

/// The fields of a new entry: its checksum, a DDL file's proposed fingerprint, a
/// backfill's table (read from the file's DML).
pub(crate) fn new_entry_fields(
    m: &Migration,
    fingerprint: Option<&Fingerprint>,
) -> Result<Vec<String>, Error> {
    let mut fields = vec![format!("checksum: \"{}\"", m.checksum)];
    if let Some(fingerprint) = fingerprint {
        fields.push(format!("fingerprint: {fingerprint}"));
    }
    if m.phase == Phase::Backfills {
        let table = crate::sql::split(&m.sql)
            .ok()
            .and_then(|f| f.statements.into_iter().find_map(|s| s.writes.into_iter().next()))
            .ok_or_else(|| {
                Error::Usage(format!(
                    "{}: cannot tell which table this backfill walks (no INSERT/UPDATE/DELETE found); add its entry by hand with `backfill: {{ table: … }}`",
                    m.path.display()
                ))
            })?;
        fields.push(format!("backfill: {{ table: {table} }}"));
    }
    Ok(fields)
}

/// Writes `text` to `path` through a temporary file and a rename, so that a crash leaves
/// the old file or the new one, never half of one.
pub fn write_atomically(path: &Path, text: &str) -> Result<(), Error> {
    let tmp: PathBuf = path.with_extension("yaml.sqlrail-tmp");
    let write = |p: &Path| {
        std::fs::write(p, text).map_err(|source| ProjectError::Read {
            path: p.to_owned(),
            source,
        })
    };
    write(&tmp)?;
    std::fs::rename(&tmp, path).map_err(|source| ProjectError::Read {
        path: path.to_owned(),
        source,
    })?;
    Ok(())
}
