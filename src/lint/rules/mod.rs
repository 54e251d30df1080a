//! The rule registry: one file per rule, each exporting `RULE`. The order here is the
//! order of `--list-rules` and `docs/rules.md`.

mod allow_missing_reason;
mod alter_column_type;
mod attach_partition;
mod backfill_comment;
mod backfill_without_key_range;
mod bad_file_name;
mod checksum_mismatch;
mod constraint_not_valid;
mod ddl_in_backfills;
mod detach_partition;
mod dml_in_ddl;
pub(crate) mod dml_in_do_block;
mod dml_in_indexes;
mod drop;
mod duplicate_version;
mod enum_value_in_transaction;
mod exclusion_constraint;
pub(crate) mod fingerprint_invalid;
mod fingerprint_missing;
mod fingerprint_unsound;
mod identifier_too_long;
mod index_not_concurrent;
mod index_outside_indexes;
mod index_placement;
mod lock_table;
mod manifest_missing_entry;
mod manifest_missing_file;
mod non_transactional_in_ddl;
mod not_null_without_default;
mod one_statement_per_index_file;
mod prefer_bigint_keys;
mod prefer_identity;
mod prefer_text;
mod prefer_timestamptz;
mod refresh_materialized_view;
mod rename;
mod rewrite_table;
mod set_not_null;
mod touches_sqlrail_tables;
mod transaction_control;
mod unique_constraint_build;
mod unknown_rule;
mod unused_allow;
mod volatile_default;

use super::rule::Rule;

pub use allow_missing_reason::RULE as ALLOW_MISSING_REASON;
pub use dml_in_do_block::RULE as DML_IN_DO_BLOCK;
pub use unknown_rule::RULE as UNKNOWN_RULE;
pub use unused_allow::RULE as UNUSED_ALLOW;

pub static ALL: &[&Rule] = &[
    // The phases.
    &dml_in_ddl::RULE,
    &dml_in_do_block::RULE,
    &backfill_comment::RULE,
    &index_outside_indexes::RULE,
    &index_not_concurrent::RULE,
    &one_statement_per_index_file::RULE,
    &ddl_in_backfills::RULE,
    &dml_in_indexes::RULE,
    &transaction_control::RULE,
    &non_transactional_in_ddl::RULE,
    &backfill_without_key_range::RULE,
    &index_placement::RULE,
    &touches_sqlrail_tables::RULE,
    // Lock hazards.
    &alter_column_type::RULE,
    &set_not_null::RULE,
    &constraint_not_valid::RULE,
    &volatile_default::RULE,
    &unique_constraint_build::RULE,
    &not_null_without_default::RULE,
    &exclusion_constraint::RULE,
    &attach_partition::RULE,
    &detach_partition::RULE,
    &rewrite_table::RULE,
    &refresh_materialized_view::RULE,
    &lock_table::RULE,
    &enum_value_in_transaction::RULE,
    &identifier_too_long::RULE,
    &rename::RULE,
    &drop::RULE,
    // Style, off unless `style: true` (see `STYLE`).
    &prefer_bigint_keys::RULE,
    &prefer_identity::RULE,
    &prefer_text::RULE,
    &prefer_timestamptz::RULE,
    // Project consistency.
    &manifest_missing_entry::RULE,
    &manifest_missing_file::RULE,
    &checksum_mismatch::RULE,
    &duplicate_version::RULE,
    &bad_file_name::RULE,
    &fingerprint_invalid::RULE,
    &fingerprint_unsound::RULE,
    &fingerprint_missing::RULE,
    // Exceptions.
    &unknown_rule::RULE,
    &allow_missing_reason::RULE,
    &unused_allow::RULE,
];

/// The style rules squawk users expect: off unless `style: true` in `lint-rules.yaml`.
pub static STYLE: &[&str] = &[
    prefer_bigint_keys::RULE.id,
    prefer_identity::RULE.id,
    prefer_text::RULE.id,
    prefer_timestamptz::RULE.id,
];

pub fn is_style(rule: &Rule) -> bool {
    STYLE.contains(&rule.id)
}

pub fn find(id: &str) -> Option<&'static Rule> {
    ALL.iter().copied().find(|r| r.id == id)
}

/// A rule's section of `docs/rules.md`, also what `lint --explain` prints.
pub fn markdown(rule: &Rule) -> String {
    format!(
        "## {}

{} (default severity: {})

{}
",
        rule.id,
        capitalised(rule.summary),
        rule.severity.as_str(),
        rule.explanation
    )
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// The whole of `docs/rules.md`.
pub fn rules_document() -> String {
    let mut doc = String::from(concat!(
        "# Lint rules\n\n",
        "<!-- Generated from src/lint/rules/*.rs by `cargo test` (SQLRAIL_UPDATE_DOCS=1 rewrites it); ",
        "edit the rule files, not this page. -->\n\n",
        "`sqlrail lint --explain <rule>` prints one of these sections. Severities can be changed, ",
        "or rules switched off, under `rules:` in `lint-rules.yaml` (see docs/lint-rules.md); ",
        "exceptions are written as `-- sqlrail:allow <rule> reason=\"…\"`.\n\n",
        "| rule | default | finds |\n|---|---|---|\n",
    ));
    for rule in ALL {
        doc.push_str(&format!(
            "| [`{}`](#{}) | {} | {} |
",
            rule.id,
            rule.id,
            rule.severity.as_str(),
            rule.summary.replace('|', "\\|")
        ));
    }
    for rule in ALL {
        doc.push('\n');
        doc.push_str(&markdown(rule));
    }
    doc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docs_rules_md_is_generated_from_the_rules() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/rules.md");
        let expected = rules_document();
        if std::env::var_os("SQLRAIL_UPDATE_DOCS").is_some() {
            std::fs::write(&path, &expected).unwrap();
        }
        let actual = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            actual == expected,
            "docs/rules.md is out of date; run `SQLRAIL_UPDATE_DOCS=1 cargo test --lib docs_rules_md`"
        );
    }

    #[test]
    fn ids_are_unique_kebab_case_and_match_their_files() {
        let mut seen = std::collections::HashSet::new();
        for rule in ALL {
            assert!(seen.insert(rule.id), "{} twice", rule.id);
            assert!(
                rule.id.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'),
                "{}",
                rule.id
            );
            let file = format!(
                "{}/src/lint/rules/{}.rs",
                env!("CARGO_MANIFEST_DIR"),
                rule.id.replace('-', "_")
            );
            assert!(std::path::Path::new(&file).is_file(), "{file}");
            for part in ["**Problem.**", "**Safe alternative.**", "**Example.**"] {
                assert!(rule.explanation.contains(part), "{}: {part}", rule.id);
            }
        }
    }
}
