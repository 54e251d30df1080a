//! golang-migrate: `<version>_<name>.up.sql` and `.down.sql`, ordered by the number. A
//! file is sent as one multi-statement query, which PostgreSQL runs as one implicit
//! transaction; its ledger keeps only the last version (and whether it failed half-way).

use std::path::Path;

use crate::config::Tool;

use super::{File, dirs_with, source, split_version};
use crate::adopt::Found;

fn up(f: &File) -> Option<(&str, &str)> {
    split_version(f.name.strip_suffix(".up.sql")?)
}

pub fn read(_root: &Path, files: &[File]) -> Option<Found> {
    let dir = *dirs_with(files, |f| up(f).is_some()).first()?;
    let mut found = Found {
        tool: Some(Tool::GolangMigrate),
        ..Found::default()
    };
    let mut sources = Vec::new();
    for f in files.iter().filter(|f| f.path.parent() == Some(dir)) {
        if let Some((version, name)) = up(f) {
            let Some(sql) = f.text.clone() else { continue };
            let number: u128 = version.parse().unwrap_or(u128::MAX);
            sources.push((number, source(f, &number.to_string(), name, sql, true)));
        } else if f.name.ends_with(".down.sql") {
            found.skipped.push((
                f.path.clone(),
                "a down script: sqlrail migrates forward only".into(),
            ));
        } else {
            found.skipped.push((
                f.path.clone(),
                "not a golang-migrate migration (`N_name.up.sql`); left alone".into(),
            ));
        }
    }
    sources.sort_by_key(|(n, _)| *n);
    found.sources = sources.into_iter().map(|(_, s)| s).collect();
    (!found.sources.is_empty()).then_some(found)
}
