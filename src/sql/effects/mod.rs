//! What a migration's statements do to the catalog: the objects each one creates, drops,
//! renames or changes, read from its tokens (never from raw text). The history
//! (`crate::history`) replays these effects in the project's order to know which objects
//! exist after each migration; fingerprint proposals, adoption of a database migrated by
//! another tool and `verify` all stand on that replay, so an effect is only reported
//! when the tokens show it. What they cannot show (dynamic SQL in a `DO` block, objects an
//! extension brings) is left out rather than guessed.

mod alter;
mod create;
mod drop;
mod name;
pub mod procedural;
mod select_list;
mod table_elements;

use crate::sql::code::Code;
use crate::sql::{LexError, split};

pub use name::{Name, truncated};

/// A catalog object as migrations name it. Relations (tables, views, indexes, sequences,
/// composite types) share one namespace per schema, as in `pg_class`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Object {
    Relation(Name),
    Type(Name),
    /// By name, whatever its arguments (as `function:` fingerprints check it).
    Function(Name),
    Schema(String),
    Extension(String),
    Column(Name, String),
    /// A table's constraint.
    Constraint(Name, String),
    Trigger(Name, String),
    /// A value of an enum type.
    EnumValue(Name, String),
}

impl Object {
    /// The relation this object belongs to (a column's table), if any.
    pub fn parent(&self) -> Option<&Name> {
        match self {
            Object::Column(t, _)
            | Object::Constraint(t, _)
            | Object::Trigger(t, _)
            | Object::EnumValue(t, _) => Some(t),
            _ => None,
        }
    }
}

/// What kind of relation a relation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RelKind {
    Table,
    View,
    MaterializedView,
    Index,
    Sequence,
    /// `CREATE TYPE … AS (…)`: a row type with a `pg_class` entry.
    Composite,
}

/// One thing a statement does to the catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// `object` exists after the statement. `may_exist`: the statement does not fail when
    /// it already existed (`OR REPLACE`, `IF NOT EXISTS`, a guarded `DO` block), so it
    /// does not prove the object is new.
    Create {
        object: Object,
        kind: Option<RelKind>,
        may_exist: bool,
        /// For an index: its table.
        on: Option<Name>,
    },
    /// `object` no longer exists after the statement (with everything on it).
    Drop { object: Object },
    /// `from` is called `to` after the statement (a relation keeps its columns).
    Rename { from: Object, to: Object },
    /// The relation's columns come from elsewhere (`LIKE`, `AS SELECT`, `PARTITION OF`,
    /// a view's select list): which columns it has is not known.
    UnknownColumns(Name),
    /// The relation's columns are known again (a view replaced by one whose select list
    /// names them all).
    KnownColumns(Name),
    /// An existing object changes in place (a column's type, a constraint validated).
    Alter(Object),
    /// The statement needs `object` to exist (`ADD CONSTRAINT … USING INDEX i`).
    Uses(Object),
    /// `object` (a constraint, or an index: a relation) uses these columns of its table:
    /// dropping one of them drops it too, as PostgreSQL does.
    Depends {
        object: Object,
        columns: Vec<String>,
    },
    /// The index `index` is defined so (after its `Create`).
    Shape { index: Name, shape: IndexShape },
    /// The next `Create` of `object` is of a name PostgreSQL chose (`t_pkey`, `t_c_seq`,
    /// `t_c_idx`): when the name is taken, PostgreSQL picks another (`t_pkey1`), so the
    /// object is not the one of that name.
    AutoNamed(Object),
    /// `object` goes when `relation` goes: a foreign key with the table it references, a
    /// view with a table it reads, a partition with its parent.
    DependsOn { object: Object, relation: Name },
    /// The function was created (or dropped, before its `Drop`) with these argument types
    /// (`None`: not listed): a name with several overloads survives the drop of one.
    Overload {
        function: Name,
        args: Option<String>,
        dropped: bool,
    },
    /// The statement does nothing at all when `object` exists (`CREATE … IF NOT EXISTS`);
    /// it comes before the statement's other effects. `OR REPLACE` is not this: it
    /// replaces what exists.
    IfAbsent(Object),
    /// The `Drop` before it was `CASCADE`: what depends on the object in ways the tokens do
    /// not show (a view on a dropped column) may be gone.
    Cascaded(Object),
}

