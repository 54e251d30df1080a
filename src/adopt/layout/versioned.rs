//! Flyway and refinery: `V<version>__<description>.sql`, ordered by version (Flyway's may
//! be dotted, `V1.2__x`, or use `_` for the dots). `R__` files are Flyway's repeatable
//! migrations and its `U` files undo scripts: reported, not adopted. refinery's `U` files
//! are its unversioned migrations, which it applies and records like `V` ones: adopted. Files already under
//! `sql/ddl`, `sql/indexes` or `sql/backfills` are a sqlrail project without its
//! manifest: they keep their phase and their names (refinery's convention).

use std::path::Path;

use crate::config::{Phase, Tool};

use super::{File, source};
use crate::adopt::Found;

/// `V1_2__add_x.sql` → ([1, 2], "1.2", "add_x").
fn versioned(name: &str) -> Option<(Vec<u64>, String, &str)> {
    prefixed(name, 'V')
}

/// `<prefix><version>__<description>.sql`, as [`versioned`].
fn prefixed(name: &str, prefix: char) -> Option<(Vec<u64>, String, &str)> {
    let stem = name.strip_suffix(".sql")?.strip_prefix(prefix)?;
    let (version, description) = stem.split_once("__")?;
    let parts: Option<Vec<u64>> = version.split(['.', '_']).map(|p| p.parse().ok()).collect();
    let parts = parts.filter(|p| !p.is_empty())?;
    let dotted = parts
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(".");
    Some((parts, dotted, description))
}

pub fn read(root: &Path, files: &[File]) -> Option<Found> {
    let mut sources = Vec::new();
    let mut skipped = Vec::new();
    let own_phase = |f: &File| {
        let dir = f.path.parent()?;
        Phase::ALL
            .into_iter()
            .find(|p| dir.starts_with(root.join("sql").join(p.dir())))
    };
    let flyway_marker = ["flyway.conf", "flyway.toml"]
        .iter()
        .any(|m| files.iter().any(|f| f.name == *m));
    // The folder with the most versioned files (sqlrail's own sql/<phase> folders count
    // as one) is the history.
    let group = |f: &File| -> Option<std::path::PathBuf> {
        own_phase(f)
            .map(|_| root.join("sql"))
            .or_else(|| f.path.parent().map(Path::to_owned))
    };
    let mut counts: Vec<(std::path::PathBuf, usize)> = Vec::new();
    for f in files
        .iter()
        .filter(|f| f.text.is_some() && versioned(&f.name).is_some())
    {
        let Some(g) = group(f) else { continue };
        match counts.iter_mut().find(|(d, _)| *d == g) {
            Some((_, n)) => *n += 1,
            None => counts.push((g, 1)),
        }
    }
    counts.sort_by_key(|(d, n)| (std::cmp::Reverse(*n), d.clone()));
    let dir = counts.first()?.0.clone();
    let in_history: Vec<&File> = files
        .iter()
        .filter(|f| f.text.is_some() && group(f).as_ref() == Some(&dir))
        .collect();
    let mut unprefixed = Vec::new();
    for f in &in_history {
        if let Some((parts, dotted, description)) = versioned(&f.name) {
            let phase = own_phase(f);
            let sql = f.text.clone().unwrap_or_default();
            let mut s = source(f, &dotted, description, sql, true);
            s.phase = phase;
            sources.push(((phase.is_some(), parts), s));
        } else if f.name.starts_with("R__") {
            skipped.push((f.path.clone(), "a Flyway repeatable migration (it runs again whenever it changes): sqlrail has no repeatables; add its current body as a DDL migration (CREATE OR REPLACE) if the schema needs it".into()));
        } else if prefixed(&f.name, 'U').is_some() {
            unprefixed.push(*f);
        }
    }
    if sources.is_empty() && unprefixed.is_empty() {
        return None;
    }
    let native = sources.iter().all(|((own, _), _)| *own);
    let dotted = sources.iter().any(|((_, parts), _)| parts.len() > 1);
    let tool = if flyway_marker || (dotted && !native) {
        Tool::Flyway
    } else {
        Tool::Refinery
    };
    for f in unprefixed {
        let (parts, dotted, description) = prefixed(&f.name, 'U').expect("listed as U");
        // Flyway's undo script of `V3__x` is `U3__x`; refinery's versions are unique.
        let undo = tool == Tool::Flyway || sources.iter().any(|((_, p), _)| *p == parts);
        if undo {
            skipped.push((
                f.path.clone(),
                "a Flyway undo migration: sqlrail migrates forward only".into(),
            ));
        } else {
            let phase = own_phase(f);
            let mut s = source(
                f,
                &dotted,
                description,
                f.text.clone().unwrap_or_default(),
                true,
            );
            s.phase = phase;
            sources.push(((phase.is_some(), parts), s));
        }
    }
    if sources.is_empty() {
        return None;
    }
    sources.sort_by(|a, b| (a.1.phase, &a.0.1).cmp(&(b.1.phase, &b.0.1)));
    Some(Found {
        tool: Some(tool),
        sources: sources.into_iter().map(|(_, s)| s).collect(),
        skipped,
        project: None,
    })
}
