//! When a migration may be recorded without running (issue 27): only when a database with
//! no ledger rows is placed in the history, or an operator says so with `sqlrail mark`.
//! A fingerprint that holds before its migration never lets a normal run skip it.

mod support;

use std::path::Path;

use support::{TestDb, sqlrail};

fn url(db: &TestDb) -> String {
    format!(
        "postgres://postgres@127.0.0.1:5432/{}?sslmode=disable",
        db.name
    )
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn has_column(db: &TestDb, table: &str, column: &str) -> bool {
    db.client()
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_name = $1 AND column_name = $2)",
            &[&table, &column],
        )
        .unwrap()
        .get(0)
}

/// The D1: a new migration that replaces a view was recorded as reconciled (its
/// proposed fingerprint, the view, existed already) and its column never added.
#[test]
fn a_new_migration_that_replaces_a_view_runs_and_is_proposed_a_check_of_its_own_column() {
    let db = TestDb::new("d1");
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    assert_eq!(sqlrail(&["init"], root).0, 0);
    assert_eq!(sqlrail(&["new", "ddl", "leads"], root).0, 0);
    write(
        &root.join("sql/ddl/V1__leads.sql"),
        "CREATE TABLE leads (id bigint PRIMARY KEY, phone text);\nCREATE VIEW leads_view AS SELECT id, phone FROM leads;\n",
    );
    assert_eq!(sqlrail(&["manifest", "sync"], root).0, 0);
    let (code, _, stderr) = sqlrail(&["apply", "--database-url", &url(&db)], root);
    assert_eq!(code, 0, "{stderr}");

    let (code, _, stderr) = sqlrail(&["new", "ddl", "add_email"], root);
    assert_eq!(code, 0, "{stderr}");
    write(
        &root.join("sql/ddl/V2__add_email.sql"),
        "ALTER TABLE leads ADD COLUMN email text;\nCREATE OR REPLACE VIEW leads_view AS SELECT id, phone, email FROM leads;\n",
    );
    let (code, _, stderr) = sqlrail(&["manifest", "sync"], root);
    assert_eq!(code, 0, "{stderr}");
    let manifest = std::fs::read_to_string(root.join("manifest.yaml")).unwrap();
    assert!(
        !manifest.contains("fingerprint: { view: leads_view }"),
        "{manifest}"
    );
    assert!(
        manifest.contains(
            "fingerprint: { all: [ { column: leads.email }, { column: leads_view.email } ] }"
        ),
        "{manifest}"
    );
    let (code, _, stderr) = sqlrail(&["lint"], root);
    assert_eq!(code, 0, "{stderr}");
    let (code, _, stderr) = sqlrail(&["plan", "--database-url", &url(&db)], root);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("ddl/V2__add_email  run"), "{stderr}");
    let (code, _, stderr) = sqlrail(&["apply", "--database-url", &url(&db)], root);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("applied          ddl/V2__add_email"),
        "{stderr}"
    );
    assert!(has_column(&db, "leads", "email"));
}

/// The same project with the view's fingerprint written by hand: lint says it proves
/// nothing, and a normal run still runs the migration.
#[test]
fn a_fingerprint_that_holds_before_its_migration_is_reported_and_never_skips_it() {
    let db = TestDb::new("unsound");
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        &root.join("sql/ddl/V1__leads.sql"),
        "CREATE TABLE leads (id bigint PRIMARY KEY, phone text);\nCREATE VIEW leads_view AS SELECT id, phone FROM leads;\n",
    );
    write(
        &root.join("manifest.yaml"),
        "migrations:\n  - id: ddl/V1__leads\n    fingerprint: { table: leads }\n",
    );
    assert_eq!(sqlrail(&["manifest", "sync"], root).0, 0);
    assert_eq!(sqlrail(&["apply", "--database-url", &url(&db)], root).0, 0);
    write(
        &root.join("sql/ddl/V2__add_email.sql"),
        "ALTER TABLE leads ADD COLUMN email text;\nCREATE OR REPLACE VIEW leads_view AS SELECT id, phone, email FROM leads;\n",
    );
    let manifest = std::fs::read_to_string(root.join("manifest.yaml")).unwrap();
    write(
        &root.join("manifest.yaml"),
        &format!("{manifest}  - id: ddl/V2__add_email\n    fingerprint: {{ view: leads_view }}\n"),
    );
    assert_eq!(sqlrail(&["manifest", "sync"], root).0, 0);
    let (code, _, stderr) = sqlrail(&["lint"], root);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("fingerprint-unsound"), "{stderr}");
    assert!(stderr.contains("already holds before it runs"), "{stderr}");
    let (code, _, stderr) = sqlrail(&["apply", "--database-url", &url(&db)], root);
    assert_eq!(code, 0, "{stderr}");
    assert!(has_column(&db, "leads", "email"), "{stderr}");
    let reconciled: i64 = db
        .client()
        .query_one(
            "SELECT count(*) FILTER (WHERE reconciled) FROM sqlrail.schema_migrations",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(reconciled, 0);
}

