//! `manifest.yaml`: every migration with its checksum, fingerprint and batch settings, and
//! the project's settings. Parsed into typed structs once; see `docs/manifest.md`.

use serde::{Deserialize, Serialize};

use super::bytes::HumanBytes;
use super::duration::HumanDuration;
use super::fingerprint::Fingerprint;

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    #[serde(default)]
    pub settings: Settings,
    #[serde(default)]
    pub migrations: Vec<Entry>,
    /// `migrations` by id, built on the first look-up: commands look an entry up per
    /// migration, and a scan each time made them quadratic in the history's length.
    #[serde(skip)]
    pub(crate) by_id: std::sync::OnceLock<std::collections::HashMap<String, usize>>,
}

/// One migration: `id` is `<phase>/V<n>__<name>` (the file `sql/<phase>/V<n>__<name>.sql`).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub id: String,
    /// refinery's checksum of the file (decimal). May be omitted for a file not yet synced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<Fingerprint>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backfill: Option<BackfillSettings>,
    /// An index or backfill entry's place in the DDL sequence: it runs right after this
    /// DDL migration (`ddl/V12__x`) instead of after the whole DDL phase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    /// Like `after`, but right before this DDL migration (which needs it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
    /// The migration's version in the tool it was adopted from (`20230104120000`), as
    /// that tool's ledger records it: a database that tool migrated is adopted from it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
}

/// sqlrail's own schema, where its tables are unless `ledger_schema` says otherwise.
pub const DEFAULT_LEDGER_SCHEMA: &str = "sqlrail";

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Schema of the ledger tables.
    pub ledger_schema: String,
    /// The DDL ledger (refinery-compatible columns plus sqlrail's).
    pub ledger_table: String,
    pub ddl: DdlSettings,
    pub indexes: IndexSettings,
    pub backfills: BackfillDefaults,
    pub retry: RetrySettings,
    pub lock_retry: LockRetrySettings,
    /// Databases `reset` refuses to drop, even with `--force`.
    pub protected_databases: Vec<String>,
    /// The tool whose history this project adopted (`sqlrail init` writes it): a database
    /// that tool migrated is adopted from that tool's ledger.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub adopted_from: Option<AdoptedFrom>,
}

impl Settings {
    /// Whether the ledger is where it is by default (its own schema).
    pub fn ledger_is_default(&self) -> bool {
        self.ledger_schema == DEFAULT_LEDGER_SCHEMA && self.ledger_table == "schema_migrations"
    }
}

/// Another migration tool, and where its ledger is.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AdoptedFrom {
    pub tool: Tool,
    /// Its ledger table, `[schema.]table` [default: the tool's own default].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table: Option<String>,
    /// sqitch: the plan's `%project`, which its registry's rows are filtered by.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
}

/// The migration tools `sqlrail init` adopts histories from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Tool {
    Diesel,
    Goose,
    GolangMigrate,
    Dbmate,
    Flyway,
    Sqitch,
    Refinery,
}

impl Tool {
    pub fn as_str(self) -> &'static str {
        match self {
            Tool::Diesel => "diesel",
            Tool::Goose => "goose",
            Tool::GolangMigrate => "golang-migrate",
            Tool::Dbmate => "dbmate",
            Tool::Flyway => "flyway",
            Tool::Sqitch => "sqitch",
            Tool::Refinery => "refinery",
        }
    }

    /// The table the tool keeps its history in by default.
    pub fn default_table(self) -> &'static str {
        match self {
            Tool::Diesel => "__diesel_schema_migrations",
            Tool::Goose => "goose_db_version",
            Tool::GolangMigrate | Tool::Dbmate => "schema_migrations",
            Tool::Flyway => "flyway_schema_history",
            Tool::Sqitch => "sqitch.changes",
            Tool::Refinery => "refinery_schema_history",
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            ledger_schema: DEFAULT_LEDGER_SCHEMA.into(),
            ledger_table: "schema_migrations".into(),
            ddl: DdlSettings::default(),
            indexes: IndexSettings::default(),
            backfills: BackfillDefaults::default(),
            retry: RetrySettings::default(),
            lock_retry: LockRetrySettings::default(),
            protected_databases: vec!["postgres".into(), "template0".into(), "template1".into()],
            adopted_from: None,
        }
    }
}

/// Schema changes fail fast on locks (`origin.md`: lock_timeout 5s).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct DdlSettings {
    pub lock_timeout: HumanDuration,
    /// 0 = none.
    pub statement_timeout: HumanDuration,
}

impl Default for DdlSettings {
    fn default() -> Self {
        DdlSettings {
            lock_timeout: HumanDuration::secs(5),
            statement_timeout: HumanDuration::default(),
        }
    }
}

