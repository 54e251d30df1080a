//! A fingerprint proposed for a DDL file from what it creates, so that `manifest sync`
//! and `init` can write one: a database that already has the change (made by hand, or by
//! the tool used before sqlrail) is then reconciled instead of failing with "already
//! exists". Only objects whose existence proves the change are used: created tables,
//! named indexes, types, views and functions.

use crate::sql::code::{Code, created_table, index_statement};
use crate::sql::split;

/// The fingerprint in manifest flow syntax (`{ table: leads }`,
/// `{ all: [ { table: a }, { index: b } ] }`), or `None` when the file creates nothing
/// it can name.
pub fn propose(sql: &str) -> Option<String> {
    let file = split(sql).ok()?;
    let mut checks: Vec<String> = Vec::new();
    for statement in &file.statements {
        let text = statement.text(sql);
        let code = Code::of(text);
        let check = if let Some(table) = created_table(&code) {
            Some(format!("table: {table}"))
        } else if let Some(index) = index_statement(&code) {
            index.name.map(|name| format!("index: {name}"))
        } else {
            created_object(&code)
        };
        if let Some(check) = check.filter(|c| !checks.contains(c)) {
            checks.push(check);
        }
    }
    match checks.as_slice() {
        [] => None,
        [one] => Some(format!("{{ {one} }}")),
        all => Some(format!(
            "{{ all: [ {} ] }}",
            all.iter()
                .map(|c| format!("{{ {c} }}"))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// `CREATE [OR REPLACE] TYPE | VIEW | MATERIALIZED VIEW | FUNCTION | PROCEDURE name`.
fn created_object(code: &Code<'_>) -> Option<String> {
    if !code.is(0, "create") {
        return None;
    }
    let mut i = 1;
    if code.at(i, &["or", "replace"]) {
        i += 2;
    }
    let kind = if code.is(i, "type") {
        "type"
    } else if code.is(i, "view") {
        "view"
    } else if code.at(i, &["materialized", "view"]) {
        i += 1;
        "view"
    } else if code.is(i, "function") || code.is(i, "procedure") {
        "function"
    } else {
        return None;
    };
    i += 1;
    if code.at(i, &["if", "not", "exists"]) {
        i += 3;
    }
    code.name(i).map(|(name, _)| format!("{kind}: {name}"))
}

#[cfg(test)]
mod tests {
    use super::propose;

    #[test]
    fn proposes_what_the_file_creates() {
        assert_eq!(
            propose("CREATE TABLE IF NOT EXISTS crm.leads (id int);").as_deref(),
            Some("{ table: crm.leads }")
        );
        assert_eq!(
            propose(
                "CREATE TYPE dir AS ENUM ('in');\nCREATE TABLE calls (d dir);\nCREATE INDEX idx_calls_d ON calls (d);\nCREATE OR REPLACE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;\nCREATE MATERIALIZED VIEW mv AS SELECT 1;"
            )
            .as_deref(),
            Some(
                "{ all: [ { type: dir }, { table: calls }, { index: idx_calls_d }, { function: f }, { view: mv } ] }"
            )
        );
        assert_eq!(propose("ALTER TABLE leads ADD COLUMN x int;"), None);
        assert_eq!(propose("CREATE INDEX ON leads (x);"), None);
    }
}
