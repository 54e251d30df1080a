//! Telling apart migrations that no catalog check can: when a database another tool
//! migrated is placed in the history and several neighbouring points fit (seed rows, a
//! one-off data fix between them), each such migration is asked what its data
//! statements say.
//!
//! Only inserted rows are evidence that a migration ran (`INSERT … (c, …) VALUES
//! (literal, …)`: its first row's literal columns exist): the migration is one
//! transaction, so the rest of it ran too, and running it again would add the rows twice.
//! Their absence is evidence it did not run only when no later migration of the window
//! writes the same table (an update there would hide them). An update or a delete is no
//! evidence either way; running one again is harmless when no row would change (its
//! `WHERE` matches nothing, or every matching row already has the constants it sets).
//! Anything else (`INSERT … SELECT`, dynamic SQL, a query that fails) cannot be told, and
//! adoption then stops rather than guess.

use crate::sql::code::{Code, alter_table};
use crate::sql::effects::{Effect, Object, of_code, procedural};
use crate::sql::names::fold_part;
use crate::sql::{StatementKind, TokenKind, split};

use super::History;
use super::adoption::repeatable_statement;

/// How to tell whether one migration ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Probe {
    /// It can run again harmlessly: no need to tell.
    Repeatable,
    /// It ran when every one of `inserted` answers true, and did not when every one
    /// answers false; otherwise it runs (again), harmlessly when every one of `harmless`
    /// answers true (no row an update or delete would change), and it cannot be told when
    /// one does not.
    Data {
        inserted: Vec<Inserted>,
        harmless: Vec<String>,
    },
    /// It cannot be told.
    Unknown,
}

/// A row a migration inserts, and the query that answers whether it is there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inserted {
    /// The table, as written, folded (`public.plans`, `plans`).
    pub table: String,
    pub query: String,
}

/// What one data statement says.
enum Data {
    /// Running it again changes nothing when this query answers true.
    RerunnableIf(String),
    /// This row is there when the migration ran.
    Inserted(Inserted),
}

/// The statements of the migration at `step` (from 1), lexed, with one-off helper
/// functions' bodies.
struct Statements<'s> {
    codes: Vec<(Code<'s>, StatementKind)>,
    helpers: Vec<(String, String)>,
}

impl<'s> Statements<'s> {
    fn of(history: &'s History<'_>, step: usize) -> Option<Statements<'s>> {
        let s = history.steps.get(step.checked_sub(1)?)?;
        let sql = &s.migration.sql;
        let file = split(sql).ok()?;
        let codes: Vec<(Code<'_>, StatementKind)> = file
            .statements
            .iter()
            .map(|st| (Code::lex(sql, st.start..st.end), st.kind))
            .collect();
        let helpers = helpers(&codes);
        Some(Statements { codes, helpers })
    }

    fn helper(&self, name: &str) -> Option<&str> {
        self.helpers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, b)| b.as_str())
    }

    /// Whether `code` creates or drops one of the helpers.
    fn about_helper(&self, code: &Code<'_>) -> bool {
        of_code(code).iter().any(|e| match e {
            Effect::Create {
                object: Object::Function(n),
                ..
            }
            | Effect::Drop {
                object: Object::Function(n),
            } => self.helper(&n.name).is_some(),
            _ => false,
        })
    }
}

/// The probe of the migration at `step` (from 1).
pub fn probe(history: &History<'_>, step: usize) -> Probe {
    let Some(statements) = Statements::of(history, step) else {
        return Probe::Unknown;
    };
    let mut inserted = Vec::new();
    let mut harmless = Vec::new();
    let mut take = |data: Option<Data>| match data {
        Some(Data::Inserted(row)) => {
            inserted.push(row);
            true
        }
        Some(Data::RerunnableIf(q)) => {
            harmless.push(q);
            true
        }
        None => false,
    };
    for (code, kind) in &statements.codes {
        if statements.about_helper(code) {
            continue;
        }
        if let Some(body) = called_helper(code, &|n| statements.helper(n)) {
            let spans = procedural::commands(body, &["insert", "update", "delete"]);
            if spans.is_empty() {
                return Probe::Unknown;
            }
            for span in spans {
                if !take(data(&Code::lex(body, span))) {
                    return Probe::Unknown;
                }
            }
            continue;
        }
        if repeatable_statement(code, *kind) {
            continue;
        }
        if *kind != StatementKind::Dml || alter_table(code).is_some() || !take(data(code)) {
            return Probe::Unknown;
        }
    }
    if inserted.is_empty() && harmless.is_empty() {
        Probe::Repeatable
    } else {
        Probe::Data { inserted, harmless }
    }
}

