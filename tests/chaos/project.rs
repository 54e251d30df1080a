//! The project every chaos trial applies: the repository's example project plus 50
//! generated DDL migrations, 5 index builds and 2 backfills over a 200,000-row table, with
//! fast retry settings so a trial rides out its fault in seconds, not minutes.
//!
//! The table the generated migrations work on, `chaos_items`, is created and filled by the
//! harness before each run (it stands for a production table with data); everything else
//! comes from the migrations. The backfills count their updates in `n` and `m`, so a row
//! updated twice shows as 2.

use std::fmt::Write as _;
use std::path::Path;

/// Rows in `chaos_items`.
pub const ROWS: i64 = 200_000;

/// Generated DDL migrations (after the example project's 35).
pub const GENERATED_DDL: usize = 50;

/// Creates and fills `chaos_items`: what exists before sqlrail runs. `fillfactor` leaves
/// room on each page, and no index covers a column the backfills write, so their updates
/// are HOT: a trial's backfills take about 3 s instead of 18 s (what is under test is
/// the runner, not index maintenance), and the trials are many.
pub const SETUP_SQL: &str = "CREATE TABLE chaos_items (id bigint PRIMARY KEY, tenant_id int NOT NULL, \
     code int NOT NULL, payload text NOT NULL) WITH (fillfactor = 40); \
     INSERT INTO chaos_items SELECT g, g % 50, g % 1009, md5(g::text) FROM generate_series(1, 200000) g; \
     ANALYZE chaos_items;";

/// A statement of the one slow DDL migration (a validating scan of every row), for cuts
/// that must land while its transaction runs.
pub const SLOW_DDL_MARKER: &str = "VALIDATE CONSTRAINT chaos_items_payload_hex";

/// The generated index names; each file's statement contains its name.
pub const INDEXES: [(&str, &str); 5] = [
    ("idx_chaos_items_code", "chaos_items (code)"),
    (
        "idx_chaos_items_tenant_code",
        "chaos_items (tenant_id, code)",
    ),
    ("idx_chaos_items_payload", "chaos_items (payload)"),
    ("idx_chaos_items_tenant_id", "chaos_items (tenant_id, id)"),
    (
        "idx_chaos_items_code_payload",
        "chaos_items (code, payload)",
    ),
];

/// Retry settings fast enough for a trial: a server restart or a held lock costs a few
/// seconds. `lock_timeout` is short so a held `ACCESS EXCLUSIVE` lock takes the
/// lock-retry path rather than just waiting.
const SETTINGS: &str = "settings:
  ledger_table: schema_migrations
  ddl: { lock_timeout: 300ms }
  backfills: { batch_size: 5000, sleep: 0ms }
  retry: { attempts: 30, initial_backoff: 100ms, max_backoff: 1s, connect_timeout: 5s }
  lock_retry: { attempts: 40, initial_pause: 100ms, max_pause: 500ms }
";

/// One generated DDL migration: (file name part, SQL, fingerprint).
fn ddl(k: usize) -> (String, String, String) {
    let v = 36 + k;
    match k {
        0 => (
            "chaos_counters".into(),
            "ALTER TABLE chaos_items ADD COLUMN n int NOT NULL DEFAULT 0, ADD COLUMN done boolean NOT NULL DEFAULT false;\n".into(),
            "{ all: [ { column: chaos_items.n }, { column: chaos_items.done } ] }".into(),
        ),
        1 => (
            "chaos_code2".into(),
            "ALTER TABLE chaos_items ADD COLUMN m int NOT NULL DEFAULT 0, ADD COLUMN code2 int;\n".into(),
            "{ all: [ { column: chaos_items.m }, { column: chaos_items.code2 } ] }".into(),
        ),
        2 => (
            "chaos_payload_check".into(),
            "ALTER TABLE chaos_items ADD CONSTRAINT chaos_items_payload_hex CHECK (payload ~ '^[0-9a-f]{32}$') NOT VALID;\n".into(),
            "{ constraint: chaos_items.chaos_items_payload_hex }".into(),
        ),
        3 => (
            "chaos_validate_payload".into(),
            format!("ALTER TABLE chaos_items {SLOW_DDL_MARKER};\n"),
            "{ sql: \"SELECT convalidated FROM pg_constraint WHERE conname = 'chaos_items_payload_hex'\" }".into(),
        ),
        _ => match (k - 4) % 6 {
            0 => (
                format!("chaos_t{v}"),
                format!(
                    "CREATE TABLE chaos_t{v} (\n  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n  item_id bigint NOT NULL REFERENCES chaos_items (id),\n  note text,\n  created_at timestamptz NOT NULL DEFAULT now()\n);\n"
                ),
                format!("{{ table: chaos_t{v} }}"),
            ),
            1 => (
                format!("chaos_items_c{v}"),
                format!(
                    "ALTER TABLE chaos_items ADD COLUMN c{v} text;\nCOMMENT ON COLUMN chaos_items.c{v} IS 'generated column {v}';\n"
                ),
                format!("{{ column: chaos_items.c{v} }}"),
            ),
            2 => (
                format!("chaos_f{v}"),
                format!(
                    "CREATE FUNCTION chaos_f{v}(x bigint) RETURNS bigint\n  LANGUAGE sql IMMUTABLE\n  AS $$ SELECT x * {v} $$;\n"
                ),
                format!("{{ function: chaos_f{v} }}"),
            ),
            3 => (
                format!("chaos_v{v}"),
                format!(
                    "CREATE VIEW chaos_v{v} AS\n  SELECT id, code FROM chaos_items WHERE code = {v};\n"
                ),
                format!("{{ view: chaos_v{v} }}"),
            ),
            4 => (
                format!("chaos_e{v}"),
                format!(
                    "CREATE TYPE chaos_e{v} AS ENUM ('new', 'done');\nALTER TABLE chaos_t{t} ADD COLUMN state chaos_e{v};\n",
                    t = v - 4
                ),
                format!(
                    "{{ all: [ {{ type: chaos_e{v} }}, {{ column: chaos_t{t}.state }} ] }}",
                    t = v - 4
                ),
            ),
            _ => (
                format!("chaos_s{v}"),
                format!(
                    "CREATE SCHEMA chaos_s{v};\nCREATE TABLE chaos_s{v}.log (id bigint PRIMARY KEY, at timestamptz NOT NULL);\n"
                ),
                format!("{{ table: chaos_s{v}.log }}"),
            ),
        },
    }
}