/// A change made by hand makes the migration fail (its ledger does not record it); the
/// error says how to record it, and `mark` does, with the reason shown by `status`.
#[test]
fn a_change_made_by_hand_is_recorded_with_mark_and_its_reason() {
    let db = TestDb::new("mark");
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        &root.join("sql/ddl/V1__a.sql"),
        "CREATE TABLE a (id int);\n",
    );
    write(
        &root.join("sql/ddl/V2__b.sql"),
        "CREATE TABLE b (id int);\n",
    );
    write(
        &root.join("sql/ddl/V3__c.sql"),
        "CREATE TABLE c (id int);\n",
    );
    assert_eq!(sqlrail(&["manifest", "sync"], root).0, 0);
    write(&root.join("sql/ddl/.keep"), "");
    // Only V1 is in the project when it is first applied.
    let v2 = std::fs::read_to_string(root.join("sql/ddl/V2__b.sql")).unwrap();
    let v3 = std::fs::read_to_string(root.join("sql/ddl/V3__c.sql")).unwrap();
    let manifest = std::fs::read_to_string(root.join("manifest.yaml")).unwrap();
    std::fs::remove_file(root.join("sql/ddl/V2__b.sql")).unwrap();
    std::fs::remove_file(root.join("sql/ddl/V3__c.sql")).unwrap();
    let first: String = manifest
        .split("  - id: ddl/V2__b")
        .next()
        .unwrap()
        .to_owned();
    write(&root.join("manifest.yaml"), &first);
    assert_eq!(sqlrail(&["apply", "--database-url", &url(&db)], root).0, 0);
    // V2 made by hand during an incident, then its file lands.
    db.client()
        .batch_execute("CREATE TABLE b (id int)")
        .unwrap();
    write(&root.join("sql/ddl/V2__b.sql"), &v2);
    write(&root.join("sql/ddl/V3__c.sql"), &v3);
    write(&root.join("manifest.yaml"), &manifest);
    let (code, _, stderr) = sqlrail(&["apply", "--database-url", &url(&db)], root);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("relation \"b\" already exists"), "{stderr}");
    assert!(
        stderr.contains("sqlrail mark ddl/V2__b --reason"),
        "{stderr}"
    );
    assert!(stderr.contains("{ table: b } holds"), "{stderr}");

    let (code, _, stderr) = sqlrail(
        &[
            "mark",
            "ddl/V2__b",
            "--database-url",
            &url(&db),
            "--reason",
            "",
        ],
        root,
    );
    assert_eq!(code, 2, "a reason is required: {stderr}");
    let (code, _, stderr) = sqlrail(
        &[
            "mark",
            "ddl/V2__b",
            "--database-url",
            &url(&db),
            "--reason",
            "made by hand in incident 231",
        ],
        root,
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("marked   ddl/V2__b as applied"), "{stderr}");
    let (code, _, stderr) = sqlrail(&["apply", "--database-url", &url(&db)], root);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("applied          ddl/V3__c"), "{stderr}");
    let (code, stdout, _) = sqlrail(
        &["status", "--format", "json", "--database-url", &url(&db)],
        root,
    );
    assert_eq!(code, 0);
    let status: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let v2 = &status["migrations"][1];
    assert_eq!(v2["state"], "marked", "{status}");
    assert_eq!(
        v2["note"], "marked: made by hand in incident 231",
        "{status}"
    );
    // Taken back, it runs again (and fails again, the table being there).
    let (code, _, stderr) = sqlrail(
        &[
            "mark",
            "--remove",
            "ddl/V2__b",
            "--database-url",
            &url(&db),
            "--reason",
            "the table was dropped",
        ],
        root,
    );
    assert_eq!(code, 0, "{stderr}");
    db.client().batch_execute("DROP TABLE b").unwrap();
    let (code, _, stderr) = sqlrail(&["apply", "--database-url", &url(&db)], root);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("applied          ddl/V2__b"), "{stderr}");
}

