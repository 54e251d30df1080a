//! Edits `manifest.yaml` as text. The file is hand-written (comments, flow-style
//! fingerprints, the order people chose), and a YAML round trip through serde would lose
//! all of that; so `manifest sync` and `new` change only the lines they own: an entry's
//! `checksum:` line and new entries appended to `migrations:`. Every edit is re-parsed and
//! validated before anything is written.

use std::path::Path;

use super::{ConfigError, Manifest};

/// The manifest `sync` creates when a project has none.
pub const NEW_MANIFEST: &str = "# sqlrail manifest: every migration, its checksum, fingerprint and batch settings.\n# Reference: docs/manifest.md\nmigrations:\n";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    #[error(
        "{path}:{line}: entry `{id}` is written on one line (`- {{ id: … }}`); write it as a block (`- id: …` with one key per line) so its checksum can be set"
    )]
    InlineEntry { path: String, line: u32, id: String },
    #[error("{path}: no top-level `migrations:` key to add entries to")]
    NoMigrationsKey { path: String },
}

/// The manifest's text being edited.
pub struct ManifestText<'a> {
    path: &'a Path,
    lines: Vec<String>,
}

impl<'a> ManifestText<'a> {
    pub fn new(path: &'a Path, text: &str) -> Self {
        ManifestText {
            path,
            lines: text.lines().map(str::to_owned).collect(),
        }
    }

    pub fn text(&self) -> String {
        let mut text = self.lines.join("\n");
        text.push('\n');
        text
    }

    fn display(&self) -> String {
        self.path.display().to_string()
    }

    /// Sets the `checksum:` of entry `id` (which must exist): replaces its line or adds
    /// one right after `- id:`.
    pub fn set_checksum(&mut self, id: &str, checksum: u64) -> Result<(), EditError> {
        self.set_field(id, "checksum", &format!("\"{checksum}\""))
    }

    /// Sets `key: value` (a YAML scalar or flow collection) in entry `id` (which must
    /// exist): replaces the key's line or adds one right after `- id:`.
    pub fn set_field(&mut self, id: &str, key: &str, value: &str) -> Result<(), EditError> {
        let text = self.text();
        let at = super::line_of_id(&text, id) as usize - 1;
        let id_line = self.lines[at].clone();
        if !id_line.contains(id) || id_line.contains('{') {
            let line = self
                .lines
                .iter()
                .position(|l| l.contains(id))
                .map_or(1, |n| n as u32 + 1);
            return Err(EditError::InlineEntry {
                path: self.display(),
                line,
                id: id.to_owned(),
            });
        }
        // Keys of the entry are indented like `id`.
        let indent = id_line.find("id").unwrap_or(4);
        let prefix = format!("{key}:");
        let value = format!("{}{prefix} {value}", " ".repeat(indent));
        let end = (at + 1..self.lines.len())
            .find(|&n| {
                let line = &self.lines[n];
                let depth = line.len() - line.trim_start().len();
                !line.trim().is_empty() && !line.trim_start().starts_with('#') && depth < indent
            })
            .unwrap_or(self.lines.len());
        let existing = (at + 1..end).find(|&n| {
            let line = &self.lines[n];
            line.len() - line.trim_start().len() == indent && line.trim_start().starts_with(&prefix)
        });
        match existing {
            Some(n) => self.lines[n] = value,
            None => self.lines.insert(at + 1, value),
        }
        Ok(())
    }

    /// Removes entry `id` (which must exist): its `- id:` line and the lines indented
    /// under it. Comments and blank lines before the next entry stay.
    pub fn remove_entry(&mut self, id: &str) -> Result<(), EditError> {
        let text = self.text();
        let at = super::line_of_id(&text, id) as usize - 1;
        let id_line = self.lines[at].clone();
        if !id_line.trim_start().starts_with("- ") || id_line.contains('{') {
            return Err(EditError::InlineEntry {
                path: self.display(),
                line: at as u32 + 1,
                id: id.to_owned(),
            });
        }
        let indent = id_line.find("id").unwrap_or(4);
        let end = (at + 1..self.lines.len())
            .find(|&n| {
                let line = &self.lines[n];
                let depth = line.len() - line.trim_start().len();
                line.trim().is_empty() || depth < indent
            })
            .unwrap_or(self.lines.len());
        self.lines.drain(at..end);
        Ok(())
    }