/// The two backfills: (name, SQL). Each counts its update of a row, so a row updated
/// twice is visible; `SKIP LOCKED` steps over rows other sessions hold.
const BACKFILLS: [(&str, &str); 2] = [
    (
        "chaos_done",
        "UPDATE chaos_items\n   SET n = n + 1, done = true\n WHERE id IN (\n        SELECT id FROM chaos_items\n         WHERE id BETWEEN :lo AND :hi AND NOT done\n           FOR NO KEY UPDATE SKIP LOCKED\n       );\n",
    ),
    (
        "chaos_code2",
        "UPDATE chaos_items\n   SET m = m + 1, code2 = code * 2\n WHERE id IN (\n        SELECT id FROM chaos_items\n         WHERE id BETWEEN :lo AND :hi AND code2 IS NULL\n           FOR NO KEY UPDATE SKIP LOCKED\n       );\n",
    ),
];

/// Writes the chaos project into `dir` (a copy of the example project): files, manifest
/// entries and settings; the checksums are filled by `sqlrail manifest sync`.
pub fn write(dir: &Path) {
    let manifest_path = dir.join("manifest.yaml");
    let manifest = std::fs::read_to_string(&manifest_path).unwrap();
    let (_, migrations) = manifest
        .split_once("migrations:\n")
        .expect("the example manifest has a migrations list");
    let mut out = format!(
        "{SETTINGS}migrations:\n{migrations}\n  # --- generated for the chaos trials ---\n"
    );
    for k in 0..GENERATED_DDL {
        let (name, sql, fingerprint) = ddl(k);
        let id = format!("V{}__{name}", 36 + k);
        std::fs::write(dir.join(format!("sql/ddl/{id}.sql")), sql).unwrap();
        writeln!(out, "  - id: ddl/{id}\n    fingerprint: {fingerprint}").unwrap();
    }
    for (j, (name, on)) in INDEXES.iter().enumerate() {
        let id = format!("V{}__{name}", 15 + j);
        std::fs::write(
            dir.join(format!("sql/indexes/{id}.sql")),
            format!("CREATE INDEX CONCURRENTLY {name} ON {on};\n"),
        )
        .unwrap();
        writeln!(
            out,
            "  - id: indexes/{id}\n    fingerprint: {{ index: {name} }}"
        )
        .unwrap();
    }
    for (j, (name, sql)) in BACKFILLS.iter().enumerate() {
        let id = format!("V{}__{name}", 9 + j);
        std::fs::write(dir.join(format!("sql/backfills/{id}.sql")), sql).unwrap();
        writeln!(
            out,
            "  - id: backfills/{id}\n    backfill: {{ table: chaos_items, key: id, description: chaos trial backfill, tables: [chaos_items], safe_to_run_online: true, status: active }}"
        )
        .unwrap();
    }
    std::fs::write(&manifest_path, out).unwrap();
}

/// The ids of every migration in the project, by phase: (ddl versions, index ids,
/// backfill ids).
pub fn expected_ids(dir: &Path) -> (Vec<i32>, Vec<String>, Vec<String>) {
    let mut ddl = Vec::new();
    let mut indexes = Vec::new();
    let mut backfills = Vec::new();
    for phase in ["ddl", "indexes", "backfills"] {
        for entry in std::fs::read_dir(dir.join("sql").join(phase)).unwrap() {
            let name = entry.unwrap().file_name().to_string_lossy().into_owned();
            let stem = name.trim_end_matches(".sql");
            match phase {
                "ddl" => ddl.push(stem[1..stem.find("__").unwrap()].parse::<i32>().unwrap()),
                "indexes" => indexes.push(format!("indexes/{stem}")),
                _ => backfills.push(format!("backfills/{stem}")),
            }
        }
    }
    ddl.sort_unstable();
    indexes.sort();
    backfills.sort();
    (ddl, indexes, backfills)
}
