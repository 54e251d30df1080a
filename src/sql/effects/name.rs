//! Object names as statements write them: an optional schema and a name, each folded as
//! PostgreSQL folds identifiers.

use crate::sql::code::Code;
use crate::sql::names::push_part;
use crate::sql::{Token, TokenKind};

/// `[schema.]name`, folded. `schema: None` leaves it to the search path.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Name {
    pub schema: Option<String>,
    pub name: String,
}

impl Name {
    pub fn new(schema: Option<&str>, name: &str) -> Name {
        Name {
            schema: schema.map(str::to_owned),
            name: name.to_owned(),
        }
    }

    /// A dotted name from configuration (`crm.Leads`), folded; `None` for more than two parts.
    pub fn parse(text: &str) -> Option<Name> {
        let parts: Vec<String> = text.split('.').map(crate::sql::names::fold_part).collect();
        match parts.as_slice() {
            [name] => Some(Name::new(None, name)),
            [schema, name] => Some(Name::new(Some(schema), name)),
            _ => None,
        }
    }

    /// The same name in `schema`, unless it names one itself (an index lives in its
    /// table's schema; a rename keeps the schema).
    pub fn in_schema_of(&self, other: &Name) -> Name {
        Name {
            schema: self.schema.clone().or_else(|| other.schema.clone()),
            name: self.name.clone(),
        }
    }
}

impl std::fmt::Display for Name {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.schema {
            Some(s) => write!(f, "{s}.{}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

/// One identifier at token `i`, folded, and cut to PostgreSQL's 63 bytes (a longer name
/// is silently truncated by the server: the object is known by the shorter one).
pub fn ident(code: &Code<'_>, i: usize) -> Option<String> {
    let token: Token = code.token(i)?;
    let mut part = String::new();
    push_part(&mut part, token, code.source()).then(|| truncated(part))
}

/// The most PostgreSQL keeps of an identifier: `NAMEDATALEN - 1` bytes, at a character
/// boundary.
pub const MAX_IDENTIFIER: usize = 63;

pub fn truncated(mut name: String) -> String {
    if name.len() > MAX_IDENTIFIER {
        let mut n = MAX_IDENTIFIER;
        while !name.is_char_boundary(n) {
            n -= 1;
        }
        name.truncate(n);
    }
    name
}

/// A `SET [SESSION | LOCAL] search_path …`, `RESET search_path` or `SELECT
/// set_config('search_path', '…', …)`: `Some(first schema)` (`Some(None)` for the
/// default), `None` for any other statement.
pub fn search_path(code: &Code<'_>) -> Option<Option<String>> {
    let at = if code.is(0, "set") {
        1 + usize::from(code.is(1, "session") || code.is(1, "local"))
    } else if code.at(0, &["reset", "search_path"]) {
        return Some(None);
    } else if code.is(0, "select") {
        // `SELECT [pg_catalog.]set_config('search_path', 'a, b', false)`.
        let call = (1..code.len().min(5)).find(|&i| code.is(i, "set_config"))?;
        let path = string(code, call + 2).filter(|p| p == "search_path")?;
        let _ = path;
        let value = string(code, call + 4)?;
        return Some(first_schema(value.split(',').map(|s| s.trim().to_owned())));
    } else {
        return None;
    };
    if !code.is(at, "search_path") {
        return None;
    }
    let from = at + 1 + usize::from(code.is(at + 1, "to") || code.text(at + 1) == "=");
    if code.is(from, "default") {
        return Some(None);
    }
    let values = (from..code.len()).filter_map(|i| ident(code, i).or_else(|| string(code, i)));
    Some(first_schema(values))
}

/// The first schema of a search path that is a real one (`"$user"` usually names none).
fn first_schema(values: impl Iterator<Item = String>) -> Option<String> {
    values
        .map(|v| v.trim_matches('"').to_owned())
        .find(|v| !v.is_empty() && v != "$user")
}

/// A possibly qualified name at `i` (`t`, `s.t`, `"S"."t"`), and the index after it.
/// Three parts (`db.s.t`) keep the last two.
pub fn qualified(code: &Code<'_>, i: usize) -> Option<(Name, usize)> {
    let mut parts = vec![ident(code, i)?];
    let mut next = i + 1;
    while code.kind(next) == Some(TokenKind::Dot) {
        let Some(part) = ident(code, next + 1) else {
            break;
        };
        parts.push(part);
        next += 2;
    }
    let name = parts.pop()?;
    Some((
        Name {
            schema: parts.pop(),
            name,
        },
        next,
    ))
}

/// The value of a simple string literal at `i` (`'a''b'` → `a'b`), for enum values.
pub fn string(code: &Code<'_>, i: usize) -> Option<String> {
    if code.kind(i) != Some(TokenKind::String) {
        return None;
    }
    let text = code.text(i);
    let inner = text.strip_prefix('\'')?.strip_suffix('\'')?;
    Some(inner.replace("''", "'"))
}

/// After `IF [NOT] EXISTS` at `i`, if it is there.
pub fn skip_if_exists(code: &Code<'_>, i: usize) -> (usize, bool) {
    if code.at(i, &["if", "not", "exists"]) {
        (i + 3, true)
    } else if code.at(i, &["if", "exists"]) {
        (i + 2, true)
    } else {
        (i, false)
    }
}
