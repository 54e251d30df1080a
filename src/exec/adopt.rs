//! Where a database stands when sqlrail's ledger records nothing for it: empty, migrated
//! by the tool the project was adopted from (its ledger says exactly which migrations),
//! or migrated by hand or by something else (placed in the history by its answers to the
//! migrations' checks, see `history::adoption`).
//!
//! Reconciliation happens only here. Once the ledger records migrations, every migration
//! it does not record runs: a fingerprint that holds before its migration means the check
//! is weak or the change was made by hand, and neither is a reason to skip it (`sqlrail
//! mark` records a migration made by hand, on purpose and with a reason).

use postgres::types::Type;
use serde::Serialize;

use crate::config::{Fingerprint, Phase};
use crate::db::fingerprint::holds_all;
use crate::history::adoption::{Placement, Unplaced, agrees_somewhere, place};
use crate::history::probe::{Probe, probe, written_tables};
use crate::history::{History, proposal};
use crate::ledger::foreign::{self, ForeignLedger};
use crate::ledger::{Ledger, Row};
use crate::project::Project;

use super::executor::{ExecError, Executor};

/// Where the database stands.
#[derive(Debug, Clone)]
pub enum Standing {
    /// The ledger records migrations: what it does not record runs.
    Recorded,
    /// Nothing of the project is in the database: everything runs.
    Empty,
    /// The ledger of the tool the project was adopted from says which migrations ran.
    Foreign(ForeignLedger),
    /// The database's answers to the steps' checks put it after step `placement.state`.
    Placed(Placement),
}

/// A summary of the standing for `plan --format json` and `apply --format json`.
#[derive(Debug, Clone, Serialize)]
pub struct Adoption {
    /// `recorded`, `empty`, `foreign-ledger` or `placed`.
    pub standing: &'static str,
    /// The other tool's ledger table, when it decided.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ledger: Option<String>,
    /// The last migration of the DDL sequence already in the database, when placed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    /// Migrations whose checks disagree with the history everywhere (set aside).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub set_aside: Vec<String>,
}

impl Adoption {
    /// The ledger records the migrations: nothing was adopted.
    pub fn recorded() -> Adoption {
        Adoption {
            standing: "recorded",
            ledger: None,
            after: None,
            set_aside: Vec::new(),
        }
    }
}

impl Standing {
    /// Whether step `step` (from 1) of `history` is already in the database.
    pub fn has(&self, history: &History<'_>, project: &Project, step: usize) -> bool {
        match self {
            Standing::Recorded | Standing::Empty => false,
            Standing::Placed(p) => step <= p.state,
            Standing::Foreign(ledger) => history
                .steps
                .get(step - 1)
                .and_then(|s| project.entry(&s.migration.id))
                .and_then(|e| e.origin.as_deref())
                .is_some_and(|origin| ledger.has(origin)),
        }
    }

    pub fn summary(&self, history: &History<'_>) -> Adoption {
        let id = |step: usize| history.steps[step - 1].migration.id.clone();
        match self {
            Standing::Recorded => Adoption::recorded(),
            Standing::Empty => Adoption {
                standing: "empty",
                ledger: None,
                after: None,
                set_aside: Vec::new(),
            },
            Standing::Foreign(ledger) => Adoption {
                standing: "foreign-ledger",
                ledger: Some(ledger.table.clone()),
                after: None,
                set_aside: Vec::new(),
            },
            Standing::Placed(p) => Adoption {
                standing: "placed",
                ledger: None,
                after: (p.state > 0).then(|| id(p.state)),
                set_aside: p.set_aside.iter().map(|(s, _)| id(*s)).collect(),
            },
        }
    }

