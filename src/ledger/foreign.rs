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
    /// These versions (diesel, goose, dbmate, refinery).
    Versions(HashSet<String>),
    /// Every version up to this one (golang-migrate keeps only the last).
    UpTo(u128),
    /// Flyway's versions, compared as Flyway compares them (by number, part by part:
    /// `001` is `1`, `1.0` is `1`), and its baseline: after `flyway baseline`, every
    /// version up to the `BASELINE` row's is taken as applied.
    Flyway {
        versions: HashSet<Vec<u128>>,
        baseline: Option<Vec<u128>>,
    },
    /// sqitch: how many instances of each change are deployed (a reworked change has a
    /// row per instance). `origin` is `change`, or `change#2` for its second instance.
    Changes(std::collections::HashMap<String, usize>),
}

/// A Flyway version as Flyway compares it: numeric parts, trailing zero parts dropped.
pub fn flyway_version(text: &str) -> Option<Vec<u128>> {
    let mut parts: Vec<u128> = text
        .split(['.', '_'])
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    while parts.len() > 1 && parts.last() == Some(&0) {
        parts.pop();
    }
    Some(parts)
}

/// A sqitch origin: the change and which instance of it (from 1).
pub fn sqitch_instance(origin: &str) -> (&str, usize) {
    match origin.rsplit_once('#') {
        Some((change, n)) => match n.parse() {
            Ok(n) => (change, n),
            Err(_) => (origin, 1),
        },
        None => (origin, 1),
    }
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
            Applied::Flyway { versions, baseline } => flyway_version(origin).is_some_and(|v| {
                versions.contains(&v) || baseline.as_ref().is_some_and(|b| v <= *b)
            }),
            Applied::Changes(counts) => {
                let (change, n) = sqitch_instance(origin);
                counts.get(change).is_some_and(|&deployed| deployed >= n)
            }
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
/// such table. `project`: for sqitch, whose registry may hold several projects' changes,
/// the plan's `%project`.
pub fn read(
    client: &mut Client,
    tool: Tool,
    table: Option<&str>,
    project: Option<&str>,
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
        Tool::Flyway => &["version", "success", "installed_rank", "type"],
        Tool::Sqitch => &["change", "change_id", "project"],
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
        Tool::Flyway => {
            let rows = client.query_typed(
                &format!(
                    "SELECT version::text, type::text = 'BASELINE' FROM {t} WHERE success AND version IS NOT NULL"
                ),
                &[],
            )?;
            let mut versions = HashSet::new();
            let mut baseline: Option<Vec<u128>> = None;
            for row in rows {
                let Some(v) = flyway_version(&row.get::<_, String>(0)) else {
                    continue;
                };
                if row.get::<_, bool>(1) {
                    baseline = Some(baseline.map_or(v.clone(), |b| b.max(v.clone())));
                }
                versions.insert(v);
            }
            Applied::Flyway { versions, baseline }
        }
        Tool::Sqitch => {
            let sql = match project {
                Some(_) => format!(
                    "SELECT change, count(*)::int8 FROM {t} WHERE project = $1 GROUP BY change"
                ),
                None => format!("SELECT change, count(*)::int8 FROM {t} GROUP BY change"),
            };
            let rows = match project {
                Some(p) => client.query_typed(&sql, &[(&p, Type::TEXT)])?,
                None => client.query_typed(&sql, &[])?,
            };
            Applied::Changes(
                rows.iter()
                    .map(|r| (r.get::<_, String>(0), r.get::<_, i64>(1) as usize))
                    .collect(),
            )
        }
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
