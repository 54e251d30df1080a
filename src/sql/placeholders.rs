//! A backfill statement as a template: its named parameters (`:lo`, `:hi`, `:tenant_id`,
//! `:batch_size`), found by the lexer (so never inside strings, comments, dollar-quoted
//! bodies or `::` casts), bound as SQL literals for each batch, and the row-lock clause
//! it skips locked rows with, if any.

use std::ops::Range;

use super::code::Code;
use super::lexer::{Lexer, Token, TokenKind};
use super::lines::LineIndex;

/// A named parameter the runner binds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    /// First key of the batch (inclusive).
    Lo,
    /// Last key of the batch (inclusive).
    Hi,
    /// The tenant of a per-tenant run.
    TenantId,
    /// The batch size the runner is using.
    BatchSize,
}

impl Slot {
    fn from_name(name: &str) -> Option<Slot> {
        match name {
            "lo" => Some(Slot::Lo),
            "hi" => Some(Slot::Hi),
            "tenant_id" => Some(Slot::TenantId),
            "batch_size" => Some(Slot::BatchSize),
            _ => None,
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TemplateError {
    #[error(
        "line {line}: unknown parameter `{text}`; a backfill statement may use :lo, :hi, :tenant_id and :batch_size"
    )]
    Unknown { line: u32, text: String },
    #[error(
        "the statement does not use :lo and :hi; restrict it to `<key> BETWEEN :lo AND :hi` (the runner binds each batch's key range)"
    )]
    NoRange,
    #[error("line {line}: unterminated {what}")]
    Unterminated { line: u32, what: String },
}

/// Row-lock strength of a `FOR … SKIP LOCKED` clause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockStrength {
    Update,
    NoKeyUpdate,
    Share,
    KeyShare,
}

