//! Secrets and injection. Every command, with a known password in the URL (the local
//! server trusts it, so successful runs are covered too) and in failing cases, in text and
//! JSON: the password never appears in any output, neither as written nor URL-encoded.
//! Hostile names in fingerprints and backfill settings are treated as names.

mod support;

use std::process::Command;

use support::{TestDb, example_project};

/// Contains `@`, so the URL carries it encoded (`%40`): both spellings are searched.
const PASSWORD: &str = "Pw@7f3e-9c1d-Secret";
const ENCODED: &str = "Pw%407f3e-9c1d-Secret";

/// Runs sqlrail with `args` and extra environment; (exit code, stdout + stderr).
fn run(dir: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_sqlrail"))
        .args(args)
        .envs(env.iter().copied())
        .current_dir(dir)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// One invocation: arguments, environment, whether it should succeed.
type Run<'a> = (Vec<String>, Vec<(&'a str, String)>, bool);

#[test]
fn no_output_ever_holds_the_password() {
    let db = TestDb::new("sec_pw");
    let scratch = TestDb::new("sec_pw_reset");
    let dir = example_project();
    // Refused ports are retried until the connect deadline; a second is enough here.
    support::short_connect_deadline(dir.path());
    let url = format!("postgres://postgres:{ENCODED}@127.0.0.1:5432/{}", db.name);
    let reset_url = format!(
        "postgres://postgres:{ENCODED}@127.0.0.1:5432/{}",
        scratch.name
    );
    let refused = format!("postgres://postgres:{ENCODED}@127.0.0.1:1/{}", db.name);
    let bad_port = format!("postgres://postgres:{ENCODED}@127.0.0.1:99999/x");
    let bad_mode = format!("postgres://postgres:{ENCODED}@127.0.0.1/x?sslmode=bogus");
    let no_db = format!("postgres://postgres:{ENCODED}@127.0.0.1:5432/sqlrail_no_such_db");
    let remote = format!("postgres://postgres:{ENCODED}@db.example.internal/x");
    let kv = format!("host=127.0.0.1 port=1 user=postgres password='{PASSWORD}' dbname=x");
    let verify = format!(
        "postgres://postgres:{ENCODED}@127.0.0.1:5432/x?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem"
    );

    let mut runs: Vec<Run> = Vec::new();
    let with = |args: &[&str], u: &str| -> Vec<String> {
        let mut v: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        v.extend(["--database-url".to_owned(), u.to_owned()]);
        v
    };
    // Commands that succeed.
    for args in [
        &["apply"][..],
        &["apply", "--format", "json"],
        &["plan"],
        &["plan", "--format", "json"],
        &["status"],
        &["status", "--format", "json"],
        &["verify"],
        &["verify", "--format", "json"],
    ] {
        runs.push((with(args, &url), vec![], true));
    }
    runs.push((with(&["reset", "--yes"], &reset_url), vec![], true));
    runs.push((
        with(&["reset", "--yes", "--format", "json"], &reset_url),
        vec![],
        true,
    ));
    // Failing ones: refused connection, bad port, bad sslmode, missing database, remote
    // reset, key=value string, missing root certificate.
    for u in [&refused, &bad_port, &bad_mode, &no_db, &kv, &verify] {
        for args in [
            &["apply"][..],
            &["apply", "--format", "json"],
            &["status"],
            &["plan"],
            &["verify"],
        ] {
            runs.push((with(args, u), vec![], false));
        }
    }
    runs.push((with(&["reset", "--yes"], &remote), vec![], false));
    runs.push((
        with(&["reset", "--yes", "--force"], &refused),
        vec![],
        false,
    ));
    // The environment: DATABASE_URL, and PGPASSWORD with PG* variables.
    runs.push((
        vec!["apply".into()],
        vec![("DATABASE_URL", refused.clone())],
        false,
    ));
    runs.push((
        vec!["status".into()],
        vec![
            ("DATABASE_URL_DIRECT", refused.clone()),
            ("DATABASE_URL_POOLER", url.clone()),
        ],
        true,
    ));
    runs.push((
        vec!["apply".into()],
        vec![
            ("PGHOST", "127.0.0.1".into()),
            ("PGPORT", "1".into()),
            ("PGUSER", "postgres".into()),
            ("PGPASSWORD", PASSWORD.into()),
        ],
        false,
    ));

    // A password file (PGPASSFILE), read for URLs without a password: a success and a
    // refused connection.
    let files = tempfile::tempdir().unwrap();
    let pgpass = files.path().join("pgpass");
    std::fs::write(&pgpass, format!("*:*:*:*:{PASSWORD}\n")).unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&pgpass, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let file = pgpass.display().to_string();
    let bare = format!("postgres://postgres@127.0.0.1:5432/{}", db.name);
    let bare_refused = format!("postgres://postgres@127.0.0.1:1/{}", db.name);
    for (u, succeeds) in [(&bare, true), (&bare_refused, false)] {
        for args in [&["apply"][..], &["status", "--format", "json"]] {
            runs.push((with(args, u), vec![("PGPASSFILE", file.clone())], succeeds));
        }
    }

    let mut leaks = Vec::new();
    for (args, env, succeeds) in &runs {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let mut env_all = env.clone();
        // Only what each case sets: no connection settings leak in from the test's own
        // environment.
        for var in ["DATABASE_URL", "DATABASE_URL_DIRECT", "DATABASE_URL_POOLER"] {
            if !env.iter().any(|(k, _)| *k == var) {
                env_all.push((var, ""));
            }
        }
        let (code, output) = run(dir.path(), &args, &env_all);
        assert_eq!(
            code == 0,
            *succeeds,
            "{args:?} {env:?}: exit {code}\n{output}"
        );
        if output.contains(PASSWORD) || output.contains(ENCODED) {
            leaks.push(format!("{args:?} {env:?}:\n{output}"));
        }
    }
    assert!(
        leaks.is_empty(),
        "the password leaked:\n{}",
        leaks.join("\n\n")
    );
    assert!(runs.len() >= 40, "{} runs", runs.len());
}

