//! Evaluates fingerprints against a database's catalogs. Names travel as query parameters;
//! only constants of this file are ever part of the SQL text.

use postgres::{Client, GenericClient};

use crate::config::Fingerprint;
use crate::sql::names::fold_part as fold;

/// A name from the manifest, folded as PostgreSQL folds identifiers: unquoted parts are
/// lower-cased, `"Quoted"` parts kept as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Qualified {
    /// `None`: look the object up through the search path.
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

    /// `[schema.]table.member` (a column, constraint or trigger).
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

/// `$1` schema (NULL: visible through the search path), `$2` relation name.
const RELATION: &str = "SELECT c.oid FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
     WHERE c.relname = $2 AND CASE WHEN $1::text IS NULL THEN pg_catalog.pg_table_is_visible(c.oid) ELSE n.nspname = $1 END";

fn query(fingerprint: &Fingerprint) -> Option<(String, Qualified)> {
    let relation = |kinds: &str| format!("SELECT EXISTS ({RELATION} AND c.relkind IN ({kinds}))");
    let member = |kinds: &str, tail: &str| {
        format!("SELECT EXISTS (SELECT 1 FROM ({RELATION} AND c.relkind IN ({kinds})) r {tail})")
    };
    Some(match fingerprint {
        Fingerprint::Table(n) => (relation("'r', 'p', 'f'"), Qualified::object(n)),
        Fingerprint::View(n) => (relation("'v', 'm'"), Qualified::object(n)),
        Fingerprint::Index(n) => (
            format!("SELECT EXISTS ({RELATION} AND c.relkind IN ('i', 'I') AND EXISTS (SELECT 1 FROM pg_catalog.pg_index i WHERE i.indexrelid = c.oid AND i.indisvalid))"),
            Qualified::object(n),
        ),
        Fingerprint::Column(n) => (
            member("'r', 'p', 'f', 'v', 'm'", "JOIN pg_catalog.pg_attribute a ON a.attrelid = r.oid WHERE a.attname = $3 AND a.attnum > 0 AND NOT a.attisdropped"),
            Qualified::member(n),
        ),
        Fingerprint::Constraint(n) => (
            member("'r', 'p', 'f'", "JOIN pg_catalog.pg_constraint k ON k.conrelid = r.oid WHERE k.conname = $3"),
            Qualified::member(n),
        ),
        Fingerprint::Trigger(n) => (
            member("'r', 'p', 'f', 'v'", "JOIN pg_catalog.pg_trigger t ON t.tgrelid = r.oid WHERE t.tgname = $3 AND NOT t.tgisinternal"),
            Qualified::member(n),
        ),
        Fingerprint::Type(n) => (
            "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace \
             WHERE t.typname = $2 AND CASE WHEN $1::text IS NULL THEN pg_catalog.pg_type_is_visible(t.oid) ELSE n.nspname = $1 END)"
                .to_owned(),
            Qualified::object(n),
        ),
        Fingerprint::Function(n) => (
            "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace \
             WHERE p.proname = $2 AND CASE WHEN $1::text IS NULL THEN pg_catalog.pg_function_is_visible(p.oid) ELSE n.nspname = $1 END)"
                .to_owned(),
            Qualified::object(n),
        ),
        Fingerprint::All(_) | Fingerprint::Any(_) | Fingerprint::Sql(_) => return None,
    })
}

