//! Adopting other tools' histories (issue 27): one small history, written for these tests
//! in the layout of each tool sqlrail adopts, is adopted by `sqlrail init` alone and
//! applied (1) to a fresh database, (2) to databases the other tool migrated part-way, with
//! and without that tool's ledger, and (3) one migration at a time as a team adds them.
//! Each time the schema must be exactly the one the same files give when the other tool's
//! order is followed with plain SQL, and no migration may be recorded without running.
//!
//! The history has what broke adoption on real projects: a view replaced to show a
//! column the same migration adds, seed rows, a unique index built concurrently and then
//! taken over by a constraint, renames, a one-off data fix, an index re-created under its
//! name with another definition, and a migration that drops another tool's
//! `schema_migrations`.

mod support;

use std::path::Path;

use support::{TestDb, sqlrail};

/// One migration of the history: its name, its up SQL, and whether its tool runs it in a
/// transaction (otherwise it is one statement).
struct Step {
    name: &'static str,
    up: &'static str,
    transactional: bool,
}

const HISTORY: &[Step] = &[
    Step {
        name: "create_users",
        up: "CREATE TABLE users (id bigserial PRIMARY KEY, email text NOT NULL, name text);\nCREATE TABLE schema_migrations (version text);\n",
        transactional: true,
    },
    Step {
        name: "roles_and_user_list",
        up: "CREATE TABLE roles (name text PRIMARY KEY);\nINSERT INTO roles (name) VALUES ('admin'), ('member');\nCREATE VIEW user_list AS SELECT id, email FROM users;\n",
        transactional: true,
    },
    Step {
        name: "add_phone",
        up: "ALTER TABLE users ADD COLUMN phone text;\nCREATE OR REPLACE VIEW user_list AS SELECT id, email, phone FROM users;\n",
        transactional: true,
    },
    Step {
        name: "users_email_uniq",
        up: "CREATE UNIQUE INDEX CONCURRENTLY users_email_uniq ON users (email);\n",
        transactional: false,
    },
    Step {
        name: "users_email_key",
        up: "ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE USING INDEX users_email_uniq;\n",
        transactional: true,
    },
    Step {
        name: "renames",
        up: "ALTER TABLE users RENAME COLUMN name TO full_name;\nALTER TABLE roles RENAME TO user_roles;\nDROP TABLE IF EXISTS schema_migrations;\n",
        transactional: true,
    },
    Step {
        name: "clear_empty_phones",
        up: "UPDATE users SET phone = NULL WHERE phone = '';\n",
        transactional: true,
    },
    Step {
        name: "users_phone_idx",
        up: "CREATE INDEX users_phone_idx ON users (phone);\n",
        transactional: true,
    },
    Step {
        name: "users_phone_idx_partial",
        up: "DROP INDEX users_phone_idx;\nCREATE INDEX users_phone_idx ON users (phone) WHERE phone IS NOT NULL;\n",
        transactional: true,
    },
];

/// The tools, each with how it lays the history out and how its ledger records it.
#[derive(Clone, Copy, Debug)]
enum Tool {
    Diesel,
    Goose,
    GolangMigrate,
    Dbmate,
    Flyway,
    Sqitch,
    Refinery,
}

const TOOLS: [Tool; 7] = [
    Tool::Diesel,
    Tool::Goose,
    Tool::GolangMigrate,
    Tool::Dbmate,
    Tool::Flyway,
    Tool::Sqitch,
    Tool::Refinery,
];

impl Tool {
    /// A migration's up SQL for this tool: where `schema_migrations` is the tool's own
    /// ledger (golang-migrate, dbmate), the history's legacy table has another name.
    fn up(self, step: &Step) -> String {
        match self {
            Tool::GolangMigrate | Tool::Dbmate => {
                step.up.replace("schema_migrations", "old_versions")
            }
            _ => step.up.to_owned(),
        }
    }

    /// The version the tool records for migration `n` (from 1), and its file's stem.
    fn version(self, n: usize) -> String {
        match self {
            Tool::Diesel => format!("2024010{n}000000"),
            Tool::Goose | Tool::Dbmate => format!("2024010{n}120000"),
            Tool::GolangMigrate | Tool::Flyway | Tool::Refinery => n.to_string(),
            Tool::Sqitch => HISTORY[n - 1].name.to_owned(),
        }
    }

