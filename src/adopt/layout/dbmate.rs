//! dbmate: `<version>_<name>.sql` files with `-- migrate:up` and `-- migrate:down`
//! sections, ordered by version; `-- migrate:up transaction:false` runs outside a
//! transaction.

use std::path::Path;

use crate::config::Tool;

use super::{File, dirs_with, section, source, split_version};
use crate::adopt::Found;

fn marker(line: &str) -> Option<&str> {
    line.strip_prefix("--")?
        .trim_start()
        .strip_prefix("migrate:")
}

fn is_dbmate(f: &File) -> bool {
    f.text.as_deref().is_some_and(|t| {
        t.lines()
            .any(|l| marker(l.trim()).is_some_and(|m| m.starts_with("up")))
    })
}

pub fn read(_root: &Path, files: &[File]) -> Option<Found> {
    let dir = *dirs_with(files, is_dbmate).first()?;
    let mut found = Found {
        tool: Some(Tool::Dbmate),
        ..Found::default()
    };
    let mut sources = Vec::new();
    for f in files.iter().filter(|f| f.path.parent() == Some(dir)) {
        let versioned = f.name.strip_suffix(".sql").and_then(split_version);
        match versioned {
            Some((version, name)) if is_dbmate(f) => {
                let text = f.text.as_deref().unwrap_or_default();
                let up_line = text
                    .lines()
                    .find_map(|l| marker(l.trim()).filter(|m| m.starts_with("up")))
                    .unwrap_or("up");
                let transactional = !up_line.replace(' ', "").contains("transaction:false");
                let up = section(
                    text,
                    |l| marker(l).is_some_and(|m| m.starts_with("up")),
                    |l| marker(l).is_some_and(|m| m.starts_with("down")),
                )
                .unwrap_or_default();
                sources.push((
                    version.to_owned(),
                    source(f, version, name, up, transactional),
                ));
            }
            _ => found.skipped.push((
                f.path.clone(),
                "not a dbmate migration (no version, or no `-- migrate:up`); left alone".into(),
            )),
        }
    }
    // dbmate applies its files in file-name order (`1_a` before `10_b` before `2_c`); the
    // folder is listed in that order already.
    found.sources = sources.into_iter().map(|(_, s)| s).collect();
    (!found.sources.is_empty()).then_some(found)
}
