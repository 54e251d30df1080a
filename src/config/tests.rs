use std::path::Path;

use super::*;

fn manifest_error(text: &str) -> String {
    Manifest::parse(Path::new("manifest.yaml"), text)
        .unwrap_err()
        .to_string()
}

fn rules_error(text: &str) -> String {
    LintRules::parse(Path::new("lint-rules.yaml"), text)
        .unwrap_err()
        .to_string()
}

#[test]
fn the_example_manifest_and_rules_load() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest = Manifest::load(&root.join("manifest.yaml")).unwrap();
    assert!(manifest.migrations.len() >= 42);
    let rules = LintRules::load(&root.join("lint-rules.yaml")).unwrap();
    assert!(rules.hot_tables.iter().any(|t| t == "leads"));
}

#[test]
fn defaults_follow_the_origin_write_up() {
    let m = Manifest::parse(Path::new("m.yaml"), "migrations: []").unwrap();
    assert_eq!(m.settings.ddl.lock_timeout, HumanDuration::secs(5));
    assert_eq!(m.settings.backfills.lock_timeout, HumanDuration::secs(60));
    assert_eq!(
        m.settings.backfills.statement_timeout,
        HumanDuration::secs(120)
    );
    assert_eq!(m.settings.backfills.batch_size, 200);
    assert_eq!(m.settings.backfills.sleep, HumanDuration::millis(50));
    assert_eq!(
        (m.settings.retry.attempts, m.settings.retry.max_backoff),
        (10, HumanDuration::secs(8))
    );
    assert!(m.settings.indexes.lock_timeout.is_zero());
}

#[test]
fn errors_name_file_line_and_what_is_expected() {
    insta::assert_snapshot!(
        [
            manifest_error("migrations:\n  - id: ddl/V1__a\n    fingerprnt: { table: a }\n"),
            manifest_error("settings:\n  ddl:\n    lock_timeout: 5\n"),
            manifest_error("settings:\n  ddl:\n    lock_timeout: 5 seconds\n"),
            manifest_error("migrations:\n  - id: ddl/V1__a\n  - id: ddl/V1__a\n"),
            manifest_error("migrations:\n  - id: ddl/1_a\n"),
            manifest_error("migrations:\n  - id: ddl/V1__a\n    fingerprint: { column: phone }\n"),
            manifest_error("migrations:\n  - id: ddl/V1__a\n    fingerprint: { tabel: a }\n"),
            manifest_error("migrations:\n  - id: backfills/V1__a\n"),
            manifest_error(
                "migrations:\n  - id: backfills/V1__a\n    backfill: { table: t, batch_size: 0 }\n"
            ),
            manifest_error("migrations:\n  - id: ddl/V1__a\n    checksum: abc\n"),
            manifest_error("settings:\n  backfills:\n    batch_size: 0\n"),
            manifest_error("migrations: [\n"),
            manifest_error(
                "settings:\n  retry:\n    attempts: 3\n  lock_retry:\n    attempts: 0\n"
            ),
            manifest_error("settings:\n  lock_retry:\n    initial_pause: 1m\n    max_pause: 5s\n"),
            manifest_error("migrations:\n  - id: ddl/V01__a\n  - id: ddl/V+5__a\n"),
            rules_error("custom:\n  - id: no-x\n    message: m\n    pattern: '(unclosed'\n"),
            rules_error("fail_on: severe\n"),
            rules_error("custom:\n  - id: -x-\n    message: m\n    pattern: x\n"),
            rules_error(
                "custom:\n  - id: x\n    message: m\n    pattern: x\n    directories: []\n"
            ),
            rules_error("rules:\n  rename: maybe\n"),
        ]
        .join("\n")
    );
}
