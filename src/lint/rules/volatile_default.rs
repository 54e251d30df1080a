//! `volatile-default`: a new column whose default must be computed row by row.

use crate::config::Severity;
use crate::lint::alter_action::{added_column, clause, default_expression};
use crate::lint::context::FileContext;
use crate::lint::rule::{Check, Report, Rule};
use crate::lint::volatility::{first_volatile_call, is_known_volatile};

pub const RULE: Rule = Rule {
    id: "volatile-default",
    summary: "ADD COLUMN on an existing table with a default not proven STABLE/IMMUTABLE, a serial or identity type, or a stored generated column (table rewrite)",
    severity: Severity::High,
    check: Check::File(check),
    explanation: r#"**Problem.** Since PostgreSQL 11, `ADD COLUMN … DEFAULT <expr>` is instant when the
expression is not volatile: it is computed once and kept in the catalog. A *volatile*
default (`random()`, `gen_random_uuid()`, `uuidv7()`, `clock_timestamp()`, `nextval()`, which
`serial` types use), an identity column (`GENERATED … AS IDENTITY`) or a stored generated
column must be computed for every row: the table is rewritten under an ACCESS EXCLUSIVE
lock, which blocks every read and write of it (and queues everything behind it) until the
rewrite and its index rebuilds end: minutes on a big table. sqlrail decides volatility as
PostgreSQL does, from the functions the default calls: every one must be a built-in it
knows to be STABLE or IMMUTABLE (`now()`, `lower()`, `coalesce()` …) or one you declare
under `stable_functions:` in `lint-rules.yaml`; anything else (your `make_code()`) is
reported. Before 11 (`postgres_version: 10`) every non-NULL default rewrites.

**Safe alternative.** Three steps, each instant or non-blocking:
1. `sql/ddl`: add the column without the default, then `ALTER COLUMN … SET DEFAULT`
   (only new rows use it; no rewrite).
2. `sql/backfills`: fill the existing rows in batches.
3. When the function is yours and is `STABLE` or `IMMUTABLE`, say so once in
   `lint-rules.yaml` (`stable_functions: [make_code]`) instead.

**Example.**
```sql
ALTER TABLE leads ADD COLUMN public_id uuid DEFAULT gen_random_uuid();   -- volatile-default

-- instead: sql/ddl/V20__leads_public_id.sql
ALTER TABLE leads ADD COLUMN public_id uuid;
ALTER TABLE leads ALTER COLUMN public_id SET DEFAULT gen_random_uuid();

-- sql/backfills/V7__leads_public_id.sql
UPDATE leads SET public_id = gen_random_uuid() WHERE id BETWEEN :lo AND :hi AND public_id IS NULL;
```"#,
};

const SERIAL: &[&str] = &[
    "serial",
    "serial2",
    "serial4",
    "serial8",
    "smallserial",
    "bigserial",
];

/// Domains with constraints this file creates, with their statements: a new column of
/// such a type is checked row by row, which rewrites the table even without a default.
fn constrained_domains(file: &FileContext<'_>) -> Vec<(usize, String)> {
    file.statements()
        .filter(|(_, s)| s.tag == "CREATE DOMAIN")
        .filter_map(|(i, _)| {
            let code = file.code(i);
            let (name, _) = code.name(2)?;
            let constrained = code.find_at_depth(3..code.len(), 0, &["check"]).is_some()
                || code
                    .find_at_depth(3..code.len(), 0, &["not", "null"])
                    .is_some();
            constrained.then_some((i, name))
        })
        .collect()
}

