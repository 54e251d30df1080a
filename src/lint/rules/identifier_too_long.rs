//! `identifier-too-long`: a name longer than PostgreSQL keeps.

use crate::config::Severity;
use crate::lint::context::FileContext;
use crate::lint::rule::{Check, Report, Rule};
use crate::sql::TokenKind;
use crate::sql::long_runs::long_runs;

/// `NAMEDATALEN - 1`: PostgreSQL keeps this many bytes of a name and drops the rest.
const LONGEST: usize = 63;

pub const RULE: Rule = Rule {
    id: "identifier-too-long",
    summary: "an identifier longer than 63 bytes (PostgreSQL truncates it silently)",
    severity: Severity::Medium,
    check: Check::File(check),
    explanation: r#"**Problem.** PostgreSQL keeps the first 63 bytes of a name and drops the rest with only
a NOTICE. The object exists under a name the file does not contain: a later migration,
a fingerprint (`index leads_…`), a `DROP … IF EXISTS` or an allow-list that uses the full
name misses it, and two long names with the same first 63 bytes collide.

**Safe alternative.** Choose names of at most 63 bytes (letters beyond ASCII take two or
more bytes each).

**Example.**
```sql
CREATE INDEX CONCURRENTLY leads_tenant_id_assigned_user_id_created_at_status_source_channel_idx ON leads (tenant_id);   -- identifier-too-long

-- instead
CREATE INDEX CONCURRENTLY leads_tenant_user_created_idx ON leads (tenant_id);
```"#,
};

fn check(file: &FileContext<'_>, out: &mut Vec<Report>) {
    // Most files hold no run of 64 name bytes and no long quoted span at all: only the
    // statements that do are lexed.
    let long_runs = long_runs(file.src.as_bytes(), LONGEST);
    if long_runs.is_empty() {
        return;
    }
    // Sorted, so each statement asks by binary search (files of thousands of statements
    // and long runs would otherwise cost their product).
    for (i, statement) in file.statements() {
        let first = long_runs.partition_point(|&at| at < statement.start);
        if long_runs.get(first).is_none_or(|&at| at >= statement.end) {
            continue;
        }
        let code = file.code(i);
        for j in 0..code.len() {
            let name = match code.kind(j) {
                Some(TokenKind::Word) => code.text(j),
                Some(TokenKind::QuotedIdent) => {
                    let text = code.text(j);
                    text.get(text.find('"').map_or(0, |q| q + 1)..text.len() - 1)
                        .unwrap_or(text)
                }
                _ => continue,
            };
            if name.len() > LONGEST {
                let token = code.token(j).expect("in range");
                out.push(
                    Report::statement(
                        i,
                        token.start..token.end,
                        format!(
                            "`{name}` is {} bytes: PostgreSQL keeps the first {LONGEST}",
                            name.len()
                        ),
                    )
                    .help("choose a name of at most 63 bytes"),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Phase;
    use crate::lint::test_utils::{lint, lint_ok};

    #[test]
    fn names_over_63_bytes_are_found() {
        let long = "a".repeat(64);
        let findings = lint(
            Phase::Ddl,
            &format!(
                "ALTER TABLE leads ADD COLUMN {long} int;\nALTER TABLE leads ADD COLUMN \"{long}\" int;\n"
            ),
        );
        assert_eq!(findings.len(), 2, "{findings:?}");
        assert!(findings.iter().all(|f| f.rule == "identifier-too-long"));
    }

    #[test]
    fn names_of_63_bytes_and_long_strings_are_clean() {
        let name = "a".repeat(63);
        let string = "b".repeat(200);
        lint_ok(
            Phase::Ddl,
            &format!(
                "ALTER TABLE leads ADD COLUMN {name} int;\nCOMMENT ON TABLE leads IS '{string}';\n-- {string}\n"
            ),
        );
    }
}
