//! `DROP …`: relations, types, functions, triggers, schemas and extensions, one or a list.

use crate::sql::code::Code;

use super::name::{ident, qualified, skip_if_exists};
use super::{Effect, Object};

pub fn effects(code: &Code<'_>, out: &mut Vec<Effect>) {
    let (kind, i): (fn(super::Name) -> Object, usize) =
        if ["table", "view", "sequence"].iter().any(|w| code.is(1, w)) {
            (Object::Relation, 2)
        } else if code.is(1, "index") {
            (
                Object::Relation,
                2 + usize::from(code.is(2, "concurrently")),
            )
        } else if code.at(1, &["materialized", "view"]) || code.at(1, &["foreign", "table"]) {
            (Object::Relation, 3)
        } else if code.is(1, "type") || code.is(1, "domain") {
            (Object::Type, 2)
        } else if ["function", "procedure", "aggregate", "routine"]
            .iter()
            .any(|w| code.is(1, w))
        {
            (Object::Function, 2)
        } else if code.is(1, "trigger") {
            trigger(code, out);
            return;
        } else if code.is(1, "schema") || code.is(1, "extension") {
            let schema = code.is(1, "schema");
            let (i, _) = skip_if_exists(code, 2);
            for part in code.comma_separated(i..code.len(), 0) {
                if let Some(name) = ident(code, part.start) {
                    let object = if schema {
                        Object::Schema(name)
                    } else {
                        Object::Extension(name)
                    };
                    out.push(Effect::Drop { object });
                }
            }
            return;
        } else {
            return;
        };
    let (i, _) = skip_if_exists(code, i);
    let cascade = code.is(code.len().saturating_sub(1), "cascade");
    // `DROP FUNCTION f(int), g(text) CASCADE`: the list ends at CASCADE or RESTRICT.
    for part in code.comma_separated(i..code.len(), 0) {
        if let Some((name, after)) = qualified(code, part.start) {
            let object = kind(name.clone());
            if let Object::Function(_) = object {
                out.push(Effect::Overload {
                    function: name,
                    args: super::create::signature(code, after),
                    dropped: true,
                });
            }
            out.push(Effect::Drop {
                object: object.clone(),
            });
            if cascade {
                out.push(Effect::Cascaded(object));
            }
        }
    }
}

/// `DROP TRIGGER [IF EXISTS] name ON table`.
fn trigger(code: &Code<'_>, out: &mut Vec<Effect>) {
    let (i, _) = skip_if_exists(code, 2);
    let Some(name) = ident(code, i) else { return };
    if code.is(i + 1, "on")
        && let Some((table, _)) = qualified(code, i + 2)
    {
        out.push(Effect::Drop {
            object: Object::Trigger(table, name),
        });
    }
}
