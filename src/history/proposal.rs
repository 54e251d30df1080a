//! Fingerprints proposed for a migration by `manifest sync` and `init`: checks of what the
//! migration itself creates (tables, columns, constraints, indexes, types and their values,
//! functions, views, triggers, schemas, extensions, renamed objects under their new names),
//! each kept only when the history says it does not hold just before the migration and
//! holds just after. When no such check exists, checks that may or may not hold before
//! (an object first made with `IF NOT EXISTS`, which might predate the history) are
//! proposed instead: when false they still prove the migration has not run. `CREATE OR REPLACE` of an existing view, an index re-created under
//! its old name and a function the file drops again are so left out. A migration that
//! creates nothing but drops something gets `not:` checks of what it drops.

use std::collections::HashSet;

use crate::config::Fingerprint;
use crate::sql::effects::{Effect, Name, Object, RelKind};

use super::timeline::{State, resolve};
use super::{History, Truth};

/// At most this many checks in one proposal: enough to tell a migration from its
/// neighbours, few enough to read.
const MAX_CHECKS: usize = 6;

/// The fingerprint proposed for the migration at `step` (from 1), or `None` when no
/// check proves its effect.
pub fn propose(history: &History<'_>, step: usize) -> Option<Fingerprint> {
    let effects = &history.steps.get(step.checked_sub(1)?)?.effects;
    let here = Here::of(effects);
    let after = |check: &Fingerprint| history.predict(check, step, step) == Truth::True;
    // A strong check is false just before the migration; a weak one may or may not be
    // (an object first made with IF NOT EXISTS): it still tells "not run" when false.
    let strong = |check: &Fingerprint| {
        history.predict(check, step - 1, step) == Truth::False && after(check)
    };
    let weak = |check: &Fingerprint| {
        history.predict(check, step - 1, step) == Truth::Unknown && after(check)
    };
    let mut checks: Vec<Fingerprint> = Vec::new();
    let mut weak_checks: Vec<Fingerprint> = Vec::new();
    let mut push = |check: Fingerprint, checks: &mut Vec<Fingerprint>| {
        if checks.len() < MAX_CHECKS && !checks.contains(&check) {
            if strong(&check) {
                checks.push(check);
            } else if weak(&check)
                && weak_checks.len() < MAX_CHECKS
                && !weak_checks.contains(&check)
            {
                weak_checks.push(check);
            }
        }
    };
    // Relations this migration (re-)creates whose own check proves nothing (a view dropped
    // and made again): their new columns speak for them.
    let mut unproven: Vec<&Name> = Vec::new();
    for effect in effects {
        let (object, kind) = match effect {
            Effect::Create {
                object: Object::Column(table, column),
                ..
            } if unproven.contains(&table) => {
                push(Fingerprint::Column(member(table, column)), &mut checks);
                continue;
            }
            Effect::Create { object, kind, .. } => (object, *kind),
            // A renamed relation's kind is the one it was created with.
            Effect::Rename { to, .. } => match history.timeline.state(&resolve(to), step) {
                State::Present(kind) => (to, kind),
                State::Absent | State::Unknown => continue,
            },
            _ => continue,
        };
        if let Some(check) = positive(object, kind, &here) {
            // An index re-created under a name an earlier one had is told apart by its
            // definition (by name alone, a database before the old one was dropped looks
            // the same as one after the new one was built).
            let reused = |o: &Object| history.timeline.creations(&resolve(o)).any(|s| s < step);
            let redefined = match (&check, object) {
                (Fingerprint::Index(name), Object::Relation(_))
                    if !strong(&check) || reused(object) =>
                {
                    history.timeline.shape(&resolve(object), step).map(|shape| {
                        Fingerprint::IndexDef(crate::config::IndexDef {
                            name: name.clone(),
                            unique: shape.unique,
                            partial: shape.partial,
                            columns: shape.columns.clone(),
                        })
                    })
                }
                _ => None,
            };
            let check = redefined.unwrap_or(check);
            if let Object::Relation(name) = object
                && !strong(&check)
            {
                unproven.push(name);
            }
            push(check, &mut checks);
        }
    }
    if checks.is_empty() {
        for effect in effects {
            // What was dropped had the kind it was created with; a drop of something the
            // history never showed (State::Unknown) proves nothing.
            if let Effect::Drop { object } = effect
                && let State::Present(kind) = history.timeline.state(&resolve(object), step - 1)
                && let Some(check) = positive(object, kind, &Here::default())
            {
                push(Fingerprint::Not(Box::new(check)), &mut checks);
            }
        }
    }
    if checks.is_empty() {
        checks = weak_checks;
    }
    match checks.len() {
        0 => None,
        1 => checks.pop(),
        _ => Some(Fingerprint::All(checks)),
    }
}

