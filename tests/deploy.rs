//! `ci/deploy.sh` against a real database with the example project, its service hooks
//! stubbed: a clean deploy, an index failure and a backfill failure (warnings: exit 0,
//! services started), a DDL failure and a connection error (the deploy aborts with
//! sqlrail's exit code; services stay stopped and the later phases never run).

mod support;

use std::path::Path;
use std::process::Command;

use support::{TestDb, example_project, repo_root, sqlrail};

struct Deploy {
    code: i32,
    /// The hooks' calls, in order.
    hooks: Vec<String>,
    output: String,
}

fn deploy(dir: &Path, url: &str) -> Deploy {
    let log = dir.join("hooks.log");
    let _ = std::fs::remove_file(&log);
    let hooks = dir.join("hooks.sh");
    std::fs::write(
        &hooks,
        format!(
            "stop_services() {{ echo stop >> '{0}'; }}\nstart_services() {{ echo start >> '{0}'; }}\non_ddl_failure() {{ echo \"abort $1\" >> '{0}'; }}\n",
            log.display()
        ),
    )
    .unwrap();
    let out = Command::new("bash")
        .arg(repo_root().join("ci/deploy.sh"))
        .current_dir(dir)
        .env("SQLRAIL", env!("CARGO_BIN_EXE_sqlrail"))
        .env("SQLRAIL_HOOKS", &hooks)
        .env("SQLRAIL_LOCK_WAIT", "30s")
        .env("DATABASE_URL", url)
        .env_remove("DATABASE_URL_DIRECT")
        .env_remove("DATABASE_URL_POOLER")
        .output()
        .unwrap();
    Deploy {
        code: out.status.code().unwrap(),
        hooks: std::fs::read_to_string(&log)
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect(),
        output: format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

fn add_file(dir: &Path, path: &str, sql: &str) {
    std::fs::write(dir.join(path), sql).unwrap();
    let (code, _, stderr) = sqlrail(&["manifest", "sync"], dir);
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn deploy_exit_codes_follow_the_phase_policy() {
    let db = TestDb::new("deploy");
    let dir = example_project();
    let url = format!("postgres://postgres@127.0.0.1:5432/{}", db.name);

    let clean = deploy(dir.path(), &url);
    assert_eq!(clean.code, 0, "{}", clean.output);
    assert_eq!(clean.hooks, ["stop", "start"], "{}", clean.output);
    assert!(clean.output.contains("ddl: 35 applied"), "{}", clean.output);
    assert!(clean.output.contains("deploy: done\n"), "{}", clean.output);

    // An index that cannot be built: a warning, the backfills still run, services start.
    add_file(
        dir.path(),
        "sql/indexes/V90__bad.sql",
        "CREATE INDEX CONCURRENTLY idx_leads_nope ON leads (no_such_column);\n",
    );
    let index_failure = deploy(dir.path(), &url);
    assert_eq!(index_failure.code, 0, "{}", index_failure.output);
    assert_eq!(index_failure.hooks, ["stop", "start"]);
    assert!(
        index_failure
            .output
            .contains("WARNING: the indexes phase exited 1"),
        "{}",
        index_failure.output
    );
    assert!(
        index_failure.output.contains("backfills:"),
        "{}",
        index_failure.output
    );
    std::fs::remove_file(dir.path().join("sql/indexes/V90__bad.sql")).unwrap();
    let manifest = std::fs::read_to_string(dir.path().join("manifest.yaml")).unwrap();
    std::fs::write(
        dir.path().join("manifest.yaml"),
        without_entry(&manifest, "indexes/V90__bad"),
    )
    .unwrap();

    // A backfill whose batches fail: a warning, services start.
    db.client()
        .batch_execute(
            "INSERT INTO business (name, slug) VALUES ('t', 't');
             INSERT INTO leads (tenant_id, first_name) SELECT 1, 'x' FROM generate_series(1, 10);",
        )
        .unwrap();
    add_file(
        dir.path(),
        "sql/backfills/V90__bad.sql",
        "UPDATE leads SET first_name = (1 / (id - id))::text WHERE id BETWEEN :lo AND :hi;\n",
    );
    let backfill_failure = deploy(dir.path(), &url);
    assert_eq!(backfill_failure.code, 0, "{}", backfill_failure.output);
    assert_eq!(backfill_failure.hooks, ["stop", "start"]);
    assert!(
        backfill_failure
            .output
            .contains("WARNING: the backfills phase exited 1"),
        "{}",
        backfill_failure.output
    );
    assert!(
        backfill_failure.output.contains("division by zero"),
        "{}",
        backfill_failure.output
    );

    // A DDL migration that fails: the deploy aborts with exit 1 before the other phases.
    add_file(
        dir.path(),
        "sql/ddl/V90__bad.sql",
        "ALTER TABLE no_such_table ADD COLUMN x int;\n",
    );
    let ddl_failure = deploy(dir.path(), &url);
    assert_eq!(ddl_failure.code, 1, "{}", ddl_failure.output);
    assert_eq!(
        ddl_failure.hooks,
        ["stop", "abort 1"],
        "{}",
        ddl_failure.output
    );
    assert!(
        ddl_failure.output.contains("ABORTED"),
        "{}",
        ddl_failure.output
    );
    assert!(
        !ddl_failure.output.contains("indexes:"),
        "{}",
        ddl_failure.output
    );
    assert!(
        !ddl_failure.output.contains("backfills:"),
        "{}",
        ddl_failure.output
    );

    // A connection error in the DDL phase: exit 2, aborted (after a second of retries).
    support::short_connect_deadline(dir.path());
    let unreachable = deploy(
        dir.path(),
        "postgres://postgres@127.0.0.1:1/nowhere?connect_timeout=2",
    );
    assert_eq!(unreachable.code, 2, "{}", unreachable.output);
    assert_eq!(
        unreachable.hooks,
        ["stop", "abort 2"],
        "{}",
        unreachable.output
    );
}

/// The manifest text without entry `id` (its `- id:` line and the lines under it).
fn without_entry(manifest: &str, id: &str) -> String {
    let mut out = String::new();
    let mut skipping = false;
    for line in manifest.split_inclusive('\n') {
        if line.trim_start().starts_with("- id: ") {
            skipping = line.trim_start() == format!("- id: {id}\n");
        }
        if !skipping {
            out.push_str(line);
        }
    }
    out
}
