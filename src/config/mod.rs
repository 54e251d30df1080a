//! Configuration: `manifest.yaml` and `lint-rules.yaml` as typed structs, parsed and
//! validated once. Nothing after loading reads these files again.

mod bytes;
mod duration;
mod fingerprint;
mod ids;
mod lint_rules;
mod manifest;
mod manifest_edit;
mod yaml;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{LazyLock, Mutex};

pub use bytes::HumanBytes;
pub use duration::HumanDuration;
pub use fingerprint::{Fingerprint, IndexDef, yaml_scalar};
pub use ids::{parse_file_name, parse_id, parse_stem};
pub use lint_rules::{
    CustomRule, DEFAULT_POSTGRES_VERSION, LintRules, OLDEST_POSTGRES_VERSION, Phase, RuleLevel,
    Severity,
};
pub use manifest::{
    AdaptiveBatch, AdoptedFrom, BackfillDefaults, BackfillSettings, BackfillStatus, DdlSettings,
    Entry, IndexSettings, LockRetrySettings, Manifest, Priority, RetrySettings, Settings, Tool,
};
pub use manifest_edit::{EditError, ManifestText, NEW_MANIFEST};

/// What can be wrong with a configuration file. Every variant names the file, and the line
/// where one is known.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}:{line}:{column}: {message}", path.display())]
    Syntax {
        path: PathBuf,
        line: u32,
        column: u32,
        message: String,
    },
    #[error("{}:{line}: {message}", path.display())]
    Invalid {
        path: PathBuf,
        line: u32,
        message: String,
    },
}

fn read(path: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })
}

/// Parses a YAML configuration file other than the manifest (the fleet's `--targets`),
/// with errors that name its file, line and column.
pub fn parse_yaml<T: serde::de::DeserializeOwned>(
    path: &Path,
    text: &str,
) -> Result<T, ConfigError> {
    yaml::parse(path, text)
}

/// The 1-based line of the `occurrence`-th (from 0) `key: value` line (1 if nowhere).
pub fn line_of_value(text: &str, key: &str, value: &str, occurrence: usize) -> u32 {
    yaml::line_of(text, key, value, occurrence)
}

/// The 1-based line where `key:` first appears in a configuration text (1 if nowhere).
pub fn line_of_key(text: &str, key: &str) -> u32 {
    yaml::line_of_key(text, key)
}

/// The line of migration `id`'s entry in the manifest text (1 if not found).
pub fn line_of_id(manifest_text: &str, id: &str) -> u32 {
    yaml::line_of(manifest_text, "id", id, 0)
}

/// The lines of every entry's `id:` in the manifest text, found in one pass.
pub struct EntryLines<'t> {
    lines: HashMap<&'t str, Vec<u32>>,
}

impl<'t> EntryLines<'t> {
    pub fn of(manifest_text: &'t str) -> Self {
        EntryLines {
            lines: yaml::lines_by_value(manifest_text, "id"),
        }
    }

    /// The line of `id`'s entry (its `occurrence`-th, from 0), or 1 if not found.
    pub fn line(&self, id: &str, occurrence: usize) -> u32 {
        self.lines
            .get(id)
            .and_then(|l| l.get(occurrence))
            .copied()
            .unwrap_or(1)
    }
}

impl Manifest {
    /// Reads and validates `path`.
    pub fn load(path: &Path) -> Result<Manifest, ConfigError> {
        Manifest::parse(path, &read(path)?)
    }

    /// Parses and validates `text`, the contents of `path`.
    pub fn parse(path: &Path, text: &str) -> Result<Manifest, ConfigError> {
        let manifest: Manifest = yaml::parse(path, text)?;
        manifest.validate(path, text)?;
        Ok(manifest)
    }

