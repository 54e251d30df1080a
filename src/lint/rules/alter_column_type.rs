//! `alter-column-type`: changing a column's type on an existing table.

use crate::config::Severity;
use crate::lint::alter_action::altered_type;
use crate::lint::context::FileContext;
use crate::lint::rule::{Check, Report, Rule};

pub const RULE: Rule = Rule {
    id: "alter-column-type",
    summary: "ALTER COLUMN … TYPE on an existing table to a type PostgreSQL must rewrite it for (full rewrite under ACCESS EXCLUSIVE)",
    severity: Severity::High,
    check: Check::File(check),
    explanation: r#"**Problem.** `ALTER TABLE … ALTER COLUMN … TYPE` takes an ACCESS EXCLUSIVE lock and,
for most type changes, rewrites the whole table and rebuilds its indexes while holding it.
Reads and writes wait for the whole rewrite. Some changes are free because the old type
is binary-coercible to the new one: `varchar(n)` to `varchar(m)` with m > n or to `text`,
`varchar` to `text`, a `numeric(p, s)` to a larger precision with the same scale or to
`numeric`, `cidr` to `inet`, `bit(n)` to `varbit`. The linter does not know the column's
current type, so a change *to* `text`, `varchar`, `numeric`, `varbit`, `citext` or `inet`,
or to a time type with a precision (`timestamptz(6)`), without `USING` is taken as one of
those and not reported; anything else (`int` to `bigint`, `timestamp` to `timestamptz`,
any `USING`) is. A narrowing change to those types (`varchar(64)` to `varchar(30)`, `text`
to `varchar(500)`, a new `numeric` scale) does scan or rewrite, and is not seen.

**Safe alternative.** Add a new column with the new type, backfill it in batches
(`sql/backfills/`), switch the application over, then drop the old column in a later
release.

**Example.**
```sql
ALTER TABLE call_log ALTER COLUMN duration TYPE bigint;    -- alter-column-type

-- instead
ALTER TABLE call_log ADD COLUMN duration_big bigint;       -- sql/ddl
UPDATE call_log SET duration_big = duration WHERE id BETWEEN :lo AND :hi;   -- sql/backfills
```"#,
};

fn check(file: &FileContext<'_>, out: &mut Vec<Report>) {
    for (i, alter) in file.table_alters() {
        let i = *i;
        let code = &alter.code;
        for action in &alter.actions {
            let Some((column, type_at)) = altered_type(code, action) else {
                continue;
            };
            let using = code
                .find_at_depth(type_at..action.end, 0, &["using"])
                .is_some();
            if using || !may_be_free(code, type_at) {
                out.push(
                    Report::statement(
                        i,
                        code.span(action.start, action.end - 1),
                        format!(
                            "changing the type of `{}.{column}` rewrites the table under an exclusive lock",
                            alter.table
                        ),
                    )
                    .help("add a column of the new type, backfill it in sql/backfills/, then switch over"),
                );
            }
        }
    }
}

/// Types a column can change to without a rewrite from a narrower kind of itself: when the
/// target is one of them, the change is likely one of PostgreSQL's free ones.
const WIDENING_TARGETS: &[&[&str]] = &[
    &["text"],
    &["varchar"],
    &["character", "varying"],
    &["numeric"],
    &["decimal"],
    &["varbit"],
    &["bit", "varying"],
    &["citext"],
    &["inet"],
];

fn may_be_free(code: &crate::sql::code::Code<'_>, type_at: usize) -> bool {
    let at = if code.is(type_at, "pg_catalog")
        && code.kind(type_at + 1) == Some(crate::sql::TokenKind::Dot)
    {
        type_at + 2
    } else {
        type_at
    };
    // `timestamptz(6)`: a precision, so most likely a change of precision of the same
    // type, which is free when it grows.
    let precision = ["timestamp", "timestamptz", "time", "timetz", "interval"]
        .iter()
        .any(|t| code.is(at, t))
        && code.kind(at + 1) == Some(crate::sql::TokenKind::OpenParen);
    (precision || WIDENING_TARGETS.iter().any(|words| code.at(at, words)))
        // `varchar(10)[]` changes the type's kind: an array is no widening.
        && !(at..code.len()).any(|j| code.depth(j) == 0 && code.text(j) == "[")
}

#[cfg(test)]
mod tests {
    use crate::config::Phase;
    use crate::lint::test_utils::{lint_errors, lint_ok};

    #[test]
    fn a_type_change_is_found() {
        insta::assert_snapshot!(lint_errors(
            Phase::Ddl,
            "ALTER TABLE call_log ADD COLUMN note text, ALTER COLUMN duration TYPE bigint USING duration::bigint;\n"
        ));
    }

    #[test]
    fn conversions_are_found_even_to_widening_types() {
        let findings = crate::lint::test_utils::lint(
            Phase::Ddl,
            "ALTER TABLE leads ALTER COLUMN code TYPE text USING code::text, ALTER COLUMN at TYPE timestamptz, ALTER COLUMN n TYPE int;\n",
        );
        assert_eq!(findings.len(), 3, "{findings:?}");
    }

    #[test]
    fn new_tables_and_other_alters_are_clean() {
        lint_ok(
            Phase::Ddl,
            "CREATE TABLE t (a int);\nALTER TABLE t ALTER COLUMN a TYPE bigint;\nALTER TABLE call_log ALTER COLUMN duration SET DEFAULT 0;\nALTER TYPE mood ADD VALUE 'sad';\nALTER TABLE leads ALTER COLUMN name TYPE varchar(200), ALTER COLUMN note TYPE text, ALTER COLUMN amount SET DATA TYPE numeric(14, 2), ALTER COLUMN ip TYPE inet;\n",
        );
    }
}
