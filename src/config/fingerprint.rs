//! Fingerprints: catalog checks that prove a migration's change is already in a database
//! whose ledger does not record it (`design.md` §6). This module holds their shape and
//! validation; evaluating them against a server is the database layer's job.

use serde::{Deserialize, Serialize};

/// One check. Names may be schema-qualified; they are passed to catalog queries as
/// parameters, never spliced into SQL.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
pub enum Fingerprint {
    /// A table (or partitioned table) exists: `table: leads`, `table: crm.leads`.
    Table(String),
    /// A column exists on a table or view: `column: leads.phone_whatsapp`.
    Column(String),
    /// An index exists and is valid: `index: idx_leads_tenant_created`.
    Index(String),
    /// A constraint exists on a table: `constraint: leads.fk_leads_business`.
    Constraint(String),
    /// A type exists (enum, domain, composite): `type: call_direction`.
    Type(String),
    /// A function or procedure of that name exists: `function: normalize_phone`.
    Function(String),
    /// A view or materialized view exists: `view: lead_overview`.
    View(String),
    /// A trigger exists on a table: `trigger: leads.trg_leads_updated_at`.
    Trigger(String),
    /// A sequence exists: `sequence: invoice_numbers`.
    Sequence(String),
    /// A schema exists: `schema: billing`.
    Schema(String),
    /// An extension is installed: `extension: pgcrypto`.
    Extension(String),
    /// An enum type has a value: `enum_value: call_direction.internal` (the value is what
    /// follows the last `.`; a value holding a `.` needs a `sql:` check).
    #[serde(rename = "enum_value")]
    EnumValue(String),
    /// An index exists, is valid, and is defined so: `index_def: { name: users_email_idx,
    /// unique: true, partial: false, columns: [account_id, email] }` (columns only when
    /// each key is a plain column). Tells an index re-created under its old name from the
    /// old one.
    #[serde(rename = "index_def")]
    IndexDef(IndexDef),
    /// The check does not hold: `not: { column: leads.legacy_phone }` proves a drop.
    Not(Box<Fingerprint>),
    /// Every check holds.
    All(Vec<Fingerprint>),
    /// At least one check holds.
    Any(Vec<Fingerprint>),
    /// A query whose first row's first column is a boolean (no row: false): `sql: "SELECT count(*) = 3 FROM email_templates"`.
    Sql(String),
}

/// An index's name and the parts of its definition an `index_def:` check compares.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct IndexDef {
    pub name: String,
    pub unique: bool,
    pub partial: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub columns: Option<Vec<String>>,
}

impl Fingerprint {
    /// Checks the shape of every name: the number of dot-separated parts each kind takes
    /// and that no part is empty. Returns a message saying what is expected.
    pub fn validate(&self) -> Result<(), String> {
        let parts = |kind: &str, name: &str, min: usize, max: usize, example: &str| {
            let count = name.split('.').count();
            if name.split('.').any(|p| p.trim().is_empty()) || count < min || count > max {
                Err(format!(
                    "fingerprint `{kind}: {name}` is malformed: expected {example}"
                ))
            } else {
                Ok(())
            }
        };
        match self {
            Fingerprint::Table(n) => parts("table", n, 1, 2, "`table` or `schema.table`"),
            Fingerprint::Index(n) => parts("index", n, 1, 2, "`index` or `schema.index`"),
            Fingerprint::Type(n) => parts("type", n, 1, 2, "`type` or `schema.type`"),
            Fingerprint::Function(n) => {
                parts("function", n, 1, 2, "`function` or `schema.function`")
            }
            Fingerprint::View(n) => parts("view", n, 1, 2, "`view` or `schema.view`"),
            Fingerprint::Column(n) => {
                parts("column", n, 2, 3, "`table.column` or `schema.table.column`")
            }
            Fingerprint::Constraint(n) => parts(
                "constraint",
                n,
                2,
                3,
                "`table.constraint` or `schema.table.constraint`",
            ),
            Fingerprint::Trigger(n) => parts(
                "trigger",
                n,
                2,
                3,
                "`table.trigger` or `schema.table.trigger`",
            ),
            Fingerprint::Sequence(n) => {
                parts("sequence", n, 1, 2, "`sequence` or `schema.sequence`")
            }
            Fingerprint::Schema(n) => parts("schema", n, 1, 1, "a schema name"),
            Fingerprint::Extension(n) => parts("extension", n, 1, 1, "an extension name"),
            Fingerprint::EnumValue(n) => {
                parts("enum_value", n, 2, 3, "`type.value` or `schema.type.value`")
            }
            Fingerprint::IndexDef(d) => {
                parts("index_def", &d.name, 1, 2, "`index` or `schema.index`")
            }
            Fingerprint::Not(inner) => inner.validate(),
            Fingerprint::All(list) | Fingerprint::Any(list) if list.is_empty() => {
                Err("fingerprint `all:`/`any:` needs at least one check".to_owned())
            }
            Fingerprint::All(list) | Fingerprint::Any(list) => {
                list.iter().try_for_each(Fingerprint::validate)
            }
            Fingerprint::Sql(q) if q.trim().is_empty() => {
                Err("fingerprint `sql:` needs a query returning one boolean".to_owned())
            }
            Fingerprint::Sql(_) => Ok(()),
        }
    }
}

