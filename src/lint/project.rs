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
        self.files.iter().position(|f| f.id.as_deref() == Some(id))
    }

    /// The bytes of the manifest line that holds `- id: <id>`.
    pub fn entry_span(&self, id: &str) -> Range<usize> {
        let line = crate::config::line_of_id(self.manifest_text, id) as usize;
        let span = line_span(self.manifest_text, line);
        let text = &self.manifest_text[span.clone()];
        // Underline the entry, not its indentation.
        span.start + (text.len() - text.trim_start().len())..span.end
    }

    /// The (folded) name of the index the file of migration `id` builds.
    pub fn index_built_by(&self, id: &str) -> Option<String> {
        let file = self.files.iter().find(|f| f.id.as_deref() == Some(id))?;
        super::rules::fingerprint_invalid::index_name(file.source.as_deref()?)
    }
}

/// The bytes of 1-based `line` of `text`, without its line break.
pub fn line_span(text: &str, line: usize) -> Range<usize> {
    let mut start = 0;
    for _ in 1..line {
        match text[start..].find('\n') {
            Some(n) => start += n + 1,
            None => break,
        }
    }
    let end = text[start..].find('\n').map_or(text.len(), |n| start + n);
    start..end.max(start)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_spans_exclude_the_break() {
        let text = "a\nbc\n\nd";
        assert_eq!(&text[line_span(text, 2)], "bc");
        assert_eq!(&text[line_span(text, 3)], "");
        assert_eq!(&text[line_span(text, 4)], "d");
    }
}
