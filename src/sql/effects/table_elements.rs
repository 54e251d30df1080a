//! The inside of `CREATE TABLE t (…)` and the `ADD …` actions of `ALTER TABLE`: columns,
//! their inline constraints, table constraints, and the names PostgreSQL gives the
//! constraints, indexes and sequences a statement leaves unnamed.

use std::ops::Range;

use crate::sql::TokenKind;
use crate::sql::code::Code;

use super::create::create;
use super::name::ident;
use super::{Effect, Name, Object, RelKind};

/// The elements of the group opened at `open`: columns and table constraints of `table`.
pub fn effects(code: &Code<'_>, open: usize, table: &Name, out: &mut Vec<Effect>) {
    let end = code.skip_group(open).saturating_sub(1);
    for part in code.comma_separated(open + 1..end, code.depth(open) + 1) {
        element(code, part, table, out);
    }
}

fn element(code: &Code<'_>, part: Range<usize>, table: &Name, out: &mut Vec<Effect>) {
    let i = part.start;
    if code.is(i, "like") {
        out.push(Effect::UnknownColumns(table.clone()));
    } else if is_table_constraint(code, i) {
        constraint(code, part, table, false, out);
    } else if let Some(column) = ident(code, i) {
        out.push(create(
            Object::Column(table.clone(), column.clone()),
            None,
            false,
        ));
        column_constraints(code, i + 1..part.end, table, &column, out);
    }
}

/// Whether the element at `i` is a table constraint rather than a column.
pub fn is_table_constraint(code: &Code<'_>, i: usize) -> bool {
    ["constraint", "check", "unique", "exclude"]
        .iter()
        .any(|w| code.is(i, w))
        || code.at(i, &["primary", "key"])
        || code.at(i, &["foreign", "key"])
}

/// A column definition after its name: the implicit sequence of a `serial` or identity
/// column and its inline constraints.
pub fn column_constraints(
    code: &Code<'_>,
    range: Range<usize>,
    table: &Name,
    column: &str,
    out: &mut Vec<Effect>,
) {
    let depth = code.depth(range.start);
    let serial = [
        "serial",
        "serial4",
        "serial8",
        "bigserial",
        "smallserial",
        "serial2",
    ]
    .iter()
    .any(|w| code.is(range.start, w));
    if serial
        || code
            .find(range.start, &["as", "identity"])
            .is_some_and(|j| j < range.end)
    {
        let sequence = object_name(&table.name, &[column], "seq");
        out.push(create(
            Object::Relation(Name::new(None, &sequence).in_schema_of(table)),
            Some(RelKind::Sequence),
            false,
        ));
    }
    let mut named: Option<String> = None;
    let mut i = range.start;
    while i < range.end {
        if code.depth(i) != depth {
            i += 1;
            continue;
        }
        let label = if code.is(i, "constraint") {
            named = ident(code, i + 1);
            i += 2;
            continue;
        } else if code.at(i, &["primary", "key"]) {
            Some(("pkey", true))
        } else if code.is(i, "unique") {
            Some(("key", true))
        } else if code.is(i, "references") {
            Some(("fkey", false))
        } else if code.is(i, "check") {
            Some(("check", false))
        } else {
            None
        };
        if let Some((label, indexed)) = label {
            let name = named.take().unwrap_or_else(|| {
                let columns: &[&str] = if label == "pkey" { &[] } else { &[column] };
                object_name(&table.name, columns, label)
            });
            push_constraint(table, &name, indexed, out);
            let mut columns = vec![column.to_owned()];
            if label == "check" && code.kind(i + 1) == Some(TokenKind::OpenParen) {
                let used = words(code, i + 1..code.skip_group(i + 1));
                columns.extend(used.into_iter().filter(|w| w != column));
            }
            out.push(Effect::Depends {
                object: Object::Constraint(table.clone(), name),
                columns,
            });
        }
        i += 1;
    }
}

