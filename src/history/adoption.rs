//! Placing a database that has no ledger rows in the history: which migrations are already
//! in it (made by another tool, or by hand) and which must run.
//!
//! Each migration of the DDL sequence has a check (its fingerprint, or the one the history
//! proposes for it) and the database answers each. For every point of the history, the
//! timeline says what each check *should* answer there; the database is at the point
//! where every answer agrees. A check that disagrees at every point (an object made by an
//! extension or by hand, which the files never show) says nothing about the point and is
//! set aside. When no point agrees, or several do and the migrations between them cannot
//! safely run twice, nothing is guessed: adoption stops and says what it saw.
//!
//! This replaces "a migration whose fingerprint holds is recorded": that rule looked at
//! each migration alone, so a check of an object that existed before its migration (a
//! view replaced, an index re-created) recorded migrations that had not run, and a check
//! of an object dropped later ran migrations that had.

use crate::config::Fingerprint;
use crate::sql::code::Code;
use crate::sql::effects::Effect;
use crate::sql::split;

use super::History;
use super::predict::change_points;

/// Where the database is in the history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    /// Steps `1..=state` are in the database; the ones after it are not.
    pub state: usize,
    /// Steps whose check disagrees with the history at every point, with what the
    /// database answered: set aside.
    pub set_aside: Vec<(usize, bool)>,
    /// Steps `state+1..=also` might be in the database too; they are safe to run again
    /// (see [`repeatable`]), so they run.
    pub repeated: Option<usize>,
}

/// Why the database could not be placed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unplaced {
    /// The answers fit the states after each of `states` equally (the migrations between
    /// them have no check that tells them apart), and some of those cannot run twice.
    /// `set_aside` as in [`Placement`].
    Ambiguous {
        states: Vec<usize>,
        set_aside: Vec<(usize, bool)>,
    },
    /// No state fits every answer; `closest` fits all but the checks of `disagreeing`
    /// (steps).
    NoMatch {
        closest: usize,
        disagreeing: Vec<usize>,
    },
}

/// A `DO` block that only creates or drops what its own conditions say is missing or
/// there (`IF NOT EXISTS (…) THEN CREATE ROLE …`), or that ignores "already exists"
/// (`EXCEPTION WHEN duplicate_object THEN NULL`), and runs nothing else that changes the
/// database: any data command, `PERFORM`, `CALL` or dynamic SQL makes it unsafe to repeat.
fn guarded_block(code: &Code<'_>) -> bool {
    use crate::sql::effects::procedural::{commands, words};
    let Some(body) =
        (1..code.len()).find_map(|i| crate::sql::effects::procedural::literal_body(code, i))
    else {
        return false;
    };
    let unsafe_commands = [
        "insert", "update", "delete", "truncate", "merge", "copy", "perform", "call", "execute",
        "select",
    ];
    if !commands(&body, &unsafe_commands).is_empty() {
        return false;
    }
    let words = words(&body);
    let ignores_duplicates = words.windows(2).any(|w| {
        w[0] == "when"
            && matches!(
                w[1].as_str(),
                "duplicate_object"
                    | "duplicate_table"
                    | "duplicate_column"
                    | "duplicate_schema"
                    | "duplicate_function"
            )
    });
    let ddl = commands(&body, &["create", "alter", "drop"]);
    !ddl.is_empty()
        && (ignores_duplicates
            || ddl.iter().all(|span| {
                // The nearest IF before the command tests existence.
                let before = words_before(&body, span.start);
                before.iter().rposition(|w| w == "if").is_some_and(|at| {
                    before[at..].iter().any(|w| w == "exists")
                        && before[at..].iter().any(|w| w == "then")
                })
            }))
}

/// The lower-cased words of `body` before byte `end`.
fn words_before(body: &str, end: usize) -> Vec<String> {
    crate::sql::effects::procedural::words(&body[..end])
}

