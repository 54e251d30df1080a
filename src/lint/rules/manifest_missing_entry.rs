//! `manifest-missing-entry`: a migration file with no manifest entry.

use crate::config::Severity;
use crate::lint::project::ProjectContext;
use crate::lint::rule::{Check, Place, ProjectReport, Report, Rule};

pub const RULE: Rule = Rule {
    id: "manifest-missing-entry",
    summary: "a migration file that manifest.yaml does not list",
    severity: Severity::Medium,
    check: Check::Project(check),
    explanation: r#"**Problem.** `manifest.yaml` is where each migration's checksum and fingerprint live;
`apply` refuses to run a project whose files and manifest disagree. A file without an entry
has no fingerprint (a database that already has the change cannot be reconciled) and no
checksum (a later edit goes unnoticed).

**Safe alternative.** `sqlrail manifest sync` adds an entry with the file's checksum; add
the fingerprint by hand (or create files with `sqlrail new`, which writes both).

**Example.**
```text
sql/ddl/V36__leads_score.sql exists, manifest.yaml has no `- id: ddl/V36__leads_score`
```"#,
};

fn check(project: &ProjectContext<'_>, out: &mut Vec<ProjectReport>) {
    for (n, file) in project.files.iter().enumerate() {
        let Some(id) = &file.id else { continue };
        if project.manifest.entry(id).is_none() {
            out.push(ProjectReport {
                place: Place::File(n),
                report: Report::file(0..0, format!("`{id}` has no entry in manifest.yaml"))
                    .help("run `sqlrail manifest sync`, then add its fingerprint"),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::test_utils::{Fixture, project_errors};

    #[test]
    fn a_file_without_an_entry_is_found() {
        let fixture = Fixture::new(
            "migrations: []\n",
            &[("ddl/V1__t.sql", "CREATE TABLE t (a int);\n")],
        );
        insta::assert_snapshot!(project_errors(&fixture));
    }
}
