//! The no-op check that comes before the lock: whether the database already records every
//! migration of the project as done, exactly as the files are now. Most deploys find
//! nothing to do; without this check each paid for the lock (a lease row, a heartbeat
//! connection, its release) and for each phase's reads, about a dozen round trips and a
//! second connection. This is at most five reads, whatever the number of migrations.
//!
//! It is safe without the lock because nothing a runner does un-records a migration:
//! when every row is there and matches, no other runner can make one missing. Any doubt
//! (a missing row, a changed file, a paused or per-tenant backfill with a new tenant) is
//! answered `false`, and the run goes the full way, where it is reported.

use std::collections::{HashMap, HashSet};

use crate::config::{BackfillStatus, Phase};
use crate::ledger::Ledger;
use crate::ledger::state::{NO_TENANT, PhaseState};
use crate::project::Project;

use super::ddl::{Action, recorded_action};
use super::executor::{ExecError, Executor};
use super::indexes::DONE_STATES;

/// Whether every migration of `project` is recorded as done in the database.
pub fn up_to_date(
    exec: &mut Executor,
    project: &Project,
    ledger: &Ledger,
    state: &PhaseState,
) -> Result<bool, ExecError> {
    let migrations = &project.migrations;
    if migrations.is_empty() || !exec.read("the ledger", |c| ledger.exists(c))? {
        return Ok(false);
    }
    let rows = exec.read("the ledger", |c| ledger.rows(c))?;
    let by_version: HashMap<i32, &crate::ledger::Row> =
        rows.iter().map(|r| (r.version, r)).collect();
    let ddl_done = migrations
        .iter()
        .filter(|m| m.phase == Phase::Ddl)
        .all(|m| {
            by_version
                .get(&(m.version as i32))
                .is_some_and(|row| recorded_action(m, row) == Action::Applied)
        });
    if !ddl_done {
        return Ok(false);
    }
    let others = migrations.iter().any(|m| m.phase != Phase::Ddl);
    if !others {
        return Ok(true);
    }
    if !exec.read("the phase state", |c| state.exists(c))? {
        return Ok(false);
    }
    let index_rows = exec.read("the phase state", |c| state.index_rows(c))?;
    let indexes_done: HashSet<(&str, &str)> = index_rows
        .iter()
        .filter(|r| DONE_STATES.contains(&r.state.as_str()))
        .map(|r| (r.id.as_str(), r.checksum.as_str()))
        .collect();
    let backfill_rows = exec.read("the phase state", |c| state.backfill_rows(c))?;
    let backfills_done: HashSet<(&str, &str, &str)> = backfill_rows
        .iter()
        .filter(|r| r.state == "done")
        .map(|r| (r.id.as_str(), r.tenant.as_str(), r.checksum.as_str()))
        .collect();
    for m in migrations {
        let checksum = m.checksum.to_string();
        let done = match m.phase {
            Phase::Ddl => true,
            Phase::Indexes => indexes_done.contains(&(m.id.as_str(), checksum.as_str())),
            Phase::Backfills => {
                let Some(settings) = project.entry(&m.id).and_then(|e| e.backfill.as_ref()) else {
                    return Ok(false);
                };
                match settings.status {
                    BackfillStatus::Done => true,
                    // Reported on every run.
                    BackfillStatus::Paused => false,
                    BackfillStatus::Active => match &settings.tenants {
                        None => {
                            backfills_done.contains(&(m.id.as_str(), NO_TENANT, checksum.as_str()))
                        }
                        Some(query) => {
                            // New tenants since the last run have their part to do.
                            let tenants = match exec.read(&m.id, |c| tenants_of(c, query)) {
                                Ok(tenants) => tenants,
                                Err(_) => return Ok(false),
                            };
                            if tenants.is_empty() {
                                backfill_rows.iter().any(|r| {
                                    r.id == m.id && r.tenant == NO_TENANT && r.state == "done"
                                })
                            } else {
                                tenants.iter().all(|t| {
                                    backfills_done.contains(&(
                                        m.id.as_str(),
                                        t.as_str(),
                                        checksum.as_str(),
                                    ))
                                })
                            }
                        }
                    },
                }
            }
        };
        if !done {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The tenants a per-tenant backfill's query lists now (as `exec::backfills` reads them).
fn tenants_of(client: &mut postgres::Client, query: &str) -> Result<Vec<String>, postgres::Error> {
    Ok(client
        .simple_query(query)?
        .iter()
        .filter_map(|msg| match msg {
            postgres::SimpleQueryMessage::Row(r) => r.get(0).map(str::to_owned),
            _ => None,
        })
        .collect())
}
