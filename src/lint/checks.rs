//! Validated CHECK constraints across files, for the findings that a constraint proven
//! earlier makes safe: `SET NOT NULL` skips its scan when a validated `CHECK (col IS NOT
//! NULL)` proves it, and `ATTACH PARTITION` when a validated check on the partition does.
//! The safe recipe puts `ADD … NOT VALID` and `VALIDATE CONSTRAINT` in different DDL
//! migrations (each file is one transaction, so a VALIDATE in the file that added the
//! constraint would scan under the ADD's lock), so the proof is usually in an earlier
//! file: a rule reports such a finding with the `Evidence` that withdraws it, and
//! `finish_in_order` judges it once every earlier file's checks are known.

use std::collections::HashMap;
use std::ops::Range;

use crate::sql::TokenKind;
use crate::sql::code::{Code, alter_table};
use crate::sql::names::{same_relation, split_schema};

use super::alter_action::{ConstraintKind, added_constraint};
use super::context::FileContext;

/// What would make a finding wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Evidence {
    /// A validated `CHECK (column IS NOT NULL)` on the table.
    NotNullCheck { table: String, column: String },
    /// Any validated CHECK constraint on the table.
    ValidatedCheck { table: String },
}

/// A statement's effect on the table's CHECK constraints.
#[derive(Debug, Clone)]
pub enum CheckEvent {
    Added {
        table: String,
        /// `None`: named by PostgreSQL.
        name: Option<String>,
        /// The columns it proves NOT NULL (`CHECK (a IS NOT NULL AND b IS NOT NULL)`).
        not_null: Vec<String>,
        /// Added without `NOT VALID`: every row was checked.
        valid: bool,
    },
    Validated {
        table: String,
        name: String,
    },
}

/// The CHECK constraints of the migrations seen so far, in order, by the table's name
/// without its schema: a tree of thousands of files records thousands of checks, and each
/// question (and each `VALIDATE`) concerns one table, so it reads one bucket rather than
/// every check (which made the project's lint quadratic in its `ALTER TABLE`s).
#[derive(Debug, Clone, Default)]
pub struct KnownChecks {
    by_table: HashMap<String, Vec<Known>>,
}

#[derive(Debug, Clone)]
struct Known {
    table: String,
    name: Option<String>,
    not_null: Vec<String>,
    valid: bool,
    /// Validated by a migration whose `ADD` no linted file holds (made before the
    /// project's history, or a file linted alone): what it proves is unknown, and it is
    /// given the benefit of the doubt rather than reported on every lint of one file.
    unseen: bool,
}

/// The bucket of `table`: `same_relation` only matches names whose last parts agree.
fn bucket_key(table: &str) -> &str {
    split_schema(table).1
}

impl Evidence {
    fn table(&self) -> &str {
        match self {
            Evidence::NotNullCheck { table, .. } | Evidence::ValidatedCheck { table } => table,
        }
    }
}

impl KnownChecks {
    pub fn record<'e>(&mut self, events: impl IntoIterator<Item = &'e CheckEvent>) {
        for event in events {
            match event {
                CheckEvent::Added {
                    table,
                    name,
                    not_null,
                    valid,
                } => self.bucket(table).push(Known {
                    table: table.clone(),
                    name: name.clone(),
                    not_null: not_null.clone(),
                    valid: *valid,
                    unseen: false,
                }),
                CheckEvent::Validated { table, name } => {
                    let bucket = self.bucket(table);
                    let mut seen = false;
                    for known in bucket.iter_mut() {
                        if known.name.as_deref() == Some(name.as_str())
                            && same_relation(&known.table, table)
                        {
                            known.valid = true;
                            seen = true;
                        }
                    }
                    if !seen {
                        bucket.push(Known {
                            table: table.clone(),
                            name: Some(name.clone()),
                            not_null: Vec::new(),
                            valid: true,
                            unseen: true,
                        });
                    }
                }
            }
        }
    }

    fn bucket(&mut self, table: &str) -> &mut Vec<Known> {
        self.by_table
            .entry(bucket_key(table).to_owned())
            .or_default()
    }

    pub fn proves(&self, evidence: &Evidence) -> bool {
        let Some(bucket) = self.by_table.get(bucket_key(evidence.table())) else {
            return false;
        };
        bucket.iter().any(|known| {
            known.valid
                && match evidence {
                    Evidence::NotNullCheck { table, column } => {
                        same_relation(&known.table, table)
                            && (known.unseen || known.not_null.contains(column))
                    }
                    Evidence::ValidatedCheck { table } => same_relation(&known.table, table),
                }
        })
    }

    /// The checks that could bear on `evidence` (its table's bucket), to be extended with
    /// a file's own checks without copying every other table's.
    pub fn relevant_to(&self, evidence: &Evidence) -> KnownChecks {
        let key = bucket_key(evidence.table());
        let mut relevant = KnownChecks::default();
        if let Some(bucket) = self.by_table.get(key) {
            relevant.by_table.insert(key.to_owned(), bucket.clone());
        }
        relevant
    }
}

