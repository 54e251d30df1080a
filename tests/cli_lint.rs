//! `sqlrail lint`, `manifest sync` and `new` as a user runs them: the real binary in a
//! temporary copy of a project, exit codes and output.

mod support;

use std::path::Path;

use support::{copy_dir, repo_root, sqlrail};

/// A copy of the example project (manifest, rules, sql/) in a temporary directory.
fn example_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for file in ["manifest.yaml", "lint-rules.yaml"] {
        std::fs::copy(repo_root().join(file), dir.path().join(file)).unwrap();
    }
    copy_dir(&repo_root().join("sql"), &dir.path().join("sql"));
    dir
}

fn write(dir: &Path, path: &str, text: &str) {
    let path = dir.join(path);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

#[test]
fn the_example_project_lints_clean_at_every_level() {
    let (code, stdout, stderr) = sqlrail(&["lint", "--fail-on", "warning"], repo_root());
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, "");
    assert!(stderr.ends_with("0 findings in 57 files\n"), "{stderr}");
}

#[test]
fn the_demo_fixture_shows_every_kind_of_finding() {
    let fixture = repo_root().join("tests/fixtures/lint-demo");
    let (code, stdout, stderr) = sqlrail(&["lint"], &fixture);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(stdout, "");
    // Not a terminal: plain text, no colour codes.
    assert!(!stderr.contains('\u{1b}'));
    insta::assert_snapshot!(stderr);
}

#[test]
fn json_output_has_stable_fields_and_a_summary() {
    let fixture = repo_root().join("tests/fixtures/lint-demo");
    let (code, stdout, _) = sqlrail(&["lint", "--format", "json", "--fail-on", "high"], &fixture);
    assert_eq!(code, 1);
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let first = &json["findings"][0];
    for field in ["rule", "severity", "path", "line", "column", "message"] {
        assert!(!first[field].is_null(), "{field} in {first}");
    }
    assert_eq!(json["summary"]["findings"], 24);
    assert_eq!(json["summary"]["high"], 7);
    assert_eq!(json["summary"]["fail_on"], "high");
    let ddl_update = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "dml-in-ddl")
        .unwrap();
    assert_eq!(ddl_update["path"], "sql/ddl/V2__leads_status.sql");
    assert_eq!(
        (ddl_update["line"].as_u64(), ddl_update["severity"].as_str()),
        (Some(3), Some("high"))
    );
}

#[test]
fn the_fail_level_decides_the_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "m/V1__a.sql",
        "ALTER TABLE leads RENAME COLUMN a TO b;\n",
    );
    // `rename` is low by default: it fails at the default level (low), not at medium.
    assert_eq!(sqlrail(&["lint", "m"], dir.path()).0, 1);
    assert_eq!(
        sqlrail(&["lint", "--fail-on", "medium", "m"], dir.path()).0,
        0
    );
    // An explicit lock (LOCK TABLE) is medium: it fails at medium, not at high.
    write(
        dir.path(),
        "m/V1__a.sql",
        "LOCK TABLE leads IN SHARE MODE;\n",
    );
    assert_eq!(sqlrail(&["lint", "m"], dir.path()).0, 1);
    assert_eq!(
        sqlrail(&["lint", "--fail-on", "medium", "m"], dir.path()).0,
        1
    );
    assert_eq!(
        sqlrail(&["lint", "--fail-on", "high", "m"], dir.path()).0,
        0
    );
    // A rewrite under ACCESS EXCLUSIVE (ALTER COLUMN … TYPE bigint) is high: it fails at every level.
    write(
        dir.path(),
        "m/V1__a.sql",
        "ALTER TABLE leads ALTER COLUMN a TYPE bigint;\n",
    );
    assert_eq!(
        sqlrail(&["lint", "--fail-on", "high", "m"], dir.path()).0,
        1
    );
}

#[test]
fn machine_formats_go_to_stdout() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "ddl/V1__a.sql",
        "CREATE TABLE t (a int);\nUPDATE leads SET a = 1;\n",
    );
    let (code, stdout, _) = sqlrail(&["lint", "--format", "gcc", "."], dir.path());
    assert_eq!(code, 1);
    assert_eq!(
        stdout,
        "ddl/V1__a.sql:2:1: medium: [dml-in-ddl] `UPDATE` writes `leads` in a schema migration\n"
    );
    let (_, stdout, _) = sqlrail(&["lint", "--format", "github", "ddl"], dir.path());
    assert!(
        stdout.starts_with(
            "::error file=ddl/V1__a.sql,line=2,col=1,endLine=2,title=medium [dml-in-ddl]::"
        ),
        "{stdout}"
    );
    let (_, stdout, _) = sqlrail(&["lint", "--format", "sarif", "ddl/V1__a.sql"], dir.path());
    let sarif: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    assert_eq!(sarif["runs"][0]["results"][0]["ruleId"], "dml-in-ddl");
}

