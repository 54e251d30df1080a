//! Helpers for rule tests: lint a snippet as a file of a phase, or a project in a temporary
//! directory, and render what a user would see (plain text, for snapshots).

use std::path::PathBuf;
use std::sync::Arc;

use crate::config::{LintRules, Phase};

use super::engine::{Keep, Source, lint_text};
use super::settings::LintSettings;
use super::target::resolve;
use super::{Finding, conclude, finish_in_order};

/// The settings rule tests run with: `leads`, `call_log` and `messages` are hot, and the
/// example project's custom rule exists.
pub fn settings() -> LintSettings {
    settings_with("")
}

/// `settings()` with more `lint-rules.yaml` lines (`postgres_version: 10\n`).
pub fn settings_with(extra: &str) -> LintSettings {
    let text = format!(
        "{}{extra}",
        r#"
hot_tables: [leads, call_log, messages]
custom:
  - id: no-truncate-cascade
    message: TRUNCATE ... CASCADE empties every referencing table too
    pattern: '(?is)\bTRUNCATE\b.*\bCASCADE\b'
    directories: [ddl, backfills]
    severity: high
"#
    );
    let path = std::path::Path::new("lint-rules.yaml");
    let rules = LintRules::parse(path, &text).unwrap();
    LintSettings::new(rules, Some((path, &text))).unwrap()
}

/// Lints `sql` as the file `sql/<phase>/V1__test.sql`.
pub fn lint(phase: Phase, sql: &str) -> Vec<Finding> {
    lint_with(&settings(), phase, sql)
}

/// `lint` with other settings.
pub fn lint_with(settings: &LintSettings, phase: Phase, sql: &str) -> Vec<Finding> {
    let path = PathBuf::from(format!("sql/{}/V1__test.sql", phase.dir()));
    let source = Source {
        display: path.display().to_string(),
        path,
        phase,
    };
    let mut linted =
        lint_text(source, Arc::new(sql.to_owned()), settings, Keep::ALL).expect("test SQL lexes");
    finish_in_order(&mut linted, &mut Default::default(), settings);
    let findings = conclude(vec![linted], None, settings).unwrap();
    findings.iter().cloned().collect()
}

fn rendered(findings: &[Finding]) -> String {
    findings
        .iter()
        .map(|f| crate::report::human(f, false))
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// What `sqlrail lint` shows for `sql` as a file of `phase`; fails if it finds nothing.
pub fn lint_errors(phase: Phase, sql: &str) -> String {
    let findings = lint(phase, sql);
    assert!(!findings.is_empty(), "expected findings in:\n{sql}");
    rendered(&findings)
}

/// Asserts that `sql` as a file of `phase` has no findings.
pub fn lint_ok(phase: Phase, sql: &str) {
    let findings = lint(phase, sql);
    assert!(
        findings.is_empty(),
        "expected no findings, got:\n{}",
        rendered(&findings)
    );
}

/// A project in a temporary directory: `manifest.yaml` and files under `sql/`.
pub struct Fixture {
    pub dir: tempfile::TempDir,
}

impl Fixture {
    /// `files`: (path under `sql/`, text).
    pub fn new(manifest: &str, files: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("manifest.yaml"), manifest).unwrap();
        for (path, text) in files {
            let path = dir.path().join("sql").join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        Fixture { dir }
    }
}

/// What `sqlrail lint` shows for the fixture project (paths relative to its root).
pub fn project_errors(fixture: &Fixture) -> String {
    let root = fixture.dir.path();
    let target = resolve(&[], None, None, root).unwrap();
    let settings = settings();
    let outcome = super::run(
        target.sources,
        target.project.as_ref(),
        &settings,
        super::Delivery::Collect { keep_sources: true },
    )
    .unwrap();
    rendered(&outcome.findings.iter().cloned().collect::<Vec<_>>())
}