/// What tells two definitions of an index apart without PostgreSQL's deparser: unique or
/// not, partial or not, and its key columns when they are plain columns.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(deny_unknown_fields)]
pub struct IndexShape {
    pub unique: bool,
    pub partial: bool,
    /// `None` when a key is an expression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub columns: Option<Vec<String>>,
}

/// The effects of every statement of `sql`, in order, each with the index of its
/// statement. Unqualified names are put in the schema a `SET search_path` (or
/// `set_config('search_path', …)`) earlier in the file made the first; a file runs in a
/// session of its own, so one file's setting does not reach the next.
pub fn of_file(sql: &str) -> Result<Vec<(usize, Effect)>, LexError> {
    let file = split(sql)?;
    let mut effects = Vec::new();
    let mut schema: Option<String> = None;
    for (i, statement) in file.statements.iter().enumerate() {
        let code = Code::lex(sql, statement.start..statement.end);
        if let Some(set) = name::search_path(&code) {
            schema = set;
            continue;
        }
        effects.extend(of_code(&code).into_iter().map(|e| {
            let e = match &schema {
                Some(s) => qualify(e, s),
                None => e,
            };
            (i, e)
        }));
    }
    Ok(effects)
}

/// `effect` with every unqualified name put in `schema`.
fn qualify(effect: Effect, schema: &str) -> Effect {
    let name = |n: Name| Name {
        schema: n.schema.or_else(|| Some(schema.to_owned())),
        name: n.name,
    };
    let object = |o: Object| match o {
        Object::Relation(n) => Object::Relation(name(n)),
        Object::Type(n) => Object::Type(name(n)),
        Object::Function(n) => Object::Function(name(n)),
        Object::Column(t, c) => Object::Column(name(t), c),
        Object::Constraint(t, c) => Object::Constraint(name(t), c),
        Object::Trigger(t, c) => Object::Trigger(name(t), c),
        Object::EnumValue(t, v) => Object::EnumValue(name(t), v),
        other => other,
    };
    match effect {
        Effect::Create {
            object: o,
            kind,
            may_exist,
            on,
        } => Effect::Create {
            object: object(o),
            kind,
            may_exist,
            on: on.map(name),
        },
        Effect::Drop { object: o } => Effect::Drop { object: object(o) },
        Effect::Rename { from, to } => Effect::Rename {
            from: object(from),
            to: object(to),
        },
        Effect::UnknownColumns(n) => Effect::UnknownColumns(name(n)),
        Effect::KnownColumns(n) => Effect::KnownColumns(name(n)),
        Effect::Alter(o) => Effect::Alter(object(o)),
        Effect::Uses(o) => Effect::Uses(object(o)),
        Effect::Depends { object: o, columns } => Effect::Depends {
            object: object(o),
            columns,
        },
        Effect::Shape { index, shape } => Effect::Shape {
            index: name(index),
            shape,
        },
        Effect::AutoNamed(o) => Effect::AutoNamed(object(o)),
        Effect::DependsOn {
            object: o,
            relation,
        } => Effect::DependsOn {
            object: object(o),
            relation: name(relation),
        },
        Effect::Overload {
            function,
            args,
            dropped,
        } => Effect::Overload {
            function: name(function),
            args,
            dropped,
        },
        Effect::Cascaded(o) => Effect::Cascaded(object(o)),
        Effect::IfAbsent(o) => Effect::IfAbsent(object(o)),
    }
}

/// The effects of one statement's significant tokens.
pub fn of_code(code: &Code<'_>) -> Vec<Effect> {
    let mut out = Vec::new();
    if code.is(0, "create") {
        create::effects(code, &mut out);
    } else if code.is(0, "alter") {
        alter::effects(code, &mut out);
    } else if code.is(0, "drop") {
        drop::effects(code, &mut out);
    } else if code.is(0, "do") || code.is(0, "select") {
        procedural::effects(code, &mut out);
    }
    out
}

#[cfg(test)]
mod tests;