/// The tables the migration at `step` writes rows of (folded, as written), or `None` when
/// that cannot be read (dynamic SQL, a function call, `INSERT` through a view …).
pub fn written_tables(history: &History<'_>, step: usize) -> Option<Vec<String>> {
    let statements = Statements::of(history, step)?;
    let mut tables = Vec::new();
    for (code, kind) in &statements.codes {
        if statements.about_helper(code) {
            continue;
        }
        if let Some(body) = called_helper(code, &|n| statements.helper(n)) {
            for span in procedural::commands(body, &["insert", "update", "delete", "truncate"]) {
                tables.push(target(&Code::lex(body, span))?);
            }
            continue;
        }
        if *kind == StatementKind::Dml && alter_table(code).is_none() {
            if ["insert", "update", "delete", "truncate", "merge"]
                .iter()
                .any(|w| code.is(0, w))
            {
                tables.push(target(code)?);
            } else if !code.is(0, "select") || !repeatable_statement(code, *kind) {
                return None;
            }
        } else if code.is(0, "do") || code.is(0, "call") {
            return None;
        }
    }
    Some(tables)
}

/// The table a data statement writes: `INSERT INTO t`, `UPDATE [ONLY] t`, `DELETE FROM
/// [ONLY] t`, `TRUNCATE [TABLE] [ONLY] t`, `MERGE INTO t`.
fn target(code: &Code<'_>) -> Option<String> {
    let mut i = 1;
    for skip in ["into", "from", "table", "only"] {
        if code.is(i, skip) {
            i += 1;
        }
    }
    let (name, _) = code.name(i)?;
    Some(folded(&name))
}

/// A written table name folded as PostgreSQL folds it, one part at a time.
fn folded(name: &str) -> String {
    name.split('.').map(fold_part).collect::<Vec<_>>().join(".")
}

/// Functions the migration creates and drops again (one-off helpers), with their bodies.
fn helpers(codes: &[(Code<'_>, StatementKind)]) -> Vec<(String, String)> {
    let dropped = |name: &str| {
        codes.iter().any(|(code, _)| {
            of_code(code).iter().any(
                |e| matches!(e, Effect::Drop { object: Object::Function(n) } if n.name == name),
            )
        })
    };
    codes
        .iter()
        .filter_map(|(code, _)| {
            let Some(Effect::Create {
                object: Object::Function(name),
                ..
            }) = of_code(code).into_iter().next()
            else {
                return None;
            };
            let body = (0..code.len()).find_map(|i| procedural::literal_body(code, i))?;
            dropped(&name.name).then_some((name.name, body))
        })
        .collect()
}

/// The body of the helper a `SELECT helper(…)` calls.
fn called_helper<'h>(
    code: &Code<'_>,
    helper: &impl Fn(&str) -> Option<&'h str>,
) -> Option<&'h str> {
    if !code.is(0, "select") {
        return None;
    }
    (1..code.len()).find_map(|i| {
        let (name, _) = code.name(i)?;
        helper(name.rsplit('.').next().unwrap_or(&name))
    })
}

/// What a data statement says, or `None` when it cannot be told.
fn data(code: &Code<'_>) -> Option<Data> {
    if code.at(0, &["insert", "into"]) {
        return inserted_row(code).map(Data::Inserted);
    }
    if code.is(0, "update") {
        return unchanged(code).map(Data::RerunnableIf);
    }
    if code.at(0, &["delete", "from"]) {
        return unmatched_delete(code).map(Data::RerunnableIf);
    }
    None
}

/// `INSERT INTO t (c, …) VALUES (v, …), …`: whether its first row's literal columns are
/// there.
fn inserted_row(code: &Code<'_>) -> Option<Inserted> {
    let text = |from: usize, to: usize| -> String {
        let span = code.span(from, to.saturating_sub(1));
        code.source()[span].to_owned()
    };
    let (_, after) = code.name(2)?;
    let open = (code.kind(after) == Some(TokenKind::OpenParen)).then_some(after)?;
    let close = code.skip_group(open);
    if !code.is(close, "values") || code.kind(close + 1) != Some(TokenKind::OpenParen) {
        return None;
    }
    let columns = code.comma_separated(open + 1..close - 1, 1);
    let values = code.comma_separated(close + 2..code.skip_group(close + 1) - 1, 1);
    if columns.len() != values.len() {
        return None;
    }
    let conditions: Vec<String> = columns
        .iter()
        .zip(&values)
        .filter(|(_, v)| {
            v.end == v.start + 1
                && matches!(
                    code.kind(v.start),
                    Some(TokenKind::String | TokenKind::Number)
                )
        })
        .map(|(c, v)| format!("{} = {}", text(c.start, c.end), text(v.start, v.end)))
        .collect();
    let (table, _) = code.name(2)?;
    (!conditions.is_empty()).then(|| Inserted {
        table: folded(&table),
        query: format!(
            "SELECT EXISTS (SELECT 1 FROM {} WHERE {})",
            text(2, after),
            conditions.join(" AND ")
        ),
    })
}