/// Whether `fingerprint` holds in the database `client` is connected to.
pub fn holds(
    client: &mut impl GenericClient,
    fingerprint: &Fingerprint,
) -> Result<bool, postgres::Error> {
    match fingerprint {
        Fingerprint::All(list) => {
            for f in list {
                if !holds(client, f)? {
                    return Ok(false);
                }
            }
            Ok(true)
        }
        Fingerprint::Any(list) => {
            for f in list {
                if holds(client, f)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        // The project's own query, trusted like its migrations.
        Fingerprint::Sql(sql) => sql_check_holds(&client.query(sql.as_str(), &[])?),
        _ => {
            let (sql, name) = query(fingerprint).expect("every other kind has a catalog query");
            let row = if name.parent.is_some() {
                client.query_one(sql.as_str(), &[&name.schema, &name.parent, &name.name])?
            } else {
                client.query_one(sql.as_str(), &[&name.schema, &name.name])?
            };
            row.try_get(0)
        }
    }
}

/// A `sql:` check holds when its first row's first column is true. No row, or NULL, means
/// it does not hold: `SELECT true FROM pg_constraint WHERE …` and `SELECT convalidated
/// FROM …` read naturally and return nothing while the object is missing. A column that
/// is not boolean is an error (the check is wrong, not false).
fn sql_check_holds(rows: &[postgres::Row]) -> Result<bool, postgres::Error> {
    match rows.first() {
        Some(row) => Ok(row.try_get::<_, Option<bool>>(0)?.unwrap_or(false)),
        None => Ok(false),
    }
}

/// SQLSTATEs that mean a `sql:` fingerprint's objects do not exist yet: it does not hold.
const MISSING_OBJECT: &[&str] = &["42P01", "42703", "42883", "3F000", "42704"];

/// Evaluates many fingerprints in one round trip (plus one per `sql:` check): every catalog
/// check becomes an `EXISTS` subquery of one `SELECT`, with names as parameters.
pub fn holds_all(
    client: &mut Client,
    fingerprints: &[&Fingerprint],
) -> Result<Vec<bool>, postgres::Error> {
    if fingerprints.is_empty() {
        return Ok(Vec::new());
    }
    let mut params: Vec<Option<String>> = Vec::new();
    let mut columns = Vec::with_capacity(fingerprints.len());
    for f in fingerprints {
        columns.push(expression(client, f, &mut params)?);
    }
    let sql = format!("SELECT {}", columns.join(", "));
    // Typed parameters: an unnamed statement, one round trip, fine through a pooler.
    let typed: Vec<(&(dyn postgres::types::ToSql + Sync), postgres::types::Type)> = params
        .iter()
        .map(|p| {
            (
                p as &(dyn postgres::types::ToSql + Sync),
                postgres::types::Type::TEXT,
            )
        })
        .collect();
    let row = client.query_typed_one(sql.as_str(), &typed)?;
    (0..fingerprints.len()).map(|i| row.try_get(i)).collect()
}

/// `fingerprint` as a boolean SQL expression; `sql:` checks are run here and inlined as
/// constants (a missing table makes them false, not an error).
fn expression(
    client: &mut Client,
    fingerprint: &Fingerprint,
    params: &mut Vec<Option<String>>,
) -> Result<String, postgres::Error> {
    Ok(match fingerprint {
        Fingerprint::All(list) | Fingerprint::Any(list) => {
            let op = if matches!(fingerprint, Fingerprint::All(_)) {
                " AND "
            } else {
                " OR "
            };
            let parts = list
                .iter()
                .map(|f| expression(client, f, params))
                .collect::<Result<Vec<_>, _>>()?;
            format!("({})", parts.join(op))
        }
        Fingerprint::Sql(sql) => {
            // Inside a savepoint-free single statement: an error aborts only this query.
            let holds = match client.query_typed(sql.as_str(), &[]) {
                Ok(rows) => sql_check_holds(&rows)?,
                Err(e) if e.code().is_some_and(|c| MISSING_OBJECT.contains(&c.code())) => false,
                Err(e) => return Err(e),
            };
            holds.to_string()
        }
        _ => {
            let (sql, name) = query(fingerprint).expect("every other kind has a catalog query");
            let mut numbered = sql;
            let mut values = vec![name.schema.clone()];
            match &name.parent {
                Some(parent) => values.extend([Some(parent.clone()), Some(name.name.clone())]),
                None => values.push(Some(name.name.clone())),
            }
            // Renumber `$3`, `$2`, `$1` (highest first, so `$1` never eats `$10`).
            for (i, _) in values.iter().enumerate().rev() {
                numbered = numbered.replace(
                    &format!("${}", i + 1),
                    &format!("$#{}", params.len() + i + 1),
                );
            }
            params.extend(values);
            format!("({})", numbered.replace("$#", "$"))
        }
    })
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
}