/// The CHECK events of a file's `ALTER TABLE` statements, each with its statement.
pub fn events(file: &FileContext<'_>) -> Vec<(usize, CheckEvent)> {
    let mut events = Vec::new();
    for (i, statement) in file.statements() {
        if statement.tag != "ALTER TABLE"
            || !(file.may_contain(i, b"check") || file.may_contain(i, b"validate"))
        {
            continue;
        }
        let code = file.code(i);
        let Some((table, actions)) = alter_table(&code) else {
            continue;
        };
        for action in &actions {
            if let Some(added) = added_constraint(&code, action) {
                if added.kind == ConstraintKind::Check {
                    events.push((
                        i,
                        CheckEvent::Added {
                            table: table.clone(),
                            name: added.name,
                            not_null: not_null_columns(&code, added.kind_at + 1),
                            valid: !added.not_valid,
                        },
                    ));
                }
            } else if code.at(action.start, &["validate", "constraint"])
                && let Some((name, _)) = code.name(action.start + 2)
            {
                events.push((
                    i,
                    CheckEvent::Validated {
                        table: table.clone(),
                        name,
                    },
                ));
            }
        }
    }
    events
}

/// The columns `CHECK (…)` with its `(` at `open` proves NOT NULL: each `col IS NOT NULL`
/// joined by `AND` at the group's top level (one under `OR` proves nothing).
fn not_null_columns(code: &Code<'_>, open: usize) -> Vec<String> {
    if code.kind(open) != Some(TokenKind::OpenParen) {
        return Vec::new();
    }
    let depth = code.depth(open) + 1;
    let group: Range<usize> = open + 1..code.skip_group(open).saturating_sub(1);
    if code.find_at_depth(group.clone(), depth, &["or"]).is_some() {
        return Vec::new();
    }
    group
        .clone()
        .filter(|&j| {
            code.depth(j) == depth
                && code.at(j + 1, &["is", "not", "null"])
                && (j == group.start || code.is(j - 1, "and"))
        })
        .filter_map(|j| code.name(j).map(|(name, _)| name))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_check_proves_its_columns_once_validated() {
        let mut known = KnownChecks::default();
        let evidence = |column: &str| Evidence::NotNullCheck {
            table: "leads".into(),
            column: column.into(),
        };
        let sql = "ALTER TABLE leads ADD CONSTRAINT nn CHECK (a IS NOT NULL AND \"B\" IS NOT NULL) NOT VALID, ADD CONSTRAINT o CHECK (c IS NOT NULL OR d > 0);\n\
                   ALTER TABLE public.leads VALIDATE CONSTRAINT nn;\n";
        let file = crate::sql::split(sql).unwrap();
        let settings = super::super::test_utils::settings();
        let context = FileContext::new(
            std::path::Path::new("f.sql"),
            crate::config::Phase::Ddl,
            sql,
            &file,
            &settings,
        );
        let events = events(&context);
        known.record(events.iter().filter(|(i, _)| *i == 0).map(|(_, e)| e));
        assert!(!known.proves(&evidence("a")));
        known.record(events.iter().filter(|(i, _)| *i == 1).map(|(_, e)| e));
        assert!(known.proves(&evidence("a")));
        assert!(known.proves(&evidence("B")));
        assert!(!known.proves(&evidence("c")));
        assert!(known.proves(&Evidence::ValidatedCheck {
            table: "public.leads".into()
        }));
        assert!(!known.proves(&Evidence::ValidatedCheck {
            table: "other".into()
        }));
        // A validation of a check no file added: what it proves is not known.
        known.record([&CheckEvent::Validated {
            table: "calls".into(),
            name: "elsewhere".into(),
        }]);
        assert!(known.proves(&Evidence::NotNullCheck {
            table: "calls".into(),
            column: "x".into()
        }));
    }
}
