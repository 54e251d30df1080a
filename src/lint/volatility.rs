//! Whether a column default can be computed once: PostgreSQL stores a non-volatile default
//! of `ADD COLUMN` in the catalog (no rewrite, since 11) and computes a volatile one for
//! every row, rewriting the table. The linter cannot see the catalog, so it decides as
//! PostgreSQL would from what it can prove: every function the expression calls must be
//! one it knows is STABLE or IMMUTABLE (the catalogue below, or `stable_functions:` in
//! `lint-rules.yaml`). An unknown function is reported, never assumed harmless.

use std::ops::Range;

use crate::sql::TokenKind;
use crate::sql::code::Code;

/// Built-in functions (and function-like constructs) marked STABLE or IMMUTABLE in
/// `pg_proc` that show up in column defaults, with how many arguments they take at most
/// (`now(123)` is no `now()`: PostgreSQL would reject it, and it proves nothing).
const NOT_VOLATILE: &[(&str, u8)] = &[
    // Time: the transaction's, not the row's.
    ("now", 0),
    ("transaction_timestamp", 0),
    ("statement_timestamp", 0),
    ("current_timestamp", 1),
    ("current_time", 1),
    ("localtimestamp", 1),
    ("localtime", 1),
    ("current_date", 0),
    ("date_trunc", 3),
    ("date_part", 2),
    ("extract", 9),
    ("make_date", 3),
    ("make_time", 3),
    ("make_timestamp", 6),
    ("make_timestamptz", 7),
    ("make_interval", 7),
    ("to_timestamp", 2),
    ("to_date", 2),
    ("to_char", 2),
    ("to_number", 2),
    ("timezone", 2),
    ("age", 2),
    // Text.
    ("lower", 1),
    ("upper", 1),
    ("initcap", 1),
    ("btrim", 2),
    ("trim", 9),
    ("ltrim", 2),
    ("rtrim", 2),
    ("concat", 99),
    ("concat_ws", 99),
    ("format", 99),
    ("substring", 9),
    ("substr", 3),
    ("left", 2),
    ("right", 2),
    ("length", 2),
    ("replace", 3),
    ("repeat", 2),
    ("lpad", 3),
    ("rpad", 3),
    ("md5", 1),
    ("sha256", 1),
    ("encode", 2),
    ("decode", 2),
    ("chr", 1),
    // Numbers.
    ("abs", 1),
    ("round", 2),
    ("floor", 1),
    ("ceil", 1),
    ("ceiling", 1),
    ("trunc", 2),
    ("mod", 2),
    ("power", 2),
    ("sqrt", 1),
    // Constructs and conversions.
    ("coalesce", 99),
    ("nullif", 2),
    ("greatest", 99),
    ("least", 99),
    ("cast", 9),
    ("row", 99),
    ("array", 9),
    ("jsonb_build_object", 99),
    ("json_build_object", 99),
    ("jsonb_build_array", 99),
    ("json_build_array", 99),
    ("to_jsonb", 1),
    ("to_json", 1),
    ("array_fill", 3),
    ("string_to_array", 3),
    ("array_to_string", 3),
    ("uuid_nil", 0),
    // Session facts, fixed for the statement.
    ("current_setting", 2),
    ("current_user", 0),
    ("session_user", 0),
    ("current_schema", 0),
    ("current_database", 0),
    ("pg_backend_pid", 0),
];

/// Type names that take a modifier in parentheses (`varchar(20)`, `numeric(10, 2)`): after
/// `::` or `AS` they are types, not calls.
const TYPES_WITH_MODIFIERS: &[&str] = &[
    "varchar",
    "char",
    "character",
    "varying",
    "numeric",
    "decimal",
    "timestamp",
    "timestamptz",
    "time",
    "timetz",
    "interval",
    "bit",
    "varbit",
    "float",
];

/// Built-in functions marked VOLATILE in `pg_proc` that defaults use most: for these the
/// finding says so plainly rather than "cannot prove".
const KNOWN_VOLATILE: &[&str] = &[
    "random",
    "random_normal",
    "gen_random_uuid",
    "uuidv4",
    "uuidv7",
    "uuid_generate_v1",
    "uuid_generate_v1mc",
    "uuid_generate_v4",
    "clock_timestamp",
    "timeofday",
    "nextval",
    "setval",
    "gen_random_bytes",
];

/// Whether `name` is a built-in PostgreSQL marks VOLATILE (see [`KNOWN_VOLATILE`]).
pub fn is_known_volatile(name: &str) -> bool {
    KNOWN_VOLATILE.iter().any(|v| v.eq_ignore_ascii_case(name))
}

