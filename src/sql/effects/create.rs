//! `CREATE …`: tables, indexes, views, sequences, types, domains, functions, triggers,
//! schemas and extensions. Temporary objects vanish with the session and are left out.

use crate::sql::TokenKind;
use crate::sql::code::Code;

use super::name::{ident, qualified, skip_if_exists, string};
use super::table_elements;
use super::{Effect, Name, Object, RelKind};

pub fn effects(code: &Code<'_>, out: &mut Vec<Effect>) {
    let mut i = 1;
    let or_replace = code.at(i, &["or", "replace"]);
    if or_replace {
        i += 2;
    }
    loop {
        if code.is(i, "temp") || code.is(i, "temporary") {
            return;
        }
        let modifier = [
            "global",
            "local",
            "unlogged",
            "recursive",
            "constraint",
            "trusted",
            "procedural",
            "default",
        ]
        .iter()
        .any(|w| code.is(i, w));
        if !modifier {
            break;
        }
        i += 1;
    }
    if code.is(i, "table") {
        table(code, i + 1, out);
    } else if code.at(i, &["foreign", "table"]) {
        table(code, i + 2, out);
    } else if code.is(i, "index") || code.at(i, &["unique", "index"]) {
        index(code, out);
    } else if code.is(i, "view") {
        view(code, i + 1, or_replace, RelKind::View, out);
    } else if code.at(i, &["materialized", "view"]) {
        view(code, i + 2, or_replace, RelKind::MaterializedView, out);
    } else if code.is(i, "sequence") {
        relation(code, i + 1, RelKind::Sequence, out);
    } else if code.is(i, "type") {
        type_(code, i + 1, out);
    } else if code.is(i, "domain") {
        if let Some((name, _)) = qualified(code, i + 1) {
            out.push(create(Object::Type(name), None, false));
        }
    } else if ["function", "procedure", "aggregate"]
        .iter()
        .any(|w| code.is(i, w))
    {
        if let Some((name, after)) = qualified(code, i + 1) {
            out.push(create(Object::Function(name.clone()), None, or_replace));
            out.push(Effect::Overload {
                function: name,
                args: signature(code, after),
                dropped: false,
            });
        }
    } else if code.is(i, "trigger") {
        trigger(code, i + 1, or_replace, out);
    } else if code.is(i, "schema") {
        schema(code, i + 1, out);
    } else if code.is(i, "extension") {
        let (j, if_not_exists) = skip_if_exists(code, i + 1);
        if let Some(name) = ident(code, j) {
            if_absent(if_not_exists, Object::Extension(name.clone()), out);
            out.push(create(Object::Extension(name), None, if_not_exists));
        }
    }
}

/// Marks the statement as one that does nothing when `object` exists.
fn if_absent(if_not_exists: bool, object: Object, out: &mut Vec<Effect>) {
    if if_not_exists {
        out.push(Effect::IfAbsent(object));
    }
}

pub fn create(object: Object, kind: Option<RelKind>, may_exist: bool) -> Effect {
    Effect::Create {
        object,
        kind,
        may_exist,
        on: None,
    }
}

/// A function's argument types as a signature (`(a int, text)` → `int,text`): each
/// argument's last word group after its mode and name, lower-cased; `None` without a list.
pub fn signature(code: &Code<'_>, open: usize) -> Option<String> {
    if code.kind(open) != Some(TokenKind::OpenParen) {
        return None;
    }
    let end = code.skip_group(open).saturating_sub(1);
    let args: Vec<String> = code
        .comma_separated(open + 1..end, code.depth(open) + 1)
        .into_iter()
        .map(|arg| {
            let mut words: Vec<String> = (arg.start..arg.end)
                .take_while(|&k| !code.is(k, "default") && code.text(k) != "=")
                .map(|k| code.text(k).to_ascii_lowercase())
                .collect();
            if words
                .first()
                .is_some_and(|w| ["in", "out", "inout", "variadic"].contains(&w.as_str()))
            {
                words.remove(0);
            }
            // `name type`: a name, then a type of one or more words. A type alone has no
            // name; the common multi-word types start with these.
            let starts_type = |w: &str| {
                [
                    "double",
                    "character",
                    "timestamp",
                    "time",
                    "bit",
                    "interval",
                    "national",
                ]
                .contains(&w)
            };
            if words.len() >= 2 && !starts_type(&words[0]) {
                words.remove(0);
            }
            words.join(" ")
        })
        .collect();
    Some(args.join(","))
}

/// `[IF NOT EXISTS] name …` of a relation with no further structure (a sequence).
fn relation(code: &Code<'_>, i: usize, kind: RelKind, out: &mut Vec<Effect>) {
    let (i, if_not_exists) = skip_if_exists(code, i);
    if let Some((name, _)) = qualified(code, i) {
        if_absent(if_not_exists, Object::Relation(name.clone()), out);
        out.push(create(Object::Relation(name), Some(kind), if_not_exists));
    }
}

