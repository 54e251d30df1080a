//! `manifest-missing-file`: a manifest entry whose file does not exist.

use crate::config::Severity;
use crate::lint::project::ProjectContext;
use crate::lint::rule::{Check, Place, ProjectReport, Report, Rule};

pub const RULE: Rule = Rule {
    id: "manifest-missing-file",
    summary: "a manifest.yaml entry with no file under sql/",
    severity: Severity::High,
    check: Check::Project(check),
    explanation: r#"**Problem.** An entry without a file is a migration that was renamed, moved or
deleted. Databases that recorded it keep a ledger row no file explains, and `apply` refuses
to run until the two agree.

**Safe alternative.** Restore the file, or, if the migration was never applied anywhere,
delete the entry. Never rename an applied migration.

**Example.**
```yaml
migrations:
  - id: ddl/V7__threads_messages     # manifest-missing-file: sql/ddl/V7__threads_messages.sql is gone
```"#,
};

fn check(project: &ProjectContext<'_>, out: &mut Vec<ProjectReport>) {
    for entry in &project.manifest.migrations {
        let exists = project.file_of(&entry.id).is_some();
        if !exists {
            out.push(ProjectReport {
                place: Place::Manifest,
                report: Report::file(
                    project.entry_span(&entry.id),
                    format!("`{}` has no file sql/{}.sql", entry.id, entry.id),
                )
                .help("restore the file; remove the entry only if no database ever applied it"),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::test_utils::{Fixture, project_errors};

    #[test]
    fn an_entry_without_a_file_is_found() {
        let fixture = Fixture::new(
            "migrations:\n  - id: ddl/V1__t\n    checksum: \"1\"\n    fingerprint: { table: t }\n",
            &[],
        );
        insta::assert_snapshot!(project_errors(&fixture));
    }
}
