//! What a fingerprint should answer at a point of the history, from the timeline.

use crate::config::Fingerprint;
use crate::sql::effects::{Name, Object, RelKind};
use crate::sql::names::fold_part;

use super::timeline::{State, Timeline, resolve};

/// A predicted answer. `Unknown` where the history cannot tell (a column of a table made
/// with `LIKE`, a `sql:` check before its own step's effects can be judged).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Truth {
    True,
    False,
    Unknown,
}

impl Truth {
    fn of(value: bool) -> Truth {
        if value { Truth::True } else { Truth::False }
    }

    fn not(self) -> Truth {
        match self {
            Truth::True => Truth::False,
            Truth::False => Truth::True,
            Truth::Unknown => Truth::Unknown,
        }
    }

    /// The known answer, if there is one.
    pub fn known(self) -> Option<bool> {
        match self {
            Truth::True => Some(true),
            Truth::False => Some(false),
            Truth::Unknown => None,
        }
    }
}

/// The relation kinds a relation check accepts.
fn accepts(fingerprint: &Fingerprint, kind: Option<RelKind>) -> bool {
    match (fingerprint, kind) {
        (_, None) => true,
        (Fingerprint::Table(_), Some(k)) => k == RelKind::Table,
        (Fingerprint::View(_), Some(k)) => matches!(k, RelKind::View | RelKind::MaterializedView),
        (Fingerprint::Index(_) | Fingerprint::IndexDef(_), Some(k)) => k == RelKind::Index,
        (Fingerprint::Sequence(_), Some(k)) => k == RelKind::Sequence,
        _ => true,
    }
}

/// `[schema.]parent.member` folded into the parent's name and the member.
fn member(text: &str) -> Option<(Name, String)> {
    let mut parts: Vec<String> = text.split('.').map(fold_part).collect();
    let member = parts.pop()?;
    let parent = parts.pop()?;
    Some((
        Name {
            schema: parts.pop(),
            name: parent,
        },
        member,
    ))
}

/// The catalog object a leaf check names (resolved), or `None` for combinations and
/// `sql:` checks.
pub fn object(fingerprint: &Fingerprint) -> Option<Object> {
    let object = match fingerprint {
        Fingerprint::Table(n)
        | Fingerprint::View(n)
        | Fingerprint::Index(n)
        | Fingerprint::Sequence(n) => Object::Relation(Name::parse(n)?),
        Fingerprint::IndexDef(d) => Object::Relation(Name::parse(&d.name)?),
        Fingerprint::Type(n) => Object::Type(Name::parse(n)?),
        Fingerprint::Function(n) => Object::Function(Name::parse(n)?),
        Fingerprint::Schema(n) => Object::Schema(fold_part(n)),
        Fingerprint::Extension(n) => Object::Extension(fold_part(n)),
        Fingerprint::Column(n) => {
            let (t, c) = member(n)?;
            Object::Column(t, c)
        }
        Fingerprint::Constraint(n) => {
            let (t, c) = member(n)?;
            Object::Constraint(t, c)
        }
        Fingerprint::Trigger(n) => {
            let (t, c) = member(n)?;
            Object::Trigger(t, c)
        }
        Fingerprint::EnumValue(n) => {
            let (t, v) = member(n)?;
            Object::EnumValue(t, v)
        }
        Fingerprint::All(_) | Fingerprint::Any(_) | Fingerprint::Not(_) | Fingerprint::Sql(_) => {
            return None;
        }
    };
    Some(resolve(&object))
}

/// The objects `fingerprint`'s leaf checks name.
pub fn objects(fingerprint: &Fingerprint) -> Vec<Object> {
    let mut out = Vec::new();
    walk(fingerprint, &mut |f| out.extend(object(f)));
    out
}

/// Calls `visit` on every leaf check of `fingerprint`.
pub fn walk(fingerprint: &Fingerprint, visit: &mut impl FnMut(&Fingerprint)) {
    match fingerprint {
        Fingerprint::All(list) | Fingerprint::Any(list) => list.iter().for_each(|f| walk(f, visit)),
        Fingerprint::Not(inner) => walk(inner, visit),
        leaf => visit(leaf),
    }
}

/// What `fingerprint` answers after step `at`. A `sql:` check is the project's own query,
/// which the history cannot read: it is taken to hold from its migration's step `own` on,
/// and before that it may or may not (a check of rows an earlier migration also inserts):
/// its being false places a database before `own`, its being true proves nothing.
pub fn predict(fingerprint: &Fingerprint, timeline: &Timeline, at: usize, own: usize) -> Truth {
    match fingerprint {
        Fingerprint::All(list) => {
            let answers: Vec<Truth> = list.iter().map(|f| predict(f, timeline, at, own)).collect();
            if answers.contains(&Truth::False) {
                Truth::False
            } else if answers.contains(&Truth::Unknown) {
                Truth::Unknown
            } else {
                Truth::True
            }
        }
        Fingerprint::Any(list) => {
            let answers: Vec<Truth> = list.iter().map(|f| predict(f, timeline, at, own)).collect();
            if answers.contains(&Truth::True) {
                Truth::True
            } else if answers.contains(&Truth::Unknown) {
                Truth::Unknown
            } else {
                Truth::False
            }
        }
        Fingerprint::Not(inner) => predict(inner, timeline, at, own).not(),
        Fingerprint::Sql(_) if at >= own => Truth::True,
        Fingerprint::Sql(_) => Truth::Unknown,
        leaf => {
            let Some(object) = object(leaf) else {
                return Truth::Unknown;
            };
            match timeline.state(&object, at) {
                State::Present(kind) if !accepts(leaf, kind) => Truth::False,
                State::Present(_) => match leaf {
                    Fingerprint::IndexDef(def) => match timeline.shape(&object, at) {
                        Some(shape) => Truth::of(
                            shape.unique == def.unique
                                && shape.partial == def.partial
                                && def
                                    .columns
                                    .as_ref()
                                    .is_none_or(|c| shape.columns.as_ref() == Some(c)),
                        ),
                        None => Truth::Unknown,
                    },
                    _ => Truth::True,
                },
                State::Unknown => Truth::Unknown,
                State::Absent => match parent(&object) {
                    // A member of a table whose columns the history cannot list, or of a
                    // relation that may or may not exist, may be there.
                    Some(table) => match timeline.state(&Object::Relation(table.clone()), at) {
                        State::Unknown => Truth::Unknown,
                        State::Present(_)
                            if matches!(object, Object::Column(..))
                                && timeline.columns_unknown(table, at) =>
                        {
                            Truth::Unknown
                        }
                        _ => Truth::False,
                    },
                    None => Truth::False,
                },
            }
        }
    }
}

/// The relation a column, constraint or trigger belongs to.
fn parent(object: &Object) -> Option<&Name> {
    match object {
        Object::Column(table, _) | Object::Constraint(table, _) | Object::Trigger(table, _) => {
            Some(table)
        }
        _ => None,
    }
}

/// The steps at which `fingerprint`'s prediction can change (besides 0).
pub fn change_points(fingerprint: &Fingerprint, timeline: &Timeline, own: usize) -> Vec<usize> {
    let mut points = vec![own];
    walk(fingerprint, &mut |leaf| {
        if let Some(object) = object(leaf) {
            points.extend(timeline.changes(&object));
            if let Some(table) = parent(&object) {
                points.extend(timeline.changes(&Object::Relation(table.clone())));
            }
        }
    });
    points.sort_unstable();
    points.dedup();
    points
}