/// What one migration creates, looked up by every effect's proposal.
#[derive(Default)]
struct Here<'e> {
    created: HashSet<&'e Object>,
    /// Names of constraints it creates (their indexes need no check of their own).
    constraints: HashSet<&'e str>,
    /// Whether it creates a column (a serial column's sequence needs no check).
    creates_column: bool,
}

impl<'e> Here<'e> {
    fn of(effects: &'e [Effect]) -> Here<'e> {
        let mut here = Here::default();
        for effect in effects {
            if let Effect::Create { object, .. } = effect {
                here.created.insert(object);
                match object {
                    Object::Constraint(_, c) => {
                        here.constraints.insert(c.as_str());
                    }
                    Object::Column(..) => here.creates_column = true,
                    _ => {}
                }
            }
        }
        here
    }

    fn relation(&self, table: &Name) -> bool {
        self.created.contains(&Object::Relation(table.clone()))
    }
}

/// Why no fingerprint can be proposed for the migration at `step`, for messages.
pub fn why_none(history: &History<'_>, step: usize) -> &'static str {
    let Some(s) = step.checked_sub(1).and_then(|i| history.steps.get(i)) else {
        return "it is not in the history";
    };
    let creates = s
        .effects
        .iter()
        .any(|e| matches!(e, Effect::Create { .. } | Effect::Rename { .. }));
    if creates {
        "everything it creates already exists before it runs (CREATE OR REPLACE, IF NOT EXISTS, or a name an earlier migration uses), so no check tells whether it ran"
    } else if s.effects.iter().any(|e| matches!(e, Effect::Alter(_))) {
        "it changes existing objects in place (a column's type, default or nullability; a function's settings), which no catalog check of existence shows"
    } else {
        "it creates, renames and drops nothing sqlrail can see (data, grants, comments, dynamic SQL)"
    }
}

/// The check that `object` exists, unless a broader check of the same migration covers it
/// (a column of a table the migration creates, the index backing a new constraint).
fn positive(object: &Object, kind: Option<RelKind>, here: &Here<'_>) -> Option<Fingerprint> {
    Some(match object {
        Object::Relation(name) => match kind {
            Some(RelKind::Table) => Fingerprint::Table(shown(name)),
            Some(RelKind::View | RelKind::MaterializedView) => Fingerprint::View(shown(name)),
            Some(RelKind::Index) if here.constraints.contains(name.name.as_str()) => return None,
            Some(RelKind::Index) => Fingerprint::Index(shown(name)),
            // A serial column's sequence comes with a column check already.
            Some(RelKind::Sequence) if here.creates_column => return None,
            Some(RelKind::Sequence) => Fingerprint::Sequence(shown(name)),
            // A composite type is checked as a type; a relation of unknown kind not at all.
            Some(RelKind::Composite) | None => return None,
        },
        Object::Type(name) => Fingerprint::Type(shown(name)),
        Object::Function(name) => Fingerprint::Function(shown(name)),
        Object::Schema(s) => Fingerprint::Schema(part(s)),
        Object::Extension(e) => Fingerprint::Extension(part(e)),
        Object::Column(t, c) if !here.relation(t) => Fingerprint::Column(member(t, c)),
        Object::Constraint(t, c) if !here.relation(t) => Fingerprint::Constraint(member(t, c)),
        Object::Trigger(t, c) if !here.relation(t) => Fingerprint::Trigger(member(t, c)),
        Object::EnumValue(t, v)
            if !here.created.contains(&Object::Type(t.clone())) && !v.contains('.') =>
        {
            Fingerprint::EnumValue(member(t, v))
        }
        _ => return None,
    })
}

/// One name part as a fingerprint writes it: plain when PostgreSQL would fold it to
/// itself, else in double quotes.
fn part(name: &str) -> String {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '$');
    if plain {
        name.to_owned()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

fn shown(name: &Name) -> String {
    match &name.schema {
        Some(s) => format!("{}.{}", part(s), part(&name.name)),
        None => part(&name.name),
    }
}

fn member(parent: &Name, name: &str) -> String {
    format!("{}.{}", shown(parent), part(name))
}
