//! goose: `<version>_<name>.sql` files holding `-- +goose Up` and `-- +goose Down`
//! sections, ordered by the numeric version. Only the Up section runs; `-- +goose
//! StatementBegin`/`StatementEnd` mark statements goose must not split (sqlrail's splitter
//! follows PostgreSQL's, so the markers are dropped); `-- +goose NO TRANSACTION` runs the
//! file outside a transaction.

use std::path::Path;

use crate::config::Tool;

use super::{File, dirs_with, section, source, split_version};
use crate::adopt::Found;

fn annotation(line: &str) -> Option<String> {
    let rest = line
        .strip_prefix("--")?
        .trim_start()
        .strip_prefix("+goose")?;
    Some(rest.trim().to_ascii_lowercase())
}

fn is_goose(f: &File) -> bool {
    f.text.as_deref().is_some_and(|t| {
        t.lines()
            .any(|l| annotation(l.trim()).is_some_and(|a| a == "up"))
    })
}

pub fn read(_root: &Path, files: &[File]) -> Option<Found> {
    let dir = *dirs_with(files, is_goose).first()?;
    let mut found = Found {
        tool: Some(Tool::Goose),
        ..Found::default()
    };
    let mut sources = Vec::new();
    for f in files.iter().filter(|f| f.path.parent() == Some(dir)) {
        let stem = f
            .name
            .strip_suffix(".sql")
            .or_else(|| f.name.strip_suffix(".go"));
        let versioned = stem.and_then(split_version);
        match (versioned, f.name.ends_with(".go"), is_goose(f)) {
            (Some(_), false, true)
                if f.text.as_deref().is_some_and(|t| {
                    t.lines()
                        .any(|l| annotation(l.trim()).is_some_and(|a| a == "envsub on"))
                }) =>
            {
                // goose replaces `${VAR}` from its environment; sqlrail runs SQL as
                // written, so the file would run with the placeholders in it.
                found.skipped.push((
                    f.path.clone(),
                    "uses goose's `-- +goose ENVSUB ON` (`${VAR}` replaced from the environment): sqlrail runs SQL as written; write the values in and adopt it by hand".into(),
                ));
            }
            (Some((version, name)), false, true) => {
                let text = f.text.as_deref().unwrap_or_default();
                let up = section(
                    text,
                    |l| annotation(l).is_some_and(|a| a == "up"),
                    |l| annotation(l).is_some_and(|a| a == "down"),
                )
                .unwrap_or_default();
                let no_transaction = text
                    .lines()
                    .any(|l| annotation(l.trim()).is_some_and(|a| a == "no transaction"));
                let sql: String = up
                    .split_inclusive('\n')
                    .filter(|l| annotation(l.trim()).is_none())
                    .collect();
                let number: u128 = version.parse().unwrap_or(u128::MAX);
                let origin = number.to_string();
                sources.push((number, source(f, &origin, name, sql, !no_transaction)));
            }
            (Some(_), true, _) => found.skipped.push((
                f.path.clone(),
                "a goose Go migration: sqlrail runs SQL only; port what it does to a SQL migration"
                    .into(),
            )),
            _ => found.skipped.push((
                f.path.clone(),
                "not a goose migration (no version, or no `-- +goose Up`); left alone".into(),
            )),
        }
    }
    sources.sort_by_key(|(n, _)| *n);
    found.sources = sources.into_iter().map(|(_, s)| s).collect();
    (!found.sources.is_empty()).then_some(found)
}
