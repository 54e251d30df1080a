use std::path::{Path, PathBuf};

use super::adoption::{Placement, Unplaced, place, repeatable};
use super::proposal::propose;
use super::*;
use crate::config::{Fingerprint, Manifest};
use crate::project::{Migration, Project};

/// A project of DDL files (and placed index files: `(id, sql, after)`), in memory.
fn project(files: &[(&str, &str)], manifest: &str) -> Project {
    let migrations = files
        .iter()
        .map(|(id, sql)| {
            let (phase, version, name) = crate::config::parse_id(id).unwrap();
            let stem = id.split_once('/').unwrap().1;
            Migration {
                id: (*id).to_owned(),
                phase,
                version,
                name: name.to_owned(),
                path: PathBuf::from(format!("sql/{id}.sql")),
                sql: (*sql).to_owned(),
                checksum: crate::project::checksum(stem, sql).unwrap(),
            }
        })
        .collect();
    let manifest = Manifest::parse(Path::new("manifest.yaml"), manifest).unwrap();
    Project::new(Path::new("."), "manifest.yaml".into(), manifest, migrations)
}

fn ddl(files: &[&str]) -> Project {
    let named: Vec<(String, &str)> = files
        .iter()
        .enumerate()
        .map(|(i, sql)| (format!("ddl/V{}__m", i + 1), *sql))
        .collect();
    let refs: Vec<(&str, &str)> = named.iter().map(|(id, sql)| (id.as_str(), *sql)).collect();
    let manifest: String = std::iter::once("migrations:\n".to_owned())
        .chain(named.iter().map(|(id, _)| format!("  - id: {id}\n")))
        .collect();
    project(&refs, &manifest)
}

fn check(text: &str) -> Fingerprint {
    text.parse().unwrap()
}

fn proposed(history: &History<'_>, step: usize) -> String {
    propose(history, step).map_or("none".into(), |f| f.to_string())
}

#[test]
fn a_replaced_view_is_not_proposed_and_the_added_column_is() {
    // The D1 reproduction (issue 27): V2's view existed after V1, so `{ view: leads_view }`
    // held before V2 ran and `apply` recorded V2 without running it.
    let p = ddl(&[
        "CREATE TABLE leads (id int, phone text); CREATE VIEW leads_view AS SELECT id, phone FROM leads;",
        "ALTER TABLE leads ADD COLUMN email text; CREATE OR REPLACE VIEW leads_view AS SELECT id, phone, email FROM leads;",
    ]);
    let h = History::of(&p);
    assert_eq!(
        proposed(&h, 1),
        "{ all: [ { table: leads }, { view: leads_view } ] }"
    );
    assert_eq!(
        proposed(&h, 2),
        "{ all: [ { column: leads.email }, { column: leads_view.email } ] }"
    );
    let view = check("{ view: leads_view }");
    assert_eq!(h.predict(&view, 1, 2), Truth::True, "holds before V2 ran");
}

#[test]
fn renames_drops_and_recreations_follow_the_objects() {
    let p = ddl(&[
        "CREATE TABLE a (id int PRIMARY KEY, x int); CREATE INDEX a_x ON a (x);",
        "ALTER TABLE a RENAME TO b; ALTER TABLE b RENAME COLUMN x TO y;",
        "DROP INDEX a_x; CREATE INDEX a_x ON b (y) WHERE y > 0;",
        "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1'; DROP FUNCTION f();",
        "DROP TABLE b;",
        "CREATE TABLE b (z int);",
    ]);
    let h = History::of(&p);
    assert_eq!(proposed(&h, 1), "{ all: [ { table: a }, { index: a_x } ] }");
    assert_eq!(
        proposed(&h, 2),
        "{ all: [ { table: b }, { column: b.y } ] }"
    );
    assert_eq!(
        proposed(&h, 3),
        "{ index_def: { name: a_x, unique: false, partial: true, columns: [ \"y\" ] } }",
        "the index's name existed before: its definition tells"
    );
    assert_eq!(proposed(&h, 4), "none", "the file drops what it creates");
    assert_eq!(proposed(&h, 5), "{ not: { table: b } }");
    assert_eq!(proposed(&h, 6), "{ table: b }");
    // Columns and indexes move with their table and die with it.
    let y = check("{ column: b.y }");
    assert_eq!(
        (1..=6).map(|s| h.predict(&y, s, 2)).collect::<Vec<_>>(),
        [
            Truth::False,
            Truth::True,
            Truth::True,
            Truth::True,
            Truth::False,
            Truth::False
        ]
    );
    let pkey = check("{ constraint: b.a_pkey }");
    assert_eq!(h.predict(&pkey, 2, 1), Truth::True);
    assert_eq!(h.predict(&check("{ table: a }"), 6, 1), Truth::False);
}

