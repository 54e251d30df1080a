//! `fingerprint-invalid`: a fingerprint that cannot prove what it should.

use crate::config::{Fingerprint, Phase, Severity};
use crate::lint::code::Code;
use crate::lint::project::ProjectContext;
use crate::lint::rule::{Check, Place, ProjectReport, Report, Rule};
use crate::sql::StatementKind;

pub const RULE: Rule = Rule {
    id: "fingerprint-invalid",
    summary: "a `sql:` fingerprint that is not one SELECT, or an `index:` fingerprint naming another index than the file builds",
    severity: Severity::Medium,
    check: Check::Project(check),
    explanation: r#"**Problem.** A fingerprint is the catalog check that proves a migration's change is
already in a database whose ledger does not record it; `apply` then records the migration
as reconciled instead of running it. A `sql:` fingerprint runs on production during `plan`, `status` and `apply`,
so it must be exactly one read-only `SELECT` returning a boolean. An `index:` fingerprint
that names another index than the file builds proves nothing about the file.

(Malformed names such as `column: phone` without a table are configuration errors, reported
when the manifest is loaded; a missing fingerprint is `fingerprint-missing`, one that does
not prove its migration `fingerprint-unsound`.)

**Safe alternative.** Give every DDL entry the cheapest check that is true exactly when the
change is in place: `table:`, `column:`, `constraint:`, combined with `all:`.

**Example.**
```yaml
  - id: ddl/V9__leads_whatsapp_order
    fingerprint: { all: [ { column: leads.phone_whatsapp }, { column: leads.order_index } ] }
  - id: ddl/V25__email_templates
    fingerprint: { sql: "UPDATE email_templates SET x = 1" }     # fingerprint-invalid
```"#,
};

fn check(project: &ProjectContext<'_>, out: &mut Vec<ProjectReport>) {
    for entry in &project.manifest.migrations {
        let Some((phase, _, _)) = crate::config::parse_id(&entry.id) else {
            continue;
        };
        let mut problems = Vec::new();
        match &entry.fingerprint {
            None => {}
            Some(fingerprint) => {
                sql_problems(fingerprint, &mut problems);
                if phase == Phase::Indexes
                    && let Fingerprint::Index(name) = fingerprint
                    && let Some(built) = project.index_built_by(&entry.id)
                    && !crate::sql::names::same_relation(
                        &crate::sql::names::fold_qualified(name),
                        &built,
                    )
                {
                    problems.push(format!(
                        "`{}` checks index `{name}` but the file builds `{built}`",
                        entry.id
                    ));
                }
            }
        }
        for message in problems {
            out.push(ProjectReport {
                place: Place::Manifest,
                report: Report::file(project.entry_span(&entry.id), message)
                    .help("see docs/manifest.md#fingerprints"),
            });
        }
    }
}

/// Every `sql:` check in `fingerprint` must split into one SELECT.
fn sql_problems(fingerprint: &Fingerprint, problems: &mut Vec<String>) {
    match fingerprint {
        Fingerprint::All(list) | Fingerprint::Any(list) => {
            list.iter().for_each(|f| sql_problems(f, problems))
        }
        Fingerprint::Sql(query) => match crate::sql::split(query) {
            Err(e) => problems.push(format!(
                "fingerprint `sql:` does not lex: {} opened at byte {}",
                e.unclosed, e.start
            )),
            Ok(file) if file.statements.len() != 1 => problems.push(format!(
                "fingerprint `sql:` holds {} statements; it must be one SELECT returning a boolean",
                file.statements.len()
            )),
            Ok(file) if file.statements[0].kind != StatementKind::Select => problems.push(format!(
                "fingerprint `sql:` is `{}`; it must be a read-only SELECT returning a boolean",
                file.statements[0].tag
            )),
            Ok(_) => {}
        },
        _ => {}
    }
}

/// The index a `CREATE INDEX` statement names, folded (`None` when it names none).
pub fn index_name(sql: &str) -> Option<String> {
    let file = crate::sql::split(sql).ok()?;
    let statement = file.statements.first()?;
    let code = Code::lex(sql, statement.start..statement.end);
    let mut i = 1 + usize::from(code.is(1, "unique"));
    if !code.is(i, "index") {
        return None;
    }
    i += 1;
    if code.is(i, "concurrently") {
        i += 1;
    }
    if code.at(i, &["if", "not", "exists"]) {
        i += 3;
    }
    if code.is(i, "on") {
        return None;
    }
    code.name(i).map(|(name, _)| name)
}

#[cfg(test)]
mod tests {
    use crate::lint::test_utils::{Fixture, project_errors};

    #[test]
    fn missing_writing_and_mismatched_fingerprints_are_found() {
        let fixture = Fixture::new(
            concat!(
                "migrations:\n",
                "  - id: ddl/V1__t\n",
                "  - id: ddl/V2__u\n",
                "    fingerprint: { all: [ { table: u }, { sql: \"DELETE FROM u RETURNING true\" } ] }\n",
                "  - id: indexes/V1__i\n",
                "    fingerprint: { index: other_index }\n",
            ),
            &[
                ("ddl/V1__t.sql", "CREATE TABLE t (a int);\n"),
                ("ddl/V2__u.sql", "CREATE TABLE u (a int);\n"),
                (
                    "indexes/V1__i.sql",
                    "CREATE INDEX CONCURRENTLY IF NOT EXISTS t_a ON t (a);\n",
                ),
            ],
        );
        insta::assert_snapshot!(project_errors(&fixture));
    }

    #[test]
    fn good_fingerprints_are_clean() {
        let fixture = Fixture::new(
            concat!(
                "migrations:\n",
                "  - id: ddl/V1__t\n",
                "    fingerprint: { sql: \"SELECT count(*) = 1 FROM pg_class WHERE relname = 't'\" }\n",
                "  - id: indexes/V1__i\n",
                "    fingerprint: { index: public.t_a }\n",
            ),
            &[
                ("ddl/V1__t.sql", "CREATE TABLE t (a int);\n"),
                (
                    "indexes/V1__i.sql",
                    "CREATE INDEX CONCURRENTLY t_a ON t (a);\n",
                ),
            ],
        );
        let out = project_errors(&fixture);
        assert!(!out.contains("fingerprint-invalid"), "{out}");
    }
}