#[test]
fn hostile_names_in_the_manifest_stay_names() {
    let db = TestDb::new("sec_names");
    let url = format!("postgres://postgres@127.0.0.1:5432/{}", db.name);
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("sql/ddl")).unwrap();
    std::fs::create_dir_all(dir.path().join("sql/backfills")).unwrap();
    let files = [
        (
            "sql/ddl/V1__victim.sql",
            "CREATE TABLE victim (id bigint PRIMARY KEY, n int);\nINSERT INTO victim VALUES (1, 0), (2, 0);\n",
        ),
        (
            "sql/ddl/V2__quoted.sql",
            "CREATE TABLE \"x'; DROP TABLE victim; --\" (id int);\n",
        ),
        (
            "sql/ddl/V3__unicode.sql",
            "CREATE TABLE \"läden_ü\" (id int);\n",
        ),
        (
            "sql/ddl/V4__after.sql",
            "CREATE TABLE after_all (id int);\n",
        ),
        (
            "sql/backfills/V1__touch.sql",
            "UPDATE victim SET n = n + 1 WHERE id BETWEEN :lo AND :hi;\n",
        ),
    ];
    for (path, sql) in files {
        std::fs::write(dir.path().join(path), sql).unwrap();
    }
    // Fingerprints naming hostile tables: the first two do not exist (the migrations
    // run), the quoted one exists once V2 ran.
    let manifest = r#"migrations:
  - id: ddl/V1__victim
    fingerprint: { table: "victim'; DROP TABLE victim; --" }
  - id: ddl/V2__quoted
    fingerprint: { table: "\"x'; DROP TABLE victim; --\"" }
  - id: ddl/V3__unicode
    fingerprint: { table: "\"läden_ü\"" }
  - id: ddl/V4__after
    fingerprint: { any: [ { column: "victim.\"n; DROP TABLE victim; --\"" }, { index: "i'); DROP TABLE victim; --" }, { table: after_all } ] }
  - id: backfills/V1__touch
    backfill: { table: "victim", key: "id\"; DROP TABLE victim; --" }
"#;
    std::fs::write(dir.path().join("manifest.yaml"), manifest).unwrap();
    let (code, _, stderr) = support::sqlrail(&["manifest", "sync"], dir.path());
    assert_eq!(code, 0, "{stderr}");
    let (code, _, stderr) = support::sqlrail(&["apply", "--database-url", &url], dir.path());
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("ddl: 4 applied, 0 reconciled"), "{stderr}");
    // The backfill's hostile key is a column name that does not exist: a warning.
    assert!(stderr.contains("backfills: 0 done"), "{stderr}");
    let mut c = db.client();
    let victims: i64 = c
        .query_one("SELECT sum(n) FROM victim", &[])
        .unwrap()
        .get(0);
    assert_eq!(victims, 0, "the backfill did not run with a mangled key");
    for table in [
        "victim",
        "\"x'; DROP TABLE victim; --\"",
        "\"läden_ü\"",
        "after_all",
    ] {
        let exists: bool = c
            .query_one("SELECT to_regclass($1) IS NOT NULL", &[&table])
            .unwrap()
            .get(0);
        assert!(exists, "{table}");
    }
    // On a database that has the first three migrations' changes without a ledger, the
    // hostile-but-real names are checked as names: it is placed after V3.
    let again = TestDb::new("sec_names_again");
    let again_url = format!("postgres://postgres@127.0.0.1:5432/{}", again.name);
    again
        .client()
        .batch_execute("CREATE TABLE victim (id bigint PRIMARY KEY, n int); CREATE TABLE \"x'; DROP TABLE victim; --\" (id int); CREATE TABLE \"läden_ü\" (id int);")
        .unwrap();
    let (code, _, stderr) = support::sqlrail(
        &["apply", "--phase", "ddl", "--database-url", &again_url],
        dir.path(),
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("ddl: 1 applied, 3 reconciled"), "{stderr}");
}