/// A table constraint (`[CONSTRAINT name] PRIMARY KEY (…) | UNIQUE (…) | CHECK (…) |
/// FOREIGN KEY (…) … | EXCLUDE …`), also as an `ALTER TABLE … ADD` action. With
/// `USING INDEX i` (`alter`), the index `i` becomes the constraint's and takes its name.
pub fn constraint(
    code: &Code<'_>,
    part: Range<usize>,
    table: &Name,
    alter: bool,
    out: &mut Vec<Effect>,
) {
    let mut i = part.start;
    let mut name = None;
    if code.is(i, "constraint") {
        name = ident(code, i + 1);
        i += 2;
    }
    let (label, indexed) = if code.at(i, &["primary", "key"]) {
        ("pkey", true)
    } else if code.is(i, "unique") {
        ("key", true)
    } else if code.at(i, &["foreign", "key"]) {
        ("fkey", false)
    } else if code.is(i, "exclude") {
        ("excl", true)
    } else if code.is(i, "check") {
        ("check", false)
    } else {
        return;
    };
    let using_index = alter
        .then(|| code.find(i, &["using", "index"]))
        .flatten()
        .filter(|&j| j < part.end)
        .and_then(|j| ident(code, j + 2));
    if let Some(index) = &using_index {
        let index_name = Name::new(None, index).in_schema_of(table);
        out.push(Effect::Uses(Object::Relation(index_name.clone())));
        // "If a constraint name is not provided, the constraint will be named the same
        // as the index" (ALTER TABLE); a name given renames the index.
        let constraint = name.clone().unwrap_or_else(|| index.clone());
        if constraint != *index {
            out.push(Effect::Rename {
                from: Object::Relation(index_name),
                to: Object::Relation(Name::new(None, &constraint).in_schema_of(table)),
            });
        }
        out.push(create(
            Object::Constraint(table.clone(), constraint),
            None,
            false,
        ));
        return;
    }
    let open = (i..part.end).find(|&j| code.kind(j) == Some(TokenKind::OpenParen));
    let listed = open.map(|open| column_list(code, open)).unwrap_or_default();
    let name = match name {
        Some(name) => name,
        None => {
            // An unnamed CHECK is named after the one column it uses, which the tokens
            // alone cannot tell: leave it out.
            if label == "check" {
                return;
            }
            let columns: Vec<&str> = if label == "pkey" {
                Vec::new()
            } else {
                listed.iter().map(String::as_str).collect()
            };
            object_name(&table.name, &columns, label)
        }
    };
    push_constraint(table, &name, indexed, out);
    let columns = match (label, open) {
        ("check" | "excl", Some(open)) => words(code, open..code.skip_group(open)),
        _ => listed,
    };
    out.push(Effect::Depends {
        object: Object::Constraint(table.clone(), name),
        columns,
    });
}

/// The identifiers in tokens `range` (the columns an expression may use).
pub fn words(code: &Code<'_>, range: Range<usize>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for i in range {
        if let Some(word) = ident(code, i).filter(|w| !out.contains(w)) {
            out.push(word);
        }
    }
    out
}

/// The plain column names of the list opened at `open` (`(a, b)`); expressions are left out.
fn column_list(code: &Code<'_>, open: usize) -> Vec<String> {
    let end = code.skip_group(open).saturating_sub(1);
    code.comma_separated(open + 1..end, code.depth(open) + 1)
        .into_iter()
        .filter_map(|r| ident(code, r.start))
        .collect()
}

/// A constraint, and for a primary key, unique or exclusion constraint the index of the
/// same name that backs it.
fn push_constraint(table: &Name, name: &str, indexed: bool, out: &mut Vec<Effect>) {
    out.push(create(
        Object::Constraint(table.clone(), name.to_owned()),
        None,
        false,
    ));
    if indexed {
        out.push(Effect::Create {
            object: Object::Relation(Name::new(None, name).in_schema_of(table)),
            kind: Some(RelKind::Index),
            may_exist: false,
            on: Some(table.clone()),
        });
    }
}

/// The name PostgreSQL makes for an unnamed object (`makeObjectName` in
/// src/backend/commands/indexcmds.c): `table_col1_col2_label`, the longer of the two parts
/// shortened first until it fits in 63 bytes. (A clash with an existing name would add a
/// number; migrations rarely meet one.)
pub fn object_name(table: &str, columns: &[&str], label: &str) -> String {
    const MAX: usize = 63;
    let joined = columns.join("_");
    let second = (!columns.is_empty()).then_some(joined.as_str());
    let overhead = label.len() + 1 + usize::from(second.is_some());
    let available = MAX.saturating_sub(overhead);
    let mut first_len = table.len();
    let mut second_len = second.map_or(0, str::len);
    while first_len + second_len > available {
        if first_len > second_len {
            first_len -= 1;
        } else {
            second_len -= 1;
        }
    }
    let clip = |s: &str, n: usize| {
        let mut n = n.min(s.len());
        while !s.is_char_boundary(n) {
            n -= 1;
        }
        s[..n].to_owned()
    };
    let mut name = clip(table, first_len);
    if let Some(second) = second {
        name.push('_');
        name.push_str(&clip(second, second_len));
    }
    name.push('_');
    name.push_str(label);
    name
}