    /// Writes the history (the first `count` migrations) in this tool's layout under `dir`.
    fn write(self, dir: &Path, count: usize) {
        let file = |path: String, text: String| {
            let path = dir.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        };
        for (i, step) in HISTORY.iter().take(count).enumerate() {
            let n = i + 1;
            let v = self.version(n);
            let name = step.name;
            let up = self.up(step);
            match self {
                Tool::Diesel => {
                    let folder = format!("migrations/2024-01-0{n}-000000_{name}");
                    file(format!("{folder}/up.sql"), up.clone());
                    file(format!("{folder}/down.sql"), "SELECT 1;\n".to_owned());
                    if !step.transactional {
                        file(
                            format!("{folder}/metadata.toml"),
                            "run_in_transaction = false\n".to_owned(),
                        );
                    }
                }
                Tool::Goose => {
                    let no_tx = if step.transactional {
                        ""
                    } else {
                        "-- +goose NO TRANSACTION\n"
                    };
                    file(
                        format!("db/migrations/{v}_{name}.sql"),
                        format!(
                            "{no_tx}-- +goose Up\n-- +goose StatementBegin\n{up}-- +goose StatementEnd\n\n-- +goose Down\nSELECT 1;\n"
                        ),
                    );
                }
                Tool::GolangMigrate => {
                    file(format!("migrations/{n:06}_{name}.up.sql"), up.clone());
                    file(
                        format!("migrations/{n:06}_{name}.down.sql"),
                        "SELECT 1;\n".to_owned(),
                    );
                }
                Tool::Dbmate => {
                    let option = if step.transactional {
                        ""
                    } else {
                        " transaction:false"
                    };
                    file(
                        format!("db/migrations/{v}_{name}.sql"),
                        format!("-- migrate:up{option}\n{up}\n-- migrate:down\nSELECT 1;\n"),
                    );
                }
                Tool::Flyway => {
                    file(format!("sql/V{n}__{name}.sql"), up.clone());
                    file(
                        "flyway.toml".to_owned(),
                        "[flyway]\nlocations = [\"filesystem:sql\"]\n".to_owned(),
                    );
                }
                Tool::Sqitch => {
                    let up = if step.transactional {
                        format!("-- Deploy {name}\nBEGIN;\n{up}COMMIT;\n")
                    } else {
                        up.clone()
                    };
                    file(format!("deploy/{name}.sql"), up);
                    file(format!("revert/{name}.sql"), "SELECT 1;\n".to_owned());
                }
                Tool::Refinery => file(format!("migrations/V{n}__{name}.sql"), up.clone()),
            }
        }
        if let Tool::Sqitch = self {
            let mut plan = "%syntax-version=1.0.0\n%project=app\n\n".to_owned();
            for step in HISTORY.iter().take(count) {
                plan.push_str(&format!(
                    "{} 2024-01-01T00:00:00Z Dev <dev@example.com> # {}\n",
                    step.name, step.name
                ));
            }
            file("sqitch.plan".to_owned(), plan);
        }
        // What is not a migration stays out.
        file("README.md".to_owned(), "# app\n".to_owned());
        file(
            "db/seed.sql".to_owned(),
            "INSERT INTO users (email) VALUES ('dev@example.com');\n".to_owned(),
        );
    }