/// A `SELECT` that changes nothing: no function calls but `set_config` (pg_dump's
/// preamble). `setval` is not one: run again on a database in use, it winds the
/// sequence back and the next insert collides.
fn harmless_select(code: &Code<'_>) -> bool {
    code.is(0, "select")
        && (1..code.len()).all(|i| {
            code.kind(i + 1) != Some(crate::sql::TokenKind::OpenParen)
                || code.kind(i) != Some(crate::sql::TokenKind::Word)
                || code.is(i, "set_config")
        })
}

/// `ALTER TABLE` actions that leave the table the same when repeated.
fn idempotent_action(code: &Code<'_>, action: std::ops::Range<usize>) -> bool {
    let i = action.start;
    let column_setting = code.is(i, "alter") && {
        let j = i + 1 + usize::from(code.is(i + 1, "column")) + 1;
        code.at(j, &["set", "default"])
            || code.at(j, &["drop", "default"])
            || code.at(j, &["set", "not", "null"])
            || code.at(j, &["drop", "not", "null"])
            || code.at(j, &["set", "statistics"])
            || code.at(j, &["set", "storage"])
            || code.at(j, &["set", "compression"])
    };
    column_setting
        || code.at(i, &["validate", "constraint"])
        || code.at(i, &["owner", "to"])
        || code.is(i, "enable")
        || code.is(i, "disable")
        || code.at(i, &["force", "row", "level", "security"])
        || code.at(i, &["no", "force", "row", "level", "security"])
        || code.at(i, &["cluster", "on"])
        || code.at(i, &["set", "without", "cluster"])
        || code.at(i, &["replica", "identity"])
        || code.at(i, &["set", "logged"])
        || code.at(i, &["set", "unlogged"])
        || (code.is(i, "set") && code.kind(i + 1) == Some(crate::sql::TokenKind::OpenParen))
        || (code.is(i, "reset") && code.kind(i + 1) == Some(crate::sql::TokenKind::OpenParen))
        || (code.is(i, "add")
            && code
                .find(i, &["if", "not", "exists"])
                .is_some_and(|j| j < action.end))
        || (code.is(i, "drop")
            && code
                .find(i, &["if", "exists"])
                .is_some_and(|j| j < action.end))
}

/// Whether `answer` to the check of step `own` fits some point of the history (a check
/// that fits none is of an object the files never show, and is set aside).
pub fn agrees_somewhere(
    history: &History<'_>,
    check: &Fingerprint,
    own: usize,
    answer: bool,
) -> bool {
    let n = history.sequenced;
    std::iter::once(0)
        .chain(change_points(check, &history.timeline, own))
        .filter(|&p| p <= n)
        .any(|point| history.predict(check, point, own).known() != Some(!answer))
}

/// Places a database whose answers to each step's check are `observed` (index = step - 1;
/// `None` for a step without a check) among the states `0..=checks.len()`.
pub fn place(
    history: &History<'_>,
    checks: &[Option<&Fingerprint>],
    observed: &[Option<bool>],
) -> Result<Placement, Unplaced> {
    let n = checks.len();
    // Mismatches per state as a difference array: each check's prediction is constant
    // between its change points, so the work is linear in the checks and their events,
    // not in checks × states.
    let mut diff = vec![0i64; n + 2];
    let mut set_aside = Vec::new();
    let mut segments: Vec<(usize, usize)> = Vec::new();
    for (i, (check, answer)) in checks.iter().zip(observed).enumerate() {
        let (Some(check), Some(answer)) = (check, answer) else {
            continue;
        };
        let own = i + 1;
        let mut points: Vec<usize> = change_points(check, &history.timeline, own)
            .into_iter()
            .filter(|&p| p <= n)
            .collect();
        points.insert(0, 0);
        points.dedup();
        segments.clear();
        let mut agrees_somewhere = false;
        for (k, &start) in points.iter().enumerate() {
            let end = points.get(k + 1).copied().unwrap_or(n + 1);
            match history.predict(check, start, own).known() {
                Some(predicted) if predicted != *answer => segments.push((start, end)),
                _ => agrees_somewhere = true,
            }
        }
        if !agrees_somewhere {
            set_aside.push((own, *answer));
            continue;
        }
        for &(start, end) in &segments {
            diff[start] += 1;
            diff[end] -= 1;
        }
    }
    let mut mismatches = Vec::with_capacity(n + 1);
    let mut running = 0;
    for d in &diff[..=n] {
        running += d;
        mismatches.push(running);
    }
    let best = *mismatches.iter().min().expect("state 0 at least");
    let states: Vec<usize> = (0..=n).filter(|&j| mismatches[j] == best).collect();
    if best > 0 {
        let closest = states[states.len() - 1];
        let disagreeing = checks
            .iter()
            .zip(observed)
            .enumerate()
            .filter_map(|(i, (check, answer))| {
                let (check, answer) = ((*check)?, (*answer)?);
                let predicted = history.predict(check, closest, i + 1).known()?;
                (predicted != answer && !set_aside.iter().any(|(s, _)| *s == i + 1))
                    .then_some(i + 1)
            })
            .collect();
        return Err(Unplaced::NoMatch {
            closest,
            disagreeing,
        });
    }
    let (first, last) = (states[0], states[states.len() - 1]);
    let contiguous = last - first + 1 == states.len();
    if first == last {
        return Ok(Placement {
            state: first,
            set_aside,
            repeated: None,
        });
    }
    if contiguous && (first + 1..=last).all(|s| repeatable(history, s)) {
        return Ok(Placement {
            state: first,
            set_aside,
            repeated: Some(last),
        });
    }
    Err(Unplaced::Ambiguous { states, set_aside })
}