    /// One line for the log, or `None` when there is nothing to say (recorded, empty).
    pub fn describe(&self, history: &History<'_>, project: &Project) -> Option<String> {
        let id = |step: usize| history.steps[step - 1].migration.id.as_str();
        match self {
            Standing::Recorded | Standing::Empty => None,
            Standing::Foreign(ledger) => {
                let origins = project.manifest.migrations.iter().filter_map(|e| e.origin.as_deref());
                Some(format!(
                    "adopting: the ledger records nothing, and {}'s ledger {} records {} of this project's migrations; they are recorded as reconciled, the rest run",
                    ledger.tool.as_str(),
                    ledger.table,
                    ledger.count(origins)
                ))
            }
            Standing::Placed(p) if p.state == 0 && p.repeated.is_none() => Some(
                "adopting: the ledger records nothing and no migration's change is in the database; every migration runs".into(),
            ),
            Standing::Placed(p) => {
                let mut line = if p.state == 0 {
                    "adopting: the ledger records nothing; no check proves a migration's change is in the database, so none is recorded as reconciled".to_owned()
                } else {
                    format!(
                        "adopting: the ledger records nothing; the database has the changes of the history up to {} ({} of {} migrations of the DDL sequence), which are recorded as reconciled; the rest run",
                        id(p.state),
                        p.state,
                        history.sequenced
                    )
                };
                match p.repeated {
                    Some(last) if last == p.state + 1 => line.push_str(&format!(
                        "; whether {} ran cannot be told, and it runs again (it is safe to repeat)",
                        id(last)
                    )),
                    Some(last) => line.push_str(&format!(
                        "; whether {}..{} ran cannot be told, and they run again (they are safe to repeat)",
                        id(p.state + 1),
                        id(last)
                    )),
                    None => {}
                }
                for (step, held) in &p.set_aside {
                    line.push_str(&format!(
                        "\n  note: the check of {} {} whatever the history's point, so it was set aside",
                        id(*step),
                        if *held { "holds" } else { "does not hold" }
                    ));
                }
                Some(line)
            }
        }
    }
}

