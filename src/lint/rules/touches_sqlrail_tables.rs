//! `touches-sqlrail-tables`: a migration that reaches into sqlrail's own tables.

use crate::config::Severity;
use crate::ledger::guard::Ours;
use crate::lint::project::ProjectContext;
use crate::lint::rule::{Check, Place, ProjectReport, Report, Rule};

pub const RULE: Rule = Rule {
    id: "touches-sqlrail-tables",
    summary: "a migration drops, renames, alters or writes sqlrail's ledger, lease or phase state",
    severity: Severity::High,
    check: Check::Project(check),
    explanation: r#"**Problem.** The ledger (`settings.ledger_schema`/`ledger_table`, by default
`sqlrail.schema_migrations`), the lease (`sqlrail_lock`) and the phase state
(`sqlrail_index_builds`, `sqlrail_backfills`, …) are how sqlrail knows what ran and who
runs. A migration that drops or rewrites them runs inside the same transaction as its
ledger row: the run fails, or records what it should not. `apply` refuses such a file
before anything runs.

**Safe alternative.** Leave them to sqlrail (`sqlrail mark` records or removes a
migration on purpose). A table of another tool with the same name is another table:
qualify it with its schema (`DROP TABLE public.schema_migrations`) when sqlrail's tables
are in `public`.

**Example.**
```sql
DROP TABLE IF EXISTS schema_migrations;   -- touches-sqlrail-tables when ledger_schema is public
```"#,
};

fn check(project: &ProjectContext<'_>, out: &mut Vec<ProjectReport>) {
    let settings = &project.manifest.settings;
    let ours = Ours {
        schema: &settings.ledger_schema,
        ledger_table: &settings.ledger_table,
    };
    for (n, file) in project.files.iter().enumerate() {
        let Some(sql) = file.source.as_deref() else {
            continue;
        };
        for touch in ours.touches(sql) {
            out.push(ProjectReport {
                place: Place::File(n),
                report: Report::file(
                    touch.span,
                    format!("this statement {}, one of sqlrail's own tables", touch.what),
                )
                .help("leave sqlrail's tables to sqlrail (`sqlrail mark` records a migration on purpose); qualify another tool's table of that name with its schema"),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::test_utils::{Fixture, project_errors};

    #[test]
    fn writes_and_drops_of_the_ledger_are_found() {
        let fixture = Fixture::new(
            "settings:\n  ledger_schema: public\nmigrations:\n  - id: ddl/V1__a\n",
            &[(
                "ddl/V1__a.sql",
                "CREATE TABLE a (id int);\nDROP TABLE IF EXISTS schema_migrations;\n",
            )],
        );
        let out = project_errors(&fixture);
        assert!(
            out.contains(
                "this statement drops table schema_migrations, one of sqlrail's own tables"
            ),
            "{out}"
        );
        // With the ledger in its own schema (the default), another tool's table is another table.
        let fixture = Fixture::new(
            "migrations:\n  - id: ddl/V1__a\n",
            &[(
                "ddl/V1__a.sql",
                "CREATE TABLE a (id int);\nDROP TABLE IF EXISTS schema_migrations;\n",
            )],
        );
        assert!(!project_errors(&fixture).contains("touches-sqlrail-tables"));
    }
}
