//! `bad-file-name`: a file under sql/ not named `V{n}__{name}.sql`.

use crate::config::Severity;
use crate::lint::project::ProjectContext;
use crate::lint::rule::{Check, Place, ProjectReport, Report, Rule};

pub const RULE: Rule = Rule {
    id: "bad-file-name",
    summary: "a migration file not named V<number>__<name>.sql (refinery's convention)",
    severity: Severity::High,
    check: Check::Project(check),
    explanation: r#"**Problem.** Migrations are ordered and identified by their file name, parsed the way
refinery parses it: `V`, a version number, two underscores, a name of letters, digits and
underscores, `.sql`. A file named otherwise (`v12_add.sql`, `V12-add.sql`, `12__add.sql`)
has no version, so `apply` cannot place it and refuses to run.

**Safe alternative.** Rename it to `V<next version>__<name>.sql`, or create migrations with
`sqlrail new <phase> <name>`.

**Example.**
```text
sql/ddl/V12_add_phone.sql        <- bad-file-name (one underscore)
sql/ddl/V12__add_phone.sql       <- fine
```"#,
};

fn check(project: &ProjectContext<'_>, out: &mut Vec<ProjectReport>) {
    for (n, file) in project.files.iter().enumerate() {
        if file.id.is_none() {
            out.push(ProjectReport {
                place: Place::File(n),
                report: Report::file(
                    0..0,
                    "file name is not `V<number>__<name>.sql`, so it has no version",
                )
                .help("rename it, e.g. `V7__add_leads_phone.sql`, or create it with `sqlrail new`"),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::test_utils::{Fixture, project_errors};

    #[test]
    fn a_misnamed_file_is_found() {
        let fixture = Fixture::new(
            "migrations: []\n",
            &[("ddl/V1_t.sql", "CREATE TABLE t (a int);\n")],
        );
        insta::assert_snapshot!(project_errors(&fixture));
    }
}
