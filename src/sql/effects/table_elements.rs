//! The inside of `CREATE TABLE t (…)` and the `ADD …` actions of `ALTER TABLE`: columns,
//! their inline constraints, table constraints, and the names PostgreSQL gives the
//! constraints, indexes and sequences a statement leaves unnamed.

use std::ops::Range;

use crate::sql::TokenKind;
use crate::sql::code::Code;

use super::create::create;
use super::name::{ident, qualified};
use super::{Effect, Name, Object, RelKind};

/// The elements of the group opened at `open`: columns and table constraints of `table`.
pub fn effects(code: &Code<'_>, open: usize, table: &Name, out: &mut Vec<Effect>) {
    let end = code.skip_group(open).saturating_sub(1);
    let parts = code.comma_separated(open + 1..end, code.depth(open) + 1);
    // The table's columns, for naming its unnamed CHECK constraints.
    let columns: Vec<String> = parts
        .iter()
        .filter(|p| !code.is(p.start, "like") && !is_table_constraint(code, p.start))
        .filter_map(|p| ident(code, p.start))
        .collect();
    for part in parts {
        element(code, part, table, &columns, out);
    }
}

fn element(
    code: &Code<'_>,
    part: Range<usize>,
    table: &Name,
    columns: &[String],
    out: &mut Vec<Effect>,
) {
    let i = part.start;
    if code.is(i, "like") {
        out.push(Effect::UnknownColumns(table.clone()));
    } else if is_table_constraint(code, i) {
        constraint(code, part, table, Some(columns), false, out);
    } else if let Some(column) = ident(code, i) {
        out.push(create(
            Object::Column(table.clone(), column.clone()),
            None,
            false,
        ));
        column_constraints(code, i + 1..part.end, table, &column, Some(columns), out);
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
/// column and its inline constraints. `columns`: the table's columns, when the statement
/// lists them (a `CREATE TABLE`).
pub fn column_constraints(
    code: &Code<'_>,
    range: Range<usize>,
    table: &Name,
    column: &str,
    columns: Option<&[String]>,
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
        let sequence =
            Name::new(None, &object_name(&table.name, &[column], "seq")).in_schema_of(table);
        out.push(Effect::AutoNamed(Object::Relation(sequence.clone())));
        out.push(create(
            Object::Relation(sequence.clone()),
            Some(RelKind::Sequence),
            false,
        ));
        // The sequence is owned by its column: it goes with its table.
        out.push(Effect::DependsOn {
            object: Object::Relation(sequence),
            relation: table.clone(),
        });
    }
    let mut named: Option<String> = None;
    let mut i = range.start;
    while i < range.end {
        if code.depth(i) != depth {
            i += 1;
            continue;
        }
        if code.is(i, "constraint") {
            named = ident(code, i + 1);
            i += 2;
            continue;
        }
        let label = if code.at(i, &["primary", "key"]) {
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
        let Some((label, indexed)) = label else {
            // `CONSTRAINT n NOT NULL`, `… DEFAULT`, `… GENERATED`: the name was this
            // constraint's, not the next one's.
            if ["not", "null", "default", "generated", "collate"]
                .iter()
                .any(|w| code.is(i, w))
            {
                named = None;
            }
            i += 1;
            continue;
        };
        let mut used = vec![column.to_owned()];
        if label == "check" && code.kind(i + 1) == Some(TokenKind::OpenParen) {
            let expression = words(code, i + 1..code.skip_group(i + 1));
            used.extend(expression.into_iter().filter(|w| w != column));
        }
        let name = match named.take() {
            Some(name) => Some((name, false)),
            None if label == "check" => check_name(table, &used, columns),
            None if label == "pkey" => Some((object_name(&table.name, &[], label), true)),
            None => Some((object_name(&table.name, &[column], label), true)),
        };
        if let Some((name, auto)) = name {
            push_constraint(table, &name, indexed, auto, out);
            let used = if label == "check" {
                used
            } else {
                vec![column.to_owned()]
            };
            out.push(Effect::Depends {
                object: Object::Constraint(table.clone(), name.clone()),
                columns: used,
            });
            if label == "fkey" {
                references(code, i + 1, table, &name, out);
            }
        }
        i += 1;
    }
}

/// The name PostgreSQL gives an unnamed CHECK: after its one column (`t_c_check`), or
/// `t_check` when it uses several or none; `None` when the table's columns are not known
/// (an `ALTER TABLE … ADD CHECK`), so which it is cannot be told.
fn check_name(table: &Name, used: &[String], columns: Option<&[String]>) -> Option<(String, bool)> {
    let columns = columns?;
    let of_table: Vec<&String> = used.iter().filter(|w| columns.contains(w)).collect();
    let name = match of_table.as_slice() {
        [one] => object_name(&table.name, &[one.as_str()], "check"),
        _ => object_name(&table.name, &[], "check"),
    };
    Some((name, true))
}

/// The table a foreign key references, at `at` (after `REFERENCES`): the key goes with it.
fn references(code: &Code<'_>, at: usize, table: &Name, constraint: &str, out: &mut Vec<Effect>) {
    if let Some((target, _)) = qualified(code, at) {
        out.push(Effect::DependsOn {
            object: Object::Constraint(table.clone(), constraint.to_owned()),
            relation: target,
        });
    }
}

/// A table constraint (`[CONSTRAINT name] PRIMARY KEY (…) | UNIQUE (…) | CHECK (…) |
/// FOREIGN KEY (…) … | EXCLUDE …`), also as an `ALTER TABLE … ADD` action. With
/// `USING INDEX i` (`alter`), the index `i` becomes the constraint's and takes its name.
/// `columns`: the table's columns, when the statement lists them.
pub fn constraint(
    code: &Code<'_>,
    part: Range<usize>,
    table: &Name,
    columns: Option<&[String]>,
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
    // `USING INDEX i` takes an index over; `USING INDEX TABLESPACE t` only places the new one.
    let using_index = alter
        .then(|| code.find(i, &["using", "index"]))
        .flatten()
        .filter(|&j| j < part.end && !code.is(j + 2, "tablespace"))
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
    let used = match (label, open) {
        ("check" | "excl", Some(open)) => words(code, open..code.skip_group(open)),
        _ => listed.clone(),
    };
    let name = match name {
        Some(name) => (name, false),
        None => {
            let chosen = match label {
                "check" => check_name(table, &used, columns),
                "pkey" => Some((object_name(&table.name, &[], label), true)),
                _ => {
                    let names: Vec<&str> = listed.iter().map(String::as_str).collect();
                    Some((object_name(&table.name, &names, label), true))
                }
            };
            match chosen {
                Some(chosen) => chosen,
                None => return,
            }
        }
    };
    push_constraint(table, &name.0, indexed, name.1, out);
    out.push(Effect::Depends {
        object: Object::Constraint(table.clone(), name.0.clone()),
        columns: used,
    });
    if label == "fkey"
        && let Some(at) = code.find(i, &["references"]).filter(|&j| j < part.end)
    {
        references(code, at + 1, table, &name.0, out);
    }
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
/// same name that backs it. `auto`: the name is one PostgreSQL chose.
fn push_constraint(table: &Name, name: &str, indexed: bool, auto: bool, out: &mut Vec<Effect>) {
    let constraint = Object::Constraint(table.clone(), name.to_owned());
    let index = Object::Relation(Name::new(None, name).in_schema_of(table));
    if auto {
        out.push(Effect::AutoNamed(constraint.clone()));
        if indexed {
            out.push(Effect::AutoNamed(index.clone()));
        }
    }
    out.push(create(constraint, None, false));
    if indexed {
        out.push(Effect::Create {
            object: index,
            kind: Some(RelKind::Index),
            may_exist: false,
            on: Some(table.clone()),
        });
    }
}

/// The name PostgreSQL makes for an unnamed object (`makeObjectName` in
/// src/backend/commands/indexcmds.c): `table_col1_col2_label`, the longer of the two parts
/// shortened first until it fits in 63 bytes. (A name already taken gets a number from
/// PostgreSQL; the replay knows it then cannot tell the new object's name.)
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