#[test]
fn dropping_a_column_drops_the_constraints_and_indexes_on_it() {
    let p = ddl(&[
        "CREATE TABLE plans (code text PRIMARY KEY); CREATE TABLE a (id int, plan text);",
        "ALTER TABLE a ADD CONSTRAINT a_plan_fkey FOREIGN KEY (plan) REFERENCES plans (code); CREATE INDEX a_plan ON a (plan);",
        "ALTER TABLE a RENAME TO b; ALTER TABLE b DROP COLUMN plan;",
    ]);
    let h = History::of(&p);
    assert_eq!(
        h.predict(&check("{ constraint: a.a_plan_fkey }"), 2, 2),
        Truth::True
    );
    assert_eq!(
        h.predict(&check("{ constraint: b.a_plan_fkey }"), 3, 2),
        Truth::False
    );
    assert_eq!(h.predict(&check("{ index: a_plan }"), 3, 2), Truth::False);
}

#[test]
fn columns_of_tables_made_from_elsewhere_are_unknown() {
    let p = ddl(&[
        "CREATE TABLE a (id int); CREATE TABLE c (LIKE a);",
        "ALTER TABLE c ADD COLUMN z int;",
    ]);
    let h = History::of(&p);
    assert_eq!(h.predict(&check("{ column: c.id }"), 1, 1), Truth::Unknown);
    assert_eq!(h.predict(&check("{ column: c.z }"), 2, 2), Truth::True);
    // z may have come with LIKE, so its presence proves nothing; its absence still proves
    // V2 has not run: a weak check, proposed for want of a strong one.
    assert_eq!(h.predict(&check("{ column: c.z }"), 1, 2), Truth::Unknown);
    assert_eq!(proposed(&h, 2), "{ column: c.z }");
}

/// What a database after `state` answers to each step's check, as the history says.
fn answers(h: &History<'_>, checks: &[Option<Fingerprint>], state: usize) -> Vec<Option<bool>> {
    checks
        .iter()
        .enumerate()
        .map(|(i, c)| c.as_ref().and_then(|c| h.predict(c, state, i + 1).known()))
        .collect()
}

#[test]
fn a_database_is_placed_where_every_answer_fits() {
    let p = ddl(&[
        "CREATE TABLE users (id int);",
        "CREATE TABLE legacy (id int);",
        "ALTER TABLE users ADD COLUMN email text;",
        "DROP TABLE legacy;",
        "ALTER TABLE users RENAME TO accounts;",
        "GRANT SELECT ON accounts TO PUBLIC;",
        "CREATE TABLE legacy (id int, v int);",
    ]);
    let h = History::of(&p);
    let checks: Vec<Option<Fingerprint>> = (1..=h.sequenced).map(|s| propose(&h, s)).collect();
    let refs: Vec<Option<&Fingerprint>> = checks.iter().map(Option::as_ref).collect();
    assert!(checks[5].is_none(), "a GRANT has no check");
    for state in 0..=h.sequenced {
        let placed = place(&h, &refs, &answers(&h, &checks, state));
        match state {
            // After V5 or V6 the answers are the same; V6 (a GRANT) can run again.
            5 | 6 => assert_eq!(
                placed,
                Ok(Placement {
                    state: 5,
                    set_aside: vec![],
                    repeated: Some(6)
                })
            ),
            _ => assert_eq!(placed.map(|p| p.state), Ok(state), "state {state}"),
        }
    }
    // An object the files never show (made by hand) is set aside, not trusted.
    let mut seen = answers(&h, &checks, 3);
    seen[6] = Some(true);
    let placed = place(&h, &refs, &seen).unwrap();
    assert_eq!(placed.state, 3);
    // Answers no state gives: a half-applied database is refused.
    let mut seen = answers(&h, &checks, 4);
    seen[0] = Some(false);
    assert!(matches!(
        place(&h, &refs, &seen),
        Err(Unplaced::NoMatch { .. })
    ));
}

