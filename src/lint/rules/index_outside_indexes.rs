//! `index-outside-indexes`: `CREATE INDEX` in a schema migration on an existing table.

use crate::config::{Phase, Severity};
use crate::lint::code::created_index;
use crate::lint::context::FileContext;
use crate::lint::rule::{Check, Report, Rule};
use crate::sql::StatementKind;

pub const RULE: Rule = Rule {
    id: "index-outside-indexes",
    summary: "CREATE INDEX in sql/ddl on a table not created in the same file",
    severity: Severity::Medium,
    check: Check::File(check),
    explanation: r#"**Problem.** A plain `CREATE INDEX` blocks every write to the table for as long as
the build takes, and inside a schema migration it cannot be made `CONCURRENTLY` (that
cannot run in a transaction). On a table with data, that is an outage measured in minutes.
An index on a table the same file creates is fine: nobody writes to it yet.

**Safe alternative.** Put the index in its own file in `sql/indexes/`, built with
`CREATE INDEX CONCURRENTLY` outside any transaction, where a failure warns instead of
blocking the deploy.

**Example.**
```sql
-- sql/ddl/V14__receipts.sql
CREATE TABLE receipts (id bigint PRIMARY KEY, tenant_id bigint NOT NULL);
CREATE INDEX receipts_tenant ON receipts (tenant_id);      -- fine: new table
CREATE INDEX leads_phone ON leads (phone);                 -- index-outside-indexes

-- instead: sql/indexes/V5__leads_phone.sql
CREATE INDEX CONCURRENTLY leads_phone ON leads (phone);
```"#,
};

fn check(file: &FileContext<'_>, out: &mut Vec<Report>) {
    if file.phase != Phase::Ddl {
        return;
    }
    for (i, statement) in file.statements() {
        if statement.kind != StatementKind::Index {
            continue;
        }
        // `CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS i ON ONLY s.t (`: the table comes
        // before the column list, which need not be lexed.
        let Some((table, _)) = created_index(&file.code_head(i, 24)) else {
            continue;
        };
        if !file.created_before(i, &table) {
            out.push(
                Report::statement(
                    i,
                    file.span_of(i),
                    format!("index on existing table `{table}` built inside a schema migration"),
                )
                .help("move it to sql/indexes/ as CREATE INDEX CONCURRENTLY"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Phase;
    use crate::lint::test_utils::{lint_errors, lint_ok};

    #[test]
    fn an_index_on_an_existing_table_is_found() {
        insta::assert_snapshot!(lint_errors(
            Phase::Ddl,
            "CREATE INDEX leads_phone ON public.leads (phone);\n"
        ));
    }

    #[test]
    fn an_index_on_a_table_created_in_the_same_file_is_clean() {
        lint_ok(
            Phase::Ddl,
            "CREATE TABLE receipts (id bigint PRIMARY KEY, tenant_id bigint);\nCREATE UNIQUE INDEX receipts_tenant ON public.receipts (tenant_id);\n",
        );
    }
}
