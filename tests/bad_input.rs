//! Broken projects, table-driven: each case breaks a copy of the example project one way,
//! runs a command against a fresh database, and expects an exit code and a message that
//! names the file (and line, where there is one). In every case nothing is applied: the
//! database has none of the project's tables afterwards.

mod support;

use std::path::Path;

use support::{TestDb, example_project, sqlrail};

fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{} lacks `{from}`", path.display());
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

/// The project's tables (sqlrail's own ledger and lock tables are bookkeeping, created
/// when a run connects).
fn tables(db: &TestDb) -> i64 {
    db.client()
        .query_one(
            "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema', 'sqlrail') \
             AND tablename <> 'schema_migrations' AND tablename NOT LIKE 'sqlrail\\_%'",
            &[],
        )
        .unwrap()
        .get(0)
}

struct Case {
    name: &'static str,
    /// Breaks the project in `dir`.
    breaks: fn(&Path),
    /// The command, `{url}` standing for the test database's URL.
    args: &'static [&'static str],
    exit: i32,
    /// Fragments the output must contain.
    says: &'static [&'static str],
}

const APPLY: &[&str] = &["apply", "--database-url", "{url}"];

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "malformed YAML",
            breaks: |d| edit(&d.join("manifest.yaml"), "migrations:", "migrations: [\n"),
            args: APPLY,
            exit: 2,
            says: &["manifest.yaml:"],
        },
        Case {
            name: "unknown manifest field",
            breaks: |d| {
                edit(
                    &d.join("manifest.yaml"),
                    "  - id: ddl/V1__core_tables\n",
                    "  - id: ddl/V1__core_tables\n    fingerprnt: { table: business }\n",
                )
            },
            args: APPLY,
            exit: 2,
            says: &["manifest.yaml:", "unknown field `fingerprnt`"],
        },
        Case {
            name: "an entry without a file",
            breaks: |d| {
                std::fs::remove_file(d.join("sql/ddl/V35__validate_pending_constraints.sql"))
                    .unwrap()
            },
            args: APPLY,
            exit: 2,
            says: &["ddl/V35__validate_pending_constraints"],
        },
        Case {
            name: "a file without an entry",
            breaks: |d| {
                std::fs::write(
                    d.join("sql/ddl/V36__stray.sql"),
                    "CREATE TABLE stray (id int);\n",
                )
                .unwrap()
            },
            args: APPLY,
            exit: 2,
            says: &["V36__stray.sql"],
        },
        Case {
            name: "duplicate versions",
            breaks: |d| {
                std::fs::write(
                    d.join("sql/ddl/V3__again.sql"),
                    "CREATE TABLE again (id int);\n",
                )
                .unwrap()
            },
            args: APPLY,
            exit: 2,
            says: &["V3__", "version 3"],
        },
        Case {
            name: "a file that is not UTF-8",
            breaks: |d| {
                std::fs::write(
                    d.join("sql/ddl/V2__business_users.sql"),
                    b"CREATE TABLE caf\xe9 (id int);\n",
                )
                .unwrap()
            },
            args: APPLY,
            exit: 2,
            says: &["V2__business_users.sql", "UTF-8"],
        },
        Case {
            name: "an unterminated string",
            breaks: |d| {
                edit(
                    &d.join("sql/ddl/V4__call_direction_type.sql"),
                    "'inbound'",
                    "'inbound",
                )
            },
            args: APPLY,
            exit: 2,
            says: &["V4__call_direction_type.sql:", "string literal"],
        },
        Case {
            name: "an unterminated comment",
            breaks: |d| {
                let p = d.join("sql/ddl/V5__call_log.sql");
                let text = std::fs::read_to_string(&p).unwrap();
                std::fs::write(&p, format!("{text}\n/* never closed\n")).unwrap();
            },
            args: APPLY,
            exit: 2,
            says: &["V5__call_log.sql:", "block comment"],
        },
        Case {
            name: "an unterminated dollar quote",
            breaks: |d| {
                let p = d.join("sql/ddl/V10__normalize_phone_function.sql");
                let text = std::fs::read_to_string(&p).unwrap();
                std::fs::write(&p, format!("{text}\nDO $body$ BEGIN NULL; END\n")).unwrap();
            },
            args: APPLY,
            exit: 2,
            says: &["V10__normalize_phone_function.sql:", "dollar-quoted string"],
        },
        Case {
            name: "a 100 MB file",
            breaks: |d| {
                let big = "-- filler line of a data dump, 64 bytes long ...................\n"
                    .repeat(1_600_000);
                std::fs::write(d.join("sql/ddl/V36__dump.sql"), big).unwrap();
                let (code, _, stderr) = sqlrail(&["manifest", "sync"], d);
                assert_eq!(code, 2, "sync refuses it too: {stderr}");
            },
            args: APPLY,
            exit: 2,
            says: &["V36__dump.sql: the file is 99.2 MiB", "up to 32 MiB"],
        },
        Case {
            name: "a symlink loop under sql/",
            breaks: |d| std::os::unix::fs::symlink(d.join("sql"), d.join("sql/ddl/loop")).unwrap(),
            args: APPLY,
            exit: 2,
            says: &["loop"],
        },
        Case {
            name: "an invalid regex in lint-rules.yaml",
            breaks: |d| {
                edit(
                    &d.join("lint-rules.yaml"),
                    r"pattern: '(?is)\bTRUNCATE",
                    r"pattern: '(?is)\bTRUNCATE((",
                )
            },
            args: &["lint"],
            exit: 2,
            says: &["lint-rules.yaml:", "no-truncate-cascade"],
        },
        Case {
            name: "a URL with a bad port",
            breaks: |_| {},
            args: &[
                "apply",
                "--database-url",
                "postgres://postgres@127.0.0.1:99999/x",
            ],
            exit: 2,
            says: &["--database-url", "port"],
        },
        Case {
            name: "an unknown sslmode",
            breaks: |_| {},
            args: &[
                "apply",
                "--database-url",
                "postgres://postgres@127.0.0.1/x?sslmode=strict",
            ],
            exit: 2,
            says: &["--database-url", "sslmode", "strict"],
        },
        Case {
            name: "reset against a host that is not local",
            breaks: |_| {},
            args: &[
                "reset",
                "--yes",
                "--database-url",
                "postgres://postgres@db.example.internal/x",
            ],
            exit: 2,
            says: &["not local", "--force"],
        },
    ]
}

