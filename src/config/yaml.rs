//! The one place that knows the YAML library (`serde_yaml` is deprecated upstream; keeping
//! it behind this module means replacing it touches one file).

use std::path::Path;

use serde::de::DeserializeOwned;

use super::ConfigError;

/// Parses `text` (the contents of `path`) into `T`, mapping the library's error to the file,
/// line and column it names.
/// Enums are written as one-key maps (`fingerprint: { table: leads }`), not YAML tags.
pub(crate) fn parse<T: DeserializeOwned>(path: &Path, text: &str) -> Result<T, ConfigError> {
    let deserializer = serde_yaml::Deserializer::from_str(text);
    serde_yaml::with::singleton_map_recursive::deserialize(deserializer).map_err(
        |error: serde_yaml::Error| {
            let (line, column) = error
                .location()
                .map_or((1, 1), |l| (l.line() as u32, l.column() as u32));
            ConfigError::Syntax {
                path: path.to_owned(),
                line,
                column,
                message: tidy(&error.to_string()),
            }
        },
    )
}

/// serde_yaml appends " at line L column C" to its messages; the location is reported
/// separately, in the `path:line:column` prefix.
fn tidy(message: &str) -> String {
    match message.find(" at line ") {
        Some(at) => message[..at].to_owned(),
        None => message.to_owned(),
    }
}

/// The value of a `key: value` line (`- key: value`, quoted or not, before a `# comment`).
fn value_of<'t>(line: &'t str, key: &str) -> Option<&'t str> {
    let line = line.trim_start().trim_start_matches("- ").trim_start();
    let rest = line.strip_prefix(key)?.trim_start().strip_prefix(':')?;
    // A trailing `# comment` is not part of the value.
    let rest = rest.split(" #").next().unwrap_or(rest);
    Some(rest.trim().trim_matches(['"', '\'']))
}

/// The 1-based line of the `occurrence`-th (from 0) `key: value` line of `text`: used to
/// point validation errors (found after parsing) at the entry they are about.
pub(crate) fn line_of(text: &str, key: &str, value: &str, occurrence: usize) -> u32 {
    text.lines()
        .enumerate()
        .filter(|(_, line)| value_of(line, key) == Some(value))
        .nth(occurrence)
        .map_or(1, |(n, _)| n as u32 + 1)
}

/// Every `key: value` line of `text`, by value: the lines (1-based) where each value
/// appears, in order. One pass, for callers that look many values up (a manifest of
/// 50,000 entries was searched once per entry).
pub(crate) fn lines_by_value<'t>(
    text: &'t str,
    key: &str,
) -> std::collections::HashMap<&'t str, Vec<u32>> {
    let mut lines: std::collections::HashMap<&str, Vec<u32>> = std::collections::HashMap::new();
    for (n, line) in text.lines().enumerate() {
        if let Some(value) = value_of(line, key) {
            lines.entry(value).or_default().push(n as u32 + 1);
        }
    }
    lines
}

/// The 1-based line where `key:` first appears (for errors about a setting).
pub(crate) fn line_of_key(text: &str, key: &str) -> u32 {
    text.lines()
        .position(|line| {
            line.trim_start()
                .strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with(':'))
        })
        .map_or(1, |n| n as u32 + 1)
}

/// The 1-based line of `key:` inside the `section:` block (the first `key:` after the
/// section's line); falls back to the section's line.
pub(crate) fn line_of_nested(text: &str, section: &str, key: &str) -> u32 {
    let section_line = line_of_key(text, section) as usize;
    text.lines()
        .enumerate()
        .skip(section_line)
        .find(|(_, line)| {
            line.trim_start()
                .strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with(':'))
        })
        .map_or(section_line as u32, |(n, _)| n as u32 + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_line_of_a_keyed_entry() {
        let text = "migrations:\n  - id: ddl/V1__a\n  - id: \"ddl/V2__b\"\n";
        assert_eq!(line_of(text, "id", "ddl/V2__b", 0), 3);
        assert_eq!(line_of(text, "id", "nope", 0), 1);
        assert_eq!(
            line_of(
                "- id: a
- id: a
",
                "id",
                "a",
                1
            ),
            2
        );
    }
}
