//! The sqlrail files an adopted history becomes. Each source migration becomes one DDL
//! file, except where its statements cannot share one transaction: a concurrent index
//! statement becomes an index file placed right after the DDL before it (`after:`); in a
//! migration its tool ran outside a transaction, the DDL is cut after `ALTER TYPE … ADD
//! VALUE` (a new enum value cannot be used in the transaction that adds it). The tool's
//! own `BEGIN;`/`COMMIT;` around a file are dropped (sqlrail owns the transaction).
//! Files are numbered per phase from 1 in the history's order, named after the source.

use std::path::{Path, PathBuf};

use crate::config::Phase;
use crate::sql::code::Code;
use crate::sql::{Lexer, Statement, StatementKind, TokenKind, split};

use super::{Found, InitError, Source};

/// One sqlrail file to write.
#[derive(Debug, Clone)]
pub struct Adopted {
    /// The source migration's file.
    pub from: PathBuf,
    /// Its version in the adopted tool's ledger.
    pub origin: Option<String>,
    pub phase: Phase,
    /// `V3__create_users`.
    pub stem: String,
    pub sql: String,
    /// For an index file: the DDL migration (id) it runs right after, or right before.
    pub after: Option<String>,
    pub before: Option<String>,
    /// Whether `sql` is the source file's whole text, unchanged.
    pub verbatim: bool,
    pub notes: Vec<String>,
}

impl Adopted {
    pub fn id(&self) -> String {
        format!("{}/{}", self.phase.dir(), self.stem)
    }

    pub fn to(&self, root: &Path) -> PathBuf {
        root.join("sql")
            .join(self.phase.dir())
            .join(format!("{}.sql", self.stem))
    }
}

/// A piece of a source migration, before numbering.
struct Piece {
    phase: Phase,
    sql: String,
    /// The name part of its file name.
    name: String,
    verbatim: bool,
    notes: Vec<String>,
}

/// The files `found`'s sources become, in the history's order. Sources without a
/// statement (a migration left empty) are added to `found.skipped`.
pub fn plan(found: &mut Found) -> Result<Vec<Adopted>, InitError> {
    let mut empty = Vec::new();
    let mut next = [1u64; 3];
    let mut out: Vec<Adopted> = Vec::new();
    // Index files waiting for the DDL file that follows them (none came before).
    let mut waiting: Vec<usize> = Vec::new();
    for source in &found.sources {
        let (pieces, left_out) = if let Some(phase) = source.phase {
            let whole = Piece {
                phase,
                sql: source.sql.clone(),
                name: source.name.clone(),
                verbatim: true,
                notes: Vec::new(),
            };
            (vec![whole], Vec::new())
        } else {
            pieces(source)?
        };
        if pieces.is_empty() {
            let why = if left_out.is_empty() {
                "no SQL statements (an empty migration): nothing to adopt".to_owned()
            } else {
                format!("nothing of it could be adopted: {}", left_out.join("; "))
            };
            empty.push((source.path.clone(), why));
            continue;
        }
        let ddl_pieces = pieces.iter().filter(|p| p.phase == Phase::Ddl).count();
        let mut ddl_seen = 0;
        for piece in pieces {
            let slot = Phase::ALL
                .iter()
                .position(|p| *p == piece.phase)
                .expect("a phase");
            let kept = source.phase.and_then(|_| {
                let stem = source.path.file_stem()?.to_str()?.to_owned();
                let (version, _) = crate::config::parse_stem(&stem)?;
                Some((version, stem))
            });
            let stem = match kept {
                Some((version, stem)) => {
                    next[slot] = next[slot].max(version + 1);
                    stem
                }
                None => {
                    let mut name = name_part(&piece.name);
                    if piece.phase == Phase::Ddl {
                        ddl_seen += 1;
                        if ddl_pieces > 1 && ddl_seen > 1 {
                            name = format!("{name}_{ddl_seen}");
                        }
                    }
                    let stem = format!("V{}__{name}", next[slot]);
                    next[slot] += 1;
                    stem
                }
            };
            let mut adopted = Adopted {
                from: source.path.clone(),
                origin: (found.tool.is_some() && source.phase.is_none())
                    .then(|| source.origin.clone()),
                phase: piece.phase,
                stem,
                sql: piece.sql,
                after: None,
                before: None,
                verbatim: piece.verbatim,
                notes: piece.notes,
            };
            if adopted.phase == Phase::Indexes && source.phase.is_none() {
                match out.iter().rev().find(|a| a.phase == Phase::Ddl) {
                    Some(ddl) => adopted.after = Some(ddl.id()),
                    None => waiting.push(out.len()),
                }
            }
            if adopted.phase == Phase::Ddl {
                let id = adopted.id();
                for i in waiting.drain(..) {
                    out[i].before = Some(id.clone());
                }
            }
            out.push(adopted);
        }
    }
    found.skipped.extend(empty);
    let mut seen = std::collections::HashSet::new();
    for a in &out {
        if !seen.insert(a.id()) {
            return Err(InitError::File {
                path: a.from.clone(),
                message: format!("{} is proposed twice; rename one of the files", a.id()),
            });
        }
    }
    Ok(out)
}