/// `UPDATE t [[AS] a] SET c = v, … [FROM f] [WHERE w]`: whether running it again would
/// change no row: none matches `w`, or (when every value set is a constant) every row
/// that matches already has those values.
fn unchanged(code: &Code<'_>) -> Option<String> {
    let text = |from: usize, to: usize| -> String {
        let span = code.span(from, to.saturating_sub(1));
        code.source()[span].to_owned()
    };
    let set = code.find_at_depth(1..code.len(), 0, &["set"])?;
    if code
        .find_at_depth(set..code.len(), 0, &["returning"])
        .is_some()
    {
        return None;
    }
    let filter = code.find_at_depth(set..code.len(), 0, &["where"]);
    let from = code.find_at_depth(set..filter.unwrap_or(code.len()), 0, &["from"]);
    let assignments_end = from.or(filter).unwrap_or(code.len());
    let start = 1 + usize::from(code.is(1, "only"));
    let (table, after_name) = code.name(start)?;
    // The target's alias, to name its columns where a FROM list has the same ones.
    let alias = if code.is(after_name, "as") {
        code.text(after_name + 1).to_owned()
    } else if after_name < set {
        code.text(after_name).to_owned()
    } else {
        table.clone()
    };
    let mut differs = Vec::new();
    for assignment in code.comma_separated(set + 1..assignments_end, 0) {
        let eq = (assignment.start..assignment.end).find(|&i| code.text(i) == "=")?;
        let constant = eq + 2 == assignment.end
            && (matches!(
                code.kind(eq + 1),
                Some(TokenKind::String | TokenKind::Number)
            ) || ["true", "false", "null"].iter().any(|w| code.is(eq + 1, w)));
        // `SET (a, b) = …` or a computed value: only an empty match is harmless.
        if eq != assignment.start + 1 || !constant {
            differs.clear();
            break;
        }
        differs.push(format!(
            "{alias}.{} IS DISTINCT FROM {}",
            text(assignment.start, eq),
            text(eq + 1, assignment.end)
        ));
    }
    let sources = from
        .map(|f| format!(", {}", text(f + 1, filter.unwrap_or(code.len()))))
        .unwrap_or_default();
    let mut conditions = Vec::new();
    if let Some(w) = filter {
        conditions.push(format!("({})", text(w + 1, code.len())));
    }
    if !differs.is_empty() {
        conditions.push(format!("({})", differs.join(" OR ")));
    }
    let condition = if conditions.is_empty() {
        "true".to_owned()
    } else {
        conditions.join(" AND ")
    };
    Some(format!(
        "SELECT NOT EXISTS (SELECT 1 FROM {}{sources} WHERE {condition})",
        text(start, set)
    ))
}

/// `DELETE FROM t [USING u] [WHERE w]`: whether running it again would delete nothing.
fn unmatched_delete(code: &Code<'_>) -> Option<String> {
    let text = |from: usize, to: usize| -> String {
        let span = code.span(from, to.saturating_sub(1));
        code.source()[span].to_owned()
    };
    if code
        .find_at_depth(2..code.len(), 0, &["returning"])
        .is_some()
    {
        return None;
    }
    let start = 2 + usize::from(code.is(2, "only"));
    let filter = code.find_at_depth(start..code.len(), 0, &["where"]);
    let using = code.find_at_depth(start..filter.unwrap_or(code.len()), 0, &["using"]);
    let target_end = using.or(filter).unwrap_or(code.len());
    if target_end <= start {
        return None;
    }
    let sources = using
        .map(|u| format!(", {}", text(u + 1, filter.unwrap_or(code.len()))))
        .unwrap_or_default();
    let condition = filter.map_or("true".to_owned(), |w| text(w + 1, code.len()));
    Some(format!(
        "SELECT NOT EXISTS (SELECT 1 FROM {}{sources} WHERE {condition})",
        text(start, target_end)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inserted_rows_are_asked_for_and_updates_judged() {
        assert_eq!(
            inserted_row(&Code::of(
                "INSERT INTO plans (code, price, note) VALUES ('free', 0, now()), ('pro', 10, now())"
            )),
            Some(Inserted {
                table: "plans".into(),
                query: "SELECT EXISTS (SELECT 1 FROM plans WHERE code = 'free' AND price = 0)"
                    .into()
            })
        );
        assert_eq!(
            inserted_row(&Code::of("INSERT INTO t SELECT * FROM u")),
            None
        );
        assert_eq!(
            unchanged(&Code::of(
                "UPDATE accounts SET plan = 'starter' WHERE plan IN ('basic', 'pro')"
            ))
            .as_deref(),
            Some(
                "SELECT NOT EXISTS (SELECT 1 FROM accounts WHERE (plan IN ('basic', 'pro')) AND (accounts.plan IS DISTINCT FROM 'starter'))"
            )
        );
        assert_eq!(
            unchanged(&Code::of(
                "UPDATE users u SET username = left(u.username, 50) || '_' || u.id FROM d WHERE u.username = d.username"
            ))
            .as_deref(),
            Some("SELECT NOT EXISTS (SELECT 1 FROM users u, d WHERE (u.username = d.username))")
        );
        assert_eq!(
            unchanged(&Code::of("UPDATE t SET n = n + 1")).as_deref(),
            Some("SELECT NOT EXISTS (SELECT 1 FROM t WHERE true)")
        );
        assert_eq!(unchanged(&Code::of("UPDATE t SET n = 1 RETURNING n")), None);
        assert_eq!(
            unmatched_delete(&Code::of("DELETE FROM ONLY t USING u WHERE t.id = u.id")).as_deref(),
            Some("SELECT NOT EXISTS (SELECT 1 FROM t, u WHERE t.id = u.id)")
        );
    }
}
