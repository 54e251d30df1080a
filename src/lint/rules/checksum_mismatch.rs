//! `checksum-mismatch`: a file that changed while its manifest checksum did not.

use crate::config::Severity;
use crate::lint::project::ProjectContext;
use crate::lint::rule::{Check, Place, ProjectReport, Report, Rule};

pub const RULE: Rule = Rule {
    id: "checksum-mismatch",
    summary: "a migration file whose checksum differs from (or is missing in) manifest.yaml",
    severity: Severity::Medium,
    check: Check::Project(check),
    explanation: r#"**Problem.** The manifest records refinery's checksum of every file. A file that no
longer matches was edited after it was written down: if any database applied the old text,
the two now disagree and `apply` reports drift. A missing checksum means the file was never
synced, so an edit to it would go unnoticed.

**Safe alternative.** Never edit an applied migration; write a new one. For a file not yet
applied anywhere, run `sqlrail manifest sync --allow-edit <id>` to record the new checksum
(plain `sqlrail manifest sync` fills in missing ones).

**Example.**
```text
sql/ddl/V3__leads.sql: checksum 1152… but manifest.yaml records 9034…
```"#,
};

fn check(project: &ProjectContext<'_>, out: &mut Vec<ProjectReport>) {
    for (n, file) in project.files.iter().enumerate() {
        let (Some(id), Some(actual)) = (&file.id, file.checksum) else {
            continue;
        };
        let Some(entry) = project.manifest.entry(id) else {
            continue;
        };
        let report = match &entry.checksum {
            None => Report::file(0..0, format!("`{id}` has no checksum in manifest.yaml"))
                .help("run `sqlrail manifest sync` to record it"),
            Some(recorded) if recorded.parse::<u64>().ok() != Some(actual) => Report::file(
                0..0,
                format!(
                    "`{id}` changed: its checksum is {actual}, manifest.yaml records {recorded}"
                ),
            )
            .help(format!(
                "write a new migration instead of editing an applied one; if it was never applied, run `sqlrail manifest sync --allow-edit {id}`"
            )),
            Some(_) => continue,
        };
        out.push(ProjectReport {
            place: Place::File(n),
            report,
        });
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::test_utils::{Fixture, project_errors};

    #[test]
    fn an_edited_and_an_unsynced_file_are_found() {
        let fixture = Fixture::new(
            "migrations:\n  - id: ddl/V1__t\n    checksum: \"42\"\n    fingerprint: { table: t }\n  - id: ddl/V2__u\n    fingerprint: { table: u }\n",
            &[
                ("ddl/V1__t.sql", "CREATE TABLE t (a int);\n"),
                ("ddl/V2__u.sql", "CREATE TABLE u (a int);\n"),
            ],
        );
        insta::assert_snapshot!(project_errors(&fixture));
    }
}
