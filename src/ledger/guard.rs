//! sqlrail's own tables are out of the migrations' reach: a migration that creates, drops,
//! renames, alters or writes the ledger, the lease or the phase state (or drops their schema) is
//! refused by `apply` and reported by `lint`. On a real history, `DROP TABLE IF EXISTS
//! schema_migrations;` (a table of the tool used before) dropped sqlrail's ledger inside
//! the migration's own transaction.

use crate::sql::code::Code;
use crate::sql::effects::{Effect, Name, Object, of_code};
use crate::sql::{StatementKind, split};

/// Where sqlrail keeps its tables.
#[derive(Debug, Clone)]
pub struct Ours<'a> {
    pub schema: &'a str,
    pub ledger_table: &'a str,
}

/// A statement that reaches into sqlrail's tables: its line and what it does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Touch {
    pub line: u32,
    /// The statement's bytes in the file.
    pub span: std::ops::Range<usize>,
    pub what: String,
}

impl Ours<'_> {
    /// Whether `name` (as a statement writes it) is one of sqlrail's tables. An unqualified
    /// name resolves through the default search path, to `public`.
    fn table(&self, name: &Name) -> bool {
        let schema = name.schema.as_deref().unwrap_or("public");
        schema == self.schema
            && (name.name == self.ledger_table || name.name.starts_with("sqlrail_"))
    }

    fn object(&self, object: &Object) -> bool {
        match object {
            Object::Relation(n) => self.table(n),
            Object::Schema(s) => s == self.schema && self.schema != "public",
            other => other.parent().is_some_and(|t| self.table(t)),
        }
    }

    /// The statements of `sql` that touch sqlrail's tables.
    pub fn touches(&self, sql: &str) -> Vec<Touch> {
        let Ok(file) = split(sql) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for s in &file.statements {
            let code = Code::lex(sql, s.start..s.end);
            let effect = of_code(&code).into_iter().find_map(|e| {
                let (verb, object) = match &e {
                    Effect::Drop { object } => ("drops", object),
                    Effect::Rename { from, .. } => ("renames", from),
                    Effect::Alter(object) => ("alters", object),
                    Effect::Create { object, .. } if object.parent().is_some() => {
                        ("alters", object)
                    }
                    Effect::Create { object, .. } => ("creates", object),
                    _ => return None,
                };
                self.object(object)
                    .then(|| format!("{verb} {}", shown(object)))
            });
            let write = (s.kind == StatementKind::Dml)
                .then(|| {
                    s.writes
                        .iter()
                        .find(|w| Name::parse(w).is_some_and(|n| self.table(&n)))
                        .map(|w| format!("writes {w}"))
                })
                .flatten();
            if let Some(what) = effect.or(write) {
                out.push(Touch {
                    line: s.line,
                    span: s.start..s.end,
                    what,
                });
            }
        }
        out
    }
}

fn shown(object: &Object) -> String {
    match object {
        Object::Relation(n) => format!("table {n}"),
        Object::Schema(s) => format!("schema {s}"),
        other => other
            .parent()
            .map_or_else(|| format!("{other:?}"), |t| format!("table {t}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_that_reach_sqlrails_tables() {
        let public = Ours {
            schema: "public",
            ledger_table: "schema_migrations",
        };
        let own = Ours {
            schema: "sqlrail",
            ledger_table: "schema_migrations",
        };
        let sql = "DROP TABLE IF EXISTS schema_migrations;\nDELETE FROM sqlrail.sqlrail_lock;\nALTER TABLE sqlrail.schema_migrations ADD COLUMN x int;\nDROP SCHEMA sqlrail CASCADE;\nCREATE TABLE schema_migrations_v2 (a int);";
        let whats = |ours: &Ours<'_>| -> Vec<String> {
            ours.touches(sql)
                .into_iter()
                .map(|t| format!("{}: {}", t.line, t.what))
                .collect()
        };
        assert_eq!(whats(&public), ["1: drops table schema_migrations"]);
        assert_eq!(
            whats(&own),
            [
                "2: writes sqlrail.sqlrail_lock",
                "3: alters table sqlrail.schema_migrations",
                "4: drops schema sqlrail"
            ]
        );
    }
}