    fn validate(&self, path: &Path, text: &str) -> Result<(), ConfigError> {
        let invalid = |line: u32, message: String| ConfigError::Invalid {
            path: path.to_owned(),
            line,
            message,
        };
        let setting = |key: &str, message: String| invalid(yaml::line_of_key(text, key), message);
        let s = &self.settings;
        for (key, value) in [
            ("ledger_schema", &s.ledger_schema),
            ("ledger_table", &s.ledger_table),
        ] {
            if value.trim().is_empty() || value.contains('.') {
                return Err(setting(
                    key,
                    format!("settings.{key} must be a plain identifier, got `{value}`"),
                ));
            }
        }
        let sections = [
            ("backfills", "batch_size", s.backfills.batch_size),
            ("backfills", "max_passes", s.backfills.max_passes),
            ("retry", "attempts", s.retry.attempts),
            ("lock_retry", "attempts", s.lock_retry.attempts),
        ];
        for (section, key, value) in sections {
            if value == 0 {
                let line = yaml::line_of_nested(text, section, key);
                return Err(invalid(
                    line,
                    format!("settings.{section}.{key} must be at least 1"),
                ));
            }
        }
        if s.retry.initial_backoff > s.retry.max_backoff {
            let line = yaml::line_of_nested(text, "retry", "initial_backoff");
            return Err(invalid(
                line,
                "settings.retry.initial_backoff must not exceed max_backoff".into(),
            ));
        }
        if s.lock_retry.initial_pause > s.lock_retry.max_pause {
            let line = yaml::line_of_nested(text, "lock_retry", "initial_pause");
            return Err(invalid(
                line,
                "settings.lock_retry.initial_pause must not exceed max_pause".into(),
            ));
        }
        let mut seen = HashSet::new();
        let entry_lines = EntryLines::of(text);
        for entry in &self.migrations {
            let occurrence = usize::from(seen.contains(entry.id.as_str()));
            let line = entry_lines.line(&entry.id, occurrence);
            let Some((phase, _, _)) = parse_id(&entry.id) else {
                return Err(invalid(
                    line,
                    format!(
                        "migration id `{}` is malformed: expected `<phase>/V<number>__<name>` with phase ddl, indexes or backfills, e.g. `ddl/V1__core_tables`",
                        entry.id
                    ),
                ));
            };
            if !seen.insert(entry.id.as_str()) {
                return Err(invalid(
                    line,
                    format!(
                        "migration `{}` is listed twice; each id must appear once",
                        entry.id
                    ),
                ));
            }
            if let Some(checksum) = &entry.checksum
                && checksum.parse::<u64>().is_err()
            {
                return Err(invalid(
                    line,
                    format!(
                        "migration `{}`: checksum `{checksum}` is not a decimal number (refinery's checksum of the file)",
                        entry.id
                    ),
                ));
            }
            if let Some(fingerprint) = &entry.fingerprint {
                fingerprint
                    .validate()
                    .map_err(|m| invalid(line, format!("migration `{}`: {m}", entry.id)))?;
            }
            match (phase, &entry.backfill, &entry.fingerprint) {
                (Phase::Backfills, None, _) => {
                    return Err(invalid(
                        line,
                        format!(
                            "backfill `{}` needs a `backfill:` block with at least `table:` (the table whose key range is walked)",
                            entry.id
                        ),
                    ));
                }
                (Phase::Backfills, Some(_), Some(_)) => {
                    return Err(invalid(
                        line,
                        format!(
                            "backfill `{}` has a fingerprint; backfills track progress in the ledger instead, remove it",
                            entry.id
                        ),
                    ));
                }
                (Phase::Ddl | Phase::Indexes, Some(_), _) => {
                    return Err(invalid(
                        line,
                        format!(
                            "migration `{}` has a `backfill:` block, which only files in sql/backfills take",
                            entry.id
                        ),
                    ));
                }
                _ => {}
            }
            if let Some(backfill) = &entry.backfill {
                backfill_valid(backfill)
                    .map_err(|m| invalid(line, format!("backfill `{}`: {m}", entry.id)))?;
            }
        }
        Ok(())
    }

