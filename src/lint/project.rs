//! The project-level view for consistency rules: the manifest (text and parsed) and every
//! `.sql` file under `sql/<phase>/`, named or misnamed.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::config::{Manifest, Phase};
use crate::history::History;
use crate::project::{Migration, Project};

/// One `.sql` file under `sql/<phase>/`.
#[derive(Debug, Clone)]
pub struct ProjectFile {
    pub path: PathBuf,
    pub display: String,
    pub phase: Phase,
    /// `ddl/V3__leads`; `None` when the name is not a migration name.
    pub id: Option<String>,
    pub version: Option<u64>,
    /// refinery's checksum (`None` when misnamed or unreadable).
    pub checksum: Option<u64>,
    pub source: Option<Arc<String>>,
}

impl ProjectFile {
    pub fn new(path: PathBuf, display: String, phase: Phase, source: Option<Arc<String>>) -> Self {
        let stem = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".sql"))
            .unwrap_or_default()
            .to_owned();
        let version = crate::config::parse_stem(&stem).map(|(v, _)| v);
        let id = version.map(|_| format!("{}/{stem}", phase.dir()));
        let checksum = match (&id, &source) {
            (Some(_), Some(sql)) => crate::project::checksum(&stem, sql),
            _ => None,
        };
        ProjectFile {
            path,
            display,
            phase,
            id,
            version,
            checksum,
            source,
        }
    }
}

pub struct ProjectContext<'a> {
    pub manifest_path: &'a Path,
    pub manifest_text: &'a str,
    pub manifest: &'a Manifest,
    pub files: &'a [ProjectFile],
    /// The history of the files that are migrations, for the rules that judge
    /// fingerprints and the order of phases.
    pub history: &'a History<'a>,
    /// Where each entry is, and where each line of the manifest starts: rules ask for an
    /// entry's span once per finding, and searching the text each time made a project of
    /// 10,000 migrations quadratic.
    pub entry_lines: crate::config::EntryLines<'a>,
    pub line_starts: Vec<usize>,
    /// Each migration's file (index into `files`).
    pub file_by_id: std::collections::HashMap<&'a str, usize>,
}

/// The migrations among `files` (named, read), as a project for the history.
pub fn project_of(manifest_path: &Path, manifest: &Manifest, files: &[ProjectFile]) -> Project {
    let mut migrations: Vec<Migration> = files
        .iter()
        .filter_map(|f| {
            let id = f.id.clone()?;
            let sql = f.source.as_deref()?.clone();
            let (_, version, name) = crate::config::parse_id(&id)?;
            Some(Migration {
                phase: f.phase,
                version,
                name: name.to_owned(),
                path: f.path.clone(),
                checksum: f.checksum?,
                sql,
                id,
            })
        })
        .collect();
    migrations.sort_by_key(|m| (m.phase, m.version));
    let root = manifest_path.parent().unwrap_or(Path::new("."));
    Project::new(root, manifest_path.to_owned(), manifest.clone(), migrations)
}

impl ProjectContext<'_> {
    /// The index in `files` of migration `id`'s file.
    pub fn file_of(&self, id: &str) -> Option<usize> {
        self.file_by_id.get(id).copied()
    }

    /// The bytes of the manifest line that holds `- id: <id>`.
    pub fn entry_span(&self, id: &str) -> Range<usize> {
        let line = self.entry_lines.line(id, 0) as usize;
        let start = self.line_starts.get(line - 1).copied().unwrap_or(0);
        let end = self.manifest_text[start..]
            .find('\n')
            .map_or(self.manifest_text.len(), |n| start + n);
        let span = start..end;
        let text = &self.manifest_text[span.clone()];
        // Underline the entry, not its indentation.
        span.start + (text.len() - text.trim_start().len())..span.end
    }

    /// The (folded) name of the index the file of migration `id` builds.
    pub fn index_built_by(&self, id: &str) -> Option<String> {
        let file = &self.files[self.file_of(id)?];
        super::rules::fingerprint_invalid::index_name(file.source.as_deref()?)
    }
}

/// Where each line of `text` starts.
pub fn line_starts(text: &str) -> Vec<usize> {
    std::iter::once(0)
        .chain(memchr::memchr_iter(b'\n', text.as_bytes()).map(|n| n + 1))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_start_after_each_break() {
        assert_eq!(line_starts("a\nbc\n\nd"), [0, 2, 5, 6]);
        assert_eq!(line_starts(""), [0]);
    }
}