#[test]
fn loose_files_take_their_phase_from_the_directory_or_from_as() {
    let dir = tempfile::tempdir().unwrap();
    let update = "UPDATE leads SET a = 1 WHERE id BETWEEN :lo AND :hi;\n";
    write(dir.path(), "db/backfills/fix.sql", update);
    write(dir.path(), "db/other/fix.sql", update);
    let (_, stdout, _) = sqlrail(&["lint", "--format", "gcc", "db"], dir.path());
    // Under backfills/ it is a proper backfill; elsewhere it is DML in a DDL migration.
    assert_eq!(
        stdout,
        "db/other/fix.sql:1:1: medium: [dml-in-ddl] `UPDATE` writes `leads` in a schema migration\n"
    );
    let (code, stdout, _) = sqlrail(
        &["lint", "--format", "gcc", "--as", "backfills", "db"],
        dir.path(),
    );
    assert_eq!((code, stdout.as_str()), (0, ""));
}

#[test]
fn streamed_text_output_shows_the_statement() {
    // Loose files are linted as a stream, and the text format's snippets need the file's
    // text, which findings of other streamed formats no longer hold.
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "db/ddl/fix.sql",
        "SELECT 1;\nUPDATE leads SET a = 1;\n",
    );
    let (code, _, stderr) = sqlrail(&["lint", "db"], dir.path());
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("db/ddl/fix.sql:2:1"), "{stderr}");
    assert!(stderr.contains("2 | UPDATE leads SET a = 1"), "{stderr}");
}

#[test]
fn unreadable_files_are_reported_and_the_others_still_linted() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "ddl/V1__a.sql", "UPDATE t SET a = 1;\n");
    write(
        dir.path(),
        "ddl/V2__b.sql",
        "SELECT 1;\nSELECT 'unterminated;\n",
    );
    std::fs::write(dir.path().join("ddl/V3__c.sql"), b"SELECT '\xff';\n").unwrap();
    let (code, stdout, stderr) = sqlrail(&["lint", "--format", "gcc", "ddl"], dir.path());
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stdout.contains("ddl/V1__a.sql:1:1: medium: [dml-in-ddl]"),
        "{stdout}"
    );
    assert!(
        stderr.contains("ddl/V2__b.sql:2:8: unterminated string literal opened here"),
        "{stderr}"
    );
    assert!(
        stderr.contains("ddl/V3__c.sql: the file is not valid UTF-8"),
        "{stderr}"
    );
    assert!(
        stderr.contains("2 of 3 files could not be linted"),
        "{stderr}"
    );
}

#[test]
fn configuration_errors_name_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.sql", "SELECT 1;\n");
    write(
        dir.path(),
        "lint-rules.yaml",
        "rules:\n  drop: warning\n  dml-in-dll: high\n",
    );
    let (code, _, stderr) = sqlrail(&["lint", "a.sql"], dir.path());
    assert_eq!(code, 2);
    assert_eq!(
        stderr,
        "error: lint-rules.yaml:3: rules: `dml-in-dll` is not a rule; `sqlrail lint --list-rules` shows them all\n"
    );
    write(
        dir.path(),
        "lint-rules.yaml",
        "custom:\n  - id: no-x\n    message: x\n    pattern: '(unclosed'\n",
    );
    let (code, _, stderr) = sqlrail(&["lint", "a.sql"], dir.path());
    assert_eq!(code, 2);
    assert!(
        stderr.starts_with(
            "error: lint-rules.yaml:2: custom rule `no-x`: pattern is not a valid regex"
        ),
        "{stderr}"
    );
}