/// Whether the migration at `step` can run again on a database that already has it with
/// the same result: every statement is one PostgreSQL repeats harmlessly.
pub fn repeatable(history: &History<'_>, step: usize) -> bool {
    let Some(s) = step.checked_sub(1).and_then(|i| history.steps.get(i)) else {
        return false;
    };
    // An index file is idempotent by how it runs: a valid index of its name and
    // definition is recorded, not built again (and one of another definition is an
    // error, never taken for it).
    if s.migration.phase == crate::config::Phase::Indexes {
        return true;
    }
    let sql = &s.migration.sql;
    let Ok(file) = split(sql) else { return false };
    file.statements.iter().all(|statement| {
        let code = Code::lex(sql, statement.start..statement.end);
        repeatable_statement(&code, statement.kind)
    })
}

/// Whether PostgreSQL repeats a statement harmlessly: `COMMENT`, `GRANT`, `REVOKE`, `SET`,
/// a read, or one that creates only what may exist and drops only `IF EXISTS`.
pub fn repeatable_statement(code: &Code<'_>, kind: crate::sql::StatementKind) -> bool {
    let harmless = ["comment", "grant", "revoke", "set", "reset", "analyze"]
        .iter()
        .any(|w| code.is(0, w))
        || code.at(0, &["alter", "default", "privileges"])
        || harmless_select(code);
    if harmless && kind != crate::sql::StatementKind::Dml {
        return true;
    }
    // A rebuild of an index gives the same index.
    if code.is(0, "reindex") {
        return true;
    }
    if code.is(0, "do") {
        return guarded_block(code);
    }
    if let Some((_, actions)) = crate::sql::code::alter_table(code)
        && actions.iter().all(|a| idempotent_action(code, a.clone()))
    {
        return true;
    }
    let effects = crate::sql::effects::of_code(code);
    // `CREATE … IF NOT EXISTS`: PostgreSQL skips the whole statement (columns, constraints,
    // an `AS SELECT`) when the object exists, so a second run does nothing.
    if matches!(effects.first(), Some(Effect::IfAbsent(_))) {
        return true;
    }
    let guarded_drop = code.is(0, "drop") && code.find(0, &["if", "exists"]).is_some();
    !effects.is_empty()
        && effects.iter().all(|e| match e {
            Effect::Create { may_exist, .. } => *may_exist,
            Effect::Drop { .. } => guarded_drop,
            Effect::UnknownColumns(_)
            | Effect::KnownColumns(_)
            | Effect::Depends { .. }
            | Effect::Shape { .. } => true,
            _ => false,
        })
}