fn check(file: &FileContext<'_>, out: &mut Vec<Report>) {
    let settings = file.settings;
    let domains = if file.may_contain_anywhere(b"domain") {
        constrained_domains(file)
    } else {
        Vec::new()
    };
    for (i, alter) in file.table_alters() {
        let i = *i;
        let code = &alter.code;
        for action in &alter.actions {
            let Some(column) = added_column(code, action) else {
                continue;
            };
            let generated = clause(code, &column, &["generated"]);
            let identity = generated.and_then(|g| {
                code.find_at_depth(g..action.end, code.depth(g), &["as", "identity"])
            });
            // Before 18 every generated column is stored; from 18 only `STORED` ones are.
            let stored = generated.is_some()
                && identity.is_none()
                && (clause(code, &column, &["stored"]).is_some()
                    || (settings.postgres_version < 18
                        && clause(code, &column, &["virtual"]).is_none()));
            let default = default_expression(code, &column);
            let cause = if SERIAL.iter().any(|s| code.is(column.type_at, s)) {
                format!(
                    "type `{}` fills every row from a sequence",
                    code.text(column.type_at)
                )
            } else if let Some((_, domain)) = code.name(column.type_at).and_then(|(t, _)| {
                domains
                    .iter()
                    .find(|(n, d)| *n < i && crate::sql::names::same_relation(d, &t))
            }) {
                format!(
                    "type `{domain}` is a domain with constraints, checked and written for every row"
                )
            } else if identity.is_some() {
                "an identity column fills every row from a sequence".to_owned()
            } else if stored {
                "a stored generated column is computed for every row".to_owned()
            } else if let Some(default) = default {
                let is_null = default.len() == 1 && code.is(default.start, "null");
                if settings.postgres_version < 11 && !is_null {
                    "before PostgreSQL 11 every default is written to every row (postgres_version)"
                        .to_owned()
                } else if let Some(j) =
                    first_volatile_call(code, default, &settings.stable_functions)
                {
                    if is_known_volatile(code.text(j)) {
                        format!(
                            "default calls `{}()`, which is VOLATILE, so it is computed for every row",
                            code.text(j)
                        )
                    } else {
                        format!(
                            "default calls `{}()`, which sqlrail cannot prove STABLE or IMMUTABLE, so it is computed for every row",
                            code.text(j)
                        )
                    }
                } else {
                    continue;
                }
            } else {
                continue;
            };
            out.push(
                Report::statement(
                    i,
                    code.span(action.start, action.end - 1),
                    format!(
                        "adding `{}.{}` rewrites the table under an ACCESS EXCLUSIVE lock: {cause}",
                        alter.table, column.name
                    ),
                )
                .help("add the column without it, SET DEFAULT for new rows, backfill existing rows in sql/backfills/; a function of your own that is STABLE or IMMUTABLE goes under `stable_functions:` in lint-rules.yaml"),
            );
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
            "ALTER TABLE leads ADD COLUMN public_id uuid DEFAULT gen_random_uuid();\nALTER TABLE leads ADD COLUMN seq bigserial;\nALTER TABLE leads ADD COLUMN name_lc text GENERATED ALWAYS AS (lower(name)) STORED;\nALTER TABLE leads ADD COLUMN code text DEFAULT make_code(), ADD COLUMN n int GENERATED ALWAYS AS IDENTITY;\n"
        ));
    }

    #[test]
    fn unknown_and_misused_functions_are_volatile_unless_declared() {
        let sql = "ALTER TABLE leads ADD COLUMN code text DEFAULT make_code();\n";
        assert_eq!(crate::lint::test_utils::lint(Phase::Ddl, sql).len(), 1);
        let sql = "ALTER TABLE leads ADD COLUMN at timestamptz DEFAULT now(123);\n";
        assert_eq!(crate::lint::test_utils::lint(Phase::Ddl, sql).len(), 1);
        let settings = crate::lint::test_utils::settings_with("stable_functions: [make_code]\n");
        let sql = "ALTER TABLE leads ADD COLUMN code text DEFAULT make_code();\n";
        assert!(crate::lint::test_utils::lint_with(&settings, Phase::Ddl, sql).is_empty());
    }

    #[test]
    fn a_column_of_a_constrained_domain_is_found() {
        let sql = "CREATE DOMAIN qty AS int CHECK (VALUE > 0);\nCREATE DOMAIN plain AS int;\nALTER TABLE leads ADD COLUMN a qty, ADD COLUMN b plain;\n";
        let findings = crate::lint::test_utils::lint(Phase::Ddl, sql);
        assert_eq!(findings.len(), 1, "{findings:?}");
        assert!(findings[0].message.contains("domain"));
    }

    #[test]
    fn before_11_every_default_rewrites() {
        let settings = crate::lint::test_utils::settings_with("postgres_version: 10\n");
        let sql = "ALTER TABLE leads ADD COLUMN n int DEFAULT 0;\nALTER TABLE leads ADD COLUMN m int DEFAULT NULL;\n";
        assert_eq!(
            crate::lint::test_utils::lint_with(&settings, Phase::Ddl, sql).len(),
            1
        );
    }

    #[test]
    fn stable_and_constant_defaults_are_clean() {
        lint_ok(
            Phase::Ddl,
            "ALTER TABLE leads ADD COLUMN created_at timestamptz NOT NULL DEFAULT now();\nALTER TABLE leads ADD COLUMN tabs jsonb DEFAULT '{}';\nALTER TABLE leads ALTER COLUMN public_id SET DEFAULT gen_random_uuid();\nCREATE TABLE t (id bigserial);\nALTER TABLE leads ADD COLUMN score numeric(10, 2) DEFAULT 0::numeric(10, 2), ADD COLUMN k text DEFAULT lower('A') NOT NULL;\n",
        );
    }
}
