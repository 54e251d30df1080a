//! `ALTER …`: the actions of `ALTER TABLE`, and renames and schema moves of every other
//! kind of object.

use std::ops::Range;

use crate::sql::code::Code;

use super::create::create;
use super::name::{ident, qualified, skip_if_exists, string};
use super::table_elements::{column_constraints, constraint, is_table_constraint};
use super::{Effect, Name, Object};

pub fn effects(code: &Code<'_>, out: &mut Vec<Effect>) {
    if code.at(1, &["table"]) || code.at(1, &["foreign", "table"]) {
        let i = if code.is(1, "table") { 2 } else { 3 };
        table(code, i, out);
    } else if ["index", "view", "sequence"].iter().any(|w| code.is(1, w)) {
        relation(code, 2, out);
    } else if code.at(1, &["materialized", "view"]) {
        relation(code, 3, out);
    } else if code.is(1, "type") || code.is(1, "domain") {
        type_(code, 2, out);
    } else if ["function", "procedure", "aggregate", "routine"]
        .iter()
        .any(|w| code.is(1, w))
    {
        function(code, out);
    } else if code.is(1, "trigger") {
        trigger(code, out);
    } else if code.is(1, "schema")
        && let Some(from) = ident(code, 2)
        && code.at(3, &["rename", "to"])
        && let Some(to) = ident(code, 5)
    {
        out.push(Effect::Rename {
            from: Object::Schema(from),
            to: Object::Schema(to),
        });
    }
}

/// `ALTER TABLE [IF EXISTS] [ONLY] name [*] action, …`.
fn table(code: &Code<'_>, i: usize, out: &mut Vec<Effect>) {
    let (mut i, _) = skip_if_exists(code, i);
    if code.is(i, "only") {
        i += 1;
    }
    let Some((table, mut i)) = qualified(code, i) else {
        return;
    };
    if code.text(i) == "*" {
        i += 1;
    }
    for action in code.comma_separated(i..code.len(), 0) {
        table_action(code, action, &table, out);
    }
}

fn table_action(code: &Code<'_>, action: Range<usize>, table: &Name, out: &mut Vec<Effect>) {
    let i = action.start;
    if code.is(i, "add") {
        let j = i + 1;
        if is_table_constraint(code, j) {
            constraint(code, j..action.end, table, None, true, out);
            return;
        }
        let j = j + usize::from(code.is(j, "column"));
        let (j, if_not_exists) = skip_if_exists(code, j);
        if let Some(column) = ident(code, j) {
            out.push(create(
                Object::Column(table.clone(), column.clone()),
                None,
                if_not_exists,
            ));
            column_constraints(code, j + 1..action.end, table, &column, None, out);
        }
    } else if code.at(i, &["drop", "constraint"]) {
        let (j, _) = skip_if_exists(code, i + 2);
        if let Some(name) = ident(code, j) {
            out.push(Effect::Drop {
                object: Object::Constraint(table.clone(), name),
            });
        }
    } else if code.is(i, "drop") && !code.is(i + 1, "default") {
        // `DROP [COLUMN] [IF EXISTS] c`; `DROP NOT NULL`, `DROP EXPRESSION` and the like
        // follow `ALTER COLUMN` and never start an action.
        let j = i + 1 + usize::from(code.is(i + 1, "column"));
        let (j, _) = skip_if_exists(code, j);
        if let Some(column) = ident(code, j) {
            let object = Object::Column(table.clone(), column);
            out.push(Effect::Drop {
                object: object.clone(),
            });
            if (j..action.end).any(|k| code.is(k, "cascade")) {
                out.push(Effect::Cascaded(object));
            }
        }
    } else if code.at(i, &["rename", "to"]) {
        if let Some(to) = ident(code, i + 2) {
            out.push(rename_relation(
                table,
                Name::new(None, &to).in_schema_of(table),
            ));
        }
    } else if code.at(i, &["rename", "constraint"]) {
        if let (Some(from), true, Some(to)) =
            (ident(code, i + 2), code.is(i + 3, "to"), ident(code, i + 4))
        {
            out.push(Effect::Rename {
                from: Object::Constraint(table.clone(), from),
                to: Object::Constraint(table.clone(), to),
            });
        }
    } else if code.is(i, "rename") {
        let j = i + 1 + usize::from(code.is(i + 1, "column"));
        if let (Some(from), true, Some(to)) =
            (ident(code, j), code.is(j + 1, "to"), ident(code, j + 2))
        {
            out.push(Effect::Rename {
                from: Object::Column(table.clone(), from),
                to: Object::Column(table.clone(), to),
            });
        }
    } else if code.at(i, &["set", "schema"]) {
        if let Some(schema) = ident(code, i + 2) {
            out.push(rename_relation(
                table,
                Name::new(Some(&schema), &table.name),
            ));
        }
    } else if code.is(i, "alter") {
        let j = i + 1 + usize::from(code.is(i + 1, "column"));
        if let Some(column) = ident(code, j) {
            out.push(Effect::Alter(Object::Column(table.clone(), column)));
        }
    } else if code.at(i, &["validate", "constraint"])
        && let Some(name) = ident(code, i + 2)
    {
        out.push(Effect::Alter(Object::Constraint(table.clone(), name)));
    }
}

