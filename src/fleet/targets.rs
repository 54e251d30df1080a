//! The `--targets` file: the databases of a fleet, where to discover more, and how to
//! roll out across them. Read and checked whole before anything connects, so a mistake in
//! it exits 2 with nothing run.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::db::connect::Target as Connection;

/// A problem with the fleet's configuration, found before any target ran (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error("{}:{line}: {message}", path.display())]
    Invalid {
        path: PathBuf,
        line: u32,
        message: String,
    },
    #[error("{}: discover: {message}", path.display())]
    Discover { path: PathBuf, message: String },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileText {
    #[serde(default)]
    targets: Vec<TargetText>,
    discover: Option<DiscoverText>,
    #[serde(default)]
    rollout: RolloutText,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TargetText {
    name: String,
    url: Option<String>,
    url_env: Option<String>,
}

/// Targets listed by a query on a directory database.
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct DiscoverText {
    pub url: Option<String>,
    pub url_env: Option<String>,
    /// A query whose rows are `(name, url)`.
    pub sql: String,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RolloutText {
    #[serde(default)]
    canary: Vec<String>,
    concurrency: Option<usize>,
    on_failure: Option<OnFailure>,
}

/// What a failed target does to the targets not started yet.
#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OnFailure {
    /// Start no new target once one failed; the ones running finish.
    Stop,
    /// Go on with every target and report the failures at the end.
    Continue,
}

/// One database of the fleet. The connection string is only ever handed to the child
/// run (in its environment, not its arguments, which `ps` shows); output names the
/// target and its redacted description.
#[derive(Clone)]
pub struct Target {
    pub name: String,
    pub url: String,
    /// `host:port/db` without the password, for reports.
    pub shown: String,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Target({}, {})", self.name, self.shown)
    }
}

#[derive(Debug, Clone)]
pub struct Rollout {
    /// Applied first, one at a time; any failure stops the rollout.
    pub canary: Vec<String>,
    pub concurrency: usize,
    pub on_failure: OnFailure,
}

/// The checked file: listed targets (discovered ones come at run time) and the rollout.
#[derive(Debug)]
pub struct TargetsFile {
    pub path: PathBuf,
    pub targets: Vec<Target>,
    pub discover: Option<DiscoverText>,
    pub rollout: Rollout,
}

impl TargetsFile {
    /// Reads and checks `path`; `env` gives the `url_env` variables.
    pub fn load(path: &Path, env: &dyn Fn(&str) -> Option<String>) -> Result<Self, FleetError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| crate::config::ConfigError::Read {
                path: path.to_owned(),
                source,
            })?;
        Self::parse(path, &text, env)
    }

    pub fn parse(
        path: &Path,
        text: &str,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, FleetError> {
        let file: FileText = crate::config::parse_yaml(path, text)?;
        let invalid = |line: u32, message: String| FleetError::Invalid {
            path: path.to_owned(),
            line,
            message,
        };
        let mut seen = HashSet::new();
        let mut targets = Vec::new();
        for t in file.targets {
            // A repeated name is reported at its second entry.
            let earlier = targets
                .iter()
                .filter(|e: &&Target| e.name == t.name)
                .count();
            let line = crate::config::line_of_value(text, "name", &t.name, earlier);
            if !valid_name(&t.name) {
                return Err(invalid(
                    line,
                    format!(
                        "target name {:?}: use letters, digits, `-`, `_` and `.` (it names the target in reports)",
                        t.name
                    ),
                ));
            }
            if !seen.insert(t.name.clone()) {
                return Err(invalid(
                    line,
                    format!(
                        "target {} is listed twice; give each target one entry",
                        t.name
                    ),
                ));
            }
            let url = match (t.url, t.url_env) {
                (Some(url), None) => url,
                (None, Some(var)) => env(&var).filter(|v| !v.trim().is_empty()).ok_or_else(|| {
                    invalid(
                        line,
                        format!("target {}: url_env {var} is not set (or empty); export it, or give url:", t.name),
                    )
                })?,
                _ => {
                    return Err(invalid(
                        line,
                        format!("target {}: give exactly one of url: and url_env:", t.name),
                    ));
                }
            };
            targets.push(checked(&t.name, url).map_err(|m| invalid(line, m))?);
        }
        if let Some(d) = &file.discover
            && d.url.is_some() == d.url_env.is_some()
        {
            return Err(invalid(
                crate::config::line_of_key(text, "discover"),
                "discover: give exactly one of url: and url_env: (the directory database)".into(),
            ));
        }
        if targets.is_empty() && file.discover.is_none() {
            return Err(invalid(
                1,
                "no targets: list them under `targets:` or give `discover:`".into(),
            ));
        }
        let concurrency = file.rollout.concurrency.unwrap_or(4);
        if concurrency == 0 {
            return Err(invalid(
                crate::config::line_of_key(text, "concurrency"),
                "rollout.concurrency must be at least 1".into(),
            ));
        }
        let mut canaries = HashSet::new();
        for c in &file.rollout.canary {
            if !canaries.insert(c) {
                return Err(invalid(
                    crate::config::line_of_key(text, "canary"),
                    format!("rollout.canary names {c} twice"),
                ));
            }
            // Discovered targets may hold it; checked again once they are known.
            if file.discover.is_none() && !seen.contains(c) {
                return Err(invalid(
                    crate::config::line_of_key(text, "canary"),
                    format!("rollout.canary names {c}, which is not a target"),
                ));
            }
        }
        Ok(TargetsFile {
            path: path.to_owned(),
            targets,
            discover: file.discover,
            rollout: Rollout {
                canary: file.rollout.canary,
                concurrency,
                on_failure: file.rollout.on_failure.unwrap_or(OnFailure::Stop),
            },
        })
    }
}

