//! The repository's example project is valid PostgreSQL: every DDL file applies in its own
//! transaction and every index file outside one, on a fresh database, and each fingerprint
//! is false before its file and true after it (and all still hold at the end).

mod support;

use std::path::Path;

use sqlrail::config::Fingerprint;
use sqlrail::config::Phase;
use sqlrail::db::fingerprint::holds;
use sqlrail::project::Migration;
use sqlrail::project::Project;
use support::TestDb;

fn fingerprint_of<'a>(project: &'a Project, migration: &Migration) -> &'a Fingerprint {
    let entry = project.manifest.entry(&migration.id);
    entry
        .and_then(|e| e.fingerprint.as_ref())
        .unwrap_or_else(|| panic!("{} has no fingerprint", migration.id))
}

#[test]
fn every_ddl_and_index_file_applies_and_its_fingerprint_holds() {
    let project = Project::load(Path::new(env!("CARGO_MANIFEST_DIR"))).unwrap();
    let db = TestDb::new("example");
    let mut client = db.client();
    let mut checked = 0;
    for migration in project
        .migrations
        .iter()
        .filter(|m| m.phase != Phase::Backfills)
    {
        let fingerprint = fingerprint_of(&project, migration);
        assert!(
            !holds(&mut client, fingerprint).unwrap(),
            "{}: fingerprint holds before the file ran",
            migration.id
        );
        match migration.phase {
            Phase::Ddl => {
                let mut tx = client.transaction().unwrap();
                tx.batch_execute(&migration.sql)
                    .unwrap_or_else(|e| panic!("{}: {e}", migration.id));
                tx.commit().unwrap();
            }
            _ => client
                .batch_execute(&migration.sql)
                .unwrap_or_else(|e| panic!("{}: {e}", migration.id)),
        }
        assert!(
            holds(&mut client, fingerprint).unwrap(),
            "{}: fingerprint does not hold after the file ran",
            migration.id
        );
        checked += 1;
    }
    for migration in project
        .migrations
        .iter()
        .filter(|m| m.phase != Phase::Backfills)
    {
        assert!(
            holds(&mut client, fingerprint_of(&project, migration)).unwrap(),
            "{}: fingerprint no longer holds at the end",
            migration.id
        );
    }
    assert!(checked >= 38, "only {checked} migrations checked");
}

#[test]
fn every_backfill_is_one_dml_statement_over_a_key_range() {
    let project = Project::load(Path::new(env!("CARGO_MANIFEST_DIR"))).unwrap();
    for migration in project.phase(Phase::Backfills) {
        let file = sqlrail::sql::split(&migration.sql).unwrap();
        assert_eq!(file.statements.len(), 1, "{}", migration.id);
        let statement = &file.statements[0];
        assert_eq!(
            statement.kind,
            sqlrail::sql::StatementKind::Dml,
            "{}",
            migration.id
        );
        let names: Vec<&str> = statement.params.iter().map(|p| p.name.as_str()).collect();
        assert!(
            names.contains(&"lo") && names.contains(&"hi"),
            "{}: uses {names:?}",
            migration.id
        );
    }
}

#[test]
fn fingerprint_kinds_detect_what_they_name() {
    use sqlrail::config::Fingerprint as F;
    let db = TestDb::new("fp");
    let mut c = db.client();
    c.batch_execute(
        "CREATE SCHEMA crm;
         CREATE TABLE crm.\"Leads\" (id int PRIMARY KEY, phone text, CONSTRAINT phone_len CHECK (length(phone) > 3));
         CREATE TABLE t (id int);
         CREATE VIEW v AS SELECT id FROM t;
         CREATE TYPE mood AS ENUM ('ok');
         CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
         CREATE TRIGGER trg BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION f();
         CREATE INDEX good ON t (id);
         INSERT INTO t VALUES (1), (1);",
    )
    .unwrap();
    // A failed unique build leaves an INVALID index behind: it must not count.
    assert!(
        c.batch_execute("CREATE UNIQUE INDEX CONCURRENTLY bad ON t (id)")
            .is_err()
    );
    let cases = [
        (F::Table("crm.\"Leads\"".into()), true),
        (F::Table("crm.leads".into()), false),
        (F::Table("t".into()), true),
        (F::Table("v".into()), false),
        (F::View("v".into()), true),
        (F::Column("crm.\"Leads\".phone".into()), true),
        (F::Column("t.phone".into()), false),
        (F::Column("v.id".into()), true),
        (F::Constraint("crm.\"Leads\".phone_len".into()), true),
        (F::Constraint("t.phone_len".into()), false),
        (F::Trigger("t.trg".into()), true),
        (F::Type("mood".into()), true),
        (F::Type("public.mood".into()), true),
        (F::Type("crm.mood".into()), false),
        (F::Function("f".into()), true),
        (F::Index("good".into()), true),
        (F::Index("bad".into()), false),
        (F::Sql("SELECT count(*) = 2 FROM t".into()), true),
        (
            F::All(vec![F::Table("t".into()), F::Table("nope".into())]),
            false,
        ),
        (
            F::Any(vec![F::Table("nope".into()), F::Table("t".into())]),
            true,
        ),
        (F::Table("x'; DROP TABLE t; --".into()), false),
    ];
    for (fingerprint, expected) in cases {
        assert_eq!(
            holds(&mut c, &fingerprint).unwrap(),
            expected,
            "{fingerprint:?}"
        );
    }
    assert!(
        holds(&mut c, &F::Table("t".into())).unwrap(),
        "the hostile name was treated as a name"
    );
}