impl LockStrength {
    pub fn sql(self) -> &'static str {
        match self {
            LockStrength::Update => "FOR UPDATE",
            LockStrength::NoKeyUpdate => "FOR NO KEY UPDATE",
            LockStrength::Share => "FOR SHARE",
            LockStrength::KeyShare => "FOR KEY SHARE",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Template {
    sql: String,
    slots: Vec<(Range<usize>, Slot)>,
    /// The statement's `FOR … SKIP LOCKED` strength: rows other sessions hold are skipped
    /// and must be looked at again later.
    pub skip_locked: Option<LockStrength>,
}

impl Template {
    pub fn parse(sql: &str) -> Result<Template, TemplateError> {
        let lines = LineIndex::new(sql);
        let mut tokens: Vec<Token> = Vec::new();
        for token in Lexer::new(sql.as_bytes()) {
            match token {
                Ok(t) => tokens.push(t),
                Err(e) => {
                    return Err(TemplateError::Unterminated {
                        line: lines.position(sql, e.start).0,
                        what: e.unclosed.to_string(),
                    });
                }
            }
        }
        let mut slots = Vec::new();
        for t in tokens.iter().filter(|t| t.kind == TokenKind::Variable) {
            let text = t.text(sql);
            match Slot::from_name(&text[1..]) {
                Some(slot) => slots.push((t.start..t.end, slot)),
                None => {
                    return Err(TemplateError::Unknown {
                        line: lines.position(sql, t.start).0,
                        text: text.to_owned(),
                    });
                }
            }
        }
        let uses = |s: Slot| slots.iter().any(|(_, x)| *x == s);
        if !uses(Slot::Lo) || !uses(Slot::Hi) {
            return Err(TemplateError::NoRange);
        }
        let code = Code::new(sql, &tokens);
        Ok(Template {
            sql: sql.trim_end().trim_end_matches(';').to_owned(),
            skip_locked: skip_locked(&code),
            slots,
        })
    }

    pub fn uses(&self, slot: Slot) -> bool {
        self.slots.iter().any(|(_, s)| *s == slot)
    }

    /// The statement for one batch. `tenant` is bound as a number when it is one, else as
    /// a string literal (a uuid or text key); every other value is a number.
    pub fn bind(&self, lo: i64, hi: i64, tenant: Option<&str>, batch_size: u32) -> String {
        let tenant_sql = match tenant {
            Some(t) if t.parse::<i64>().is_ok() => t.to_owned(),
            Some(t) => crate::db::quote::literal(t),
            None => "NULL".to_owned(),
        };
        let mut out = String::with_capacity(self.sql.len() + 32);
        let mut at = 0;
        for (range, slot) in &self.slots {
            if range.start >= self.sql.len() {
                break;
            }
            out.push_str(&self.sql[at..range.start]);
            match slot {
                Slot::Lo => out.push_str(&lo.to_string()),
                Slot::Hi => out.push_str(&hi.to_string()),
                Slot::TenantId => out.push_str(&tenant_sql),
                Slot::BatchSize => out.push_str(&batch_size.to_string()),
            }
            at = range.end;
        }
        out.push_str(&self.sql[at..]);
        out
    }
}

fn skip_locked(code: &Code<'_>) -> Option<LockStrength> {
    let at = (1..code.len()).find(|&i| code.at(i, &["skip", "locked"]))?;
    let mut strength = None;
    for i in (0..at).rev() {
        if code.at(i, &["for", "no", "key", "update"]) {
            strength = Some(LockStrength::NoKeyUpdate);
        } else if code.at(i, &["for", "key", "share"]) {
            strength = Some(LockStrength::KeyShare);
        } else if code.at(i, &["for", "update"]) {
            strength = Some(LockStrength::Update);
        } else if code.at(i, &["for", "share"]) {
            strength = Some(LockStrength::Share);
        }
        if strength.is_some() {
            break;
        }
    }
    strength
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binds_parameters_found_by_the_lexer_only() {
        let t = Template::parse(
            "-- :hi in a comment\nUPDATE t SET a = ':lo', b = x::int WHERE id BETWEEN :lo AND :hi AND tenant = :tenant_id LIMIT :batch_size;\n",
        )
        .unwrap();
        assert_eq!(
            t.bind(10, 20, Some("7"), 200),
            "-- :hi in a comment\nUPDATE t SET a = ':lo', b = x::int WHERE id BETWEEN 10 AND 20 AND tenant = 7 LIMIT 200"
        );
        assert_eq!(t.skip_locked, None);
    }

    #[test]
    fn text_tenants_are_quoted() {
        let t = Template::parse("DELETE FROM t WHERE id BETWEEN :lo AND :hi AND k = :tenant_id")
            .unwrap();
        assert!(t.bind(1, 2, Some("a'b"), 1).ends_with("k = 'a''b'"));
    }

    #[test]
    fn unknown_parameters_and_missing_ranges_are_errors() {
        assert_eq!(
            Template::parse("UPDATE t SET a = 1\nWHERE id BETWEEN :lo AND :hi AND b = :oops")
                .unwrap_err(),
            TemplateError::Unknown {
                line: 2,
                text: ":oops".into()
            }
        );
        assert_eq!(
            Template::parse("UPDATE t SET a = 1 WHERE id >= :lo").unwrap_err(),
            TemplateError::NoRange
        );
    }

    #[test]
    fn finds_the_skip_locked_strength() {
        let t = Template::parse(
            "UPDATE t SET a = 1 WHERE id IN (SELECT id FROM t WHERE id BETWEEN :lo AND :hi FOR NO KEY UPDATE SKIP LOCKED)",
        )
        .unwrap();
        assert_eq!(t.skip_locked, Some(LockStrength::NoKeyUpdate));
        let t = Template::parse(
            "UPDATE t SET a = 1 WHERE id IN (SELECT id FROM t WHERE id BETWEEN :lo AND :hi FOR UPDATE SKIP LOCKED)",
        )
        .unwrap();
        assert_eq!(t.skip_locked, Some(LockStrength::Update));
    }
}
