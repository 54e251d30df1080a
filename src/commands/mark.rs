//! `sqlrail mark`: records in the ledger, on purpose and with a reason, that a migration
//! is applied although sqlrail did not run it (a change made by hand during an incident;
//! a database another tool migrated, up to a point: `--through`), or removes a row so the
//! migration runs again (`--remove`). Flyway's `baseline` and `repair`, sqitch's
//! `--log-only`. The reason is kept with the row and shown by `status`.

use std::io::Write;

use serde::Serialize;

use crate::cli::{Format, MarkArgs};
use crate::config::Phase;
use crate::error::{Error, Exit};
use crate::exec::executor::UnitKind;
use crate::history::History;
use crate::ledger::NewRow;
use crate::ledger::state::NO_TENANT;
use crate::project::Migration;
use crate::sql::normalized_hash;

use super::connection::open;

#[derive(Serialize)]
struct Report {
    marked: Vec<String>,
    removed: Vec<String>,
    reason: String,
}

pub fn run(args: &MarkArgs) -> Result<Exit, Error> {
    if args.reason.trim().is_empty() {
        return Err(Error::Usage(
            "--reason must say why (it is kept with the ledger row and shown by `status`)".into(),
        ));
    }
    let json = args.db.format == Format::Json;
    let mut session = open(&args.db, args.lock_wait.as_ref().map(|d| d.0), json)?;
    let project = &session.project;
    let history = History::of(project);
    let target = args
        .id
        .as_deref()
        .or(args.through.as_deref())
        .unwrap_or_default();
    let Some(m) = project.migration(target) else {
        return Err(Error::Usage(format!(
            "{target}: no such migration in this project; give an id as `sqlrail status` lists them (e.g. ddl/V12__add_leads_email)"
        )));
    };
    let chosen: Vec<&Migration> = match &args.through {
        None => vec![m],
        Some(_) => {
            let Some(upto) = history.step_of(&m.id).filter(|s| *s <= history.sequenced) else {
                return Err(Error::Usage(format!(
                    "--through {}: it is not in the DDL sequence (an index file or backfill not placed in it); give a DDL migration",
                    m.id
                )));
            };
            history.steps[..upto].iter().map(|s| s.migration).collect()
        }
    };
    let ledger = session.ledger.clone();
    let state = session.state.clone();
    session.exec.ensure_lock()?;
    session.exec.read("the ledger", |c| ledger.ensure(c))?;
    session.exec.read("the phase state", |c| state.ensure(c))?;
    let rows = session.exec.read("the ledger", |c| ledger.rows(c))?;
    let index_rows = session
        .exec
        .read("the phase state", |c| state.index_rows(c))?;
    let backfill_rows = session
        .exec
        .read("the phase state", |c| state.backfill_rows(c))?;
    let recorded = |m: &Migration| match m.phase {
        Phase::Ddl => rows.iter().any(|r| r.version == m.version as i32),
        Phase::Indexes => index_rows.iter().any(|r| r.id == m.id),
        Phase::Backfills => backfill_rows.iter().any(|r| r.id == m.id),
    };
    let note = format!("marked: {}", args.reason.trim());
    let holder = session.exec.holder().to_owned();
    let mut report = Report {
        marked: Vec::new(),
        removed: Vec::new(),
        reason: args.reason.trim().to_owned(),
    };
    for m in chosen {
        let sql = if args.remove {
            if !recorded(m) {
                return Err(Error::Usage(format!(
                    "--remove {}: the database records nothing for it; nothing to remove",
                    m.id
                )));
            }
            match m.phase {
                Phase::Ddl => ledger.delete_sql(m.version as i32),
                _ => state.forget_sql(&m.id),
            }
        } else if recorded(m) {
            if args.through.is_some() {
                continue;
            }
            return Err(Error::Usage(format!(
                "{}: already recorded; `sqlrail mark --remove {} --reason …` first to record it anew",
                m.id, m.id
            )));
        } else {
            match m.phase {
                Phase::Ddl => {
                    let stem = m.id.split_once('/').map_or(m.id.as_str(), |(_, s)| s);
                    let name = stem.split_once("__").map_or(m.name.as_str(), |(_, n)| n);
                    ledger.insert_sql(&NewRow {
                        version: m.version as i32,
                        name,
                        checksum: m.checksum,
                        normalized_checksum: normalized_hash(&m.sql, 0, m.sql.len()),
                        reconciled: true,
                        attempts: 0,
                        applied_by: &holder,
                        note: Some(&note),
                        started: None,
                    })
                }
                Phase::Indexes => {
                    state.index_finished_sql(&m.id, m.checksum, "reconciled", Some(&note))
                }
                Phase::Backfills => format!(
                    "{}; {}",
                    state.backfill_start_sql(&m.id, NO_TENANT, m.checksum, 1, 0),
                    state.set_state_sql(&m.id, NO_TENANT, "done", Some(&note))
                ),
            }
        };
        // One fenced transaction per row, like every ledger write.
        session.exec.run(
            &m.id,
            UnitKind::Other,
            None,
            |c, fence| c.batch_execute(&format!("BEGIN; {fence}; {sql}; COMMIT;")),
            |_| Ok(None),
        )?;
        if args.remove {
            report.removed.push(m.id.clone());
        } else {
            report.marked.push(m.id.clone());
        }
    }
    session.exec.release();
    if json {
        let text = serde_json::to_string_pretty(&report).map_err(std::io::Error::other)?;
        writeln!(std::io::stdout().lock(), "{text}")?;
    } else {
        for id in &report.marked {
            crate::say!("marked   {id} as applied: it will not run ({note})");
        }
        for id in &report.removed {
            crate::say!("removed  {id} from the ledger: it runs on the next apply ({note})");
        }
        if report.marked.is_empty() && report.removed.is_empty() {
            crate::say!("nothing to mark: every migration up to {target} is recorded");
        }
    }
    Ok(Exit::Success)
}