    pub fn entry(&self, id: &str) -> Option<&Entry> {
        let by_id = self.by_id.get_or_init(|| {
            let mut by_id = HashMap::with_capacity(self.migrations.len());
            for (i, e) in self.migrations.iter().enumerate() {
                by_id.entry(e.id.clone()).or_insert(i);
            }
            by_id
        });
        by_id.get(id).map(|&i| &self.migrations[i])
    }
}

fn backfill_valid(b: &BackfillSettings) -> Result<(), String> {
    if b.table.trim().is_empty() || b.key.trim().is_empty() {
        return Err("`table` and `key` must not be empty".into());
    }
    if b.batch_size == Some(0) {
        return Err("`batch_size` must be at least 1".into());
    }
    if let Some(a) = &b.adaptive
        && (a.min_batch == 0 || a.min_batch > a.max_batch || a.target.is_zero())
    {
        return Err(
            "`adaptive` needs a non-zero `target` and 1 <= `min_batch` <= `max_batch`".into(),
        );
    }
    Ok(())
}

impl LintRules {
    pub fn load(path: &Path) -> Result<LintRules, ConfigError> {
        LintRules::parse(path, &read(path)?)
    }

    pub fn parse(path: &Path, text: &str) -> Result<LintRules, ConfigError> {
        let rules: LintRules = yaml::parse(path, text)?;
        let invalid = |line: u32, message: String| ConfigError::Invalid {
            path: path.to_owned(),
            line,
            message,
        };
        if let Err(e) = compiled_regex(&rules.backfill_comment_pattern) {
            return Err(invalid(
                yaml::line_of_key(text, "backfill_comment_pattern"),
                format!("backfill_comment_pattern is not a valid regex: {e}"),
            ));
        }
        if !(OLDEST_POSTGRES_VERSION..=99).contains(&rules.postgres_version) {
            return Err(invalid(
                yaml::line_of_key(text, "postgres_version"),
                format!(
                    "postgres_version: {} is not a PostgreSQL major version sqlrail lints for; write a number from {OLDEST_POSTGRES_VERSION} (10, 11, … 18)",
                    rules.postgres_version
                ),
            ));
        }
        let mut seen = HashSet::new();
        for rule in &rules.custom {
            let line = yaml::line_of(
                text,
                "id",
                &rule.id,
                usize::from(seen.contains(rule.id.as_str())),
            );
            if !seen.insert(rule.id.as_str()) {
                return Err(invalid(
                    line,
                    format!("custom rule `{}` is defined twice", rule.id),
                ));
            }
            let kebab = rule.id.split('-').all(|part| {
                !part.is_empty()
                    && part
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            });
            if !kebab {
                return Err(invalid(
                    line,
                    format!(
                        "custom rule id `{}` must be kebab-case (a-z, 0-9, -)",
                        rule.id
                    ),
                ));
            }
            if rule.directories.is_empty() {
                let message = format!(
                    "custom rule `{}`: `directories` is empty; list ddl, indexes and/or backfills",
                    rule.id
                );
                return Err(invalid(line, message));
            }
            if let Err(e) = compiled_regex(&rule.pattern) {
                return Err(invalid(
                    line,
                    format!(
                        "custom rule `{}`: pattern is not a valid regex: {e}",
                        rule.id
                    ),
                ));
            }
        }
        Ok(rules)
    }
}

/// `pattern` compiled, once per process: validating `lint-rules.yaml` compiles its
/// patterns and linting needs them again, and compiling a case-insensitive Unicode
/// pattern is most of the time a lint of a small project takes.
pub(crate) fn compiled_regex(pattern: &str) -> Result<regex::Regex, regex::Error> {
    static CACHE: LazyLock<Mutex<HashMap<String, regex::Regex>>> = LazyLock::new(Default::default);
    let mut cache = CACHE
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(regex) = cache.get(pattern) {
        return Ok(regex.clone());
    }
    let regex = regex::Regex::new(pattern)?;
    cache.insert(pattern.to_owned(), regex.clone());
    Ok(regex)
}

#[cfg(test)]
mod tests;