/// `TABLE [IF NOT EXISTS] name ( elements ) | OF type | PARTITION OF parent | AS query`.
fn table(code: &Code<'_>, i: usize, out: &mut Vec<Effect>) {
    let (i, if_not_exists) = skip_if_exists(code, i);
    let Some((name, next)) = qualified(code, i) else {
        return;
    };
    if_absent(if_not_exists, Object::Relation(name.clone()), out);
    out.push(create(
        Object::Relation(name.clone()),
        Some(RelKind::Table),
        if_not_exists,
    ));
    let mut known_columns = true;
    if code.kind(next) == Some(TokenKind::OpenParen) {
        table_elements::effects(code, next, &name, out);
        let after = code.skip_group(next);
        known_columns = !code.is(after, "inherits") && !code.is(after, "as");
    } else if code.at(next, &["partition", "of"]) {
        known_columns = false;
        if let Some((parent, after)) = qualified(code, next + 2) {
            // A partition goes with its parent.
            out.push(Effect::DependsOn {
                object: Object::Relation(name.clone()),
                relation: parent,
            });
            // `PARTITION OF parent ( constraints ) FOR VALUES …` may name constraints.
            if code.kind(after) == Some(TokenKind::OpenParen) {
                table_elements::effects(code, after, &name, out);
            }
        }
    } else if code.is(next, "as") {
        match super::select_list::columns(code, next + 1) {
            Some(columns) => {
                for column in columns {
                    out.push(create(Object::Column(name.clone(), column), None, false));
                }
            }
            None => known_columns = false,
        }
    } else if code.is(next, "of") {
        known_columns = false;
    }
    if !known_columns {
        out.push(Effect::UnknownColumns(name));
    }
}

/// `CREATE [UNIQUE] INDEX [CONCURRENTLY] [IF NOT EXISTS] [name] ON [ONLY] table …`; an
/// unnamed index gets the name PostgreSQL chooses (`table_col_idx`, `table_lower_idx`
/// for `lower(email)`, `table_expr_idx` for other expressions).
fn index(code: &Code<'_>, out: &mut Vec<Effect>) {
    let mut i = 1 + usize::from(code.is(1, "unique")) + 1;
    if code.is(i, "concurrently") {
        i += 1;
    }
    let (i, if_not_exists) = skip_if_exists(code, i);
    let Some(on) = code.find_at_depth(i..code.len(), 0, &["on"]) else {
        return;
    };
    let mut t = on + 1;
    if code.is(t, "only") {
        t += 1;
    }
    let Some((table, _)) = qualified(code, t) else {
        return;
    };
    let index = if on == i {
        let Some(open) = (t..code.len()).find(|&j| code.kind(j) == Some(TokenKind::OpenParen))
        else {
            return;
        };
        let keys = key_names(code, open);
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        let name = table_elements::object_name(&table.name, &keys, "idx");
        out.push(Effect::AutoNamed(Object::Relation(
            Name::new(None, &name).in_schema_of(&table),
        )));
        name
    } else {
        match ident(code, i) {
            Some(index) => index,
            None => return,
        }
    };
    let index = Name::new(None, &index).in_schema_of(&table);
    if_absent(if_not_exists, Object::Relation(index.clone()), out);
    out.push(Effect::Create {
        object: Object::Relation(index.clone()),
        kind: Some(RelKind::Index),
        may_exist: if_not_exists,
        on: Some(table),
    });
    // The key columns and the predicate's: dropping any drops the index.
    if let Some(open) = (t..code.len()).find(|&j| code.kind(j) == Some(TokenKind::OpenParen)) {
        let close = code.skip_group(open);
        let predicate = code.find_at_depth(close..code.len(), 0, &["where"]);
        let mut columns = table_elements::words(code, open..close);
        if let Some(predicate) = predicate {
            columns.extend(table_elements::words(code, predicate + 1..code.len()));
        }
        out.push(Effect::Depends {
            object: Object::Relation(index.clone()),
            columns,
        });
        // Key columns are plain when each is one name (with ASC/DESC, NULLS, an opclass
        // or COLLATE after it); `lower(email)` makes the list an expression's.
        let keys = code.comma_separated(open + 1..close.saturating_sub(1), code.depth(open) + 1);
        let plain = keys.iter().all(|k| {
            ident(code, k.start).is_some() && code.kind(k.start + 1) != Some(TokenKind::OpenParen)
        });
        out.push(Effect::Shape {
            index,
            shape: super::IndexShape {
                unique: code.is(1, "unique"),
                partial: predicate.is_some(),
                columns: plain.then(|| keys.iter().filter_map(|k| ident(code, k.start)).collect()),
            },
        });
    }
}