/// Where the statement `s` ends in `sql`: after its `;` (or at the end of the text).
fn terminated(sql: &str, s: &Statement) -> usize {
    Lexer::at(sql.as_bytes(), s.end)
        .map_while(Result::ok)
        .find(|t| t.kind == TokenKind::Semicolon)
        .map_or(sql.len(), |t| t.end)
}

/// Whether `code` is `SET …` or pg_dump's `SELECT pg_catalog.set_config(…)`: session
/// settings that may come before a file's `BEGIN`.
fn is_setting(code: &Code<'_>) -> bool {
    code.is(0, "set")
        || (code.is(0, "select")
            && (1..code.len()).any(|i| code.text(i).eq_ignore_ascii_case("set_config")))
}

/// The statements (indexes) of the tool's own `BEGIN`/`COMMIT` around the file: the first
/// `BEGIN` when only session settings come before it, and the last statement when it is
/// `COMMIT` (or `END`).
fn wrapping(sql: &str, statements: &[Statement]) -> (Option<usize>, Option<usize>) {
    let code = |s: &Statement| Code::lex(sql, s.start..s.end);
    let begin = statements
        .iter()
        .position(|s| {
            let c = code(s);
            !is_setting(&c) || s.kind == StatementKind::TransactionControl
        })
        .filter(|&i| {
            let c = code(&statements[i]);
            statements[i].kind == StatementKind::TransactionControl
                && (c.is(0, "begin") || c.is(0, "start"))
        });
    let commit = statements.len().checked_sub(1).filter(|&i| {
        let c = code(&statements[i]);
        statements[i].kind == StatementKind::TransactionControl
            && (c.is(0, "commit") || c.is(0, "end"))
    });
    (begin, commit)
}

