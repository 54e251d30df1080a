//! `sqlrail split` as a user runs it: the real binary, real files, exit codes and output.

mod support;

use std::process::Command;

use support::sqlrail;

#[test]
fn splits_the_example_project_as_json() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let (code, stdout, stderr) = sqlrail(
        &[
            "split",
            "--format",
            "json",
            "sql/ddl/V22__business_hours.sql",
            "sql/backfills/V1__last_call_direction.sql",
        ],
        root,
    );
    assert_eq!(code, 0, "{stderr}");
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let files = json["files"].as_array().unwrap();
    assert_eq!(files.len(), 2);
    let function = &files[0]["statements"][1];
    assert_eq!(
        (function["kind"].as_str(), function["tag"].as_str()),
        (Some("ddl"), Some("CREATE FUNCTION"))
    );
    let backfill = &files[1]["statements"][0];
    assert_eq!(backfill["writes"][0], "leads");
    assert!(
        backfill["params"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "lo")
    );
    for key in ["start", "end", "line", "column", "kind"] {
        assert!(function.get(key).is_some(), "missing {key}");
    }
}

#[test]
fn unterminated_literal_names_the_line_where_it_opened_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ok.sql"), "SELECT 1;").unwrap();
    std::fs::write(
        dir.path().join("bad.sql"),
        "SELECT 1;\n\nCREATE FUNCTION f() AS $body$ SELECT 1;\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("latin1.sql"), b"SELECT '\xe9';").unwrap();
    let (code, stdout, stderr) = sqlrail(
        &["split", "ok.sql", "bad.sql", "latin1.sql", "missing.sql"],
        dir.path(),
    );
    assert_eq!(code, 2);
    assert!(stdout.contains("ok.sql: 1 statements"), "{stdout}");
    assert!(
        stderr.contains("bad.sql:3:24: unterminated dollar-quoted string opened here"),
        "{stderr}"
    );
    assert!(
        stderr.contains("latin1.sql: the file is not valid UTF-8 (first bad byte at offset 8)"),
        "{stderr}"
    );
    assert!(stderr.contains("cannot read missing.sql"), "{stderr}");
    assert!(
        stderr.contains("3 of 4 files could not be split"),
        "{stderr}"
    );
}

#[test]
fn usage_errors_exit_2_and_help_has_an_example() {
    let dir = std::env::temp_dir();
    assert_eq!(sqlrail(&["split"], &dir).0, 2);
    assert_eq!(sqlrail(&["frobnicate"], &dir).0, 2);
    let (code, help, _) = sqlrail(&["split", "--help"], &dir);
    assert_eq!(code, 0);
    assert!(
        help.contains("Example:") && help.contains("sqlrail split --format json"),
        "{help}"
    );
}

#[test]
fn a_closed_pipe_is_not_an_error() {
    use std::io::Read;
    use std::process::Stdio;
    let dir = tempfile::tempdir().unwrap();
    // Far more output than a pipe buffer holds, so the writer meets the closed pipe.
    std::fs::write(dir.path().join("many.sql"), "SELECT 1;\n".repeat(20_000)).unwrap();
    for format in ["text", "json"] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_sqlrail"))
            .args(["split", "--format", format, "many.sql"])
            .current_dir(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = [0u8; 10];
        child.stdout.take().unwrap().read_exact(&mut first).unwrap();
        let out = child.wait_with_output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{format}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.stderr.is_empty(),
            "{format}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