impl std::fmt::Display for Fingerprint {
    /// The check in manifest flow syntax: `{ table: leads }`, `{ all: [ { table: a }, { not: { column: a.b } } ] }`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (kind, name) = match self {
            Fingerprint::Table(n) => ("table", n),
            Fingerprint::Column(n) => ("column", n),
            Fingerprint::Index(n) => ("index", n),
            Fingerprint::Constraint(n) => ("constraint", n),
            Fingerprint::Type(n) => ("type", n),
            Fingerprint::Function(n) => ("function", n),
            Fingerprint::View(n) => ("view", n),
            Fingerprint::Trigger(n) => ("trigger", n),
            Fingerprint::Sequence(n) => ("sequence", n),
            Fingerprint::Schema(n) => ("schema", n),
            Fingerprint::Extension(n) => ("extension", n),
            Fingerprint::EnumValue(n) => ("enum_value", n),
            Fingerprint::Sql(q) => return write!(f, "{{ sql: {} }}", yaml_scalar(q)),
            Fingerprint::Not(inner) => return write!(f, "{{ not: {inner} }}"),
            Fingerprint::IndexDef(d) => {
                let columns = d.columns.as_ref().map_or(String::new(), |c| {
                    let names: Vec<String> = c.iter().map(|n| yaml_scalar(n)).collect();
                    format!(", columns: [ {} ]", names.join(", "))
                });
                return write!(
                    f,
                    "{{ index_def: {{ name: {}, unique: {}, partial: {}{columns} }} }}",
                    yaml_scalar(&d.name),
                    d.unique,
                    d.partial
                );
            }
            Fingerprint::All(list) | Fingerprint::Any(list) => {
                let kind = if matches!(self, Fingerprint::All(_)) {
                    "all"
                } else {
                    "any"
                };
                let items: Vec<String> = list.iter().map(|c| c.to_string()).collect();
                return write!(f, "{{ {kind}: [ {} ] }}", items.join(", "));
            }
        };
        write!(f, "{{ {kind}: {} }}", yaml_scalar(name))
    }
}

impl std::str::FromStr for Fingerprint {
    type Err = String;

    /// A check written as in the manifest: `{ column: leads.email }`.
    fn from_str(text: &str) -> Result<Fingerprint, String> {
        super::yaml::parse(std::path::Path::new("fingerprint"), text).map_err(|e| e.to_string())
    }
}

/// `text` as a YAML flow scalar: plain where YAML reads it back unchanged, else quoted.
pub fn yaml_scalar(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '$'))
        && !text.starts_with(|c: char| c.is_ascii_digit())
        && !matches!(
            text.to_ascii_lowercase().as_str(),
            "true" | "false" | "yes" | "no" | "on" | "off" | "null" | "y" | "n"
        );
    if plain {
        text.to_owned()
    } else {
        serde_json::to_string(text).expect("a string serialises")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_need_the_right_number_of_parts() {
        assert!(Fingerprint::Column("leads.phone".into()).validate().is_ok());
        assert!(
            Fingerprint::Column("public.leads.phone".into())
                .validate()
                .is_ok()
        );
        let err = Fingerprint::Column("phone".into()).validate().unwrap_err();
        assert_eq!(
            err,
            "fingerprint `column: phone` is malformed: expected `table.column` or `schema.table.column`"
        );
        assert!(Fingerprint::Table("a..b".into()).validate().is_err());
        assert!(Fingerprint::All(vec![]).validate().is_err());
        assert!(Fingerprint::EnumValue("dir.in".into()).validate().is_ok());
        assert!(Fingerprint::Schema("a.b".into()).validate().is_err());
        assert!(
            Fingerprint::Any(vec![Fingerprint::Trigger("t".into())])
                .validate()
                .is_err()
        );
    }

    #[test]
    fn flow_syntax_reads_back_as_the_same_check() {
        let checks = [
            "{ table: leads }",
            "{ all: [ { column: crm.leads.email }, { not: { index: \"Odd Name\" } } ] }",
            "{ sql: \"SELECT count(*) = 3 FROM t\" }",
            "{ enum_value: dir.in }",
            "{ table: \"true\" }",
            "{ index_def: { name: s.i, unique: true, partial: false, columns: [ a, b ] } }",
        ];
        for text in checks {
            let parsed: Fingerprint = text.parse().unwrap();
            assert_eq!(parsed.to_string(), text);
        }
    }
}