#[test]
fn the_baseline_grandfathers_findings_by_statement_not_line() {
    let dir = example_copy();
    let root = dir.path();
    write(
        root,
        "sql/ddl/V36__legacy.sql",
        "ALTER TABLE leads DROP COLUMN legacy;\nUPDATE leads SET a = 1;\n",
    );
    assert_eq!(sqlrail(&["manifest", "sync"], root).0, 0);
    assert_eq!(sqlrail(&["lint"], root).0, 1);
    let (code, _, stderr) = sqlrail(&["lint", "--write-baseline"], root);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("wrote 2 findings to"), "{stderr}");
    let baseline = std::fs::read_to_string(root.join("lint-baseline.json")).unwrap();
    assert!(
        baseline.contains("\"path\": \"sql/ddl/V36__legacy.sql\""),
        "{baseline}"
    );
    let (code, _, stderr) = sqlrail(&["lint", "--fail-on", "warning"], root);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.ends_with("0 findings in 58 files; 2 in the baseline\n"),
        "{stderr}"
    );

    // Moving the statements keeps them grandfathered; a new one fails.
    write(
        root,
        "sql/ddl/V36__legacy.sql",
        "-- moved down\n\nUPDATE  leads SET a = 1;\nalter table leads drop column legacy;\nDELETE FROM call_log;\n",
    );
    assert_eq!(
        sqlrail(
            &["manifest", "sync", "--allow-edit", "ddl/V36__legacy"],
            root
        )
        .0,
        0
    );
    let (code, stdout, _) = sqlrail(&["lint", "--format", "gcc", "--fail-on", "warning"], root);
    assert_eq!(code, 1);
    assert_eq!(
        stdout,
        "sql/ddl/V36__legacy.sql:5:1: high: [dml-in-ddl] `DELETE` writes hot table `call_log` in a schema migration\n"
    );
    // --no-baseline shows everything; removing a finding leaves a stale entry to prune.
    let (_, stdout, _) = sqlrail(
        &[
            "lint",
            "--format",
            "gcc",
            "--no-baseline",
            "--fail-on",
            "warning",
        ],
        root,
    );
    assert_eq!(
        stdout.lines().filter(|l| l.contains("V36__legacy")).count(),
        3,
        "{stdout}"
    );
    write(root, "sql/ddl/V36__legacy.sql", "UPDATE leads SET a = 1;\n");
    assert_eq!(
        sqlrail(
            &["manifest", "sync", "--allow-edit", "ddl/V36__legacy"],
            root
        )
        .0,
        0
    );
    let (_, _, stderr) = sqlrail(&["lint", "--fail-on", "warning"], root);
    assert!(stderr.contains("note: 1 baseline entry in"), "{stderr}");
    assert!(
        stderr.contains("no longer match a finding; run `sqlrail lint --write-baseline` to prune"),
        "{stderr}"
    );
}

#[test]
fn explain_prints_a_rule_and_rejects_unknown_ones() {
    let (code, stdout, _) = sqlrail(&["lint", "--explain", "dml-in-ddl"], repo_root());
    assert_eq!(code, 0);
    assert!(stdout.starts_with("## dml-in-ddl\n"), "{stdout}");
    assert!(stdout.contains("**Safe alternative.**"));
    let (code, _, stderr) = sqlrail(&["lint", "--explain", "dml-in-dll"], repo_root());
    assert_eq!(code, 2);
    assert_eq!(
        stderr,
        "error: `dml-in-dll` is not a rule; `sqlrail lint --list-rules` lists them\n"
    );
    let (_, stdout, _) = sqlrail(&["lint", "--list-rules"], repo_root());
    assert_eq!(stdout.lines().count(), 44);
}

#[test]
fn no_project_and_no_path_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, stderr) = sqlrail(&["lint"], dir.path());
    assert_eq!(code, 2);
    assert!(
        stderr.contains("no PATH given and no manifest.yaml"),
        "{stderr}"
    );
    let (code, _, stderr) = sqlrail(&["lint", "nope.sql"], dir.path());
    assert_eq!(
        (code, stderr.as_str()),
        (2, "error: nope.sql: no such file or directory\n")
    );
}

#[test]
fn manifest_sync_fills_checksums_and_refuses_edits_unless_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "sql/ddl/V1__a.sql", "CREATE TABLE a (x int);\n");
    write(
        root,
        "sql/backfills/V1__fill.sql",
        "UPDATE a SET x = 1 WHERE id BETWEEN :lo AND :hi;\n",
    );
    // No manifest yet: sync creates one, with the backfill's table read from its UPDATE.
    let (code, _, stderr) = sqlrail(&["manifest", "sync"], root);
    assert_eq!(code, 0, "{stderr}");
    let manifest = std::fs::read_to_string(root.join("manifest.yaml")).unwrap();
    // A new DDL entry gets the fingerprint its file proposes.
    assert!(
        manifest.contains("  - id: ddl/V1__a\n    checksum: \"")
            && manifest.contains("\n    fingerprint: { table: a }\n"),
        "{manifest}"
    );
    assert!(
        manifest.contains("  - id: backfills/V1__fill\n    checksum: \"")
            && manifest.contains("    backfill: { table: a }\n"),
        "{manifest}"
    );
    assert_eq!(sqlrail(&["manifest", "sync", "--check"], root).0, 0);

    // Hand-written content stays; an edited file is refused and nothing is written.
    let with_fingerprint = manifest
        .replace("\n    fingerprint: { table: a }\n", "\n")
        .replace(
            "  - id: ddl/V1__a\n",
            "  - id: ddl/V1__a   # core\n    fingerprint: { table: a }\n",
        );
    std::fs::write(root.join("manifest.yaml"), &with_fingerprint).unwrap();
    write(root, "sql/ddl/V1__a.sql", "CREATE TABLE a (x bigint);\n");
    let (code, _, stderr) = sqlrail(&["manifest", "sync"], root);
    assert_eq!(code, 2);
    assert!(stderr.contains("ddl/V1__a: the file changed"), "{stderr}");
    assert!(stderr.contains("pass --allow-edit ddl/V1__a"), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(root.join("manifest.yaml")).unwrap(),
        with_fingerprint
    );
    assert_eq!(sqlrail(&["manifest", "sync", "--check"], root).0, 2);

    let (code, _, stderr) = sqlrail(&["manifest", "sync", "--allow-edit", "ddl/V1__a"], root);
    assert_eq!(code, 0, "{stderr}");
    let synced = std::fs::read_to_string(root.join("manifest.yaml")).unwrap();
    // The checksum line is replaced where it stands; the comment and fingerprint stay.
    assert!(
        synced.contains(
            "  - id: ddl/V1__a   # core\n    fingerprint: { table: a }\n    checksum: \""
        ),
        "{synced}"
    );
    assert_ne!(synced, with_fingerprint);
    assert_eq!(sqlrail(&["lint", "--fail-on", "warning"], root).0, 0);
}