    /// Creates and fills the tool's ledger as the tool does after migrating `count`.
    fn write_ledger(self, client: &mut postgres::Client, count: usize) {
        let versions: Vec<String> = (1..=count).map(|n| self.version(n)).collect();
        let sql = match self {
            Tool::Diesel => format!(
                "CREATE TABLE __diesel_schema_migrations (version VARCHAR(50) PRIMARY KEY NOT NULL, run_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP);{}",
                versions.iter().map(|v| format!("INSERT INTO __diesel_schema_migrations (version) VALUES ('{v}');")).collect::<String>()
            ),
            Tool::Goose => format!(
                "CREATE TABLE goose_db_version (id serial PRIMARY KEY, version_id bigint NOT NULL, is_applied boolean NOT NULL, tstamp timestamp NULL DEFAULT now()); \
                 INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, true);{}",
                versions.iter().map(|v| format!("INSERT INTO goose_db_version (version_id, is_applied) VALUES ({v}, true);")).collect::<String>()
            ),
            Tool::GolangMigrate => format!(
                "CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL);{}",
                if count > 0 { format!("INSERT INTO schema_migrations VALUES ({count}, false);") } else { String::new() }
            ),
            Tool::Dbmate => format!(
                "CREATE TABLE schema_migrations (version varchar(128) PRIMARY KEY);{}",
                versions.iter().map(|v| format!("INSERT INTO schema_migrations VALUES ('{v}');")).collect::<String>()
            ),
            Tool::Flyway => format!(
                "CREATE TABLE flyway_schema_history (installed_rank int PRIMARY KEY, version varchar(50), description varchar(200) NOT NULL, \
                 type varchar(20) NOT NULL, script varchar(1000) NOT NULL, checksum int, installed_by varchar(100) NOT NULL, \
                 installed_on timestamp NOT NULL DEFAULT now(), execution_time int NOT NULL, success boolean NOT NULL);{}",
                versions.iter().enumerate().map(|(i, v)| format!(
                    "INSERT INTO flyway_schema_history VALUES ({}, '{v}', 'x', 'SQL', 'V{v}__x.sql', 0, 'me', now(), 1, true);", i + 1
                )).collect::<String>()
            ),
            Tool::Sqitch => format!(
                "CREATE SCHEMA sqitch; CREATE TABLE sqitch.changes (change_id text PRIMARY KEY, change text NOT NULL, project text NOT NULL);{}",
                versions.iter().map(|v| format!("INSERT INTO sqitch.changes VALUES (md5('{v}'), '{v}', 'app');")).collect::<String>()
            ),
            Tool::Refinery => format!(
                "CREATE TABLE refinery_schema_history (version int4 PRIMARY KEY, name varchar(255), applied_on varchar(255), checksum varchar(255));{}",
                versions.iter().map(|v| format!("INSERT INTO refinery_schema_history VALUES ({v}, 'x', '', '0');")).collect::<String>()
            ),
        };
        client.batch_execute(&sql).unwrap();
    }
}

/// Applies the first `count` migrations as `tool` would, with plain SQL.
fn migrate_by_hand(tool: Tool, db: &TestDb, count: usize) {
    let mut client = db.client();
    for step in HISTORY.iter().take(count) {
        let up = tool.up(step);
        if step.transactional {
            client
                .batch_execute(&format!("BEGIN;\n{up}COMMIT;"))
                .unwrap();
        } else {
            client.batch_execute(&up).unwrap();
        }
    }
}

