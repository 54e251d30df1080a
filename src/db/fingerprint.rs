//! Evaluates fingerprints against a database's catalogs. Names travel as query parameters;
//! only constants of this file are ever part of the SQL text.
//!
//! However many fingerprints there are, their catalog checks are one query: each check is
//! a row of `unnest(…)` over arrays of kinds and names, and a `CASE` on the kind looks the
//! row's object up. (A column per check, as before, stopped at PostgreSQL's limit of 1,664
//! target-list entries: a 2,000-migration project could not be applied to a fresh
//! database.) `all:`, `any:` and `not:` are combined here from the rows' answers; `sql:`
//! checks are the project's own queries and run one by one.

use postgres::types::Type;
use postgres::{Client, GenericClient};

use crate::config::Fingerprint;
use crate::sql::names::fold_part as fold;

/// A name from the manifest, folded as PostgreSQL folds identifiers: unquoted parts are
/// lower-cased, `"Quoted"` parts kept as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Qualified {
    /// `None`: the object is looked up in `current_schema()`.
    pub schema: Option<String>,
    pub parent: Option<String>,
    pub name: String,
}

impl Qualified {
    /// `[schema.]name`.
    pub fn object(text: &str) -> Qualified {
        let mut parts: Vec<String> = text.split('.').map(fold).collect();
        let name = parts.pop().unwrap_or_default();
        Qualified {
            schema: parts.pop(),
            parent: None,
            name,
        }
    }

    /// `[schema.]table.member` (a column, constraint or trigger; an enum's value).
    pub fn member(text: &str) -> Qualified {
        let mut parts: Vec<String> = text.split('.').map(fold).collect();
        let name = parts.pop().unwrap_or_default();
        let parent = parts.pop();
        Qualified {
            schema: parts.pop(),
            parent,
            name,
        }
    }
}

/// What an `index_def:` check compares besides the name: unique, partial, key columns
/// (joined with `,`).
type Shape = (bool, bool, Option<String>);

/// A catalog check: its kind (one of the `CASE` arms below), its name, and for
/// `index_def:` the definition's shape.
fn leaf(fingerprint: &Fingerprint) -> Option<(&'static str, Qualified, Option<Shape>)> {
    if let Fingerprint::IndexDef(d) = fingerprint {
        let shape = (d.unique, d.partial, d.columns.as_ref().map(|c| c.join(",")));
        return Some(("index_def", Qualified::object(&d.name), Some(shape)));
    }
    let (kind, name) = match fingerprint {
        Fingerprint::Table(n) => ("table", Qualified::object(n)),
        Fingerprint::View(n) => ("view", Qualified::object(n)),
        Fingerprint::Index(n) => ("index", Qualified::object(n)),
        Fingerprint::Sequence(n) => ("sequence", Qualified::object(n)),
        Fingerprint::Type(n) => ("type", Qualified::object(n)),
        Fingerprint::Function(n) => ("function", Qualified::object(n)),
        Fingerprint::Schema(n) => ("schema", Qualified::object(n)),
        Fingerprint::Extension(n) => ("extension", Qualified::object(n)),
        Fingerprint::Column(n) => ("column", Qualified::member(n)),
        Fingerprint::Constraint(n) => ("constraint", Qualified::member(n)),
        Fingerprint::Trigger(n) => ("trigger", Qualified::member(n)),
        Fingerprint::EnumValue(n) => ("enum_value", Qualified::member(n)),
        Fingerprint::All(_)
        | Fingerprint::Any(_)
        | Fingerprint::Not(_)
        | Fingerprint::Sql(_)
        | Fingerprint::IndexDef(_) => {
            return None;
        }
    };
    Some((kind, name, None))
}

/// The relation `k.parent` (a member's table) or `k.name`, in `k.schema`, or for an
/// unqualified name in the schema unqualified `CREATE`s make objects in
/// (`current_schema()`): the history reads unqualified names so too, and a name that is
/// merely visible (`now` in `pg_catalog`, a table of another schema on the search path)
/// is not the object the migration made.
const RELATION: &str = "SELECT c.oid, c.relkind FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
     WHERE c.relname = coalesce(k.parent, k.name) \
     AND n.nspname = coalesce(k.schema, pg_catalog.current_schema())";