/// The first call in `code[range]` (a default expression) that sqlrail cannot prove
/// STABLE or IMMUTABLE: its token index. `allowed` names the user's own functions known to
/// be so (`stable_functions:`), bare or schema-qualified.
pub fn first_volatile_call(
    code: &Code<'_>,
    range: Range<usize>,
    allowed: &[String],
) -> Option<usize> {
    let end = range.end.min(code.len());
    (range.start..end).find(|&j| {
        if code.kind(j + 1) != Some(TokenKind::OpenParen)
            || !matches!(code.kind(j), Some(TokenKind::Word | TokenKind::QuotedIdent))
        {
            return false;
        }
        let after_type_context = j > 0
            && (code.kind(j - 1) == Some(TokenKind::Cast)
                || code.is(j - 1, "as")
                || code.is(j - 1, "varying"));
        if after_type_context
            && TYPES_WITH_MODIFIERS
                .iter()
                .any(|t| code.text(j).eq_ignore_ascii_case(t))
        {
            return false;
        }
        // `s.f(`: the function's own name is the last part; the schema is checked by
        // `allowed` only.
        let qualified = qualified_name(code, j);
        if allowed.iter().any(|a| {
            a.eq_ignore_ascii_case(&qualified)
                || (!a.contains('.') && a.eq_ignore_ascii_case(code.text(j)))
        }) {
            return false;
        }
        let in_pg_catalog =
            j < 2 || code.kind(j - 1) != Some(TokenKind::Dot) || { code.is(j - 2, "pg_catalog") };
        let arguments = arguments(code, j + 1);
        !(in_pg_catalog
            && NOT_VOLATILE.iter().any(|(name, most)| {
                code.text(j).eq_ignore_ascii_case(name) && arguments <= usize::from(*most)
            }))
    })
}

/// `schema.name` for the call whose name is token `j` (`name` when unqualified).
fn qualified_name(code: &Code<'_>, j: usize) -> String {
    if j >= 2 && code.kind(j - 1) == Some(TokenKind::Dot) {
        format!("{}.{}", code.text(j - 2), code.text(j)).to_ascii_lowercase()
    } else {
        code.text(j).to_ascii_lowercase()
    }
}

/// How many arguments the group opened at `open` holds (commas at its depth, plus one
/// unless it is empty).
fn arguments(code: &Code<'_>, open: usize) -> usize {
    let close = code.skip_group(open).saturating_sub(1);
    if close <= open + 1 {
        return 0;
    }
    let depth = code.depth(open) + 1;
    1 + (open + 1..close)
        .filter(|&k| code.kind(k) == Some(TokenKind::Comma) && code.depth(k) == depth)
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn volatile(expr: &str, allowed: &[&str]) -> Option<String> {
        let code = Code::of(expr);
        let allowed: Vec<String> = allowed.iter().map(|s| s.to_string()).collect();
        first_volatile_call(&code, 0..code.len(), &allowed).map(|j| code.text(j).to_owned())
    }

    #[test]
    fn calls_not_known_stable_are_volatile() {
        assert_eq!(
            volatile("gen_random_uuid()", &[]).as_deref(),
            Some("gen_random_uuid")
        );
        assert_eq!(volatile("make_code()", &[]).as_deref(), Some("make_code"));
        assert_eq!(volatile("uuidv7()", &[]).as_deref(), Some("uuidv7"));
        // `now()` takes no arguments: `now(123)` is not the stable built-in.
        assert_eq!(volatile("now(123)", &[]).as_deref(), Some("now"));
        assert_eq!(volatile("lower(app.f(x))", &[]).as_deref(), Some("f"));
        assert_eq!(volatile("app.lower('A')", &[]).as_deref(), Some("lower"));
        // The message says "VOLATILE" only for built-ins PostgreSQL marks so.
        assert!(is_known_volatile("GEN_RANDOM_UUID"));
        assert!(!is_known_volatile("make_code"));
    }

    #[test]
    fn constants_stable_calls_types_and_allowed_functions_are_not() {
        for expr in [
            "now()",
            "current_timestamp",
            "CURRENT_TIMESTAMP(3)",
            "'x'",
            "0",
            "lower('A')",
            "'{}'::jsonb",
            "0::numeric(10, 2)",
            "CAST('a' AS varchar(10))",
            "pg_catalog.now()",
            "coalesce(current_setting('app.x', true), 'y')",
        ] {
            assert_eq!(volatile(expr, &[]), None, "{expr}");
        }
        assert_eq!(volatile("make_code()", &["make_code"]), None);
        assert_eq!(volatile("app.make_code()", &["app.make_code"]), None);
        assert_eq!(
            volatile("other.make_code()", &["app.make_code"]).as_deref(),
            Some("make_code")
        );
    }
}
