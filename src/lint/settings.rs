//! `lint-rules.yaml` turned into what the engine uses: compiled regexes, folded hot-table
//! names and a level per rule. Built once per run.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::config::{ConfigError, CustomRule, LintRules, Phase, RuleLevel, Severity};
use crate::sql::names::{fold_qualified, split_schema};

use super::pattern::SpanPattern;
use super::rule::Rule;
use super::rules;

pub struct LintSettings {
    pub fail_on: Severity,
    /// Folded names (`leads`, `crm.leads`), each with whether it names a schema.
    hot_tables: Vec<(String, bool)>,
    pub seed_rows_max: u32,
    pub backfill_comment: regex::Regex,
    levels: HashMap<String, RuleLevel>,
    /// `levels` of each built-in rule, in `rules::ALL` order: looked up once per run, not
    /// once per finding.
    builtin_levels: Vec<Option<RuleLevel>>,
    pub custom: Vec<CompiledCustomRule>,
    /// Where the baseline lives (`None` when linting without a `lint-rules.yaml`).
    pub baseline: Option<PathBuf>,
    /// The oldest PostgreSQL major version the migrations must be safe on.
    pub postgres_version: u32,
    /// The project's functions declared STABLE or IMMUTABLE, folded.
    pub stable_functions: Vec<String>,
}

pub struct CompiledCustomRule {
    pub rule: CustomRule,
    pub pattern: SpanPattern,
}

impl LintSettings {
    /// Builds settings from parsed rules read from `path` (`None`: built-in defaults).
    /// Rule ids under `rules:` must exist.
    pub fn new(rules: LintRules, path: Option<(&Path, &str)>) -> Result<Self, ConfigError> {
        let invalid = |message: String, key: &str| match path {
            Some((path, text)) => ConfigError::Invalid {
                path: path.to_owned(),
                line: crate::config::line_of_key(text, key),
                message,
            },
            None => ConfigError::Invalid {
                path: PathBuf::from("lint-rules.yaml"),
                line: 1,
                message,
            },
        };
        for id in rules.rules.keys() {
            let custom = rules.custom.iter().any(|c| &c.id == id);
            if rules::find(id).is_none() && !custom {
                return Err(invalid(
                    format!(
                        "rules: `{id}` is not a rule; `sqlrail lint --list-rules` shows them all"
                    ),
                    id,
                ));
            }
        }
        for custom in &rules.custom {
            if rules::find(&custom.id).is_some() {
                return Err(invalid(
                    format!(
                        "custom rule `{}` has the id of a built-in rule; choose another id",
                        custom.id
                    ),
                    "custom",
                ));
            }
        }
        // Both regexes were checked when the file was parsed.
        let compile = |p: &str| crate::config::compiled_regex(p).expect("validated at load");
        Ok(LintSettings {
            fail_on: rules.fail_on,
            hot_tables: rules
                .hot_tables
                .iter()
                .map(|t| {
                    let folded = fold_qualified(t);
                    let qualified = split_schema(&folded).0.is_some();
                    (folded, qualified)
                })
                .collect(),
            seed_rows_max: rules.seed_rows_max,
            backfill_comment: compile(&rules.backfill_comment_pattern),
            // The style rules are off unless `style: true` turns them on, or a level is
            // given to one of them.
            builtin_levels: rules::ALL
                .iter()
                .map(|rule| match rules.rules.get(rule.id) {
                    Some(level) => Some(*level),
                    None if !rules.style && rules::is_style(rule) => Some(RuleLevel::Off),
                    None => None,
                })
                .collect(),
            postgres_version: rules.postgres_version,
            stable_functions: rules
                .stable_functions
                .iter()
                .map(|f| fold_qualified(f))
                .collect(),
            levels: rules.rules.into_iter().collect(),
            custom: rules
                .custom
                .into_iter()
                .map(|rule| CompiledCustomRule {
                    pattern: SpanPattern::new(compile(&rule.pattern)),
                    rule,
                })
                .collect(),
            baseline: path.map(|(p, _)| p.parent().unwrap_or(Path::new(".")).join(&rules.baseline)),
        })
    }

    /// Built-in defaults (no `lint-rules.yaml` found).
    pub fn defaults() -> Self {
        LintSettings::new(LintRules::default(), None).expect("defaults are valid")
    }

    pub fn is_hot(&self, table: &str) -> bool {
        // `same_relation` against each hot table, with `table` split once: every DML
        // statement of a DDL file asks.
        let (schema, name) = split_schema(table);
        self.hot_tables.iter().any(|(hot, qualified)| {
            hot == table || (*qualified != schema.is_some() && split_schema(hot).1 == name)
        })
    }

    /// The severity findings of rule `id` get: the configured level, else `default`.
    /// `None`: the rule is off.
    pub fn severity(&self, id: &str, default: Severity) -> Option<Severity> {
        match rules::ALL.iter().position(|r| r.id == id) {
            Some(n) => leveled(self.builtin_levels[n], default),
            None => leveled(self.levels.get(id).copied(), default),
        }
    }

    /// The built-in rules with their configured levels (`None`: not configured).
    pub fn builtin_rules(&self) -> impl Iterator<Item = (&'static Rule, Option<RuleLevel>)> + '_ {
        rules::ALL
            .iter()
            .copied()
            .zip(self.builtin_levels.iter().copied())
    }

    /// Whether a level was configured for `id` (it then replaces graded severities too).
    pub fn configured(&self, id: &str) -> bool {
        self.levels.contains_key(id)
    }

    pub fn custom_for(&self, phase: Phase) -> impl Iterator<Item = &CompiledCustomRule> {
        self.custom
            .iter()
            .filter(move |c| c.rule.directories.contains(&phase))
    }
}

/// The severity a finding gets from its rule's configured `level` (`None`: not configured,
/// so `default`, the rule's or the one it graded). `None`: the rule is off.
pub fn leveled(level: Option<RuleLevel>, default: Severity) -> Option<Severity> {
    match level {
        None => Some(default),
        Some(RuleLevel::Off) => None,
        Some(RuleLevel::Warning) => Some(Severity::Warning),
        Some(RuleLevel::Low) => Some(Severity::Low),
        Some(RuleLevel::Medium) => Some(Severity::Medium),
        Some(RuleLevel::High) => Some(Severity::High),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hot_tables_match_as_relations() {
        let text = "hot_tables: [Leads, crm.call_log]\n";
        let path = Path::new("lint-rules.yaml");
        let rules = LintRules::parse(path, text).unwrap();
        let settings = LintSettings::new(rules, Some((path, text))).unwrap();
        for hot in ["leads", "public.leads", "call_log", "crm.call_log"] {
            assert!(settings.is_hot(hot), "{hot}");
        }
        for cold in ["other.call_log", "Leads", "lead", "crm.leads.x"] {
            assert!(!settings.is_hot(cold), "{cold}");
        }
    }
}
