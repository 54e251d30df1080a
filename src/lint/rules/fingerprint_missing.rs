//! `fingerprint-missing`: a DDL migration without a fingerprint that could have one.

use crate::config::{Phase, Severity};
use crate::history::proposal::propose;
use crate::lint::project::ProjectContext;
use crate::lint::rule::{Check, Place, ProjectReport, Report, Rule};

pub const RULE: Rule = Rule {
    id: "fingerprint-missing",
    summary: "a DDL migration without a fingerprint, where a catalog check could prove it",
    severity: Severity::Warning,
    check: Check::Project(check),
    explanation: r#"**Problem.** A database sqlrail migrates records every migration in its ledger and
needs no fingerprint. One that has the change without a ledger row (made by hand, or by
the tool used before sqlrail) is placed in the history by the migrations' checks: a
migration without one is told apart from its neighbours only by theirs, and adoption may
have to stop and ask (`sqlrail mark --through <id>`).

Reported only where a check exists that proves the migration (what it creates, adds or
renames); migrations that only change data, grants or settings have none, and need none.

**Safe alternative.** Add the proposed check to the entry.

**Example.**
```yaml
  - id: ddl/V9__leads_whatsapp_order        # fingerprint-missing
  - id: ddl/V9__leads_whatsapp_order
    fingerprint: { all: [ { column: leads.phone_whatsapp }, { column: leads.order_index } ] }
```"#,
};

fn check(project: &ProjectContext<'_>, out: &mut Vec<ProjectReport>) {
    let history = project.history;
    for step in 1..=history.sequenced {
        let m = history.steps[step - 1].migration;
        let entry = project.manifest.entry(&m.id);
        if m.phase != Phase::Ddl || entry.is_none_or(|e| e.fingerprint.is_some()) {
            continue;
        }
        let Some(proposed) = propose(history, step) else {
            continue;
        };
        out.push(ProjectReport {
            place: Place::Manifest,
            report: Report::file(
                project.entry_span(&m.id),
                format!("`{}` has no fingerprint; {proposed} would prove it", m.id),
            )
            .help(format!(
                "add `fingerprint: {proposed}` to its entry (see docs/manifest.md#fingerprints)"
            )),
        });
    }
}