    /// Appends an entry (`- id: …` and the given `key: value` lines) to `migrations:`.
    pub fn append_entry(&mut self, id: &str, fields: &[String]) -> Result<(), EditError> {
        let key = self
            .lines
            .iter()
            .position(|l| l.starts_with("migrations:"))
            .ok_or_else(|| EditError::NoMigrationsKey {
                path: self.display(),
            })?;
        // `migrations: []` becomes a block list.
        if self.lines[key].trim_end() != "migrations:" {
            let rest = self.lines[key]["migrations:".len()..].trim();
            if rest.starts_with("[]") {
                self.lines[key] = "migrations:".to_owned();
            }
        }
        // The list runs to the next top-level key.
        let end = (key + 1..self.lines.len())
            .find(|&n| {
                let line = &self.lines[n];
                line.starts_with(|c: char| !c.is_whitespace() && c != '-' && c != '#')
            })
            .unwrap_or(self.lines.len());
        let last = (key + 1..end)
            .rev()
            .find(|&n| !self.lines[n].trim().is_empty())
            .unwrap_or(key);
        let dash = (key + 1..end)
            .find_map(|n| {
                let line = &self.lines[n];
                line.trim_start()
                    .starts_with("- ")
                    .then(|| line.len() - line.trim_start().len())
            })
            .unwrap_or(2);
        let mut entry = vec![format!("{}- id: {id}", " ".repeat(dash))];
        entry.extend(
            fields
                .iter()
                .map(|f| format!("{}{f}", " ".repeat(dash + 2))),
        );
        let at = last + 1;
        self.lines.splice(at..at, entry);
        Ok(())
    }

    /// Parses and validates the edited text: an edit never leaves a manifest `apply` or
    /// `lint` would reject.
    pub fn validate(&self) -> Result<Manifest, ConfigError> {
        Manifest::parse(self.path, &self.text())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edit(text: &str, f: impl FnOnce(&mut ManifestText<'_>)) -> String {
        let path = Path::new("manifest.yaml");
        let mut m = ManifestText::new(path, text);
        f(&mut m);
        m.validate().unwrap();
        m.text()
    }

    #[test]
    fn checksums_are_added_or_replaced_and_nothing_else_moves() {
        let text = "settings:\n  ledger_table: x   # ours\nmigrations:\n  # schema\n  - id: ddl/V1__a\n    fingerprint: { table: a }   # keep\n  - id: ddl/V2__b\n    checksum: \"1\"\n    fingerprint: { table: b }\n";
        let out = edit(text, |m| {
            m.set_checksum("ddl/V1__a", 11).unwrap();
            m.set_checksum("ddl/V2__b", 22).unwrap();
        });
        assert_eq!(
            out,
            "settings:\n  ledger_table: x   # ours\nmigrations:\n  # schema\n  - id: ddl/V1__a\n    checksum: \"11\"\n    fingerprint: { table: a }   # keep\n  - id: ddl/V2__b\n    checksum: \"22\"\n    fingerprint: { table: b }\n"
        );
    }

    #[test]
    fn entries_are_appended_to_the_list_before_the_next_key() {
        let text = "migrations:\n- id: ddl/V1__a\n  fingerprint: { table: a }\n\nsettings:\n  ledger_table: x\n";
        let out = edit(text, |m| {
            m.append_entry("ddl/V2__b", &["checksum: \"5\"".into()])
                .unwrap()
        });
        assert_eq!(
            out,
            "migrations:\n- id: ddl/V1__a\n  fingerprint: { table: a }\n- id: ddl/V2__b\n  checksum: \"5\"\n\nsettings:\n  ledger_table: x\n"
        );
        let out = edit("migrations: []\n", |m| {
            m.append_entry("ddl/V1__a", &[]).unwrap()
        });
        assert_eq!(out, "migrations:\n  - id: ddl/V1__a\n");
        let out = edit(NEW_MANIFEST, |m| m.append_entry("ddl/V1__a", &[]).unwrap());
        assert!(out.ends_with("migrations:\n  - id: ddl/V1__a\n"), "{out}");
    }

    #[test]
    fn inline_entries_are_refused_with_their_line() {
        let path = Path::new("manifest.yaml");
        let mut m = ManifestText::new(path, "migrations:\n  - { id: ddl/V1__a }\n");
        assert_eq!(
            m.set_checksum("ddl/V1__a", 1).unwrap_err().to_string(),
            "manifest.yaml:2: entry `ddl/V1__a` is written on one line (`- { id: … }`); write it as a block (`- id: …` with one key per line) so its checksum can be set"
        );
    }
}
