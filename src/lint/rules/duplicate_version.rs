//! `duplicate-version`: two files of one directory with the same version.

use crate::config::Severity;
use crate::lint::project::ProjectContext;
use crate::lint::rule::{Check, Place, ProjectReport, Report, Rule};

pub const RULE: Rule = Rule {
    id: "duplicate-version",
    summary: "two files in one sql/ directory with the same version number",
    severity: Severity::High,
    check: Check::Project(check),
    explanation: r#"**Problem.** Versions order migrations within a directory, and refinery-compatible
ledgers key rows by version. Two files `V12__a.sql` and `V12__b.sql` (typically from two
branches merged together) have no defined order, and the second can never be recorded.

**Safe alternative.** Renumber the file that has not been applied anywhere yet to the next
free version (`sqlrail new` picks it) and update its manifest id.

**Example.**
```text
sql/ddl/V12__leads_score.sql
sql/ddl/V12__calendar_color.sql     <- duplicate-version
```"#,
};

fn check(project: &ProjectContext<'_>, out: &mut Vec<ProjectReport>) {
    // The first file of each (phase, version), found in one pass.
    let mut first_of = std::collections::HashMap::new();
    for (n, file) in project.files.iter().enumerate() {
        if let Some(version) = file.version {
            first_of.entry((file.phase, version)).or_insert(n);
        }
    }
    for (n, file) in project.files.iter().enumerate() {
        let Some(version) = file.version else {
            continue;
        };
        let first = first_of[&(file.phase, version)];
        if first != n {
            out.push(ProjectReport {
                place: Place::File(n),
                report: Report::file(
                    0..0,
                    format!(
                        "version {version} is also used by {}",
                        project.files[first].display
                    ),
                )
                .help("renumber the migration that no database has applied yet (`sqlrail new` picks the next version)"),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::test_utils::{Fixture, project_errors};

    #[test]
    fn two_files_with_one_version_are_found() {
        let fixture = Fixture::new(
            "migrations: []\n",
            &[
                ("ddl/V1__a.sql", "CREATE TABLE a (x int);\n"),
                ("ddl/V1__b.sql", "CREATE TABLE b (x int);\n"),
                (
                    "indexes/V1__c.sql",
                    "CREATE INDEX CONCURRENTLY c ON a (x);\n",
                ),
            ],
        );
        let out = project_errors(&fixture);
        assert!(out.contains("version 1 is also used by"), "{out}");
        assert_eq!(out.matches("[duplicate-version]").count(), 1, "{out}");
    }
}
