//! The history table: the only code that knows its schema. DDL rows keep refinery's
//! columns (`version`, `name`, `applied_on`, `checksum`) so refinery can read the table,
//! and add sqlrail's: whether the row was reconciled (the change was found in place by its
//! fingerprint), the normalised-text checksum, duration, attempts, who applied it and
//! which sqlrail version.

use std::collections::HashMap;

// `*_typed` queries: unnamed statements, safe through a transaction pooler.
use postgres::Client;
use postgres::types::Type;

pub mod foreign;
pub mod guard;
pub mod state;

use crate::db::quote::{ident, literal, qualified};

#[derive(Debug, Clone)]
pub struct Ledger {
    pub schema: String,
    pub table: String,
}

/// One recorded migration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub version: i32,
    pub name: String,
    pub applied_on: String,
    pub checksum: String,
    pub reconciled: bool,
    /// `None` for rows written by refinery (or an older tool).
    pub normalized_checksum: Option<String>,
    pub duration_ms: Option<i64>,
    pub attempts: Option<i32>,
    pub applied_by: Option<String>,
    /// Why an operator recorded it by hand (`sqlrail mark --reason`).
    pub note: Option<String>,
}

/// A row about to be written.
#[derive(Debug, Clone)]
pub struct NewRow<'a> {
    pub version: i32,
    pub name: &'a str,
    pub checksum: u64,
    pub normalized_checksum: u64,
    pub reconciled: bool,
    pub attempts: u32,
    pub applied_by: &'a str,
    /// `sqlrail mark`'s reason.
    pub note: Option<&'a str>,
    /// When the unit started, as a SQL expression (`LockTable::unit_started_sql`); `None`:
    /// the transaction's start, `now()`.
    pub started: Option<&'a str>,
}

impl Ledger {
    pub fn new(schema: &str, table: &str) -> Self {
        Ledger {
            schema: schema.to_owned(),
            table: table.to_owned(),
        }
    }

    pub fn name(&self) -> String {
        qualified(&self.schema, &self.table)
    }

    /// Creates the table on first use, or adds sqlrail's columns to a refinery-made one.
    /// Concurrent runners are serialised by a transaction-scoped advisory lock (safe
    /// through a transaction pooler).
    pub fn ensure(&self, client: &mut Client) -> Result<(), postgres::Error> {
        let t = self.name();
        client.batch_execute(&format!(
            "BEGIN; SELECT pg_advisory_xact_lock(8231937712); \
             CREATE SCHEMA IF NOT EXISTS {schema}; \
             CREATE TABLE IF NOT EXISTS {t} (version int4 PRIMARY KEY, name varchar(255), applied_on varchar(255), checksum varchar(255)); \
             ALTER TABLE {t} ADD COLUMN IF NOT EXISTS reconciled boolean NOT NULL DEFAULT false, \
               ADD COLUMN IF NOT EXISTS normalized_checksum text, ADD COLUMN IF NOT EXISTS duration_ms bigint, \
               ADD COLUMN IF NOT EXISTS attempts int, ADD COLUMN IF NOT EXISTS applied_by text, \
               ADD COLUMN IF NOT EXISTS sqlrail_version text, ADD COLUMN IF NOT EXISTS note text; \
             COMMIT;",
            schema = ident(&self.schema)
        ))
    }

    /// Whether the table exists (read-only commands do not create it).
    pub fn exists(&self, client: &mut Client) -> Result<bool, postgres::Error> {
        let row = client.query_typed_one(
            "SELECT to_regclass($1) IS NOT NULL",
            &[(&self.name(), Type::TEXT)],
        )?;
        Ok(row.get(0))
    }

    /// Every row, by version: one round trip whatever the count.
    pub fn rows(&self, client: &mut Client) -> Result<Vec<Row>, postgres::Error> {
        let sql = format!(
            "SELECT version, coalesce(name, ''), coalesce(applied_on, ''), coalesce(checksum, ''), reconciled, \
             normalized_checksum, duration_ms, attempts, applied_by, note FROM {} ORDER BY version",
            self.name()
        );
        Ok(client
            .query_typed(&sql, &[])?
            .into_iter()
            .map(|r| Row {
                version: r.get(0),
                name: r.get(1),
                applied_on: r.get(2),
                checksum: r.get(3),
                reconciled: r.get(4),
                normalized_checksum: r.get(5),
                duration_ms: r.get(6),
                attempts: r.get(7),
                applied_by: r.get(8),
                note: r.get(9),
            })
            .collect())
    }