#[test]
fn broken_projects_are_named_and_nothing_is_applied() {
    let db = TestDb::new("bad_input");
    let url = format!("postgres://postgres@127.0.0.1:5432/{}", db.name);
    let mut failures = Vec::new();
    for case in cases() {
        let dir = example_project();
        (case.breaks)(dir.path());
        let args: Vec<String> = case.args.iter().map(|a| a.replace("{url}", &url)).collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, stdout, stderr) = sqlrail(&args, dir.path());
        let output = format!("{stdout}{stderr}");
        if code != case.exit {
            failures.push(format!(
                "{}: exit {code}, expected {}:\n{output}",
                case.name, case.exit
            ));
        }
        for fragment in case.says {
            if !output.contains(fragment) {
                failures.push(format!(
                    "{}: `{fragment}` missing from:\n{output}",
                    case.name
                ));
            }
        }
        if tables(&db) != 0 {
            failures.push(format!("{}: something was applied:\n{output}", case.name));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// A recorded migration whose file changed: drift, exit 1, and the pending ones after it
/// are not applied.
#[test]
fn a_changed_applied_migration_is_drift_and_stops_apply() {
    let db = TestDb::new("bad_drift");
    let url = format!("postgres://postgres@127.0.0.1:5432/{}", db.name);
    let dir = example_project();
    let manifest = dir.path().join("manifest.yaml");
    // Apply the first three, then change the second and add a fourth.
    let text = std::fs::read_to_string(&manifest).unwrap();
    let (code, _, stderr) = sqlrail(
        &["apply", "--phase", "ddl", "--database-url", &url],
        dir.path(),
    );
    assert_eq!(code, 0, "{stderr}");
    edit(
        &dir.path().join("sql/ddl/V2__business_users.sql"),
        "CREATE TABLE",
        "CREATE TABLE IF NOT EXISTS",
    );
    std::fs::write(&manifest, &text).unwrap();
    std::fs::write(
        dir.path().join("sql/ddl/V36__later.sql"),
        "CREATE TABLE later (id int);\n",
    )
    .unwrap();
    let (code, _, stderr) = sqlrail(&["manifest", "sync"], dir.path());
    assert_eq!(code, 2, "sync refuses the edit: {stderr}");
    let (code, _, stderr) = sqlrail(
        &["manifest", "sync", "--allow-edit", "ddl/V2__business_users"],
        dir.path(),
    );
    assert_eq!(code, 0, "{stderr}");
    let (code, _, stderr) = sqlrail(&["apply", "--database-url", &url], dir.path());
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("drift"), "{stderr}");
    assert!(stderr.contains("ddl/V2__business_users"), "{stderr}");
    let later: bool = db
        .client()
        .query_one("SELECT to_regclass('later') IS NOT NULL", &[])
        .unwrap()
        .get(0);
    assert!(!later, "nothing after drift is applied");
}

#[test]
fn no_database_named_anywhere_is_exit_2_and_connects_nowhere() {
    // As `env -i PATH=$PATH sqlrail status` in the project: libpq's fallback would have
    // been the local socket's `postgres` (or `$USER`) database, which `apply` would
    // migrate. Nothing is guessed.
    let project = example_project();
    for command in ["status", "apply", "plan", "verify"] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_sqlrail"))
            .arg(command)
            .current_dir(project.path())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{command}: {stderr}");
        assert!(!stderr.contains("Using "), "{command}: {stderr}");
        assert!(
            stderr.contains("no database given: pass --database-url URL, or set DATABASE_URL"),
            "{command}: {stderr}"
        );
    }
}
