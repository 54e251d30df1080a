//! `sqlrail reset` against the real server: the database is dropped (its other sessions
//! terminated), recreated and migrated to the same schema a plain apply gives, the seed
//! runs once; and every refusal (protected name, remote host, no confirmation, a broken
//! seed) happens before anything is dropped.

mod support;

use std::path::Path;

use support::{TestDb, example_project, schema_dump, sqlrail};

fn url(db: &TestDb) -> String {
    format!("postgres://postgres@127.0.0.1:5432/{}", db.name)
}

fn has_table(db: &TestDb, table: &str) -> bool {
    db.client()
        .query_one("SELECT to_regclass($1) IS NOT NULL", &[&table])
        .unwrap()
        .get(0)
}

fn reset(dir: &Path, args: &[&str]) -> (i32, String) {
    let mut all = vec!["reset"];
    all.extend_from_slice(args);
    let (code, _, stderr) = sqlrail(&all, dir);
    (code, stderr)
}

#[test]
fn reset_drops_recreates_applies_and_seeds() {
    let db = TestDb::new("reset_full");
    let clean = TestDb::new("reset_clean");
    let dir = example_project();
    std::fs::write(
        dir.path().join("seed.sql"),
        "-- development data\nINSERT INTO business (name, slug) VALUES ('Acme', 'acme');\n",
    )
    .unwrap();
    db.client()
        .batch_execute("CREATE TABLE leftover (id int)")
        .unwrap();
    // A session left open on the database, as an IDE or a running app would.
    let mut idle = db.client();
    idle.batch_execute("SELECT 1").unwrap();

    let (code, stderr) = reset(
        dir.path(),
        &["--yes", "--seed", "seed.sql", "--database-url", &url(&db)],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("terminating 1 other session(s)"),
        "{stderr}"
    );
    assert!(stderr.contains("reset: seeded from seed.sql"), "{stderr}");
    assert!(idle.batch_execute("SELECT 1").is_err(), "terminated");
    assert!(!has_table(&db, "leftover"), "the old database is gone");
    let slugs: i64 = db
        .client()
        .query_one("SELECT count(*) FROM business WHERE slug = 'acme'", &[])
        .unwrap()
        .get(0);
    assert_eq!(slugs, 1);

    // The same schema as applying the project to an empty database.
    let (code, _, stderr) = sqlrail(&["apply", "--database-url", &url(&clean)], dir.path());
    assert_eq!(code, 0, "{stderr}");
    clean
        .client()
        .batch_execute("CREATE TABLE sqlrail.sqlrail_seeds (file text NOT NULL, seeded_at timestamptz NOT NULL DEFAULT now())")
        .unwrap();
    assert_eq!(schema_dump(&db), schema_dump(&clean));
}

#[test]
fn reset_phase_ddl_stops_after_the_schema() {
    let db = TestDb::new("reset_ddl");
    let dir = example_project();
    let (code, stderr) = reset(
        dir.path(),
        &["--yes", "--phase", "ddl", "--database-url", &url(&db)],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("ddl: 35 applied"), "{stderr}");
    assert!(!stderr.contains("indexes:"), "{stderr}");
    assert!(has_table(&db, "leads"));
    let indexes: i64 = db
        .client()
        .query_one(
            "SELECT count(*) FROM pg_indexes WHERE indexname = 'idx_leads_tenant_created'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(indexes, 0, "sql/indexes did not run");
}

#[test]
fn refusals_happen_before_anything_is_dropped() {
    let db = TestDb::new("reset_refuse");
    db.client()
        .batch_execute("CREATE TABLE keep_me (id int)")
        .unwrap();
    let dir = example_project();
    let protected_dir = example_project();
    let manifest = std::fs::read_to_string(protected_dir.path().join("manifest.yaml")).unwrap();
    let manifest = manifest.replacen(
        "settings:\n",
        &format!("settings:\n  protected_databases: [{}]\n", db.name),
        1,
    );
    assert!(manifest.contains("protected_databases"), "{manifest}");
    std::fs::write(protected_dir.path().join("manifest.yaml"), manifest).unwrap();
    std::fs::write(
        dir.path().join("tx.sql"),
        "INSERT INTO business (name, slug) VALUES ('a', 'a');\nCOMMIT;\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("open.sql"), "INSERT INTO x VALUES ('a);\n").unwrap();
    std::fs::write(
        dir.path().join("copy.sql"),
        "COPY business FROM stdin;\na\n\\.\n",
    )
    .unwrap();

    let local = url(&db);
    let cases: Vec<(&Path, Vec<&str>, &str)> = vec![
        (
            dir.path(),
            vec!["--database-url", &local],
            "not confirmed: stdin is not a terminal; pass --yes",
        ),
        (
            dir.path(),
            vec![
                "--yes",
                "--force",
                "--database-url",
                "postgres://postgres@127.0.0.1:5432/template1",
            ],
            "refusing to reset `template1`: it is a protected database",
        ),
        (
            protected_dir.path(),
            vec!["--yes", "--force", "--database-url", &local],
            "it is a protected database",
        ),
        (
            dir.path(),
            vec![
                "--yes",
                "--database-url",
                "postgres://postgres:hunter2@db.example.internal:5432/crm",
            ],
            "the host is not local",
        ),
        (
            dir.path(),
            vec!["--yes", "--seed", "missing.sql", "--database-url", &local],
            "missing.sql: cannot read the seed file",
        ),
        (
            dir.path(),
            vec!["--yes", "--seed", "tx.sql", "--database-url", &local],
            "tx.sql:2: `COMMIT`: the seed already runs in one transaction",
        ),
        (
            dir.path(),
            vec!["--yes", "--seed", "open.sql", "--database-url", &local],
            "open.sql:1:23: this string literal is never closed",
        ),
        (
            dir.path(),
            vec!["--yes", "--seed", "copy.sql", "--database-url", &local],
            "copy.sql:2: psql-only syntax",
        ),
    ];
    for (project, args, expected) in cases {
        let (code, stderr) = reset(project, &args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(
            stderr.contains(expected),
            "{args:?}: expected `{expected}` in:\n{stderr}"
        );
        assert!(!stderr.contains("hunter2"), "{stderr}");
        assert!(has_table(&db, "keep_me"), "{args:?} dropped the database");
    }
}

#[test]
fn a_failing_seed_is_rolled_back_and_named_by_line() {
    let db = TestDb::new("reset_seed_fail");
    let dir = example_project();
    std::fs::write(
        dir.path().join("seed.sql"),
        "INSERT INTO business (name, slug) VALUES ('Acme', 'acme');\n\nINSERT INTO business (name, slug, nope)\n  VALUES ('B', 'b', 1);\n",
    )
    .unwrap();
    let (code, stderr) = reset(
        dir.path(),
        &["--yes", "--seed", "seed.sql", "--database-url", &url(&db)],
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("seed.sql:3: the seed failed and was rolled back"),
        "{stderr}"
    );
    assert!(stderr.contains("column \"nope\""), "{stderr}");
    let rows: i64 = db
        .client()
        .query_one("SELECT count(*) FROM business", &[])
        .unwrap()
        .get(0);
    assert_eq!(rows, 0, "the seed's first INSERT was rolled back");
}