#[test]
fn new_creates_the_next_file_and_its_entry() {
    let dir = example_copy();
    let root = dir.path();
    let (code, stdout, stderr) = sqlrail(&["new", "ddl", "add leads-score"], root);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout
            .trim_end()
            .ends_with("sql/ddl/V36__add_leads_score.sql"),
        "{stdout}"
    );
    let text = std::fs::read_to_string(root.join("sql/ddl/V36__add_leads_score.sql")).unwrap();
    assert!(
        text.starts_with("-- add_leads_score: a schema change."),
        "{text}"
    );
    let manifest = std::fs::read_to_string(root.join("manifest.yaml")).unwrap();
    assert!(
        manifest.contains("  - id: ddl/V36__add_leads_score\n"),
        "{manifest}"
    );

    let (code, _, stderr) = sqlrail(&["new", "backfills", "score"], root);
    assert_eq!(code, 2);
    assert!(stderr.contains("pass --table"), "{stderr}");
    let (code, _, _) = sqlrail(&["new", "backfills", "score", "--table", "leads"], root);
    assert_eq!(code, 0);
    let manifest = std::fs::read_to_string(root.join("manifest.yaml")).unwrap();
    assert!(
        manifest.contains("  - id: backfills/V9__score\n    backfill: { table: leads }\n"),
        "{manifest}"
    );
    let (code, _, stderr) = sqlrail(&["new", "ddl", "bad/name"], root);
    assert_eq!(code, 2);
    assert!(stderr.contains("cannot be part of a file name"), "{stderr}");
}

#[test]
fn dash_c_runs_as_if_started_in_the_directory() {
    let dir = example_copy();
    let elsewhere = tempfile::tempdir().unwrap();
    let root = dir.path().display().to_string();
    let (code, _, stderr) = sqlrail(&["-C", &root, "lint"], elsewhere.path());
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("0 findings in 57 files"), "{stderr}");
    // Without it, the empty directory has no project.
    assert_eq!(sqlrail(&["lint"], elsewhere.path()).0, 2);
    let (code, _, stderr) = sqlrail(&["-C", "/no/such/dir", "lint"], elsewhere.path());
    assert_eq!(code, 2);
    assert!(
        stderr.contains("-C /no/such/dir: No such file or directory"),
        "{stderr}"
    );
}

#[test]
fn an_entry_whose_file_is_gone_is_not_in_sync_and_prune_removes_it() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    for (name, table) in [("V1__a", "a"), ("V2__b", "b"), ("V3__c", "c")] {
        write(
            root,
            &format!("sql/ddl/{name}.sql"),
            &format!("CREATE TABLE {table} (x int);\n"),
        );
    }
    assert_eq!(sqlrail(&["manifest", "sync"], root).0, 0);
    std::fs::remove_file(root.join("sql/ddl/V2__b.sql")).unwrap();
    for args in [&["manifest", "sync"][..], &["manifest", "sync", "--check"]] {
        let (code, _, stderr) = sqlrail(args, root);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(
            stderr.contains("error: ddl/V2__b: listed in manifest.yaml, but its file is gone"),
            "{stderr}"
        );
    }
    let (code, _, stderr) = sqlrail(&["manifest", "sync", "--prune"], root);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("removed ddl/V2__b (its file is gone)"),
        "{stderr}"
    );
    let manifest = std::fs::read_to_string(root.join("manifest.yaml")).unwrap();
    assert!(
        !manifest.contains("V2__b") && !manifest.contains("table: b"),
        "{manifest}"
    );
    assert!(manifest.contains("ddl/V1__a") && manifest.contains("ddl/V3__c"));
    let (code, _, stderr) = sqlrail(&["manifest", "sync", "--check"], root);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("in sync with 2 migration files"),
        "{stderr}"
    );
}