/// Why adoption stopped.
#[derive(Debug, thiserror::Error)]
pub enum AdoptError {
    #[error("{0}")]
    Exec(#[from] ExecError),
    #[error("{message}")]
    Unplaced { message: String },
}

/// Finds where the database stands. `rows`: the ledger's rows (none, or no ledger).
pub fn standing(
    exec: &mut Executor,
    project: &Project,
    history: &History<'_>,
    ledger: &Ledger,
    rows: &[Row],
) -> Result<Standing, AdoptError> {
    if !rows.is_empty() {
        return Ok(Standing::Recorded);
    }
    let foreign = match &project.manifest.settings.adopted_from {
        Some(from) => exec.read("the adopted tool's ledger", |c| {
            foreign::read(c, from.tool, from.table.as_deref(), from.project.as_deref())
        })?,
        None => None,
    };
    if let Some(theirs) = &foreign
        && theirs.dirty
    {
        return Err(AdoptError::Unplaced {
            message: format!(
                "{}'s ledger {} is marked dirty: its last migration failed half-way. Repair the database as {} would need (see its docs), then run again",
                theirs.tool.as_str(),
                theirs.table,
                theirs.tool.as_str()
            ),
        });
    }
    let empty = exec.read("whether the database is empty", |c| empty(c, ledger))?;
    let checked = if empty {
        Checked {
            checks: Vec::new(),
            observed: Vec::new(),
            placed: Ok(Placement {
                state: 0,
                set_aside: Vec::new(),
                repeated: None,
            }),
        }
    } else {
        placement_by_checks(exec, project, history)?
    };
    let Some(foreign) = foreign else {
        return match checked.placed {
            Ok(p) if empty && p.state == 0 => Ok(Standing::Empty),
            Ok(p) => Ok(Standing::Placed(p)),
            Err(unplaced) => Err(AdoptError::Unplaced {
                message: unplaced_message(history, &checked.checks, &checked.observed, &unplaced),
            }),
        };
    };
    // The other tool's ledger decides, unless the schema plainly says otherwise (a ledger
    // copied from another database, or a schema changed by hand since).
    let standing = Standing::Foreign(foreign.clone());
    let (disagree, at): (Vec<usize>, String) = match &checked.placed {
        Ok(p) => {
            let sure = |step: usize| step <= p.state || step > p.repeated.unwrap_or(p.state);
            let disagree = (1..=history.sequenced)
                .filter(|&step| {
                    sure(step) && standing.has(history, project, step) != (step <= p.state)
                })
                .collect();
            let at = if p.state == 0 {
                "an empty database".to_owned()
            } else {
                format!(
                    "the state after {}",
                    history.steps[p.state - 1].migration.id
                )
            };
            (
                disagree,
                format!("the schema is {at}, but the ledger says otherwise of"),
            )
        }
        // The checks place the database nowhere (or in several places): the ledger's own
        // claim must then fit every check that fits some point of the history.
        Err(_) => (
            claim_disagreements(history, project, &standing, &checked),
            "the checks of some migrations contradict what the ledger says of them:".to_owned(),
        ),
    };
    if !disagree.is_empty() {
        let ids: Vec<&str> = disagree
            .iter()
            .map(|&step| history.steps[step - 1].migration.id.as_str())
            .collect();
        return Err(AdoptError::Unplaced {
            message: format!(
                "adopting: {}'s ledger {} and the schema disagree: {at} {} ({}{}). Nothing was applied; find out which is right, then `sqlrail mark --through <id> --reason \"…\"` where the database stands",
                foreign.tool.as_str(),
                foreign.table,
                if ids.len() == 1 {
                    "one migration".to_owned()
                } else {
                    format!("{} migrations", ids.len())
                },
                ids.iter().take(5).copied().collect::<Vec<_>>().join(", "),
                if ids.len() > 5 { ", …" } else { "" }
            ),
        });
    }
    Ok(Standing::Foreign(foreign))
}

/// The database's answers to the steps' checks, and where they place it.
struct Checked {
    /// Per step of the DDL sequence (index = step - 1).
    checks: Vec<Option<Fingerprint>>,
    observed: Vec<Option<bool>>,
    placed: Result<Placement, Unplaced>,
}

/// The steps whose check disagrees with the state the foreign ledger claims (every step
/// up to the last it records, but those it does not record, which will run), leaving out
/// checks that fit no point of the history (objects made outside the files).
fn claim_disagreements(
    history: &History<'_>,
    project: &Project,
    standing: &Standing,
    checked: &Checked,
) -> Vec<usize> {
    let claimed: Vec<bool> = (1..=history.sequenced)
        .map(|step| standing.has(history, project, step))
        .collect();
    let last = claimed.iter().rposition(|&c| c).map_or(0, |i| i + 1);
    (1..=history.sequenced)
        .filter(|&step| {
            let (Some(check), Some(answer)) =
                (&checked.checks[step - 1], checked.observed[step - 1])
            else {
                return false;
            };
            // An unrecorded step up to `last` runs: its change is not expected there.
            if step <= last && !claimed[step - 1] {
                return false;
            }
            history
                .predict(check, last, step)
                .known()
                .is_some_and(|p| p != answer)
                && agrees_somewhere(history, check, step, answer)
        })
        .collect()
}

/// Places the database in the history by its answers to the steps' checks.
fn placement_by_checks(
    exec: &mut Executor,
    project: &Project,
    history: &History<'_>,
) -> Result<Checked, AdoptError> {
    let checks: Vec<Option<Fingerprint>> = (1..=history.sequenced)
        .map(|step| check_of(project, history, step))
        .collect();
    let listed: Vec<&Fingerprint> = checks.iter().flatten().collect();
    let answers = match exec.read("the migrations' checks", |c| holds_all(c, &listed)) {
        Ok(answers) => answers,
        // A check that is wrong (not the connection): find it, so the error names its
        // migration.
        Err(error @ ExecError::Failed { .. }) => {
            for (step, check) in checks
                .iter()
                .enumerate()
                .filter_map(|(i, c)| Some((i + 1, c.as_ref()?)))
            {
                let id = &history.steps[step - 1].migration.id;
                exec.read(&format!("{id}: fingerprint"), |c| holds_all(c, &[check]))
                    .map_err(|e| match e {
                        ExecError::Failed {
                            unit,
                            message,
                            error,
                            attempts,
                        } if error.code().is_none() => ExecError::Failed {
                            unit,
                            message: format!(
                                "a `sql:` check must return a boolean in its first column ({message})"
                            ),
                            error,
                            attempts,
                        },
                        other => other,
                    })?;
            }
            return Err(error.into());
        }
        Err(error) => return Err(error.into()),
    };
    let mut answers = answers.into_iter();
    let observed: Vec<Option<bool>> = checks
        .iter()
        .map(|c| c.as_ref().and_then(|_| answers.next()))
        .collect();
    let refs: Vec<Option<&Fingerprint>> = checks.iter().map(Option::as_ref).collect();
    let placed = match place(history, &refs, &observed) {
        Err(Unplaced::Ambiguous { states, set_aside }) => {
            match told_apart(exec, history, &states, &set_aside)? {
                Some(placement) => Ok(placement),
                None => Err(Unplaced::Ambiguous { states, set_aside }),
            }
        }
        other => other,
    };
    Ok(Checked {
        checks,
        observed,
        placed,
    })
}

/// What the data statements of one migration of the window say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    /// Its inserted rows are there: it ran (and every one before it).
    Ran,
    /// Its inserted rows are missing and nothing later writes their tables: it did not.
    NotRan,
    /// Whether it ran or not, running it (again) changes nothing it did not already.
    Rerunnable,
    /// It cannot be told.
    Untold,
}

