//! What must hold after every trial, whatever the fault: each a check on the database
//! that returns what it found wrong, in words.

use std::time::{Duration, Instant};

use crate::project::ROWS;
use crate::server::Server;

/// Every migration of the chaos project, by phase.
pub struct Expected {
    pub ddl: Vec<i32>,
    pub indexes: Vec<String>,
    pub backfills: Vec<String>,
}

/// Checks every invariant of `db` against `expected` and a clean run's schema dump.
pub fn check(server: &Server, db: &str, expected: &Expected, clean_dump: &str) -> Vec<String> {
    let mut found = Vec::new();
    found.extend(ddl_recorded_once(server, db, expected));
    found.extend(indexes_recorded_and_valid(server, db, expected));
    found.extend(backfills_done_once(server, db, expected));
    found.extend(schema_equals(server, db, clean_dump));
    found.extend(nothing_left_behind(server, db));
    found
}

/// Every DDL migration has exactly one ledger row, written by its own transaction (a
/// reconciled row would mean the change committed without its ledger row).
fn ddl_recorded_once(server: &Server, db: &str, expected: &Expected) -> Vec<String> {
    let rows = server
        .admin(db)
        .query(
            "SELECT version, count(*), bool_or(reconciled) FROM sqlrail.schema_migrations GROUP BY version ORDER BY version",
            &[],
        )
        .unwrap();
    let mut found = Vec::new();
    let versions: Vec<i32> = rows.iter().map(|r| r.get(0)).collect();
    if versions != expected.ddl {
        let missing: Vec<_> = expected
            .ddl
            .iter()
            .filter(|v| !versions.contains(v))
            .collect();
        let extra: Vec<_> = versions
            .iter()
            .filter(|v| !expected.ddl.contains(v))
            .collect();
        found.push(format!(
            "DDL ledger: missing versions {missing:?}, unexpected {extra:?}"
        ));
    }
    for row in &rows {
        let (version, count, reconciled): (i32, i64, bool) = (row.get(0), row.get(1), row.get(2));
        if count != 1 {
            found.push(format!(
                "DDL ledger: version {version} recorded {count} times"
            ));
        }
        if reconciled {
            found.push(format!(
                "DDL ledger: version {version} was reconciled (its change committed without its ledger row)"
            ));
        }
    }
    found
}

/// Every index file is recorded once as built, and no index in the database is invalid.
fn indexes_recorded_and_valid(server: &Server, db: &str, expected: &Expected) -> Vec<String> {
    let mut client = server.admin(db);
    let mut found = Vec::new();
    let rows = client
        .query(
            "SELECT id, state FROM sqlrail.sqlrail_index_builds ORDER BY id",
            &[],
        )
        .unwrap();
    let recorded: Vec<(String, String)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    for id in &expected.indexes {
        match recorded.iter().filter(|(r, _)| r == id).count() {
            1 => {}
            n => found.push(format!("index ledger: {id} recorded {n} times")),
        }
    }
    for (id, state) in &recorded {
        if state != "valid" && state != "reconciled" {
            found.push(format!("index ledger: {id} is {state}"));
        }
    }
    for row in client
        .query(
            "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
             WHERE NOT i.indisvalid OR NOT i.indisready",
            &[],
        )
        .unwrap()
    {
        let name: String = row.get(0);
        found.push(format!("index {name} is invalid"));
    }
    found
}

/// Both backfills finished, and every target row was updated exactly once (the
/// backfills count their updates in `n` and `m`).
fn backfills_done_once(server: &Server, db: &str, expected: &Expected) -> Vec<String> {
    let mut client = server.admin(db);
    let mut found = Vec::new();
    let rows = client
        .query(
            "SELECT id, tenant, state FROM sqlrail.sqlrail_backfills ORDER BY id, tenant",
            &[],
        )
        .unwrap();
    for row in &rows {
        let (id, tenant, state): (String, String, String) = (row.get(0), row.get(1), row.get(2));
        if state != "done" {
            found.push(format!("backfill {id} (tenant '{tenant}') is {state}"));
        }
    }
    for id in expected.backfills.iter().filter(|id| id.contains("chaos")) {
        if !rows.iter().any(|r| r.get::<_, String>(0) == *id) {
            found.push(format!("backfill {id} has no progress row"));
        }
    }
    let counts = client
        .query_one(
            "SELECT count(*), count(*) FILTER (WHERE n <> 1), count(*) FILTER (WHERE m <> 1), \
             count(*) FILTER (WHERE NOT done OR code2 IS DISTINCT FROM code * 2) FROM chaos_items",
            &[],
        )
        .unwrap();
    let (total, n_wrong, m_wrong, unfilled): (i64, i64, i64, i64) =
        (counts.get(0), counts.get(1), counts.get(2), counts.get(3));
    if total != ROWS {
        found.push(format!("chaos_items has {total} rows, not {ROWS}"));
    }
    if n_wrong + m_wrong > 0 {
        found.push(format!(
            "rows not updated exactly once: {n_wrong} by the first backfill, {m_wrong} by the second"
        ));
    }
    if unfilled > 0 {
        found.push(format!("{unfilled} rows left unfilled by the backfills"));
    }
    found
}

/// The schema equals a clean run's, line for line.
fn schema_equals(server: &Server, db: &str, clean_dump: &str) -> Vec<String> {
    let dump = server.schema_dump(db);
    if dump == clean_dump {
        return Vec::new();
    }
    let (got, want): (Vec<&str>, Vec<&str>) =
        (dump.lines().collect(), clean_dump.lines().collect());
    let only_here: Vec<&&str> = got.iter().filter(|l| !want.contains(l)).take(5).collect();
    let only_clean: Vec<&&str> = want.iter().filter(|l| !got.contains(l)).take(5).collect();
    vec![format!(
        "schema differs from a clean run's: only here {only_here:?}; only in the clean run {only_clean:?}"
    )]
}

/// No sqlrail session is left on the server, and the migration lease is free. A backend
/// whose client went away can take a moment to notice, so this waits up to 10 s.
fn nothing_left_behind(server: &Server, db: &str) -> Vec<String> {
    let mut client = server.admin(db);
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut found = Vec::new();
    loop {
        let sessions: Vec<(i32, String, String)> = client
            .query(
                "SELECT pid, state, left(query, 80) FROM pg_stat_activity \
                 WHERE datname = $1 AND application_name = 'sqlrail'",
                &[&db],
            )
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r.get(0),
                    r.get::<_, Option<String>>(1).unwrap_or_default(),
                    r.get::<_, Option<String>>(2).unwrap_or_default(),
                )
            })
            .collect();
        if sessions.is_empty() {
            break;
        }
        if Instant::now() >= deadline {
            found.push(format!("sqlrail sessions left behind: {sessions:?}"));
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let held: i64 = client
        .query_one(
            "SELECT count(*) FROM sqlrail.sqlrail_lock WHERE holder IS NOT NULL",
            &[],
        )
        .unwrap()
        .get(0);
    if held > 0 {
        found.push("the migration lease is still held".into());
    }
    found
}
