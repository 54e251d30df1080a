//! `identifier-too-long`: a name longer than PostgreSQL keeps.

use crate::config::Severity;
use crate::lint::context::FileContext;
use crate::lint::rule::{Check, Report, Rule};
use crate::sql::TokenKind;

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

/// Bytes that may be part of an unquoted name (`$` after the first, and anything beyond
/// ASCII, which PostgreSQL takes as letters).
const NAME_BYTE: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80;
        b += 1;
    }
    table
};

/// Where runs of more than [`LONGEST`] name bytes start in `bytes`. Such a run holds four
/// consecutive multiples of 16, so only every 16th byte is read (a branch-free streak
/// count), and a run is measured only where four samples in a row are name bytes: the
/// scan runs on every file, most of which hold no long name, and reads a sixteenth of it.
fn long_name_runs(bytes: &[u8]) -> Vec<usize> {
    const STRIDE: usize = 16;
    const SAMPLES: usize = (LONGEST + 1) / STRIDE;
    let is_name = |b: u8| NAME_BYTE[b as usize];
    let mut runs = Vec::new();
    let mut streak = 0;
    let mut covered = 0; // bytes before this belong to a run already measured
    for at in (0..bytes.len()).step_by(STRIDE) {
        streak = if is_name(bytes[at]) { streak + 1 } else { 0 };
        if streak < SAMPLES || at < covered {
            continue;
        }
        let start = bytes[..at]
            .iter()
            .rposition(|&b| !is_name(b))
            .map_or(0, |p| p + 1);
        let end = bytes[at..]
            .iter()
            .position(|&b| !is_name(b))
            .map_or(bytes.len(), |p| at + p);
        if end - start > LONGEST {
            runs.push(start);
        }
        covered = end;
        streak = 0;
    }
    runs
}

fn check(file: &FileContext<'_>, out: &mut Vec<Report>) {
    // Most files hold no run of 64 name bytes at all: only their statements are lexed.
    let bytes = file.src.as_bytes();
    let mut long_runs = long_name_runs(bytes);
    // A quoted name over 63 bytes has more than 63 bytes between its quotes.
    let mut open: Option<usize> = None;
    for at in memchr::memchr_iter(b'"', bytes) {
        match open.take() {
            Some(start) if at - start > LONGEST + 1 => long_runs.push(start),
            Some(_) => {}
            None => open = Some(at),
        }
    }
    if long_runs.is_empty() {
        return;
    }
    // Sorted, so each statement asks by binary search (files of thousands of statements
    // and long runs would otherwise cost their product).
    long_runs.sort_unstable();
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
    fn long_runs_are_found_wherever_they_fall_against_the_blocks() {
        for offset in 0..70 {
            for len in [63, 64, 65, 100] {
                let text = format!("{} {} x", " ".repeat(offset), "n".repeat(len));
                let runs = super::long_name_runs(text.as_bytes());
                let expected: Vec<usize> = if len > 63 { vec![offset + 1] } else { vec![] };
                assert_eq!(runs, expected, "offset {offset}, length {len}");
            }
        }
        assert_eq!(super::long_name_runs("a".repeat(64).as_bytes()), vec![0]);
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
