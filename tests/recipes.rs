//! Every safe recipe that sqlrail's own texts give (`--explain`, docs/rules.md) run as
//! written against the real server: each step is lint-clean, `sqlrail apply` runs it, and
//! the lock it promises is read from `pg_locks` while the step waits behind another
//! session, with a third session showing that reads and writes go on.
//!
//! The waiting step is the window: a blocker holds SHARE UPDATE EXCLUSIVE, which conflicts
//! with every lock a schema step can take but not with reads (ACCESS SHARE) or writes (ROW
//! EXCLUSIVE). PostgreSQL queues a new request behind a *waiting* one it conflicts with, so
//! a step that asked for ACCESS EXCLUSIVE would block the third session's INSERT too (its
//! `lock_timeout` fails it), while one that asked for SHARE UPDATE EXCLUSIVE lets it pass.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use postgres::Client;
use support::{TestDb, sqlrail};

/// The docs the recipes come from: each SQL line a test runs must be in them word for word,
/// so the docs cannot drift from what is tested.
fn rules_md() -> String {
    std::fs::read_to_string(support::repo_root().join("docs/rules.md")).unwrap()
}

/// A project grown one recipe step at a time, as a team would across releases.
struct Project {
    dir: tempfile::TempDir,
    url: String,
}

impl Project {
    fn new(db: &TestDb) -> Project {
        let dir = tempfile::tempdir().unwrap();
        for phase in ["ddl", "indexes", "backfills"] {
            std::fs::create_dir_all(dir.path().join("sql").join(phase)).unwrap();
        }
        std::fs::write(
            dir.path().join("manifest.yaml"),
            "settings:\n  backfills: { batch_size: 500, sleep: 0s }\nmigrations: []\n",
        )
        .unwrap();
        Project {
            dir,
            url: format!(
                "postgres://postgres@127.0.0.1:5432/{}?sslmode=disable",
                db.name
            ),
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Adds `sql/<id>.sql` and its manifest entry (checksum and fingerprint from `sqlrail
    /// manifest sync`, as a user would), plus `extra` lines for the entry (`before:` …).
    fn add(&self, id: &str, sql: &str, extra: &str) {
        std::fs::write(self.path().join(format!("sql/{id}.sql")), sql).unwrap();
        let (code, _, stderr) = sqlrail(&["manifest", "sync"], self.path());
        assert_eq!(code, 0, "manifest sync: {stderr}");
        if !extra.is_empty() {
            let manifest = self.path().join("manifest.yaml");
            let text = std::fs::read_to_string(&manifest).unwrap();
            let entry = format!("  - id: {id}\n");
            assert!(text.contains(&entry), "{text}");
            let text = text.replace(&entry, &format!("{entry}    {extra}\n"));
            std::fs::write(manifest, text).unwrap();
        }
    }

    /// The whole project lints clean: no finding of any rule at any severity.
    fn assert_lint_clean(&self) {
        let (code, stdout, stderr) = sqlrail(&["lint", "--fail-on", "low"], self.path());
        assert_eq!(code, 0, "{stdout}{stderr}");
        assert!(stderr.starts_with("0 findings"), "{stderr}");
    }

    fn apply(&self) {
        let (code, _, stderr) = sqlrail(&["apply", "--database-url", &self.url], self.path());
        assert_eq!(code, 0, "{stderr}");
        assert!(!stderr.contains("warning"), "{stderr}");
    }
}

/// What `pg_locks` showed while an apply step waited behind the blocker.
struct Observed {
    /// The lock mode sqlrail's session asked for on the table and waited for.
    requested: String,
    /// Whether the third session's statement ran while the step waited.
    concurrent_ok: bool,
}

/// Runs `sqlrail apply` while another session holds SHARE UPDATE EXCLUSIVE on `table`:
/// reads the mode sqlrail's backend waits for, runs `concurrent` from a third session with
/// a 2 s `lock_timeout`, then releases the blocker and expects the apply to succeed.
fn observe_apply(db: &TestDb, project: &Project, table: &str, concurrent: &str) -> Observed {
    let mut blocker = db.client();
    blocker
        .batch_execute(&format!(
            "BEGIN; LOCK TABLE {table} IN SHARE UPDATE EXCLUSIVE MODE"
        ))
        .unwrap();
    let dir = project.path().to_owned();
    let url = project.url.clone();
    let run = std::thread::spawn(move || sqlrail(&["apply", "--database-url", &url], &dir));
    let mut watcher = db.client();
    let requested = wait_for_request(&mut watcher, table);
    let mut third = db.client();
    third.batch_execute("SET lock_timeout = '2s'").unwrap();
    let concurrent_ok = match third.batch_execute(concurrent) {
        Ok(()) => true,
        Err(e) => {
            eprintln!("concurrent `{concurrent}`: {e}");
            false
        }
    };
    blocker.batch_execute("COMMIT").unwrap();
    let (code, _, stderr) = run.join().unwrap();
    assert_eq!(code, 0, "{stderr}");
    Observed {
        requested,
        concurrent_ok,
    }
}

/// The lock mode a `sqlrail` session waits for on `table` (polled for up to 4 s, inside
/// the runner's 5 s DDL `lock_timeout`).
fn wait_for_request(watcher: &mut Client, table: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(4);
    loop {
        let row = watcher
            .query_opt(
                "SELECT l.mode FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
                 WHERE NOT l.granted AND l.relation = $1::text::regclass AND a.application_name = 'sqlrail'",
                &[&table],
            )
            .unwrap();
        if let Some(row) = row {
            return row.get(0);
        }
        assert!(
            Instant::now() < deadline,
            "no sqlrail session waited for a lock on {table}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A two-migration recipe: `first` (the constraint NOT VALID) ships and is applied; then
/// `second` (its VALIDATE, and what the validated constraint allows) is added, lints clean
/// across both files, and is applied while observed: it must wait for no more than SHARE
/// UPDATE EXCLUSIVE on `table`, with `concurrent` (a write) going on meanwhile.
fn validate_in_the_next_migration(
    db: &TestDb,
    project: &Project,
    first: (&str, &str),
    second: (&str, &str),
    table: &str,
    concurrent: &str,
) {
    let docs = rules_md();
    assert_documented(&docs, first.1);
    assert_documented(&docs, second.1);
    project.add(first.0, first.1, "");
    project.apply();
    project.add(second.0, second.1, "");
    project.assert_lint_clean();
    let seen = observe_apply(db, project, table, concurrent);
    assert_eq!(seen.requested, "ShareUpdateExclusiveLock", "{}", second.0);
    assert!(
        seen.concurrent_ok,
        "writes to {table} were blocked while {} waited",
        second.0
    );
}

fn relfilenode(db: &TestDb, table: &str) -> u32 {
    db.client()
        .query_one(
            "SELECT relfilenode FROM pg_class WHERE oid = $1::text::regclass",
            &[&table],
        )
        .unwrap()
        .get::<_, postgres::types::Oid>(0)
}

fn scalar_i64(db: &TestDb, sql: &str) -> i64 {
    db.client().query_one(sql, &[]).unwrap().get(0)
}

fn scalar_bool(db: &TestDb, sql: &str) -> bool {
    db.client().query_one(sql, &[]).unwrap().get(0)
}

/// Every non-comment line of `sql` appears in docs/rules.md as written.
fn assert_documented(docs: &str, sql: &str) {
    for line in sql
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with("--"))
    {
        assert!(docs.contains(line), "docs/rules.md does not give `{line}`");
    }
}

const BASE: &str = "\
CREATE TYPE lead_status AS ENUM ('open', 'won');
CREATE TABLE business_users (id bigint PRIMARY KEY);
CREATE TABLE leads (id bigint PRIMARY KEY, tenant_id bigint, email text, assigned_user_id bigint, status lead_status);
CREATE TABLE call_log (id bigint PRIMARY KEY, duration int);
";

const ROWS: &str = "\
INSERT INTO business_users SELECT g FROM generate_series(1, 100) g;
INSERT INTO leads (id, tenant_id, email, assigned_user_id, status)
  SELECT g, g % 7, 'u' || g || '@example.com', g % 100 + 1, 'open' FROM generate_series(1, 5000) g;
INSERT INTO call_log SELECT g, g FROM generate_series(1, 3000) g;
";

/// The column recipes (volatile-default, not-null-without-default, alter-column-type,
/// lock-table) add and fill columns without rewriting the table; set-not-null and
/// constraint-not-valid validate under SHARE UPDATE EXCLUSIVE while writes go on.
#[test]
fn column_and_constraint_recipes_keep_the_table_online() {
    let docs = rules_md();
    let db = TestDb::new("recipe_cols");
    let project = Project::new(&db);
    project.add("ddl/V1__base", BASE, "");
    project.apply();
    db.client().batch_execute(ROWS).unwrap();
    let leads_file = relfilenode(&db, "leads");
    let call_log_file = relfilenode(&db, "call_log");

    // volatile-default: the column and its default for new rows (no rewrite), then a
    // batched backfill for the rows there are.
    let v20 = "ALTER TABLE leads ADD COLUMN public_id uuid;\nALTER TABLE leads ALTER COLUMN public_id SET DEFAULT gen_random_uuid();\n";
    let backfill = "UPDATE leads SET public_id = gen_random_uuid() WHERE id BETWEEN :lo AND :hi AND public_id IS NULL;\n";
    // not-null-without-default and lock-table: a constant default is instant since 11.
    let v22 = "ALTER TABLE leads ADD COLUMN score int NOT NULL DEFAULT 0;\nALTER TABLE leads ADD COLUMN source text;\n";
    // alter-column-type: a new column, filled in batches.
    let v23 = "ALTER TABLE call_log ADD COLUMN duration_big bigint;\n";
    let call_backfill =
        "UPDATE call_log SET duration_big = duration WHERE id BETWEEN :lo AND :hi;\n";
    for sql in [v20, backfill, v22, v23] {
        assert_documented(&docs, sql);
    }
    project.add("ddl/V20__leads_public_id", v20, "");
    project.add("ddl/V22__leads_score", v22, "");
    project.add("ddl/V23__call_log_duration_big", v23, "");
    // `manifest sync` gives each backfill its table (`backfill: { table: … }`).
    project.add("backfills/V7__leads_public_id", backfill, "");
    project.add("backfills/V8__call_log_duration_big", call_backfill, "");
    project.assert_lint_clean();
    project.apply();
    assert_eq!(relfilenode(&db, "leads"), leads_file, "leads was rewritten");
    assert_eq!(
        relfilenode(&db, "call_log"),
        call_log_file,
        "call_log was rewritten"
    );
    assert_eq!(
        scalar_i64(&db, "SELECT count(*) FROM leads WHERE public_id IS NULL"),
        0
    );
    assert_eq!(
        scalar_i64(&db, "SELECT count(DISTINCT public_id) FROM leads"),
        5000
    );
    assert_eq!(scalar_i64(&db, "SELECT sum(score)::bigint FROM leads"), 0);
    assert_eq!(
        scalar_i64(
            &db,
            "SELECT count(*) FROM call_log WHERE duration_big IS DISTINCT FROM duration"
        ),
        0
    );
    // New rows get the default the file set.
    db.client()
        .batch_execute("INSERT INTO leads (id, tenant_id) VALUES (9001, 1)")
        .unwrap();
    assert!(scalar_bool(
        &db,
        "SELECT public_id IS NOT NULL FROM leads WHERE id = 9001"
    ));

    // set-not-null, step 1: the check NOT VALID (new rows checked, no scan).
    let v30 = "ALTER TABLE leads ADD CONSTRAINT leads_tenant_nn CHECK (tenant_id IS NOT NULL) NOT VALID;\n";
    // step 2, the next DDL migration: validate, then SET NOT NULL proven by the check.
    let v31 = "ALTER TABLE leads VALIDATE CONSTRAINT leads_tenant_nn;\nALTER TABLE leads ALTER COLUMN tenant_id SET NOT NULL;\nALTER TABLE leads DROP CONSTRAINT leads_tenant_nn;\n";
    validate_in_the_next_migration(
        &db,
        &project,
        ("ddl/V30__leads_tenant_check", v30),
        ("ddl/V31__leads_tenant_not_null", v31),
        "leads",
        "INSERT INTO leads (id, tenant_id) VALUES (9002, 2); SELECT count(*) FROM leads",
    );
    assert!(scalar_bool(
        &db,
        "SELECT attnotnull FROM pg_attribute WHERE attrelid = 'leads'::regclass AND attname = 'tenant_id'"
    ));
    assert_eq!(
        scalar_i64(
            &db,
            "SELECT count(*) FROM pg_constraint WHERE conname = 'leads_tenant_nn'"
        ),
        0
    );

    // constraint-not-valid (a foreign key): NOT VALID, then VALIDATE in the next migration.
    let v40 = "ALTER TABLE leads ADD CONSTRAINT fk_leads_user FOREIGN KEY (assigned_user_id) REFERENCES business_users (id) NOT VALID;\n";
    let v41 = "ALTER TABLE leads VALIDATE CONSTRAINT fk_leads_user;\n";
    validate_in_the_next_migration(
        &db,
        &project,
        ("ddl/V40__leads_user_fk", v40),
        ("ddl/V41__leads_user_fk_validate", v41),
        "leads",
        "INSERT INTO leads (id, tenant_id, assigned_user_id) VALUES (9003, 3, 5)",
    );
    assert!(scalar_bool(
        &db,
        "SELECT convalidated FROM pg_constraint WHERE conname = 'fk_leads_user'"
    ));
    assert_eq!(relfilenode(&db, "leads"), leads_file, "leads was rewritten");
}

/// unique-constraint-build and refresh-materialized-view: the index is built concurrently
/// in `sql/indexes/`, placed `before:` the DDL migration that needs it.
#[test]
fn index_first_recipes_build_concurrently_before_the_step_that_needs_them() {
    let docs = rules_md();
    let db = TestDb::new("recipe_index");
    let project = Project::new(&db);
    project.add("ddl/V1__base", BASE, "");
    project.add(
        "ddl/V2__lead_totals",
        "CREATE MATERIALIZED VIEW lead_totals AS SELECT tenant_id, count(*) AS n FROM leads GROUP BY tenant_id;\n",
        "",
    );
    project.apply();
    db.client().batch_execute(ROWS).unwrap();

    let index = "CREATE UNIQUE INDEX CONCURRENTLY leads_email_key ON leads (email);\n";
    let attach =
        "ALTER TABLE leads ADD CONSTRAINT leads_email_key UNIQUE USING INDEX leads_email_key;\n";
    assert_documented(&docs, index);
    assert_documented(&docs, attach);
    project.add(
        "indexes/V9__leads_email_key",
        index,
        "before: ddl/V40__leads_email_key",
    );
    project.add("ddl/V40__leads_email_key", attach, "");
    project.assert_lint_clean();
    let seen = observe_apply(
        &db,
        &project,
        "leads",
        "INSERT INTO leads (id, tenant_id, email) VALUES (9001, 1, 'new@example.com')",
    );
    // The first waiter is the concurrent build (placed before V40), not the attach.
    assert_eq!(seen.requested, "ShareUpdateExclusiveLock");
    assert!(
        seen.concurrent_ok,
        "writes were blocked while the build waited"
    );
    assert!(scalar_bool(
        &db,
        "SELECT contype = 'u' FROM pg_constraint WHERE conname = 'leads_email_key'"
    ));

    let key = "CREATE UNIQUE INDEX CONCURRENTLY lead_totals_key ON lead_totals (tenant_id);\n";
    let refresh = "REFRESH MATERIALIZED VIEW CONCURRENTLY lead_totals;\n";
    assert_documented(&docs, key);
    assert_documented(&docs, refresh);
    project.add("ddl/V70__lead_totals_refresh", refresh, "");
    project.add(
        "indexes/V14__lead_totals_key",
        key,
        "before: ddl/V70__lead_totals_refresh",
    );
    project.assert_lint_clean();
    // A materialized view cannot be LOCKed, so the window is a reader instead: its open
    // transaction holds ACCESS SHARE on the view. A plain REFRESH (ACCESS EXCLUSIVE) waits
    // for it; the recipe's build and CONCURRENTLY refresh (EXCLUSIVE) do not.
    let mut reader = db.client();
    reader
        .batch_execute("BEGIN; SELECT count(*) FROM lead_totals")
        .unwrap();
    let mut plain = db.client();
    plain.batch_execute("SET lock_timeout = '500ms'").unwrap();
    assert!(
        plain
            .batch_execute("REFRESH MATERIALIZED VIEW lead_totals")
            .is_err(),
        "a plain refresh waits for the reader (the window would show nothing otherwise)"
    );
    project.apply();
    let reader_pid: i32 = reader
        .query_one("SELECT pg_backend_pid()", &[])
        .unwrap()
        .get(0);
    assert!(scalar_bool(
        &db,
        &format!(
            "SELECT granted FROM pg_locks WHERE pid = {reader_pid} AND relation = 'lead_totals'::regclass AND mode = 'AccessShareLock'"
        )
    ));
    reader.batch_execute("COMMIT").unwrap();
    assert_eq!(
        scalar_i64(&db, "SELECT sum(n)::bigint FROM lead_totals"),
        5001
    );
}

/// attach-partition (a validated bounds check first, so the attach does not scan) and
/// detach-partition (CONCURRENTLY, in `sql/indexes/`, outside a transaction).
#[test]
fn partition_recipes_validate_first_and_detach_concurrently() {
    let docs = rules_md();
    let db = TestDb::new("recipe_parts");
    let project = Project::new(&db);
    project.add(
        "ddl/V1__events",
        "CREATE TABLE events (id bigint, at timestamptz) PARTITION BY RANGE (at);\n\
         CREATE TABLE events_2019 PARTITION OF events FOR VALUES FROM ('2019-01-01') TO ('2020-01-01');\n\
         CREATE TABLE events_2027 (id bigint, at timestamptz);\n",
        "",
    );
    project.apply();
    db.client()
        .batch_execute(
            "INSERT INTO events_2027 SELECT g, '2027-01-01'::timestamptz + g * interval '1 minute' FROM generate_series(1, 5000) g;\n\
             INSERT INTO events SELECT g, '2019-06-01'::timestamptz + g * interval '1 minute' FROM generate_series(1, 1000) g;",
        )
        .unwrap();

    let v50 = "ALTER TABLE events_2027 ADD CONSTRAINT events_2027_bounds\n  CHECK (at IS NOT NULL AND at >= '2027-01-01' AND at < '2028-01-01') NOT VALID;\n";
    let v51 = "ALTER TABLE events_2027 VALIDATE CONSTRAINT events_2027_bounds;\nALTER TABLE events ATTACH PARTITION events_2027 FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');\nALTER TABLE events_2027 DROP CONSTRAINT events_2027_bounds;\n";
    validate_in_the_next_migration(
        &db,
        &project,
        ("ddl/V50__events_2027_bounds", v50),
        ("ddl/V51__events_2027_attach", v51),
        "events_2027",
        "INSERT INTO events_2027 VALUES (9001, '2027-06-01')",
    );
    assert!(scalar_bool(
        &db,
        "SELECT relispartition FROM pg_class WHERE relname = 'events_2027'"
    ));

    let detach = "ALTER TABLE events DETACH PARTITION events_2019 CONCURRENTLY;\n";
    assert_documented(&docs, detach);
    project.add("indexes/V12__detach_events_2019", detach, "");
    project.assert_lint_clean();
    let seen = observe_apply(
        &db,
        &project,
        "events",
        "INSERT INTO events VALUES (9002, '2027-07-01'); SELECT count(*) FROM events",
    );
    assert_eq!(seen.requested, "ShareUpdateExclusiveLock");
    assert!(
        seen.concurrent_ok,
        "the parent was blocked while DETACH waited"
    );
    assert!(!scalar_bool(
        &db,
        "SELECT relispartition FROM pg_class WHERE relname = 'events_2019'"
    ));
    assert_eq!(scalar_i64(&db, "SELECT count(*) FROM events_2019"), 1000);
}

/// enum-value-in-transaction: the value in one migration, its first use in the next; and
/// exclusion-constraint: declared when the table is created.
#[test]
fn enum_and_exclusion_recipes_apply_as_written() {
    let docs = rules_md();
    let db = TestDb::new("recipe_enum");
    let project = Project::new(&db);
    project.add("ddl/V1__base", BASE, "");
    project.apply();
    db.client().batch_execute(ROWS).unwrap();
    let v80 = "ALTER TYPE lead_status ADD VALUE 'archived';\n";
    let v81 = "ALTER TABLE leads ALTER COLUMN status SET DEFAULT 'archived';\n";
    assert_documented(&docs, v80);
    assert_documented(&docs, v81);
    project.add("ddl/V80__lead_status", v80, "");
    project.add("ddl/V81__lead_status_default", v81, "");
    let bookings = "CREATE EXTENSION IF NOT EXISTS btree_gist;\nCREATE TABLE bookings (room int, during tstzrange, EXCLUDE USING gist (room WITH =, during WITH &&));\n";
    assert_documented(&docs, bookings);
    project.add("ddl/V90__bookings", bookings, "");
    project.assert_lint_clean();
    // Both in one deploy: each DDL file commits before the next runs.
    project.apply();
    db.client()
        .batch_execute("INSERT INTO leads (id, tenant_id) VALUES (9001, 1)")
        .unwrap();
    assert!(scalar_bool(
        &db,
        "SELECT status = 'archived' FROM leads WHERE id = 9001"
    ));
    let mut client = db.client();
    client
        .batch_execute("INSERT INTO bookings VALUES (1, '[2027-01-01 10:00, 2027-01-01 11:00)')")
        .unwrap();
    let overlap = client
        .batch_execute("INSERT INTO bookings VALUES (1, '[2027-01-01 10:30, 2027-01-01 12:00)')");
    assert!(overlap.is_err(), "the exclusion constraint is in place");
}
