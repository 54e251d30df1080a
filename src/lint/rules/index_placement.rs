//! `index-placement`: a DDL migration that needs an index only an index file builds.

use crate::config::{Phase, Severity};
use crate::history::timeline::{State, resolve};
use crate::lint::project::ProjectContext;
use crate::lint::rule::{Check, Place, ProjectReport, Report, Rule};
use crate::sql::effects::{Effect, Object};

pub const RULE: Rule = Rule {
    id: "index-placement",
    summary: "a DDL migration uses, alters or drops an index that only a file in sql/indexes builds, and that file is not placed before it",
    severity: Severity::High,
    check: Check::Project(check),
    explanation: r#"**Problem.** Index files run after the whole DDL phase. A DDL migration that needs one
of their indexes (`ADD CONSTRAINT … USING INDEX i`, `ALTER INDEX i …`, `DROP INDEX i`) runs
before the index exists on every fresh database: it fails, or (`DROP INDEX IF EXISTS`)
does nothing and the index is built afterwards anyway. The history's order and the
schema it gives are lost.

**Safe alternative.** Place the index file in the DDL sequence, right before the
migration that needs it: `before: ddl/V…` in its manifest entry (or `after:` the one
before). A placed index file runs at its point, still concurrently and outside a
transaction; its failure stops the DDL sequence there.

**Example.**
```yaml
  - id: indexes/V3__users_email_uniq          # CREATE UNIQUE INDEX CONCURRENTLY users_email_uniq …
    before: ddl/V12__users_email_key          # ALTER TABLE users ADD CONSTRAINT … USING INDEX users_email_uniq
```"#,
};

fn check(project: &ProjectContext<'_>, out: &mut Vec<ProjectReport>) {
    let history = project.history;
    for step in 1..=history.sequenced {
        let s = &history.steps[step - 1];
        if s.migration.phase != Phase::Ddl {
            continue;
        }
        for effect in &s.effects {
            let (object, verb) = match effect {
                Effect::Uses(o) => (o, "uses"),
                Effect::Drop { object } => (object, "drops"),
                Effect::Rename { from, .. } => (from, "renames"),
                _ => continue,
            };
            let Object::Relation(name) = object else {
                continue;
            };
            let resolved = resolve(object);
            if history.timeline.state(&resolved, step - 1) != State::Absent {
                continue;
            }
            // Built later by an index file that runs after the DDL sequence.
            let builder = history.steps[history.sequenced..]
                .iter()
                .enumerate()
                .find(|(k, _)| {
                    history
                        .timeline
                        .creations(&resolved)
                        .any(|c| c == history.sequenced + k + 1)
                })
                .map(|(_, b)| b.migration);
            let Some(builder) = builder else { continue };
            let message = format!(
                "`{}` {verb} index {name}, which only `{}` builds, after the whole DDL phase: on a fresh database this migration runs first",
                s.migration.id, builder.id
            );
            let help = format!(
                "place `{}` before it: add `before: {}` to its manifest entry",
                builder.id, s.migration.id
            );
            let place = project
                .file_of(&s.migration.id)
                .map_or(Place::Manifest, Place::File);
            let span = match place {
                Place::Manifest => project.entry_span(&s.migration.id),
                Place::File(_) => 0..0,
            };
            out.push(ProjectReport {
                place,
                report: Report::file(span, message).help(help),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::test_utils::{Fixture, project_errors};

    #[test]
    fn ddl_that_needs_an_unplaced_index_file_is_found_and_placing_it_fixes_it() {
        let files: &[(&str, &str)] = &[
            (
                "ddl/V1__users.sql",
                "CREATE TABLE users (id int, email text);\n",
            ),
            (
                "ddl/V2__key.sql",
                "ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE USING INDEX users_email_uniq;\n",
            ),
            (
                "indexes/V1__users_email_uniq.sql",
                "CREATE UNIQUE INDEX CONCURRENTLY users_email_uniq ON users (email);\n",
            ),
        ];
        let manifest = "migrations:\n  - id: ddl/V1__users\n  - id: ddl/V2__key\n  - id: indexes/V1__users_email_uniq\n";
        let out = project_errors(&Fixture::new(manifest, files));
        assert!(out.contains("`ddl/V2__key` uses index users_email_uniq, which only `indexes/V1__users_email_uniq` builds"), "{out}");
        assert!(
            out.contains("add `before: ddl/V2__key` to its manifest entry"),
            "{out}"
        );
        let placed = format!("{manifest}    before: ddl/V2__key\n");
        let out = project_errors(&Fixture::new(&placed, files));
        assert!(!out.contains("index-placement"), "{out}");
    }
}
