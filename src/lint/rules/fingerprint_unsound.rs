//! `fingerprint-unsound`: a fingerprint that does not prove its own migration's effect.

use crate::config::{Phase, Severity};
use crate::history::Truth;
use crate::history::proposal::propose;
use crate::lint::project::ProjectContext;
use crate::lint::rule::{Check, Place, ProjectReport, Report, Rule};

pub const RULE: Rule = Rule {
    id: "fingerprint-unsound",
    summary: "a fingerprint that already holds before its migration runs, or no longer holds right after it",
    severity: Severity::High,
    check: Check::Project(check),
    explanation: r#"**Problem.** A fingerprint is how sqlrail places a database that has no ledger rows
(made by hand, or migrated by another tool) in the history: a migration is taken as
applied when the database looks as it does after it. A check of an object that already
exists before the migration (a view it replaces with `CREATE OR REPLACE`, an index it
re-creates under the same name, a table an earlier migration made) cannot tell whether the
migration ran; one of an object the file drops again cannot tell that it did. Reconciling
on such a check records a migration that never ran: the deploy succeeds with the change
missing.

Judged against the project's own history: the files' effects replayed in order.

**Safe alternative.** Check what the migration itself adds: the column behind the
replaced view, the new definition of the re-created index (`index_def:`), the renamed
object's new name. `sqlrail manifest sync` proposes such a check for new files; the help
of each finding gives one.

**Example.**
```yaml
  - id: ddl/V2__add_email     # ALTER TABLE leads ADD COLUMN email text; CREATE OR REPLACE VIEW leads_view …
    fingerprint: { view: leads_view }        # fingerprint-unsound: V1 made leads_view
    fingerprint: { column: leads.email }     # proves V2
```"#,
};

fn check(project: &ProjectContext<'_>, out: &mut Vec<ProjectReport>) {
    let history = project.history;
    for step in 1..=history.sequenced {
        let m = history.steps[step - 1].migration;
        if m.phase != Phase::Ddl {
            continue;
        }
        let Some(fingerprint) = project
            .manifest
            .entry(&m.id)
            .and_then(|e| e.fingerprint.as_ref())
        else {
            continue;
        };
        let before = history.predict(fingerprint, step - 1, step);
        let after = history.predict(fingerprint, step, step);
        let problem = if before == Truth::True {
            format!(
                "`{}`'s fingerprint {fingerprint} already holds before it runs (the objects it checks exist then): it cannot tell whether this migration ran",
                m.id
            )
        } else if after == Truth::False {
            format!(
                "`{}`'s fingerprint {fingerprint} does not hold right after it runs (the migration drops or renames what it checks)",
                m.id
            )
        } else {
            continue;
        };
        let help = match propose(history, step) {
            Some(better) => format!("check what the migration itself makes: `fingerprint: {better}`"),
            None => "no catalog check proves this migration; remove the fingerprint, or write a `sql:` check that is true exactly after it".into(),
        };
        out.push(ProjectReport {
            place: Place::Manifest,
            report: Report::file(project.entry_span(&m.id), problem).help(help),
        });
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::test_utils::{Fixture, project_errors};

    #[test]
    fn checks_of_objects_that_exist_before_or_vanish_after_are_found() {
        let fixture = Fixture::new(
            concat!(
                "migrations:\n",
                "  - id: ddl/V1__leads\n",
                "    fingerprint: { table: leads }\n",
                "  - id: ddl/V2__add_email\n",
                "    fingerprint: { view: leads_view }\n",
                "  - id: ddl/V3__helper\n",
                "    fingerprint: { function: tmp_fill }\n",
            ),
            &[
                (
                    "ddl/V1__leads.sql",
                    "CREATE TABLE leads (id int, phone text);\nCREATE VIEW leads_view AS SELECT id, phone FROM leads;\n",
                ),
                (
                    "ddl/V2__add_email.sql",
                    "ALTER TABLE leads ADD COLUMN email text;\nCREATE OR REPLACE VIEW leads_view AS SELECT id, phone, email FROM leads;\n",
                ),
                (
                    "ddl/V3__helper.sql",
                    "CREATE FUNCTION tmp_fill() RETURNS void LANGUAGE sql AS 'SELECT 1';\nDROP FUNCTION tmp_fill();\n",
                ),
            ],
        );
        let out = project_errors(&fixture);
        assert!(out.contains("`ddl/V2__add_email`'s fingerprint { view: leads_view } already holds before it runs"), "{out}");
        assert!(
            out.contains(
                "`fingerprint: { all: [ { column: leads.email }, { column: leads_view.email } ] }`"
            ),
            "{out}"
        );
        assert!(out.contains("`ddl/V3__helper`'s fingerprint { function: tmp_fill } does not hold right after it runs"), "{out}");
        assert!(!out.contains("ddl/V1__leads`'s"), "{out}");
    }
}