#[test]
fn data_steps_that_cannot_run_twice_make_the_place_ambiguous() {
    let p = ddl(&[
        "CREATE TABLE roles (name text);",
        "INSERT INTO roles VALUES ('admin');",
        "CREATE TABLE users (id int);",
    ]);
    let h = History::of(&p);
    let checks: Vec<Option<Fingerprint>> = (1..=3).map(|s| propose(&h, s)).collect();
    let refs: Vec<Option<&Fingerprint>> = checks.iter().map(Option::as_ref).collect();
    assert_eq!(
        place(&h, &refs, &answers(&h, &checks, 1)),
        Err(Unplaced::Ambiguous {
            states: vec![1, 2],
            set_aside: vec![]
        })
    );
    assert_eq!(
        place(&h, &refs, &answers(&h, &checks, 3)).map(|p| p.state),
        Ok(3)
    );
}

#[test]
fn placed_index_builds_take_their_point_in_the_sequence() {
    let p = project(
        &[
            ("ddl/V1__t", "CREATE TABLE t (id int);"),
            (
                "ddl/V2__pk",
                "ALTER TABLE t ADD CONSTRAINT t_pkey PRIMARY KEY USING INDEX t_id;",
            ),
            (
                "indexes/V1__t_id",
                "CREATE UNIQUE INDEX CONCURRENTLY t_id ON t (id);",
            ),
            (
                "indexes/V2__later",
                "CREATE INDEX CONCURRENTLY t_later ON t (id);",
            ),
        ],
        "migrations:\n  - id: ddl/V1__t\n  - id: ddl/V2__pk\n  - id: indexes/V1__t_id\n    before: ddl/V2__pk\n  - id: indexes/V2__later\n",
    );
    let h = History::of(&p);
    let order: Vec<&str> = h.steps.iter().map(|s| s.migration.id.as_str()).collect();
    assert_eq!(
        order,
        [
            "ddl/V1__t",
            "indexes/V1__t_id",
            "ddl/V2__pk",
            "indexes/V2__later"
        ]
    );
    assert_eq!(h.sequenced, 3);
    // USING INDEX renames the index to the constraint's name.
    assert_eq!(h.predict(&check("{ index: t_pkey }"), 3, 3), Truth::True);
    assert_eq!(h.predict(&check("{ index: t_id }"), 3, 2), Truth::False);
}

#[test]
fn if_not_exists_creations_and_placed_index_files_are_safe_to_repeat() {
    let p = project(
        &[
            ("ddl/V1__t", "CREATE TABLE IF NOT EXISTS t (id int);"),
            ("ddl/V2__u", "CREATE TABLE u (id int);"),
            (
                "ddl/V3__idx",
                "CREATE INDEX IF NOT EXISTS t_id ON t (id);\nCREATE SEQUENCE IF NOT EXISTS s;",
            ),
            (
                "indexes/V1__u_id",
                "CREATE INDEX CONCURRENTLY u_id ON u (id);",
            ),
        ],
        "migrations:\n  - id: ddl/V1__t\n  - id: ddl/V2__u\n  - id: ddl/V3__idx\n  - id: indexes/V1__u_id\n    after: ddl/V2__u\n",
    );
    let h = History::of(&p);
    let step = |id: &str| h.step_of(id).unwrap();
    assert!(repeatable(&h, step("ddl/V1__t")));
    assert!(!repeatable(&h, step("ddl/V2__u")));
    assert!(repeatable(&h, step("ddl/V3__idx")));
    // The index runner records a valid index of its name and definition, and refuses one
    // of another definition: running it again never builds a second one.
    assert!(repeatable(&h, step("indexes/V1__u_id")));
}