fn rename_relation(from: &Name, to: Name) -> Effect {
    Effect::Rename {
        from: Object::Relation(from.clone()),
        to: Object::Relation(to),
    }
}

/// `ALTER INDEX | VIEW | SEQUENCE | MATERIALIZED VIEW [IF EXISTS] name RENAME TO new |
/// RENAME [COLUMN] a TO b | SET SCHEMA s`.
fn relation(code: &Code<'_>, i: usize, out: &mut Vec<Effect>) {
    let (i, _) = skip_if_exists(code, i);
    let Some((name, i)) = qualified(code, i) else {
        return;
    };
    if code.at(i, &["rename", "to"]) {
        if let Some(to) = ident(code, i + 2) {
            out.push(rename_relation(
                &name,
                Name::new(None, &to).in_schema_of(&name),
            ));
        }
    } else if code.at(i, &["set", "schema"]) {
        if let Some(schema) = ident(code, i + 2) {
            out.push(rename_relation(&name, Name::new(Some(&schema), &name.name)));
        }
    } else if code.is(i, "rename") {
        let j = i + 1 + usize::from(code.is(i + 1, "column"));
        if let (Some(from), true, Some(to)) =
            (ident(code, j), code.is(j + 1, "to"), ident(code, j + 2))
        {
            out.push(Effect::Rename {
                from: Object::Column(name.clone(), from),
                to: Object::Column(name, to),
            });
        }
    }
}

/// `ALTER TYPE | DOMAIN name RENAME TO new | SET SCHEMA s | ADD VALUE [IF NOT EXISTS] 'v'
/// | RENAME VALUE 'a' TO 'b'`.
fn type_(code: &Code<'_>, i: usize, out: &mut Vec<Effect>) {
    let Some((name, i)) = qualified(code, i) else {
        return;
    };
    if code.at(i, &["rename", "to"]) {
        if let Some(to) = ident(code, i + 2) {
            out.push(Effect::Rename {
                from: Object::Type(name.clone()),
                to: Object::Type(Name::new(None, &to).in_schema_of(&name)),
            });
        }
    } else if code.at(i, &["set", "schema"]) {
        if let Some(schema) = ident(code, i + 2) {
            out.push(Effect::Rename {
                from: Object::Type(name.clone()),
                to: Object::Type(Name::new(Some(&schema), &name.name)),
            });
        }
    } else if code.at(i, &["add", "value"]) {
        let (j, if_not_exists) = skip_if_exists(code, i + 2);
        if let Some(value) = string(code, j) {
            out.push(create(Object::EnumValue(name, value), None, if_not_exists));
        }
    } else if code.at(i, &["rename", "value"])
        && let (Some(from), true, Some(to)) = (
            string(code, i + 2),
            code.is(i + 3, "to"),
            string(code, i + 4),
        )
    {
        out.push(Effect::Rename {
            from: Object::EnumValue(name.clone(), from),
            to: Object::EnumValue(name, to),
        });
    }
}

/// `ALTER FUNCTION name [(args)] RENAME TO new | SET SCHEMA s`; other actions change it
/// in place.
fn function(code: &Code<'_>, out: &mut Vec<Effect>) {
    let Some((name, i)) = qualified(code, 2) else {
        return;
    };
    let i = code.skip_group(i);
    if code.at(i, &["rename", "to"]) {
        if let Some(to) = ident(code, i + 2) {
            out.push(Effect::Rename {
                from: Object::Function(name.clone()),
                to: Object::Function(Name::new(None, &to).in_schema_of(&name)),
            });
        }
    } else if code.at(i, &["set", "schema"]) {
        if let Some(schema) = ident(code, i + 2) {
            out.push(Effect::Rename {
                from: Object::Function(name.clone()),
                to: Object::Function(Name::new(Some(&schema), &name.name)),
            });
        }
    } else {
        out.push(Effect::Alter(Object::Function(name)));
    }
}

/// `ALTER TRIGGER name ON table RENAME TO new`.
fn trigger(code: &Code<'_>, out: &mut Vec<Effect>) {
    let Some(from) = ident(code, 2) else { return };
    if !code.is(3, "on") {
        return;
    }
    let Some((table, i)) = qualified(code, 4) else {
        return;
    };
    if code.at(i, &["rename", "to"])
        && let Some(to) = ident(code, i + 2)
    {
        out.push(Effect::Rename {
            from: Object::Trigger(table.clone(), from),
            to: Object::Trigger(table, to),
        });
    }
}