    /// Whether `version` is recorded (the check after a connection loss).
    pub fn is_recorded(&self, client: &mut Client, version: i32) -> Result<bool, postgres::Error> {
        let sql = format!(
            "SELECT EXISTS (SELECT 1 FROM {} WHERE version = $1)",
            self.name()
        );
        Ok(client
            .query_typed_one(&sql, &[(&version, Type::INT4)])?
            .get(0))
    }

    /// Which of `versions` are recorded, with the duration the server measured for each
    /// (the check after a pipeline of units stopped, and its answer when it did not).
    pub fn recorded_among(
        &self,
        client: &mut Client,
        versions: &[i32],
    ) -> Result<HashMap<i32, Option<i64>>, postgres::Error> {
        let sql = format!(
            "SELECT version, duration_ms FROM {} WHERE version = ANY($1)",
            self.name()
        );
        Ok(client
            .query_typed(&sql, &[(&versions, Type::INT4_ARRAY)])?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect())
    }

    /// A boolean SQL expression: `version` is recorded (for a unit's fence).
    pub fn recorded_sql(&self, version: i32) -> String {
        format!(
            "EXISTS (SELECT 1 FROM {} WHERE version = {version})",
            self.name()
        )
    }

    /// The INSERT of `row` as SQL text, for a unit sent as one batch. `applied_on` (RFC
    /// 3339, UTC, as refinery writes it) is the unit's start and `duration_ms` is measured
    /// from it, both by the server.
    pub fn insert_sql(&self, row: &NewRow<'_>) -> String {
        let started = row.started.unwrap_or("now()");
        format!(
            "INSERT INTO {t} (version, name, applied_on, checksum, reconciled, normalized_checksum, duration_ms, attempts, applied_by, sqlrail_version, note) \
             VALUES ({v}, {name}, to_char({started} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), {checksum}, {reconciled}, {normalized}, \
             (extract(epoch FROM clock_timestamp() - {started}) * 1000)::bigint, {attempts}, {by}, {version}, {note})",
            t = self.name(),
            v = row.version,
            name = literal(row.name),
            checksum = literal(&row.checksum.to_string()),
            reconciled = row.reconciled,
            normalized = literal(&format!("{:016x}", row.normalized_checksum)),
            attempts = row.attempts,
            by = literal(row.applied_by),
            version = literal(env!("CARGO_PKG_VERSION")),
            note = row.note.map_or("NULL".to_owned(), literal),
        )
    }

    /// The DELETE of `version`'s row (`sqlrail mark --remove`).
    pub fn delete_sql(&self, version: i32) -> String {
        format!("DELETE FROM {} WHERE version = {version}", self.name())
    }
}

/// Where the ledger is on a database: the manifest's place, or the one an earlier sqlrail
/// used by default (`public.schema_migrations`) when the manifest does not say and only
/// that one exists. The default moved to its own schema so that an application's tables
/// (and its migrations, `DROP TABLE IF EXISTS schema_migrations`) cannot collide with it;
/// databases migrated before keep working.
pub fn locate(
    client: &mut Client,
    settings: &crate::config::Settings,
) -> Result<Option<Ledger>, postgres::Error> {
    let configured = Ledger::new(&settings.ledger_schema, &settings.ledger_table);
    if !settings.ledger_is_default() {
        return Ok(None);
    }
    let legacy = Ledger::new("public", &settings.ledger_table);
    let row = client.query_typed_one(
        "SELECT to_regclass($1) IS NULL AND EXISTS (SELECT 1 FROM pg_catalog.pg_attribute \
         WHERE attrelid = to_regclass($2) AND attname = 'normalized_checksum' AND NOT attisdropped)",
        &[(&configured.name(), Type::TEXT), (&legacy.name(), Type::TEXT)],
    )?;
    Ok(row.get::<_, bool>(0).then_some(legacy))
}
