//! `volatile-default`: a new column whose default must be computed row by row.

use crate::config::Severity;
use crate::lint::context::FileContext;
use crate::lint::rule::{Check, Report, Rule};
use crate::sql::TokenKind;

pub const RULE: Rule = Rule {
    id: "volatile-default",
    summary: "ADD COLUMN on an existing table with a volatile default, a serial type or a stored generated column (table rewrite)",
    severity: Severity::Medium,
    check: Check::File(check),
    explanation: r#"**Problem.** Since PostgreSQL 11, `ADD COLUMN … DEFAULT <constant>` is instant: the
default is stored once in the catalog. A *volatile* default (`random()`,
`gen_random_uuid()`, `clock_timestamp()`, `nextval()`, which `serial` types use) or a
`GENERATED … STORED` column must be computed for every row: the table is rewritten under an
ACCESS EXCLUSIVE lock. (`now()` is stable, not volatile, and is instant.)

**Safe alternative.** Add the column without the default (or with a constant), set the
default for new rows with `ALTER COLUMN … SET DEFAULT`, and fill existing rows in a batched
backfill.

**Example.**
```sql
ALTER TABLE leads ADD COLUMN public_id uuid DEFAULT gen_random_uuid();   -- volatile-default

-- instead
ALTER TABLE leads ADD COLUMN public_id uuid;
ALTER TABLE leads ALTER COLUMN public_id SET DEFAULT gen_random_uuid();
UPDATE leads SET public_id = gen_random_uuid() WHERE id BETWEEN :lo AND :hi AND public_id IS NULL;   -- sql/backfills
```"#,
};

/// Built-in functions marked volatile that appear in column defaults.
const VOLATILE: &[&str] = &[
    "random",
    "gen_random_uuid",
    "uuid_generate_v1",
    "uuid_generate_v1mc",
    "uuid_generate_v4",
    "clock_timestamp",
    "timeofday",
    "nextval",
    "txid_current",
];

const SERIAL: &[&str] = &[
    "serial",
    "serial2",
    "serial4",
    "serial8",
    "smallserial",
    "bigserial",
];

fn check(file: &FileContext<'_>, out: &mut Vec<Report>) {
    for (i, alter) in file.table_alters() {
        let i = *i;
        let code = &alter.code;
        for action in &alter.actions {
            if !code.is(action.start, "add") {
                continue;
            }
            let mut at = action.start + 1;
            if code.is(at, "column") {
                at += 1;
            }
            if code.at(at, &["if", "not", "exists"]) {
                at += 3;
            }
            // `ADD CONSTRAINT …`, `ADD PRIMARY KEY …` are not columns.
            if [
                "constraint",
                "primary",
                "unique",
                "check",
                "foreign",
                "exclude",
            ]
            .iter()
            .any(|w| code.is(at, w))
            {
                continue;
            }
            let Some((column, type_at)) = code.name(at) else {
                continue;
            };
            let cause = if SERIAL.iter().any(|s| code.is(type_at, s)) {
                Some(format!(
                    "type `{}` fills every row from a sequence",
                    code.text(type_at)
                ))
            } else if code
                .find_at_depth(action.clone(), 0, &["generated"])
                .and_then(|g| code.find_at_depth(g..action.end, 0, &["stored"]))
                .is_some()
            {
                Some("a stored generated column is computed for every row".to_owned())
            } else {
                code.find_at_depth(action.clone(), 0, &["default"])
                    .and_then(|d| {
                        (d + 1..action.end).find(|&j| {
                            VOLATILE.iter().any(|f| code.is(j, f))
                                && code.kind(j + 1) == Some(TokenKind::OpenParen)
                        })
                    })
                    .map(|j| format!("default `{}()` is volatile", code.text(j)))
            };
            if let Some(cause) = cause {
                out.push(
                    Report::statement(
                        i,
                        code.span(action.start, action.end - 1),
                        format!(
                            "adding `{}.{column}` rewrites the table: {cause}",
                            alter.table
                        ),
                    )
                    .help("add the column without it, SET DEFAULT for new rows, backfill existing rows in sql/backfills/"),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Phase;
    use crate::lint::test_utils::{lint_errors, lint_ok};

    #[test]
    fn volatile_defaults_serials_and_stored_columns_are_found() {
        insta::assert_snapshot!(lint_errors(
            Phase::Ddl,
            "ALTER TABLE leads ADD COLUMN public_id uuid DEFAULT gen_random_uuid();\nALTER TABLE leads ADD COLUMN seq bigserial;\nALTER TABLE leads ADD COLUMN name_lc text GENERATED ALWAYS AS (lower(name)) STORED;\n"
        ));
    }

    #[test]
    fn stable_and_constant_defaults_are_clean() {
        lint_ok(
            Phase::Ddl,
            "ALTER TABLE leads ADD COLUMN created_at timestamptz NOT NULL DEFAULT now();\nALTER TABLE leads ADD COLUMN tabs jsonb DEFAULT '{}';\nALTER TABLE leads ALTER COLUMN public_id SET DEFAULT gen_random_uuid();\nCREATE TABLE t (id bigserial);\n",
        );
    }
}