/// One row per check: its number and whether it holds.
fn catalog_query() -> String {
    let relation = |kinds: &str| format!("EXISTS ({RELATION} AND c.relkind IN ({kinds}))");
    let member = |kinds: &str, tail: &str| {
        format!("EXISTS (SELECT 1 FROM ({RELATION} AND c.relkind IN ({kinds})) r {tail})")
    };
    let in_schema = |catalog: &str, name: &str, namespace: &str| {
        format!(
            "EXISTS (SELECT 1 FROM pg_catalog.{catalog} o JOIN pg_catalog.pg_namespace n ON n.oid = o.{namespace} \
             WHERE o.{name} = k.name AND n.nspname = coalesce(k.schema, pg_catalog.current_schema()))"
        )
    };
    format!(
        "SELECT k.i, CASE k.kind \
         WHEN 'table' THEN {table} \
         WHEN 'view' THEN {view} \
         WHEN 'sequence' THEN {sequence} \
         WHEN 'index' THEN EXISTS ({RELATION} AND c.relkind IN ('i', 'I') AND EXISTS (SELECT 1 FROM pg_catalog.pg_index x WHERE x.indexrelid = c.oid AND x.indisvalid)) \
         WHEN 'index_def' THEN EXISTS ({RELATION} AND c.relkind IN ('i', 'I') AND EXISTS (SELECT 1 FROM pg_catalog.pg_index x \
              WHERE x.indexrelid = c.oid AND x.indisvalid AND x.indisunique = k.is_unique AND (x.indpred IS NOT NULL) = k.is_partial \
              AND (k.columns IS NULL OR k.columns = (SELECT string_agg(coalesce(a.attname, ''), ',' ORDER BY o.n) \
                FROM unnest(x.indkey::int2[]) WITH ORDINALITY o(attnum, n) \
                LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = o.attnum WHERE o.n <= x.indnkeyatts)))) \
         WHEN 'column' THEN {column} \
         WHEN 'constraint' THEN {constraint} \
         WHEN 'trigger' THEN {trigger} \
         WHEN 'type' THEN {type_} \
         WHEN 'function' THEN {function} \
         WHEN 'schema' THEN EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = k.name) \
         WHEN 'extension' THEN EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = k.name) \
         WHEN 'enum_value' THEN EXISTS (SELECT 1 FROM pg_catalog.pg_enum e JOIN pg_catalog.pg_type t ON t.oid = e.enumtypid \
              JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace WHERE t.typname = k.parent AND e.enumlabel = k.name \
              AND n.nspname = coalesce(k.schema, pg_catalog.current_schema())) \
         END \
         FROM unnest($1::int4[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bool[], $7::bool[], $8::text[]) \
           AS k(i, kind, schema, parent, name, is_unique, is_partial, columns)",
        table = relation("'r', 'p', 'f'"),
        view = relation("'v', 'm'"),
        sequence = relation("'S'"),
        column = member(
            "'r', 'p', 'f', 'v', 'm'",
            "JOIN pg_catalog.pg_attribute a ON a.attrelid = r.oid WHERE a.attname = k.name AND a.attnum > 0 AND NOT a.attisdropped"
        ),
        constraint = member(
            "'r', 'p', 'f'",
            "JOIN pg_catalog.pg_constraint x ON x.conrelid = r.oid WHERE x.conname = k.name"
        ),
        trigger = member(
            "'r', 'p', 'f', 'v'",
            "JOIN pg_catalog.pg_trigger t ON t.tgrelid = r.oid WHERE t.tgname = k.name AND NOT t.tgisinternal"
        ),
        type_ = in_schema("pg_type", "typname", "typnamespace"),
        function = in_schema("pg_proc", "proname", "pronamespace"),
    )
}

/// Checks per round trip: the arrays of 20,000 names are a few hundred KiB, well inside
/// what a server and a pooler take in one message.
const CHUNK: usize = 20_000;