/// A source's statements as pieces: DDL runs and concurrent index statements, with the
/// statements that belong nowhere left out (and said so); and, when no piece is left,
/// the notes on what was left out.
fn pieces(source: &Source) -> Result<(Vec<Piece>, Vec<String>), InitError> {
    let sql = &source.sql;
    let file = split(sql).map_err(|e| {
        let (line, column) = crate::sql::LineIndex::new(sql).position(sql, e.start);
        InitError::File {
            path: source.path.clone(),
            message: format!(
                "{line}:{column}: unterminated {} opened here; close it",
                e.unclosed
            ),
        }
    })?;
    let mut notes = Vec::new();
    if let Some(p) = file.psql.first() {
        notes.push(format!(
            "line {}: psql-only syntax (a meta-command or COPY data), which the server rejects; rewrite it as SQL",
            p.line
        ));
    }
    let statements = &file.statements;
    let last = statements.len().saturating_sub(1);
    let (begin, commit) = wrapping(sql, statements);
    let mut out: Vec<Piece> = Vec::new();
    // The DDL run being gathered, and where the text not yet given to a piece starts.
    let mut start = 0;
    let mut run: Option<String> = None;
    // Whether the run is the file's text unchanged so far.
    let mut verbatim = true;
    let mut dropped_any = false;
    let close = |out: &mut Vec<Piece>, text: String, notes: &mut Vec<String>| {
        out.push(Piece {
            phase: Phase::Ddl,
            sql: text,
            name: source.name.clone(),
            verbatim: false,
            notes: std::mem::take(notes),
        });
    };
    for (i, s) in statements.iter().enumerate() {
        let end = terminated(sql, s);
        let code = Code::lex(sql, s.start..s.end);
        if Some(i) == begin || Some(i) == commit {
            // Settings before the BEGIN stay with what follows it, in one file.
            if let Some(text) = run.as_mut() {
                text.push_str(&sql[start..s.start]);
            }
            start = end;
            dropped_any = true;
            verbatim = false;
            continue;
        }
        let concurrent_index = !s.in_transaction
            && (code.at(0, &["drop", "index"])
                || code.is(0, "reindex")
                || (code.is(0, "create")
                    && code
                        .find_at_depth(0..4.min(code.len()), 0, &["index"])
                        .is_some()));
        if concurrent_index {
            if let Some(mut text) = run.take() {
                text.push_str(&sql[start..s.start]);
                close(&mut out, text, &mut notes);
            }
            let name = crate::sql::code::index_statement(&code)
                .and_then(|i| i.name)
                .unwrap_or_else(|| source.name.clone());
            out.push(Piece {
                phase: Phase::Indexes,
                sql: format!("{};\n", &sql[s.start..s.end]),
                name,
                verbatim: false,
                notes: Vec::new(),
            });
            start = end;
            verbatim = false;
            continue;
        }
        // `DETACH PARTITION … CONCURRENTLY` leaves the same schema as the plain form,
        // which runs in a transaction (holding a stronger lock for its moment).
        let detach = !s.in_transaction
            && code.is(0, "alter")
            && code.find(1, &["detach", "partition"]).is_some()
            && code.is(code.len() - 1, "concurrently");
        if detach {
            let text = run.get_or_insert_with(String::new);
            let word = code.span(code.len() - 1, code.len() - 1);
            text.push_str(&sql[start..word.start]);
            text.push_str(sql[word.end..end].trim_start());
            notes.push(format!(
                "line {}: `DETACH PARTITION … CONCURRENTLY` cannot run in a transaction; it runs as a plain `DETACH PARTITION` (same schema, a brief ACCESS EXCLUSIVE lock on the parent)",
                s.line
            ));
            start = end;
            verbatim = false;
            continue;
        }
        if !s.in_transaction {
            let maintenance = ["vacuum", "cluster", "checkpoint"]
                .iter()
                .any(|w| code.is(0, w));
            notes.push(if maintenance {
                format!(
                    "line {}: `{}` is maintenance that cannot run in a transaction (it changes no schema); it was left out",
                    s.line, s.tag
                )
            } else {
                format!(
                    "line {}: `{}` cannot run in a transaction and is not an index build; it was left out: run it by hand if it is needed",
                    s.line, s.tag
                )
            });
            if let Some(mut text) = run.take() {
                text.push_str(&sql[start..s.start]);
                close(&mut out, text, &mut notes);
            }
            start = end;
            verbatim = false;
            continue;
        }
        if s.kind == StatementKind::TransactionControl {
            notes.push(format!(
                "line {}: `{}` inside the migration: sqlrail runs each migration in one transaction; remove it",
                s.line, s.tag
            ));
        }
        run.get_or_insert_with(String::new)
            .push_str(&sql[start..end]);
        start = end;
        // A value added to an enum cannot be used in the transaction that added it: in a
        // migration its tool ran without a transaction, what follows runs in the next file.
        let adds_value =
            code.at(0, &["alter", "type"]) && code.find(2, &["add", "value"]).is_some();
        if adds_value && !source.transactional && i < last {
            let text = run.take().expect("just set");
            close(&mut out, text, &mut notes);
            verbatim = false;
        }
    }
    if let Some(mut text) = run {
        // The last run keeps what follows its last statement (trailing comments).
        text.push_str(&sql[start..]);
        let whole = verbatim && out.is_empty();
        out.push(Piece {
            phase: Phase::Ddl,
            sql: if whole { sql.clone() } else { text },
            name: source.name.clone(),
            verbatim: whole,
            notes: std::mem::take(&mut notes),
        });
    }
    if dropped_any && let Some(first) = out.iter_mut().find(|p| p.phase == Phase::Ddl) {
        first.notes.push(
            "its BEGIN/COMMIT were dropped: sqlrail runs each migration in its own transaction"
                .into(),
        );
    }
    if !notes.is_empty()
        && let Some(last) = out.last_mut()
    {
        last.notes.append(&mut notes);
    }
    Ok((out, notes))
}

/// A name fit for a refinery file name: lower case, runs of anything but letters and
/// digits turned into `_`.
pub fn name_part(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    let out = out.trim_matches('_');
    if out.is_empty() {
        "migration".into()
    } else {
        out.to_owned()
    }
}