/// The application's schema: `pg_dump --schema-only` without sqlrail's and the other
/// tools' bookkeeping.
fn schema(db: &TestDb) -> String {
    let out = std::process::Command::new("pg_dump")
        .args([
            "--schema-only",
            "--no-owner",
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
        ])
        .args(["--exclude-schema=sqlrail", "--exclude-schema=sqitch"])
        .args([
            "-T",
            "__diesel_schema_migrations",
            "-T",
            "goose_db_version*",
        ])
        .args([
            "-T",
            "flyway_schema_history",
            "-T",
            "refinery_schema_history",
        ])
        // golang-migrate's and dbmate's ledger (the history drops its own table of that name).
        .args(["-T", "public.schema_migrations"])
        .arg(&db.name)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter(|l| {
            !l.starts_with("\\restrict") && !l.starts_with("\\unrestrict") && !l.starts_with("--")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn url(db: &TestDb) -> String {
    format!(
        "postgres://postgres@127.0.0.1:5432/{}?sslmode=disable",
        db.name
    )
}

fn reconciled(db: &TestDb) -> i64 {
    db.client()
        .query_one(
            "SELECT count(*) FILTER (WHERE reconciled) FROM sqlrail.schema_migrations",
            &[],
        )
        .unwrap()
        .get(0)
}

/// A folder holding the first `count` migrations in `tool`'s layout, adopted by init.
fn adopted(tool: Tool, count: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    tool.write(dir.path(), count);
    let (code, _, stderr) = sqlrail(&["init"], dir.path());
    assert_eq!(code, 0, "{tool:?}: {stderr}");
    dir
}

/// The schema the whole history gives, applied as `tool` applies it.
fn reference(tool: Tool) -> String {
    let db = TestDb::new("adopt_reference");
    migrate_by_hand(tool, &db, HISTORY.len());
    schema(&db)
}

#[test]
fn each_layout_is_adopted_by_init_alone_and_a_fresh_apply_gives_the_historys_schema() {
    for tool in TOOLS {
        let expected = reference(tool);
        let dir = adopted(tool, HISTORY.len());
        let db = TestDb::new("adopt_fresh");
        let (code, _, stderr) = sqlrail(&["apply", "--database-url", &url(&db)], dir.path());
        assert_eq!(code, 0, "{tool:?}: {stderr}");
        assert_eq!(schema(&db), expected, "{tool:?}: {stderr}");
        assert_eq!(reconciled(&db), 0, "{tool:?}: {stderr}");
        // verify knows that roles was renamed and users_phone_idx re-created.
        let (code, _, stderr) = sqlrail(&["verify", "--database-url", &url(&db)], dir.path());
        assert_eq!(code, 0, "{tool:?}: {stderr}");
        // A second apply has nothing to do.
        let (code, _, stderr) = sqlrail(&["apply", "--database-url", &url(&db)], dir.path());
        assert_eq!(code, 0, "{tool:?}: {stderr}");
        assert!(stderr.contains("nothing to apply"), "{tool:?}: {stderr}");
        // The file that is not a migration was left out.
        let manifest = std::fs::read_to_string(dir.path().join("manifest.yaml")).unwrap();
        assert!(!manifest.contains("seed"), "{tool:?}: {manifest}");
    }
}

#[test]
fn databases_migrated_part_way_by_the_other_tool_reach_the_same_schema() {
    for tool in TOOLS {
        let expected = reference(tool);
        let dir = adopted(tool, HISTORY.len());
        for with_ledger in [false, true] {
            for cut in 0..=HISTORY.len() {
                let db = TestDb::new("adopt_cut");
                migrate_by_hand(tool, &db, cut);
                if with_ledger {
                    tool.write_ledger(&mut db.client(), cut);
                }
                let (code, _, stderr) =
                    sqlrail(&["apply", "--database-url", &url(&db)], dir.path());
                let label = format!("{tool:?}, cut after {cut}, ledger {with_ledger}");
                assert_eq!(code, 0, "{label}: {stderr}");
                assert_eq!(schema(&db), expected, "{label}: {stderr}");
            }
        }
    }
}

#[test]
fn replaying_the_history_one_migration_at_a_time_never_reconciles() {
    for tool in [Tool::Goose, Tool::Diesel] {
        let expected = reference(tool);
        let db = TestDb::new("adopt_replay");
        for count in 1..=HISTORY.len() {
            let dir = adopted(tool, count);
            let (code, _, stderr) = sqlrail(&["apply", "--database-url", &url(&db)], dir.path());
            assert_eq!(code, 0, "{tool:?} after {count}: {stderr}");
            assert_eq!(reconciled(&db), 0, "{tool:?} after {count}: {stderr}");
            let (code, _, stderr) = sqlrail(&["verify", "--database-url", &url(&db)], dir.path());
            assert_eq!(code, 0, "{tool:?} after {count}: {stderr}");
        }
        assert_eq!(schema(&db), expected, "{tool:?}");
    }
}

#[test]
fn init_reports_what_it_did_with_each_file_and_what_it_left_out() {
    let dir = tempfile::tempdir().unwrap();
    Tool::Goose.write(dir.path(), HISTORY.len());
    let (code, _, stderr) = sqlrail(&["init", "--dry-run"], dir.path());
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("found a goose history: 9 migration(s)"),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "becomes sql/indexes/V1__users_email_uniq.sql (runs right after ddl/V3__add_phone)"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("skipped db/seed.sql: not a migration"),
        "{stderr}"
    );
    assert!(stderr.contains("nothing was written"), "{stderr}");
    assert!(!dir.path().join("manifest.yaml").exists());
    let (code, _, stderr) = sqlrail(&["init"], dir.path());
    assert_eq!(code, 0, "{stderr}");
    let manifest = std::fs::read_to_string(dir.path().join("manifest.yaml")).unwrap();
    assert!(
        manifest.contains("adopted_from: { tool: goose }"),
        "{manifest}"
    );
    assert!(
        manifest.contains("origin: \"20240101120000\""),
        "{manifest}"
    );
    // The replaced view gives no fingerprint; the column it shows does.
    assert!(
        manifest.contains(
            "fingerprint: { all: [ { column: users.phone }, { column: user_list.phone } ] }"
        ),
        "{manifest}"
    );
    // The Down sections stay in the originals, out of sqlrail's files.
    let first = std::fs::read_to_string(dir.path().join("sql/ddl/V1__create_users.sql")).unwrap();
    assert!(!first.contains("goose"), "{first}");
    // The history's own findings are grandfathered: lint passes on the adopted project.
    let (code, _, stderr) = sqlrail(&["lint"], dir.path());
    assert_eq!(code, 0, "{stderr}");
}
