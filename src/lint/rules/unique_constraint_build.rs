//! `unique-constraint-build`: a unique or primary key constraint whose index is built
//! under the `ALTER TABLE`'s ACCESS EXCLUSIVE lock.

use crate::config::Severity;
use crate::lint::alter_action::{
    ConstraintKind, added_column, added_constraint, inline_constraints,
};
use crate::lint::context::FileContext;
use crate::lint::rule::{Check, Report, Rule};

pub const RULE: Rule = Rule {
    id: "unique-constraint-build",
    summary: "ADD UNIQUE / PRIMARY KEY (or a new column declared UNIQUE / PRIMARY KEY) on an existing table without USING INDEX",
    severity: Severity::High,
    check: Check::File(check),
    explanation: r#"**Problem.** `ALTER TABLE … ADD CONSTRAINT … UNIQUE (…)`, `ADD PRIMARY KEY (…)` and a
new column declared `UNIQUE` or `PRIMARY KEY` build their index inside the `ALTER TABLE`,
which holds an ACCESS EXCLUSIVE lock: every read and write of the table waits for the
whole build (and, for a primary key, for the NOT NULL scan of its columns).

**Safe alternative.** Build the index first, concurrently, and attach it:
1. `sql/indexes/V9`: `CREATE UNIQUE INDEX CONCURRENTLY …` (SHARE UPDATE EXCLUSIVE: reads
   and writes go on), placed in the DDL sequence with `before: ddl/V40…` in its manifest
   entry, so that it exists when the next step runs.
2. `sql/ddl/V40`: `ADD CONSTRAINT … UNIQUE USING INDEX …` (or `PRIMARY KEY USING INDEX`):
   ACCESS EXCLUSIVE for an instant, no build. For a primary key, make its columns NOT NULL
   first (see `set-not-null`), or the attach scans them.

**Example.**
```sql
ALTER TABLE leads ADD CONSTRAINT leads_email_key UNIQUE (email);   -- unique-constraint-build

-- instead: sql/indexes/V9__leads_email_key.sql   (manifest: before: ddl/V40__leads_email_key)
CREATE UNIQUE INDEX CONCURRENTLY leads_email_key ON leads (email);

-- sql/ddl/V40__leads_email_key.sql
ALTER TABLE leads ADD CONSTRAINT leads_email_key UNIQUE USING INDEX leads_email_key;
```"#,
};

fn check(file: &FileContext<'_>, out: &mut Vec<Report>) {
    for (i, alter) in file.table_alters() {
        let i = *i;
        let code = &alter.code;
        for action in &alter.actions {
            let kind = if let Some(added) = added_constraint(code, action) {
                if added.using_index
                    || !matches!(
                        added.kind,
                        ConstraintKind::Unique | ConstraintKind::PrimaryKey
                    )
                {
                    continue;
                }
                added.kind
            } else if let Some(column) = added_column(code, action) {
                match inline_constraints(code, &column)
                    .into_iter()
                    .find(|(k, _)| matches!(k, ConstraintKind::Unique | ConstraintKind::PrimaryKey))
                {
                    Some((kind, _)) => kind,
                    None => continue,
                }
            } else {
                continue;
            };
            out.push(
                Report::statement(
                    i,
                    code.span(action.start, action.end - 1),
                    format!(
                        "the {} on `{}` builds its index while blocking reads and writes (ACCESS EXCLUSIVE)",
                        kind.as_str(),
                        alter.table
                    ),
                )
                .help("CREATE UNIQUE INDEX CONCURRENTLY in sql/indexes (placed `before:` this migration), then ADD CONSTRAINT … USING INDEX"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Phase;
    use crate::lint::test_utils::{lint_errors, lint_ok};

    #[test]
    fn unique_and_primary_keys_built_in_the_alter_are_found() {
        insta::assert_snapshot!(lint_errors(
            Phase::Ddl,
            "ALTER TABLE leads ADD CONSTRAINT leads_email_key UNIQUE (email);\nALTER TABLE leads ADD PRIMARY KEY (id);\nALTER TABLE leads ADD COLUMN e text UNIQUE;\n"
        ));
    }

    #[test]
    fn using_an_index_and_new_tables_are_clean() {
        lint_ok(
            Phase::Ddl,
            "ALTER TABLE leads ADD CONSTRAINT leads_email_key UNIQUE USING INDEX leads_email_key;\nALTER TABLE leads ADD CONSTRAINT leads_pkey PRIMARY KEY USING INDEX leads_id_idx;\nCREATE TABLE t (a int);\nALTER TABLE t ADD UNIQUE (a);\n",
        );
    }
}
