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
    /// Every check holds.
    All(Vec<Fingerprint>),
    /// At least one check holds.
    Any(Vec<Fingerprint>),
    /// A query whose first row's first column is a boolean (no row: false): `sql: "SELECT count(*) = 3 FROM email_templates"`.
    Sql(String),
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
        assert!(
            Fingerprint::Any(vec![Fingerprint::Trigger("t".into())])
                .validate()
                .is_err()
        );
    }
}