/// The names PostgreSQL gives an index's keys in the index's name (`ChooseIndexColumnNames`):
/// a column's name, a function's name for a call, `expr` for anything else.
fn key_names(code: &Code<'_>, open: usize) -> Vec<String> {
    let end = code.skip_group(open).saturating_sub(1);
    code.comma_separated(open + 1..end, code.depth(open) + 1)
        .into_iter()
        .map(|key| {
            let next = code.kind(key.start + 1);
            match ident(code, key.start) {
                // `lower(email)`: the function's name.
                Some(f) if next == Some(TokenKind::OpenParen) => f,
                // `email`, `email DESC`, `email text_pattern_ops`: the column.
                Some(c) if key.end == key.start + 1 || next == Some(TokenKind::Word) => c,
                _ => "expr".to_owned(),
            }
        })
        .collect()
}

/// `VIEW name [(columns)] … AS query`: the columns are the query's unless listed.
fn view(code: &Code<'_>, i: usize, or_replace: bool, kind: RelKind, out: &mut Vec<Effect>) {
    let (i, if_not_exists) = skip_if_exists(code, i);
    let Some((name, next)) = qualified(code, i) else {
        return;
    };
    if_absent(if_not_exists, Object::Relation(name.clone()), out);
    out.push(create(
        Object::Relation(name.clone()),
        Some(kind),
        or_replace || if_not_exists,
    ));
    // A view goes with the tables it reads (`DROP TABLE … CASCADE`).
    let mut sources: Vec<Name> = Vec::new();
    for j in next..code.len() {
        if (code.is(j, "from") || code.is(j, "join"))
            && let Some((source, _)) = qualified(code, j + 1)
            && !sources.contains(&source)
        {
            sources.push(source);
        }
    }
    for source in sources {
        out.push(Effect::DependsOn {
            object: Object::Relation(name.clone()),
            relation: source,
        });
    }
    if code.kind(next) == Some(TokenKind::OpenParen) {
        // `VIEW v (a, b) AS …`: the listed names are its columns.
        for j in next + 1..code.skip_group(next) {
            if code.depth(j) == code.depth(next) + 1
                && let Some(column) = ident(code, j)
            {
                out.push(create(
                    Object::Column(name.clone(), column),
                    None,
                    or_replace,
                ));
            }
        }
    } else {
        // `… AS query`: the query's select list names the columns, when it shows them.
        let query = code
            .find_at_depth(next..code.len(), 0, &["as"])
            .and_then(|at| super::select_list::columns(code, at + 1));
        match query {
            Some(columns) => {
                for column in columns {
                    out.push(create(
                        Object::Column(name.clone(), column),
                        None,
                        or_replace,
                    ));
                }
                out.push(Effect::KnownColumns(name));
            }
            None => out.push(Effect::UnknownColumns(name)),
        }
    }
}

/// `TYPE name AS ENUM (…) | AS (…) | AS RANGE (…) | (…)`, or a shell type.
fn type_(code: &Code<'_>, i: usize, out: &mut Vec<Effect>) {
    let Some((name, next)) = qualified(code, i) else {
        return;
    };
    out.push(create(Object::Type(name.clone()), None, false));
    if code.at(next, &["as", "enum"]) && code.kind(next + 2) == Some(TokenKind::OpenParen) {
        let end = code.skip_group(next + 2);
        for j in next + 3..end {
            if let Some(value) = string(code, j) {
                out.push(create(Object::EnumValue(name.clone(), value), None, false));
            }
        }
    } else if code.is(next, "as") && code.kind(next + 1) == Some(TokenKind::OpenParen) {
        out.push(create(
            Object::Relation(name.clone()),
            Some(RelKind::Composite),
            false,
        ));
    }
}

/// `TRIGGER name {BEFORE | AFTER | INSTEAD OF} events ON table …`.
fn trigger(code: &Code<'_>, i: usize, or_replace: bool, out: &mut Vec<Effect>) {
    let Some(name) = ident(code, i) else { return };
    let Some(on) = code.find_at_depth(i + 1..code.len(), 0, &["on"]) else {
        return;
    };
    if let Some((table, _)) = qualified(code, on + 1) {
        out.push(create(Object::Trigger(table, name), None, or_replace));
    }
}

/// `SCHEMA [IF NOT EXISTS] name [AUTHORIZATION role]` or `SCHEMA AUTHORIZATION role`
/// (named after the role).
fn schema(code: &Code<'_>, i: usize, out: &mut Vec<Effect>) {
    let (i, if_not_exists) = skip_if_exists(code, i);
    let name = if code.is(i, "authorization") {
        ident(code, i + 1)
    } else {
        ident(code, i)
    };
    if let Some(name) = name {
        if_absent(if_not_exists, Object::Schema(name.clone()), out);
        out.push(create(Object::Schema(name), None, if_not_exists));
    }
}
