//! State of the index and backfill phases, next to the history table (same schema):
//! `sqlrail_index_builds`, one row per index file (building / valid / reconciled /
//! failed, with start and finish times, so an interrupted build shows in `status`);
//! `sqlrail_backfills`, one row per backfill and tenant (cursor, high-water mark fixed at
//! the start, rows, batches, state); and `sqlrail_backfill_skipped`, the key ranges in
//! which a `SKIP LOCKED` batch stepped over rows another session held.
//!
//! Statements that change state are returned as SQL text so they travel in the same
//! batch (and transaction) as the work they record.

use postgres::Client;
use postgres::types::Type;

use crate::db::quote::{ident, literal};

/// The tenant key of a backfill that does not run per tenant.
pub const NO_TENANT: &str = "";

#[derive(Debug, Clone)]
pub struct PhaseState {
    schema: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexRow {
    pub id: String,
    pub checksum: String,
    /// `building`, `valid`, `reconciled` or `failed`.
    pub state: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub attempts: i32,
    pub last_error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackfillRow {
    pub id: String,
    pub tenant: String,
    pub checksum: String,
    /// The next key to process.
    pub cursor: i64,
    /// The table's largest key when the backfill started: where it stops.
    pub high_water: i64,
    pub rows: i64,
    pub batches: i64,
    /// `running`, `done`, `incomplete` (skipped rows left) or `failed`.
    pub state: String,
    pub started_at: String,
    pub updated_at: String,
    pub last_error: Option<String>,
}

const TIME: &str = "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'";

impl PhaseState {
    pub fn new(schema: &str) -> PhaseState {
        PhaseState {
            schema: schema.to_owned(),
        }
    }

    fn table(&self, name: &str) -> String {
        format!("{}.{}", ident(&self.schema), ident(name))
    }

    fn indexes(&self) -> String {
        self.table("sqlrail_index_builds")
    }

    fn backfills(&self) -> String {
        self.table("sqlrail_backfills")
    }

    fn skipped_table(&self) -> String {
        self.table("sqlrail_backfill_skipped")
    }

    /// Creates the tables on first use (serialised like the ledger's creation).
    pub fn ensure(&self, client: &mut Client) -> Result<(), postgres::Error> {
        client.batch_execute(&format!(
            "BEGIN; SELECT pg_advisory_xact_lock(8231937712); \
             CREATE SCHEMA IF NOT EXISTS {schema}; \
             CREATE TABLE IF NOT EXISTS {ix} (id text PRIMARY KEY, checksum text NOT NULL, state text NOT NULL, \
               started_at timestamptz, finished_at timestamptz, attempts int NOT NULL DEFAULT 0, \
               last_error text, applied_by text, sqlrail_version text); \
             CREATE TABLE IF NOT EXISTS {bf} (id text NOT NULL, tenant text NOT NULL, checksum text NOT NULL, \
               cursor bigint NOT NULL, high_water bigint NOT NULL, rows bigint NOT NULL DEFAULT 0, \
               batches bigint NOT NULL DEFAULT 0, state text NOT NULL, started_at timestamptz NOT NULL DEFAULT now(), \
               updated_at timestamptz NOT NULL DEFAULT now(), finished_at timestamptz, last_error text, \
               PRIMARY KEY (id, tenant)); \
             CREATE TABLE IF NOT EXISTS {sk} (id text NOT NULL, tenant text NOT NULL, lo bigint NOT NULL, \
               hi bigint NOT NULL, rows_locked bigint NOT NULL, PRIMARY KEY (id, tenant, lo)); \
             COMMIT;",
            schema = ident(&self.schema),
            ix = self.indexes(),
            bf = self.backfills(),
            sk = self.skipped_table(),
        ))
    }

    /// Whether the tables exist (read-only commands do not create them).
    pub fn exists(&self, client: &mut Client) -> Result<bool, postgres::Error> {
        Ok(client
            .query_typed_one(
                "SELECT to_regclass($1) IS NOT NULL AND to_regclass($2) IS NOT NULL",
                &[
                    (&self.indexes(), Type::TEXT),
                    (&self.backfills(), Type::TEXT),
                ],
            )?
            .get(0))
    }

    pub fn index_rows(&self, client: &mut Client) -> Result<Vec<IndexRow>, postgres::Error> {
        let sql = format!(
            "SELECT id, checksum, state, to_char(started_at AT TIME ZONE 'UTC', {TIME}), \
             to_char(finished_at AT TIME ZONE 'UTC', {TIME}), attempts, last_error FROM {} ORDER BY id",
            self.indexes()
        );
        Ok(client
            .query_typed(&sql, &[])?
            .into_iter()
            .map(|r| IndexRow {
                id: r.get(0),
                checksum: r.get(1),
                state: r.get(2),
                started_at: r.get(3),
                finished_at: r.get(4),
                attempts: r.get(5),
                last_error: r.get(6),
            })
            .collect())
    }

    /// Marks a build as started (one more attempt).
    pub fn index_started_sql(&self, id: &str, checksum: u64, holder: &str) -> String {
        format!(
            "INSERT INTO {t} AS s (id, checksum, state, started_at, attempts, applied_by, sqlrail_version) \
             VALUES ({id}, {checksum}, 'building', now(), 1, {holder}, {version}) \
             ON CONFLICT (id) DO UPDATE SET checksum = excluded.checksum, state = 'building', \
             started_at = now(), finished_at = NULL, attempts = s.attempts + 1, last_error = NULL, \
             applied_by = excluded.applied_by, sqlrail_version = excluded.sqlrail_version",
            t = self.indexes(),
            id = literal(id),
            checksum = literal(&checksum.to_string()),
            holder = literal(holder),
            version = literal(env!("CARGO_PKG_VERSION")),
        )
    }

    /// Marks a build as ended: `valid`, `reconciled` (found in place) or `failed`.
    pub fn index_finished_sql(
        &self,
        id: &str,
        checksum: u64,
        state: &str,
        error: Option<&str>,
    ) -> String {
        format!(
            "INSERT INTO {t} AS s (id, checksum, state, started_at, finished_at, last_error, sqlrail_version) \
             VALUES ({id}, {checksum}, {state}, now(), now(), {error}, {version}) \
             ON CONFLICT (id) DO UPDATE SET checksum = excluded.checksum, state = excluded.state, \
             finished_at = now(), last_error = excluded.last_error",
            t = self.indexes(),
            id = literal(id),
            checksum = literal(&checksum.to_string()),
            state = literal(state),
            error = error.map_or("NULL".to_owned(), literal),
            version = literal(env!("CARGO_PKG_VERSION")),
        )
    }

    /// Forgets an index file's or a backfill's state (`sqlrail mark --remove`): it runs
    /// again on the next apply.
    pub fn forget_sql(&self, id: &str) -> String {
        let id = literal(id);
        format!(
            "DELETE FROM {ix} WHERE id = {id}; DELETE FROM {bf} WHERE id = {id}; DELETE FROM {sk} WHERE id = {id}",
            ix = self.indexes(),
            bf = self.backfills(),
            sk = self.skipped_table(),
        )
    }

    pub fn backfill_rows(&self, client: &mut Client) -> Result<Vec<BackfillRow>, postgres::Error> {
        self.read_backfills(client, "true", &[])
    }

    /// One backfill's row for one tenant.
    pub fn backfill_row(
        &self,
        client: &mut Client,
        id: &str,
        tenant: &str,
    ) -> Result<Option<BackfillRow>, postgres::Error> {
        Ok(self
            .read_backfills(
                client,
                "id = $1 AND tenant = $2",
                &[(&id, Type::TEXT), (&tenant, Type::TEXT)],
            )?
            .pop())
    }

    fn read_backfills(
        &self,
        client: &mut Client,
        filter: &str,
        params: &[(&(dyn postgres::types::ToSql + Sync), Type)],
    ) -> Result<Vec<BackfillRow>, postgres::Error> {
        let sql = format!(
            "SELECT id, tenant, checksum, cursor, high_water, rows, batches, state, \
             to_char(started_at AT TIME ZONE 'UTC', {TIME}), to_char(updated_at AT TIME ZONE 'UTC', {TIME}), last_error \
             FROM {} WHERE {filter} ORDER BY id, tenant",
            self.backfills()
        );
        Ok(client
            .query_typed(&sql, params)?
            .into_iter()
            .map(|r| BackfillRow {
                id: r.get(0),
                tenant: r.get(1),
                checksum: r.get(2),
                cursor: r.get(3),
                high_water: r.get(4),
                rows: r.get(5),
                batches: r.get(6),
                state: r.get(7),
                started_at: r.get(8),
                updated_at: r.get(9),
                last_error: r.get(10),
            })
            .collect())
    }

    /// Starts a backfill (or tenant) at `cursor`, stopping at `high_water`; a row already
    /// there (a concurrent start) wins.
    pub fn backfill_start_sql(
        &self,
        id: &str,
        tenant: &str,
        checksum: u64,
        cursor: i64,
        high_water: i64,
    ) -> String {
        format!(
            "INSERT INTO {t} (id, tenant, checksum, cursor, high_water, state) \
             VALUES ({id}, {tenant}, {checksum}, {cursor}, {high_water}, 'running') ON CONFLICT DO NOTHING",
            t = self.backfills(),
            id = literal(id),
            tenant = literal(tenant),
            checksum = literal(&checksum.to_string()),
        )
    }

    /// Moves the cursor past a batch, in the batch's transaction. The `cursor = lo`
    /// condition makes a replayed batch record nothing twice.
    pub fn batch_done_sql(&self, id: &str, tenant: &str, lo: i64, next: i64, rows: u64) -> String {
        format!(
            "UPDATE {t} SET cursor = {next}, rows = rows + {rows}, batches = batches + 1, updated_at = now() \
             WHERE id = {id} AND tenant = {tenant} AND cursor = {lo}",
            t = self.backfills(),
            id = literal(id),
            tenant = literal(tenant),
        )
    }

    /// A boolean SQL expression: the batch at `lo` is recorded (the cursor moved past
    /// it), for the batch's fence.
    pub fn batch_recorded_sql(&self, id: &str, tenant: &str, lo: i64) -> String {
        format!(
            "NOT EXISTS (SELECT 1 FROM {t} WHERE id = {id} AND tenant = {tenant} AND cursor = {lo})",
            t = self.backfills(),
            id = literal(id),
            tenant = literal(tenant),
        )
    }

    /// Adds rows filled by a re-check of skipped ranges.
    pub fn rows_added_sql(&self, id: &str, tenant: &str, rows: u64) -> String {
        format!(
            "UPDATE {t} SET rows = rows + {rows}, updated_at = now() WHERE id = {id} AND tenant = {tenant}",
            t = self.backfills(),
            id = literal(id),
            tenant = literal(tenant),
        )
    }

    pub fn set_state_sql(
        &self,
        id: &str,
        tenant: &str,
        state: &str,
        error: Option<&str>,
    ) -> String {
        let finished = if state == "done" { "now()" } else { "NULL" };
        format!(
            "UPDATE {t} SET state = {state}, last_error = {error}, updated_at = now(), finished_at = {finished} \
             WHERE id = {id} AND tenant = {tenant}",
            t = self.backfills(),
            id = literal(id),
            tenant = literal(tenant),
            state = literal(state),
            error = error.map_or("NULL".to_owned(), literal),
        )
    }

    /// Records (or updates) a range with rows another session held.
    pub fn skipped_sql(&self, id: &str, tenant: &str, lo: i64, hi: i64, locked: i64) -> String {
        format!(
            "INSERT INTO {t} (id, tenant, lo, hi, rows_locked) VALUES ({id}, {tenant}, {lo}, {hi}, {locked}) \
             ON CONFLICT (id, tenant, lo) DO UPDATE SET hi = excluded.hi, rows_locked = excluded.rows_locked",
            t = self.skipped_table(),
            id = literal(id),
            tenant = literal(tenant),
        )
    }

    pub fn skipped_done_sql(&self, id: &str, tenant: &str, lo: i64) -> String {
        format!(
            "DELETE FROM {t} WHERE id = {id} AND tenant = {tenant} AND lo = {lo}",
            t = self.skipped_table(),
            id = literal(id),
            tenant = literal(tenant),
        )
    }

    /// The skipped ranges of a backfill and tenant: (lo, hi, rows locked when last seen).
    pub fn skipped(
        &self,
        client: &mut Client,
        id: &str,
        tenant: &str,
    ) -> Result<Vec<(i64, i64, i64)>, postgres::Error> {
        let sql = format!(
            "SELECT lo, hi, rows_locked FROM {} WHERE id = $1 AND tenant = $2 ORDER BY lo",
            self.skipped_table()
        );
        Ok(client
            .query_typed(&sql, &[(&id, Type::TEXT), (&tenant, Type::TEXT)])?
            .into_iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect())
    }
}
