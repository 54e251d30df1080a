//! Other tools' ledgers, read when adopting a database they migrated: which of their
//! migrations they recorded, by the version each tool keeps (the `origin:` that
//! `sqlrail init` writes on each entry). Read-only: sqlrail never writes them.

use std::collections::HashSet;

use postgres::Client;
use postgres::types::Type;

use crate::config::Tool;
use crate::db::quote::ident;

/// What another tool's ledger says is applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    /// These versions (diesel, goose, dbmate, Flyway, sqitch, refinery).
    Versions(HashSet<String>),
    /// Every version up to this one (golang-migrate keeps only the last).
    UpTo(u128),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignLedger {
    pub tool: Tool,
    /// As found: `public.goose_db_version`.
    pub table: String,
    pub applied: Applied,
    /// golang-migrate's `dirty`: its last migration failed half-way.
    pub dirty: bool,
}

impl ForeignLedger {
    /// Whether the migration the tool called `origin` is applied.
    pub fn has(&self, origin: &str) -> bool {
        match &self.applied {
            Applied::Versions(set) => set.contains(origin),
            Applied::UpTo(last) => origin.parse::<u128>().is_ok_and(|v| v <= *last),
        }
    }

    /// How many of `origins` it records.
    pub fn count<'a>(&self, origins: impl Iterator<Item = &'a str>) -> usize {
        origins.filter(|o| self.has(o)).count()
    }
}

/// `[schema.]table` quoted for SQL.
fn quoted(table: &str) -> String {
    table.split('.').map(ident).collect::<Vec<_>>().join(".")
}

/// Reads `tool`'s ledger `table` (its default when `None`), or `None` when there is no
/// such table.
pub fn read(
    client: &mut Client,
    tool: Tool,
    table: Option<&str>,
) -> Result<Option<ForeignLedger>, postgres::Error> {
    let table = table.unwrap_or(tool.default_table());
    let found: Option<String> = client
        .query_typed_one(
            "SELECT to_regclass($1)::text",
            &[(&quoted(table), Type::TEXT)],
        )?
        .get(0);
    let Some(found) = found else {
        return Ok(None);
    };
    // A table of that name that is not the tool's (an application's own
    // `schema_migrations`) is not its ledger.
    let columns: &[&str] = match tool {
        Tool::Diesel => &["version", "run_on"],
        Tool::Goose => &["version_id", "is_applied", "id"],
        Tool::GolangMigrate => &["version", "dirty"],
        Tool::Dbmate => &["version"],
        Tool::Flyway => &["version", "success", "installed_rank"],
        Tool::Sqitch => &["change", "change_id"],
        Tool::Refinery => &["version", "checksum"],
    };
    let columns: Vec<&str> = columns.to_vec();
    let shaped: bool = client
        .query_typed_one(
            "SELECT count(*) = cardinality($2::text[]) FROM pg_catalog.pg_attribute \
             WHERE attrelid = to_regclass($1) AND attname = ANY($2::text[]) AND attnum > 0 AND NOT attisdropped",
            &[(&quoted(table), Type::TEXT), (&columns, Type::TEXT_ARRAY)],
        )?
        .get(0);
    if !shaped {
        return Ok(None);
    }
    let t = quoted(table);
    let versions = |client: &mut Client, sql: String| -> Result<Applied, postgres::Error> {
        Ok(Applied::Versions(
            client
                .query_typed(&sql, &[])?
                .iter()
                .map(|r| r.get::<_, String>(0))
                .collect(),
        ))
    };
    let mut dirty = false;
    let applied = match tool {
        Tool::Diesel | Tool::Dbmate => versions(client, format!("SELECT version::text FROM {t}"))?,
        Tool::Refinery => versions(client, format!("SELECT version::text FROM {t}"))?,
        Tool::Flyway => versions(
            client,
            format!("SELECT version::text FROM {t} WHERE success AND version IS NOT NULL"),
        )?,
        Tool::Sqitch => versions(client, format!("SELECT change FROM {t}"))?,
        // goose appends a row per up and per down; a version is applied when its last row
        // says so.
        Tool::Goose => versions(
            client,
            format!(
                "SELECT version_id::text FROM (SELECT DISTINCT ON (version_id) version_id, is_applied FROM {t} \
                 ORDER BY version_id, id DESC) last WHERE is_applied AND version_id > 0"
            ),
        )?,
        Tool::GolangMigrate => {
            let row = client.query_typed_opt(
                &format!("SELECT version::text, dirty FROM {t} LIMIT 1"),
                &[],
            )?;
            match row {
                Some(r) => {
                    dirty = r.get(1);
                    Applied::UpTo(r.get::<_, String>(0).parse().unwrap_or(0))
                }
                None => Applied::UpTo(0),
            }
        }
    };
    Ok(Some(ForeignLedger {
        tool,
        table: found,
        applied,
        dirty,
    }))
}