/// `mark --through` records the steps of a database migrated up to a point, when the
/// checks cannot tell where it stands.
#[test]
fn mark_through_records_every_step_up_to_a_point() {
    let db = TestDb::new("mark_through");
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        &root.join("sql/ddl/V1__a.sql"),
        "CREATE TABLE a (id int);\n",
    );
    write(
        &root.join("sql/ddl/V2__seed.sql"),
        "INSERT INTO a SELECT generate_series(1, 3);\n",
    );
    write(
        &root.join("sql/ddl/V3__c.sql"),
        "CREATE TABLE c (id int);\n",
    );
    assert_eq!(sqlrail(&["manifest", "sync"], root).0, 0);
    db.client()
        .batch_execute("CREATE TABLE a (id int); INSERT INTO a SELECT generate_series(1, 3);")
        .unwrap();
    let (code, _, stderr) = sqlrail(&["apply", "--database-url", &url(&db)], root);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("could be anywhere from after ddl/V1__a to after ddl/V2__seed"),
        "{stderr}"
    );
    assert!(stderr.contains("Nothing was applied"), "{stderr}");
    let (code, _, stderr) = sqlrail(
        &[
            "mark",
            "--through",
            "ddl/V2__seed",
            "--database-url",
            &url(&db),
            "--reason",
            "migrated by psql up to the seed",
        ],
        root,
    );
    assert_eq!(code, 0, "{stderr}");
    let (code, _, stderr) = sqlrail(&["apply", "--database-url", &url(&db)], root);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("ddl: 1 applied"), "{stderr}");
    let rows: i64 = db
        .client()
        .query_one("SELECT count(*) FROM a", &[])
        .unwrap()
        .get(0);
    assert_eq!(rows, 3, "the seed ran once");
}

/// The ledger's default place cannot collide with an application's table, and a
/// migration that would reach sqlrail's tables is refused before anything runs.
#[test]
fn the_ledger_is_out_of_the_applications_way() {
    let db = TestDb::new("ledger_apart");
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        &root.join("sql/ddl/V1__legacy.sql"),
        "CREATE TABLE schema_migrations (version text);\n",
    );
    write(
        &root.join("sql/ddl/V2__drop_legacy.sql"),
        "DROP TABLE IF EXISTS schema_migrations;\n",
    );
    assert_eq!(sqlrail(&["manifest", "sync"], root).0, 0);
    let (code, _, stderr) = sqlrail(&["apply", "--database-url", &url(&db)], root);
    assert_eq!(code, 0, "{stderr}");
    let ledger: i64 = db
        .client()
        .query_one("SELECT count(*) FROM sqlrail.schema_migrations", &[])
        .unwrap()
        .get(0);
    assert_eq!(ledger, 2);

    // With the ledger put in public by setting, the same drop would hit it: refused.
    let db = TestDb::new("ledger_public");
    let manifest = std::fs::read_to_string(root.join("manifest.yaml")).unwrap();
    write(
        &root.join("manifest.yaml"),
        &format!("settings:\n  ledger_schema: public\n{manifest}"),
    );
    let (code, _, stderr) = sqlrail(&["apply", "--database-url", &url(&db)], root);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("V1__legacy.sql:1: this statement creates table schema_migrations, one of sqlrail's own tables"), "{stderr}");
    let recorded: i64 = db
        .client()
        .query_one("SELECT count(*) FROM public.schema_migrations", &[])
        .unwrap()
        .get(0);
    assert_eq!(recorded, 0, "nothing ran: {stderr}");
    let (code, _, stderr) = sqlrail(&["lint"], root);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("touches-sqlrail-tables"), "{stderr}");
}

/// A database an earlier sqlrail migrated keeps its ledger in `public.schema_migrations`:
/// it is found there, not taken for a database to adopt.
#[test]
fn a_ledger_an_earlier_sqlrail_made_in_public_is_used() {
    let db = TestDb::new("ledger_legacy");
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        &root.join("sql/ddl/V1__a.sql"),
        "CREATE TABLE a (id int);\n",
    );
    write(
        &root.join("sql/ddl/V2__b.sql"),
        "CREATE TABLE b (id int);\n",
    );
    assert_eq!(sqlrail(&["manifest", "sync"], root).0, 0);
    // What an earlier version of sqlrail left: V1 applied, its ledger in public.
    let manifest = std::fs::read_to_string(root.join("manifest.yaml")).unwrap();
    write(
        &root.join("manifest.yaml"),
        &format!("settings:\n  ledger_schema: public\n{manifest}"),
    );
    std::fs::rename(root.join("sql/ddl/V2__b.sql"), root.join("V2__b.sql.away")).unwrap();
    let only_v1: String = manifest
        .split("  - id: ddl/V2__b")
        .next()
        .unwrap()
        .to_owned();
    write(
        &root.join("manifest.yaml"),
        &format!("settings:\n  ledger_schema: public\n{only_v1}"),
    );
    assert_eq!(sqlrail(&["apply", "--database-url", &url(&db)], root).0, 0);
    // Now the manifest says nothing of the ledger's place (the new default).
    std::fs::rename(root.join("V2__b.sql.away"), root.join("sql/ddl/V2__b.sql")).unwrap();
    write(&root.join("manifest.yaml"), &manifest);
    let (code, _, stderr) = sqlrail(&["apply", "--database-url", &url(&db)], root);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("note: using the ledger \"public\".\"schema_migrations\""),
        "{stderr}"
    );
    assert!(stderr.contains("ddl: 1 applied, 0 reconciled"), "{stderr}");
    let exists: bool = db
        .client()
        .query_one(
            "SELECT to_regclass('sqlrail.schema_migrations') IS NULL",
            &[],
        )
        .unwrap()
        .get(0);
    assert!(exists, "no second ledger");
}
