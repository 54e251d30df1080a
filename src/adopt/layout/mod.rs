//! Which tool's layout a folder holds, and its migrations in that tool's order. Each
//! layout has its reader; every reader looks at the whole folder, and the one that finds
//! the most migrations wins (on a tie, the more specific layout: a goose file is also a
//! numbered file).

mod dbmate;
mod diesel;
mod golang_migrate;
mod goose;
mod numbered;
mod sqitch;
mod versioned;

use std::path::{Path, PathBuf};

use super::{Found, InitError, Source};

/// A file of the folder, read.
pub struct File {
    pub path: PathBuf,
    /// The file name.
    pub name: String,
    /// Its text, for `.sql` files that are UTF-8 (others are `None`).
    pub text: Option<String>,
}

/// A layout's reader: the migrations it finds in the folder's files, if any.
type Reader = fn(&Path, &[File]) -> Option<Found>;

/// Readers, most specific first (the order breaks ties).
const READERS: [Reader; 7] = [
    sqitch::read,
    diesel::read,
    goose::read,
    dbmate::read,
    golang_migrate::read,
    versioned::read,
    numbered::read,
];

/// The migrations of the folder `root`, in their tool's order, and the files left alone.
pub fn find(root: &Path) -> Result<Found, InitError> {
    let files = files(root)?;
    let mut best: Option<Found> = None;
    for read in READERS {
        if let Some(found) = read(root, &files)
            && best
                .as_ref()
                .is_none_or(|b| found.sources.len() > b.sources.len())
        {
            best = Some(found);
        }
    }
    let mut found = best.unwrap_or_default();
    // Every other SQL file is reported, so nothing is silently left out.
    let tool = found.tool.map_or("numbered migration", |t| t.as_str());
    let claimed: std::collections::HashSet<&Path> = found
        .sources
        .iter()
        .map(|s| s.path.as_path())
        .chain(found.skipped.iter().map(|(p, _)| p.as_path()))
        .collect();
    let mut unclaimed = Vec::new();
    for file in &files {
        let claimed = claimed.contains(file.path.as_path());
        if !claimed && file.name.ends_with(".sql") {
            unclaimed.push((
                file.path.clone(),
                format!("not a migration of the {tool} history found here; left alone (adopt it by hand if the schema needs it)"),
            ));
        }
    }
    drop(claimed);
    found.skipped.extend(unclaimed);
    found.skipped.sort();
    Ok(found)
}

/// Every file below `root`, except in hidden, build and dependency folders.
fn files(root: &Path) -> Result<Vec<File>, InitError> {
    let walk = walkdir::WalkDir::new(root)
        .follow_links(false)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| {
            let name = e.file_name().to_string_lossy();
            e.depth() == 0 || !(name.starts_with('.') || name == "target" || name == "node_modules")
        });
    let mut out = Vec::new();
    for entry in walk {
        let entry = entry.map_err(|e| InitError::List {
            path: root.to_owned(),
            message: e.to_string(),
        })?;
        if !entry.file_type().is_file() {
            continue;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        let text = name
            .ends_with(".sql")
            .then(|| crate::project::read_sql(entry.path()).ok())
            .flatten();
        out.push(File {
            path: entry.path().to_owned(),
            name,
            text,
        });
    }
    Ok(out)
}

/// The directories holding the most files for which `is` holds, most first: where a
/// layout's migrations are.
fn dirs_with(files: &[File], is: impl Fn(&File) -> bool) -> Vec<&Path> {
    let mut counts: Vec<(&Path, usize)> = Vec::new();
    for f in files.iter().filter(|f| is(f)) {
        let Some(dir) = f.path.parent() else { continue };
        match counts.iter_mut().find(|(d, _)| *d == dir) {
            Some((_, n)) => *n += 1,
            None => counts.push((dir, 1)),
        }
    }
    counts.sort_by_key(|(d, n)| (std::cmp::Reverse(*n), *d));
    counts.into_iter().map(|(d, _)| d).collect()
}

/// The lines of `text` between the line that starts a section (`is_start`) and the next
/// that ends it (`is_end`), without either.
fn section(
    text: &str,
    is_start: impl Fn(&str) -> bool,
    is_end: impl Fn(&str) -> bool,
) -> Option<String> {
    let mut lines = text.split_inclusive('\n');
    lines.by_ref().find(|l| is_start(l.trim()))?;
    let mut out = String::new();
    for line in lines {
        if is_end(line.trim()) {
            break;
        }
        out.push_str(line);
    }
    Some(out)
}

/// `001_create_users` → (`001`, `create_users`); the version is the leading digits.
fn split_version(stem: &str) -> Option<(&str, &str)> {
    let digits = stem.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    let rest = stem[digits..].trim_start_matches(['_', '-', '.']);
    Some((&stem[..digits], rest))
}

/// The source of one migration file.
fn source(file: &File, origin: &str, name: &str, sql: String, transactional: bool) -> Source {
    Source {
        path: file.path.clone(),
        origin: origin.to_owned(),
        name: name.to_owned(),
        sql,
        transactional,
        phase: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_and_versions() {
        let text = "-- +goose Up\nCREATE TABLE a (id int);\n-- +goose Down\nDROP TABLE a;\n";
        let up = section(text, |l| l == "-- +goose Up", |l| l == "-- +goose Down");
        assert_eq!(up.as_deref(), Some("CREATE TABLE a (id int);\n"));
        assert_eq!(split_version("0042_add_x"), Some(("0042", "add_x")));
        assert_eq!(split_version("views"), None);
    }
}