/// Names appear in reports, JSON and log lines: no spaces or control characters.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 200
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// A target whose connection string parses as sqlrail would parse it for one run.
pub fn checked(name: &str, url: String) -> Result<Target, String> {
    let connection =
        Connection::parse(&url, name).map_err(|e| format!("target {name}: {e}; fix its url"))?;
    Ok(Target {
        name: name.to_owned(),
        shown: connection.describe(),
        url,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<TargetsFile, String> {
        let env = |name: &str| (name == "EU1").then(|| "postgres://app:pw@db-1/eu".to_owned());
        TargetsFile::parse(Path::new("targets.yaml"), text, &env).map_err(|e| e.to_string())
    }

    #[test]
    fn targets_rollout_and_their_defaults() {
        let file = parse(
            "targets:\n  - name: eu-1\n    url_env: EU1\n  - name: acme\n    url: postgres://app@db-2/acme\n\
             rollout:\n  canary: [eu-1]\n  concurrency: 8\n  on_failure: continue\n",
        )
        .unwrap();
        assert_eq!(file.targets.len(), 2);
        assert_eq!(file.targets[0].url, "postgres://app:pw@db-1/eu");
        assert!(
            !file.targets[0].shown.contains("pw"),
            "{}",
            file.targets[0].shown
        );
        assert_eq!(file.rollout.concurrency, 8);
        assert_eq!(file.rollout.on_failure, OnFailure::Continue);
        let defaults = parse("targets:\n  - name: a\n    url: postgres://h/a\n").unwrap();
        assert_eq!(defaults.rollout.concurrency, 4);
        assert_eq!(defaults.rollout.on_failure, OnFailure::Stop);
    }

    #[test]
    fn mistakes_name_the_line_and_the_fix() {
        let cases = [
            (
                "targets:\n  - name: a\n    url: postgres://h/a\n  - name: a\n    url: postgres://h/b\n",
                "targets.yaml:4: target a is listed twice",
            ),
            (
                "targets:\n  - name: a\n    url_env: NOPE\n",
                "targets.yaml:2: target a: url_env NOPE is not set",
            ),
            (
                "targets:\n  - name: a\n",
                "targets.yaml:2: target a: give exactly one of url: and url_env:",
            ),
            (
                "targets:\n  - name: a b\n    url: postgres://h/a\n",
                "targets.yaml:2: target name \"a b\"",
            ),
            (
                "targets:\n  - name: a\n    url: postgres://h/a\nrollout:\n  canary: [b]\n",
                "targets.yaml:5: rollout.canary names b, which is not a target",
            ),
            (
                "targets:\n  - name: a\n    url: postgres://h/a\nrollout:\n  concurrency: 0\n",
                "targets.yaml:5: rollout.concurrency must be at least 1",
            ),
            ("targets: []\n", "no targets"),
            (
                "targets:\n  - name: a\n    url: postgres://h/a\n    schema: x\n",
                "unknown field `schema`",
            ),
            ("rollout:\n  on_failure: maybe\n", "unknown variant `maybe`"),
        ];
        for (text, expected) in cases {
            let error = parse(text).unwrap_err();
            assert!(error.contains(expected), "{text:?}: {error}");
        }
    }
}