/// Index builds get no timeouts by default: a lock timeout cancels a concurrent build's
/// wait for older transactions and leaves an INVALID index behind.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct IndexSettings {
    pub lock_timeout: HumanDuration,
    pub statement_timeout: HumanDuration,
}

/// Defaults for every backfill; DML is patient (`origin.md`).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct BackfillDefaults {
    pub lock_timeout: HumanDuration,
    pub statement_timeout: HumanDuration,
    pub idle_in_transaction_session_timeout: HumanDuration,
    pub batch_size: u32,
    pub sleep: HumanDuration,
    /// Passes over ranges whose rows were skipped because another transaction held them.
    pub max_passes: u32,
    /// Pause while a streaming replica's replay lag is above this (`0`: never).
    pub max_replica_lag: HumanDuration,
    /// Pause while a replica has more WAL than this left to replay, or a replication slot
    /// retains more (`0`: never).
    pub max_replica_lag_bytes: HumanBytes,
    /// Pause while autovacuum works on the backfill's table.
    pub pause_on_autovacuum: bool,
}

impl Default for BackfillDefaults {
    fn default() -> Self {
        BackfillDefaults {
            lock_timeout: HumanDuration::secs(60),
            statement_timeout: HumanDuration::secs(120),
            idle_in_transaction_session_timeout: HumanDuration::secs(120),
            batch_size: 200,
            sleep: HumanDuration::millis(50),
            max_passes: 3,
            max_replica_lag: HumanDuration::secs(30),
            max_replica_lag_bytes: HumanBytes::mib(1024),
            pause_on_autovacuum: false,
        }
    }
}

/// Retries of connection loss and transient errors: 1s, 2s, 4s, 8s, 8s … (`origin.md`).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetrySettings {
    pub attempts: u32,
    pub initial_backoff: HumanDuration,
    pub max_backoff: HumanDuration,
    /// Connect timeout of each attempt; the direct-URL probe always uses 5s.
    pub connect_timeout: HumanDuration,
    /// How long one connection (the run's first, a phase's, a reconnect) is retried in
    /// all before the run gives up: long enough for a managed failover (10–60 s).
    pub connect_deadline: HumanDuration,
}

impl Default for RetrySettings {
    fn default() -> Self {
        RetrySettings {
            attempts: 10,
            initial_backoff: HumanDuration::secs(1),
            max_backoff: HumanDuration::secs(8),
            connect_timeout: HumanDuration::secs(10),
            connect_deadline: HumanDuration::secs(90),
        }
    }
}

/// DDL that hits `lock_timeout` is retried with short lock timeouts and growing pauses,
/// so it never queues behind a long transaction while blocking everyone behind it.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct LockRetrySettings {
    pub attempts: u32,
    pub initial_pause: HumanDuration,
    pub max_pause: HumanDuration,
}

impl Default for LockRetrySettings {
    fn default() -> Self {
        LockRetrySettings {
            attempts: 10,
            initial_pause: HumanDuration::secs(1),
            max_pause: HumanDuration::secs(30),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    Low,
    #[default]
    Medium,
    High,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum BackfillStatus {
    #[default]
    Active,
    Paused,
    Done,
}

/// Batch settings of one backfill; unset values come from `settings.backfills`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BackfillSettings {
    /// The table whose key range the runner walks.
    pub table: String,
    /// Its key column (an integer, unique and indexed: normally the primary key).
    #[serde(default = "default_key")]
    pub key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_size: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sleep: Option<HumanDuration>,
    /// Stop cleanly after this long and resume on the next run. 0 = no limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_runtime: Option<HumanDuration>,
    /// `settings.backfills.max_replica_lag` for this backfill.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_replica_lag: Option<HumanDuration>,
    /// `settings.backfills.max_replica_lag_bytes` for this backfill.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_replica_lag_bytes: Option<HumanBytes>,
    /// `settings.backfills.pause_on_autovacuum` for this backfill.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pause_on_autovacuum: Option<bool>,
    #[serde(default)]
    pub priority: Priority,
    /// A query listing tenant ids; the statement then runs per tenant with `:tenant_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenants: Option<String>,
    /// The table's tenant column: per-tenant runs then walk only that tenant's keys
    /// (otherwise each tenant walks the whole key range).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_column: Option<String>,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub tables: Vec<String>,
    #[serde(default = "default_true")]
    pub safe_to_run_online: bool,
    #[serde(default)]
    pub status: BackfillStatus,
    /// Adapt the batch size to aim at this batch duration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adaptive: Option<AdaptiveBatch>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AdaptiveBatch {
    pub target: HumanDuration,
    pub min_batch: u32,
    pub max_batch: u32,
}

fn default_key() -> String {
    "id".into()
}

fn default_true() -> bool {
    true
}
