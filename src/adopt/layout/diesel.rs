//! diesel: `migrations/<version>_<name>/up.sql` (and `down.sql`), where the version is
//! what precedes the first `_` (`2019-03-14-093512`, or `00000000000000` for diesel's
//! initial setup). diesel records it without the dashes and runs migrations in that
//! order, each in one transaction unless its `metadata.toml` says
//! `run_in_transaction = false`.

use std::path::Path;

use crate::config::Tool;

use super::{File, dirs_with, source};
use crate::adopt::Found;

pub fn read(_root: &Path, files: &[File]) -> Option<Found> {
    // The migrations folder: the parent of the most migration folders with an up.sql.
    let folders = dirs_with(files, |f| f.name == "up.sql" && folder(&f.path).is_some());
    let mut parents: Vec<(&Path, usize)> = Vec::new();
    for parent in folders.iter().filter_map(|d| d.parent()) {
        match parents.iter_mut().find(|(p, _)| *p == parent) {
            Some((_, n)) => *n += 1,
            None => parents.push((parent, 1)),
        }
    }
    parents.sort_by_key(|(p, n)| (std::cmp::Reverse(*n), *p));
    let dir = parents.first()?.0;
    let mut found = Found {
        tool: Some(Tool::Diesel),
        ..Found::default()
    };
    let mut sources = Vec::new();
    for f in files
        .iter()
        .filter(|f| f.path.parent().and_then(Path::parent) == Some(dir))
    {
        let Some((version, name)) = folder(&f.path) else {
            continue;
        };
        match f.name.as_str() {
            "up.sql" => {
                let Some(sql) = f.text.clone() else {
                    found
                        .skipped
                        .push((f.path.clone(), "not readable as UTF-8 text".into()));
                    continue;
                };
                let metadata = f.path.with_file_name("metadata.toml");
                let transactional = std::fs::read_to_string(metadata).map_or(true, |m| {
                    !m.lines().any(|l| {
                        let setting = l.split('#').next().unwrap_or_default();
                        let l: String = setting.chars().filter(|c| !c.is_whitespace()).collect();
                        l == "run_in_transaction=false"
                    })
                });
                sources.push((
                    version.clone(),
                    source(f, &version, &name, sql, transactional),
                ));
            }
            "down.sql" => found.skipped.push((
                f.path.clone(),
                "a down script: sqlrail migrates forward only".into(),
            )),
            _ => {}
        }
    }
    sources.sort_by(|a, b| a.0.cmp(&b.0));
    found.sources = sources.into_iter().map(|(_, s)| s).collect();
    (!found.sources.is_empty()).then_some(found)
}

/// A migration folder's version (dashes removed, as diesel records it) and name.
fn folder(path: &Path) -> Option<(String, String)> {
    let dir = path.parent()?.file_name()?.to_str()?;
    let (version, name) = dir.split_once('_')?;
    let valid = !version.is_empty()
        && version.starts_with(|c: char| c.is_ascii_digit())
        && version.chars().all(|c| c.is_ascii_digit() || c == '-');
    valid.then(|| (version.replace('-', ""), name.to_owned()))
}
