//! Grandfathered findings: a JSON file of (file, rule, statement hash) triples written by
//! `lint --write-baseline`. Findings it lists do not fail the run; entries that no longer
//! match any finding are reported so the file can be pruned. Keys use the normalised
//! statement, not the line, so moving a statement keeps its entry.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::finding::Finding;

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Entry {
    /// Relative to the baseline file's directory, `/`-separated.
    pub path: String,
    pub rule: String,
    /// The normalised statement's hash, 16 hex digits (`0` for whole-file findings).
    pub statement: String,
    /// For people reading the file; not part of the key.
    #[serde(default)]
    pub message: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Baseline {
    pub version: u32,
    pub findings: Vec<Entry>,
}

#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error("cannot read baseline {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}:{line}:{column}: baseline is not valid: {message}; delete it and run `sqlrail lint --write-baseline`", path.display())]
    Syntax {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("cannot write baseline {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Computes baseline entries for findings, relative to the baseline's directory.
pub struct Keys {
    dir: PathBuf,
    cwd: PathBuf,
}

impl Keys {
    /// For a baseline stored in `dir` (relative to the current directory or absolute).
    pub fn new(dir: &Path) -> Self {
        let cwd = std::env::current_dir().unwrap_or_default();
        Keys {
            dir: cwd.join(dir),
            cwd,
        }
    }

    /// The entry of `finding`.
    pub fn entry(&self, finding: &Finding) -> Entry {
        let file = self.cwd.join(&finding.file);
        let relative = file.strip_prefix(&self.dir).unwrap_or(&file);
        let path = relative
            .components()
            .filter(|c| !matches!(c, std::path::Component::CurDir))
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/");
        Entry {
            path,
            rule: finding.rule.to_string(),
            statement: format!("{:016x}", finding.key()),
            message: finding.message.to_string(),
        }
    }
}

impl Baseline {
    /// Reads `path`; a missing file is an empty baseline.
    pub fn load(path: &Path) -> Result<Baseline, BaselineError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Baseline::default()),
            Err(source) => {
                return Err(BaselineError::Read {
                    path: path.to_owned(),
                    source,
                });
            }
        };
        serde_json::from_str(&text).map_err(|e| BaselineError::Syntax {
            path: path.to_owned(),
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        })
    }

    pub fn write(path: &Path, mut entries: Vec<Entry>) -> Result<(), BaselineError> {
        entries.sort_by(|a, b| {
            (&a.path, &a.rule, &a.statement).cmp(&(&b.path, &b.rule, &b.statement))
        });
        let baseline = Baseline {
            version: 1,
            findings: entries,
        };
        let mut text = serde_json::to_string_pretty(&baseline).expect("plain data");
        text.push('\n');
        std::fs::write(path, text).map_err(|source| BaselineError::Write {
            path: path.to_owned(),
            source,
        })
    }

    /// Splits `keys` (one per finding, in order) into those the baseline does not cover,
    /// returned as indexes, and counts the entries left unmatched. Each entry covers one
    /// finding: two identical statements with the same finding need two entries.
    pub fn filter(&self, keys: &[Entry]) -> (Vec<usize>, Vec<Entry>) {
        let mut remaining: HashMap<(&str, &str, &str), usize> = HashMap::new();
        for e in &self.findings {
            *remaining
                .entry((e.path.as_str(), e.rule.as_str(), e.statement.as_str()))
                .or_default() += 1;
        }
        let mut new = Vec::new();
        for (n, key) in keys.iter().enumerate() {
            match remaining.get_mut(&(key.path.as_str(), key.rule.as_str(), key.statement.as_str()))
            {
                Some(count) if *count > 0 => *count -= 1,
                _ => new.push(n),
            }
        }
        let mut stale = Vec::new();
        for e in &self.findings {
            let k = (e.path.as_str(), e.rule.as_str(), e.statement.as_str());
            if let Some(count) = remaining.get_mut(&k)
                && *count > 0
            {
                *count -= 1;
                stale.push(e.clone());
            }
        }
        (new, stale)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(path: &str, rule: &str, statement: &str) -> Entry {
        Entry {
            path: path.into(),
            rule: rule.into(),
            statement: statement.into(),
            message: String::new(),
        }
    }

    #[test]
    fn entries_cover_one_finding_each_and_leftovers_are_stale() {
        let baseline = Baseline {
            version: 1,
            findings: vec![
                entry("a.sql", "drop", "01"),
                entry("a.sql", "drop", "01"),
                entry("b.sql", "rename", "02"),
            ],
        };
        let keys = [
            entry("a.sql", "drop", "01"),
            entry("a.sql", "drop", "01"),
            entry("a.sql", "drop", "01"),
            entry("c.sql", "drop", "01"),
        ];
        let (new, stale) = baseline.filter(&keys);
        assert_eq!(new, vec![2, 3]);
        assert_eq!(stale, vec![entry("b.sql", "rename", "02")]);
    }
}
