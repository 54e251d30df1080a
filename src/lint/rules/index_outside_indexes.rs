//! `index-outside-indexes`: `CREATE INDEX` in a schema migration on an existing table.

use crate::config::{Phase, Severity};
use crate::lint::code::index_statement;
use crate::lint::context::FileContext;
use crate::lint::rule::{Check, Report, Rule};
use crate::sql::StatementKind;
use crate::sql::names::same_relation;

pub const RULE: Rule = Rule {
    id: "index-outside-indexes",
    summary: "CREATE INDEX, DROP INDEX or REINDEX in sql/ddl on a table or index not created in the same file",
    severity: Severity::Medium,
    check: Check::File(check),
    explanation: r#"**Problem.** A plain `CREATE INDEX` blocks every write to the table for as long as
the build takes, and inside a schema migration it cannot be made `CONCURRENTLY` (that
cannot run in a transaction). On a table with data, that is an outage measured in minutes.
An index on a table the same file creates is fine: nobody writes to it yet. `DROP INDEX`
takes ACCESS EXCLUSIVE on the index's table (every read and write waits behind it, and it
waits for every open transaction on the table); `REINDEX` blocks writes to the table (and
reads that use the index) for the whole rebuild.

**Safe alternative.** Put the index in its own file in `sql/indexes/`, built with
`CREATE INDEX CONCURRENTLY` outside any transaction, where a failure warns instead of
blocking the deploy; drop and rebuild indexes there too, with `DROP INDEX CONCURRENTLY`
and `REINDEX … CONCURRENTLY` (since PostgreSQL 12), which take SHARE UPDATE EXCLUSIVE
and let reads and writes go on.

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
    // Indexes built by this file so far (named ones): dropping them is no hazard.
    let mut built: Vec<String> = Vec::new();
    for (i, statement) in file.statements() {
        match &*statement.tag {
            "DROP INDEX" if statement.in_transaction => {
                let code = file.code(i);
                let mut at = 2;
                if code.at(at, &["if", "exists"]) {
                    at += 2;
                }
                let Some((index, _)) = code.name(at) else {
                    continue;
                };
                if built.iter().any(|b| same_relation(b, &index)) {
                    continue;
                }
                out.push(
                    Report::statement(
                        i,
                        file.span_of(i),
                        format!("dropping index `{index}` inside a schema migration blocks its table (ACCESS EXCLUSIVE)"),
                    )
                    .help("move it to sql/indexes/ as DROP INDEX CONCURRENTLY"),
                );
                continue;
            }
            "REINDEX" if statement.in_transaction => {
                let code = file.code(i);
                let mut at = code.skip_group(1);
                let kind = code.text(at).to_ascii_uppercase();
                if kind != "INDEX" && kind != "TABLE" {
                    continue;
                }
                at += 1;
                let Some((name, _)) = code.name(at) else {
                    continue;
                };
                if file.created_before(i, &name) || built.iter().any(|b| same_relation(b, &name)) {
                    continue;
                }
                let help = if file.settings.postgres_version >= 12 {
                    "move it to sql/indexes/ as REINDEX … CONCURRENTLY"
                } else {
                    "before PostgreSQL 12: build a new index CONCURRENTLY in sql/indexes/ and drop the old one"
                };
                out.push(
                    Report::statement(
                        i,
                        file.span_of(i),
                        format!("`REINDEX {kind} {name}` inside a schema migration blocks writes for the whole rebuild"),
                    )
                    .help(help),
                );
                continue;
            }
            _ => {}
        }
        if statement.kind != StatementKind::Index {
            continue;
        }
        // `CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS i ON ONLY s.t (`: the table comes
        // before the column list, which need not be lexed.
        let head = file.code_head(i, 24);
        let Some(index) = index_statement(&head) else {
            continue;
        };
        if let Some(name) = &index.name {
            built.push(name.clone());
        }
        if !file.created_before(i, &index.table) {
            out.push(
                Report::statement(
                    i,
                    file.span_of(i),
                    format!(
                        "index on existing table `{}` built inside a schema migration",
                        index.table
                    ),
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
    fn drops_and_reindexes_of_existing_indexes_are_found() {
        let findings = crate::lint::test_utils::lint(
            Phase::Ddl,
            "DROP INDEX leads_phone;\nREINDEX TABLE leads;\nREINDEX (VERBOSE) INDEX leads_pkey;\nREINDEX (CONCURRENTLY false) INDEX leads_pkey;\n",
        );
        let rules: Vec<&str> = findings.iter().map(|f| &*f.rule).collect();
        assert_eq!(rules, ["index-outside-indexes"; 4], "{findings:?}");
    }

    #[test]
    fn dropping_an_index_this_file_built_is_clean() {
        lint_ok(
            Phase::Ddl,
            "CREATE TABLE r (a int);\nCREATE INDEX r_a ON r (a);\nDROP INDEX r_a;\nREINDEX TABLE r;\n",
        );
    }

    #[test]
    fn an_index_on_a_table_created_in_the_same_file_is_clean() {
        lint_ok(
            Phase::Ddl,
            "CREATE TABLE receipts (id bigint PRIMARY KEY, tenant_id bigint);\nCREATE UNIQUE INDEX receipts_tenant ON public.receipts (tenant_id);\n",
        );
    }
}
