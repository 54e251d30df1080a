//! Plain numbered files (`001_create_users.sql`, `20240101_add_index.sql`): adopted in
//! the order of their numbers, when no tool's layout fits better. Files without a number
//! are reported, not adopted: a README's example, a seed or a schema dump is not a
//! migration.

use std::path::Path;

use super::{File, dirs_with, section, source, split_version};
use crate::adopt::Found;

fn numbered(f: &File) -> bool {
    let stem = f.name.strip_suffix(".sql").unwrap_or(&f.name);
    f.text.is_some() && split_version(stem.trim_start_matches(['V', 'v'])).is_some()
}

pub fn read(_root: &Path, files: &[File]) -> Option<Found> {
    // The folder with the most numbered files is the history; numbered files elsewhere
    // (fixtures, dumps) are not part of it.
    let dir = *dirs_with(files, numbered).first()?;
    let mut sources = Vec::new();
    let mut skipped = Vec::new();
    for f in files
        .iter()
        .filter(|f| f.text.is_some() && f.path.parent() == Some(dir))
    {
        let lower = f.name.to_ascii_lowercase();
        if lower.ends_with(".down.sql") {
            skipped.push((
                f.path.clone(),
                "a down script: sqlrail migrates forward only".into(),
            ));
            continue;
        }
        let stem = f.name.strip_suffix(".sql").unwrap_or(&f.name);
        let stem = stem.strip_suffix(".up").unwrap_or(stem);
        let Some((version, name)) = split_version(stem.trim_start_matches(['V', 'v'])) else {
            continue;
        };
        let name = name.split("__").last().unwrap_or(name);
        let number: u128 = version.parse().unwrap_or(u128::MAX);
        let text = f.text.as_deref().unwrap_or_default();
        // A file of a tool with up and down sections, among plain files: only its up
        // section is the migration.
        let marker = |l: &str, words: &[&str]| {
            let l = l.trim().to_ascii_lowercase().replace(' ', "");
            words.iter().any(|w| l.starts_with(w))
        };
        let sql = section(
            text,
            |l| marker(l, &["--migrate:up", "--+gooseup"]),
            |l| marker(l, &["--migrate:down", "--+goosedown"]),
        )
        .unwrap_or_else(|| text.to_owned());
        sources.push((
            (number, f.path.clone()),
            source(f, version, name, sql, true),
        ));
    }
    sources.sort_by(|a, b| a.0.cmp(&b.0));
    (!sources.is_empty()).then(|| Found {
        tool: None,
        sources: sources.into_iter().map(|(_, s)| s).collect(),
        skipped,
        project: None,
    })
}