/// Whether each of `fingerprints` holds in the database `client` is connected to: the
/// catalog checks in one query per 20,000, each `sql:` check in its own.
pub fn holds_all(
    client: &mut Client,
    fingerprints: &[&Fingerprint],
) -> Result<Vec<bool>, postgres::Error> {
    let mut leaves: Vec<(&'static str, Qualified, Option<Shape>)> = Vec::new();
    let mut sql: Vec<&str> = Vec::new();
    for f in fingerprints {
        collect(f, &mut leaves, &mut sql);
    }
    let mut leaf_answers = Vec::with_capacity(leaves.len());
    if !leaves.is_empty() {
        let query = catalog_query();
        for (n, chunk) in leaves.chunks(CHUNK).enumerate() {
            let numbers: Vec<i32> = (0..chunk.len() as i32).collect();
            let kinds: Vec<&str> = chunk.iter().map(|(k, ..)| *k).collect();
            let schemas: Vec<Option<&str>> =
                chunk.iter().map(|(_, q, _)| q.schema.as_deref()).collect();
            let parents: Vec<Option<&str>> =
                chunk.iter().map(|(_, q, _)| q.parent.as_deref()).collect();
            let names: Vec<&str> = chunk.iter().map(|(_, q, _)| q.name.as_str()).collect();
            let shape = |f: fn(&Shape) -> Option<bool>| -> Vec<Option<bool>> {
                chunk.iter().map(|(.., s)| s.as_ref().and_then(f)).collect()
            };
            let unique = shape(|s| Some(s.0));
            let partial = shape(|s| Some(s.1));
            let columns: Vec<Option<&str>> = chunk
                .iter()
                .map(|(.., s)| s.as_ref().and_then(|s| s.2.as_deref()))
                .collect();
            let rows = client.query_typed(
                query.as_str(),
                &[
                    (&numbers, Type::INT4_ARRAY),
                    (&kinds, Type::TEXT_ARRAY),
                    (&schemas, Type::TEXT_ARRAY),
                    (&parents, Type::TEXT_ARRAY),
                    (&names, Type::TEXT_ARRAY),
                    (&unique, Type::BOOL_ARRAY),
                    (&partial, Type::BOOL_ARRAY),
                    (&columns, Type::TEXT_ARRAY),
                ],
            )?;
            let mut answers = vec![false; chunk.len()];
            for row in rows {
                let i: i32 = row.try_get(0)?;
                answers[i as usize] = row.try_get::<_, Option<bool>>(1)?.unwrap_or(false);
            }
            debug_assert_eq!(leaf_answers.len(), n * CHUNK);
            leaf_answers.extend(answers);
        }
    }
    let mut sql_answers = Vec::with_capacity(sql.len());
    for query in sql {
        sql_answers.push(sql_check(client, query)?);
    }
    let (mut leaf_answers, mut sql_answers) = (leaf_answers.into_iter(), sql_answers.into_iter());
    Ok(fingerprints
        .iter()
        .map(|f| combine(f, &mut leaf_answers, &mut sql_answers))
        .collect())
}

/// The leaf checks and `sql:` queries of `fingerprint`, in the order `combine` reads them.
fn collect<'a>(
    fingerprint: &'a Fingerprint,
    leaves: &mut Vec<(&'static str, Qualified, Option<Shape>)>,
    sql: &mut Vec<&'a str>,
) {
    match fingerprint {
        Fingerprint::All(list) | Fingerprint::Any(list) => {
            list.iter().for_each(|f| collect(f, leaves, sql))
        }
        Fingerprint::Not(inner) => collect(inner, leaves, sql),
        Fingerprint::Sql(query) => sql.push(query),
        other => leaves.push(leaf(other).expect("every other kind is a catalog check")),
    }
}

/// `fingerprint`'s answer from the answers of its parts, taken in `collect`'s order. Every
/// part is consumed (no short cut), so the next fingerprint starts at its own answers.
fn combine(
    fingerprint: &Fingerprint,
    leaves: &mut impl Iterator<Item = bool>,
    sql: &mut impl Iterator<Item = bool>,
) -> bool {
    match fingerprint {
        Fingerprint::All(list) => list
            .iter()
            .map(|f| combine(f, leaves, sql))
            .fold(true, |a, b| a & b),
        Fingerprint::Any(list) => list
            .iter()
            .map(|f| combine(f, leaves, sql))
            .fold(false, |a, b| a | b),
        Fingerprint::Not(inner) => !combine(inner, leaves, sql),
        Fingerprint::Sql(_) => sql.next().unwrap_or(false),
        _ => leaves.next().unwrap_or(false),
    }
}

/// SQLSTATEs that mean a `sql:` fingerprint's objects do not exist yet: it does not hold.
const MISSING_OBJECT: &[&str] = &["42P01", "42703", "42883", "3F000", "42704"];

/// A `sql:` check holds when its first row's first column is true. No row, or NULL, means
/// it does not hold: `SELECT true FROM pg_constraint WHERE …` and `SELECT convalidated
/// FROM …` read naturally and return nothing while the object is missing. A column that
/// is not boolean is an error (the check is wrong, not false); an object it names that
/// does not exist yet makes it false.
fn sql_check(client: &mut impl GenericClient, query: &str) -> Result<bool, postgres::Error> {
    match client.query_typed(query, &[]) {
        Ok(rows) => match rows.first() {
            Some(row) => Ok(row.try_get::<_, Option<bool>>(0)?.unwrap_or(false)),
            None => Ok(false),
        },
        Err(e) if e.code().is_some_and(|c| MISSING_OBJECT.contains(&c.code())) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Whether `fingerprint` holds in the database `client` is connected to.
pub fn holds(client: &mut Client, fingerprint: &Fingerprint) -> Result<bool, postgres::Error> {
    Ok(holds_all(client, &[fingerprint])?[0])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_fold_like_postgres_identifiers() {
        assert_eq!(
            Qualified::object("Leads"),
            Qualified {
                schema: None,
                parent: None,
                name: "leads".into()
            }
        );
        assert_eq!(
            Qualified::member("CRM.\"Leads\".Phone"),
            Qualified {
                schema: Some("crm".into()),
                parent: Some("Leads".into()),
                name: "phone".into()
            }
        );
    }

    #[test]
    fn answers_combine_in_the_order_they_were_collected() {
        let f: Fingerprint =
            str::parse("{ all: [ { table: a }, { not: { any: [ { table: b }, { sql: \"SELECT true\" } ] } } ] }")
                .unwrap();
        let (mut leaves, mut sql) = (Vec::new(), Vec::new());
        collect(&f, &mut leaves, &mut sql);
        assert_eq!(leaves.len(), 2);
        assert_eq!(sql, ["SELECT true"]);
        let answer = |l: [bool; 2], s: bool| combine(&f, &mut l.into_iter(), &mut [s].into_iter());
        assert!(answer([true, false], false));
        assert!(!answer([true, true], false));
        assert!(!answer([true, false], true));
        assert!(!answer([false, false], false));
    }
}