/// Places the database among `states` (neighbouring points the checks cannot tell apart)
/// with the data migrations between them (`history::probe`): the database is after the
/// last one whose inserted rows are there; the ones after it run (again). `None` when one
/// after that point cannot be told, or the answers contradict each other (rows of a later
/// migration there, of an earlier one missing). The probes run read-only.
fn told_apart(
    exec: &mut Executor,
    history: &History<'_>,
    states: &[usize],
    set_aside: &[(usize, bool)],
) -> Result<Option<Placement>, AdoptError> {
    let (first, last) = (states[0], states[states.len() - 1]);
    if last - first + 1 != states.len() {
        return Ok(None);
    }
    let written: Vec<Option<Vec<String>>> = (first + 1..=last)
        .map(|step| written_tables(history, step))
        .collect();
    let mut told: Vec<(usize, Verdict)> = Vec::new();
    for step in first + 1..=last {
        let verdict = match probe(history, step) {
            Probe::Repeatable => Verdict::Rerunnable,
            Probe::Unknown => Verdict::Untold,
            Probe::Data { inserted, harmless } => {
                // Missing rows prove nothing when a later migration of the window may
                // have changed or removed them.
                let later = &written[step - first..];
                let hidden = inserted.iter().any(|row| {
                    later
                        .iter()
                        .any(|w| w.as_ref().is_none_or(|tables| tables.contains(&row.table)))
                });
                exec.read("telling data migrations apart", |c| {
                    let present: Vec<Option<bool>> =
                        inserted.iter().map(|row| answer(c, &row.query)).collect();
                    if !present.is_empty() && present.iter().all(|p| *p == Some(true)) {
                        return Ok(Verdict::Ran);
                    }
                    if !present.is_empty() && present.iter().all(|p| *p == Some(false)) {
                        return Ok(if hidden {
                            Verdict::Untold
                        } else {
                            Verdict::NotRan
                        });
                    }
                    if !present.is_empty() {
                        return Ok(Verdict::Untold);
                    }
                    let unchanged = harmless.iter().all(|q| answer(c, q) == Some(true));
                    Ok(if unchanged {
                        Verdict::Rerunnable
                    } else {
                        Verdict::Untold
                    })
                })?
            }
        };
        told.push((step, verdict));
    }
    let state = told
        .iter()
        .rev()
        .find(|(_, v)| *v == Verdict::Ran)
        .map_or(first, |(step, _)| *step);
    let contradicted = told
        .iter()
        .any(|(step, v)| *step < state && *v == Verdict::NotRan);
    // A migration after the point runs: it must be one that did not run or can run again.
    let untold = told
        .iter()
        .any(|(step, v)| *step > state && *v == Verdict::Untold);
    if contradicted || untold {
        return Ok(None);
    }
    Ok(Some(Placement {
        state,
        set_aside: set_aside.to_vec(),
        repeated: (state < last).then_some(last),
    }))
}

/// A probe's answer, read-only; `None` when the query fails or returns no boolean.
fn answer(client: &mut postgres::Client, query: &str) -> Option<bool> {
    let mut tx = client.build_transaction().read_only(true).start().ok()?;
    let answer = tx
        .query_typed(query, &[])
        .ok()
        .and_then(|rows| rows.first().and_then(|r| r.try_get::<_, bool>(0).ok()));
    tx.rollback().ok()?;
    answer
}

/// The check a step is placed by: its fingerprint, or the one the history proposes.
pub fn check_of(project: &Project, history: &History<'_>, step: usize) -> Option<Fingerprint> {
    let m = history.steps.get(step - 1)?.migration;
    let written = project
        .entry(&m.id)
        .filter(|_| m.phase == Phase::Ddl)
        .and_then(|e| e.fingerprint.clone());
    written.or_else(|| proposal::propose(history, step))
}

fn unplaced_message(
    history: &History<'_>,
    checks: &[Option<Fingerprint>],
    observed: &[Option<bool>],
    unplaced: &Unplaced,
) -> String {
    let id = |step: usize| history.steps[step - 1].migration.id.as_str();
    let mark = "tell sqlrail where it stands with `sqlrail mark --through <id> --reason \"…\"` (every migration up to <id> is recorded as applied), then apply";
    match unplaced {
        Unplaced::Ambiguous { states, .. } => {
            let (first, last) = (states[0], states[states.len() - 1]);
            let after = if first == 0 {
                "before the first migration".to_owned()
            } else {
                format!("after {}", id(first))
            };
            format!(
                "adopting: the ledger records nothing, and the database could be anywhere from {after} to after {}: {} change nothing a catalog check can see and cannot safely run twice. Nothing was applied; {mark}",
                id(last),
                (first + 1..=last).map(id).collect::<Vec<_>>().join(", ")
            )
        }
        Unplaced::NoMatch {
            closest,
            disagreeing,
        } => {
            let listed: Vec<String> = disagreeing
                .iter()
                .take(8)
                .map(|&s| {
                    let check = checks[s - 1]
                        .as_ref()
                        .map(|c| c.to_string())
                        .unwrap_or_default();
                    let held = observed[s - 1] == Some(true);
                    format!(
                        "  {}: {check} {} here but should {} after {}",
                        id(s),
                        if held { "holds" } else { "does not hold" },
                        if held { "not" } else { "" },
                        if *closest == 0 {
                            "nothing".into()
                        } else {
                            id(*closest).to_owned()
                        }
                    )
                })
                .collect();
            format!(
                "adopting: the ledger records nothing, and the database matches no point of the history (it is closest to the state after {}, but {} check(s) disagree):\n{}\nit was changed outside these migrations or migrated half-way. Nothing was applied; repair the differences, or {mark}",
                if *closest == 0 {
                    "nothing".to_owned()
                } else {
                    id(*closest).to_owned()
                },
                disagreeing.len(),
                listed.join("\n")
            )
        }
    }
}

/// Whether the database holds no object of its own (sqlrail's tables and what extensions
/// installed aside): a fresh database, where every migration runs.
fn empty(client: &mut postgres::Client, ledger: &Ledger) -> Result<bool, postgres::Error> {
    let ours = "n.nspname = $1 AND (c.relname = $2 OR c.relname LIKE $2 || '\\_%' OR c.relname LIKE 'sqlrail\\_%')";
    let system = "n.nspname IN ('pg_catalog', 'information_schema') OR n.nspname LIKE 'pg\\_%'";
    let extension = |oid: &str, catalog: &str| {
        format!(
            "EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = '{catalog}'::regclass AND d.objid = {oid} AND d.deptype = 'e')"
        )
    };
    let sql = format!(
        "SELECT NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
           WHERE NOT ({system}) AND NOT ({ours}) AND NOT {rel_ext}) \
         AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace \
           WHERE NOT ({system}) AND NOT {proc_ext}) \
         AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace \
           WHERE NOT ({system}) AND t.typtype IN ('e', 'd', 'r') AND NOT {type_ext}) \
         AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace n WHERE NOT ({system}) AND n.nspname NOT IN ('public', $1))",
        rel_ext = extension("c.oid", "pg_class"),
        proc_ext = extension("p.oid", "pg_proc"),
        type_ext = extension("t.oid", "pg_type"),
    );
    Ok(client
        .query_typed_one(
            &sql,
            &[(&ledger.schema, Type::TEXT), (&ledger.table, Type::TEXT)],
        )?
        .get(0))
}
