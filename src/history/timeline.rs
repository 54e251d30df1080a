//! Objects' lifetimes through the history: the effects of every step replayed in order on
//! a model of the catalog, recording for each object the steps at which it appears and
//! disappears. Dropping or renaming a table carries its columns, constraints, triggers,
//! indexes and row type with it, as PostgreSQL does.
//!
//! Unqualified names are taken to be in `public` (the default search path), for the
//! objects a migration creates and for the names fingerprints give alike.

use std::collections::{HashMap, HashSet};

use crate::sql::effects::{Effect, IndexShape, Name, Object, RelKind};

/// Whether an object exists after some step, and for a relation, what kind it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Absent,
    /// Present; `None` when the kind is not known (or not a relation).
    Present(Option<RelKind>),
}

/// The lifetimes of every object the history names.
#[derive(Debug, Default)]
pub struct Timeline {
    /// The states each object entered, with the step that made it so, in step order.
    events: HashMap<Object, Vec<(usize, State)>>,
    /// For relations whose columns the history cannot list (`LIKE`, `AS SELECT`, views):
    /// from which steps they are unknown (`true`) or known again (`false`, on a drop).
    unknown_columns: HashMap<Name, Vec<(usize, bool)>>,
    /// Indexes' shapes from each step (`None`: not known, e.g. a constraint's index).
    shapes: HashMap<Object, Vec<(usize, Option<IndexShape>)>>,
    steps: usize,
}

/// The schema unqualified names resolve to.
pub const DEFAULT_SCHEMA: &str = "public";

fn resolve_name(name: &Name) -> Name {
    Name {
        schema: Some(
            name.schema
                .clone()
                .unwrap_or_else(|| DEFAULT_SCHEMA.to_owned()),
        ),
        name: name.name.clone(),
    }
}

/// `object` with every unqualified name put in the default schema.
pub fn resolve(object: &Object) -> Object {
    match object {
        Object::Relation(n) => Object::Relation(resolve_name(n)),
        Object::Type(n) => Object::Type(resolve_name(n)),
        Object::Function(n) => Object::Function(resolve_name(n)),
        Object::Schema(s) => Object::Schema(s.clone()),
        Object::Extension(s) => Object::Extension(s.clone()),
        Object::Column(t, c) => Object::Column(resolve_name(t), c.clone()),
        Object::Constraint(t, c) => Object::Constraint(resolve_name(t), c.clone()),
        Object::Trigger(t, c) => Object::Trigger(resolve_name(t), c.clone()),
        Object::EnumValue(t, v) => Object::EnumValue(resolve_name(t), v.clone()),
    }
}

impl Timeline {
    /// Replays `steps` (each a migration's effects, in order) on an empty database that
    /// has the `public` schema and PL/pgSQL, as `initdb` leaves one.
    pub fn replay<'a>(steps: impl Iterator<Item = &'a [Effect]>) -> Timeline {
        let mut model = Model::default();
        model.create(0, Object::Schema(DEFAULT_SCHEMA.into()), None);
        model.create(0, Object::Extension("plpgsql".into()), None);
        let mut count = 0;
        for (i, effects) in steps.enumerate() {
            count = i + 1;
            for effect in effects {
                model.apply(count, effect);
            }
        }
        Timeline {
            events: model.events,
            unknown_columns: model.unknown_columns,
            shapes: model.shapes,
            steps: count,
        }
    }

    /// How many steps were replayed.
    pub fn steps(&self) -> usize {
        self.steps
    }

    /// `object`'s state after step `at` (`object` resolved, see [`resolve`]).
    pub fn state(&self, object: &Object, at: usize) -> State {
        self.events
            .get(object)
            .and_then(|events| last_at(events, at))
            .unwrap_or(State::Absent)
    }

    /// The shape of the index `object` after step `at`, when known.
    pub fn shape(&self, object: &Object, at: usize) -> Option<&IndexShape> {
        let events = self.shapes.get(object)?;
        let n = events.partition_point(|(step, _)| *step <= at);
        events.get(n.checked_sub(1)?)?.1.as_ref()
    }

    /// Whether `relation`'s columns are unknown after step `at`.
    pub fn columns_unknown(&self, relation: &Name, at: usize) -> bool {
        self.unknown_columns
            .get(relation)
            .and_then(|events| last_at(events, at))
            .unwrap_or(false)
    }

    /// The steps at which `object`'s state (or, for a column, its table's knowledge of its
    /// columns) changes: between two of them, what it answers stays the same.
    pub fn changes(&self, object: &Object) -> Vec<usize> {
        let mut steps: Vec<usize> = self
            .events
            .get(object)
            .map(|e| e.iter().map(|(s, _)| *s).collect())
            .unwrap_or_default();
        if let Object::Column(table, _) = object
            && let Some(events) = self.unknown_columns.get(table)
        {
            steps.extend(events.iter().map(|(s, _)| *s));
        }
        if let Some(events) = self.shapes.get(object) {
            steps.extend(events.iter().map(|(s, _)| *s));
        }
        steps
    }

    /// Every step at which `object` was created (from absent).
    pub fn creations(&self, object: &Object) -> impl Iterator<Item = usize> + '_ {
        let mut before = State::Absent;
        self.events
            .get(object)
            .into_iter()
            .flatten()
            .filter_map(move |(step, state)| {
                let created = before == State::Absent && *state != State::Absent;
                before = *state;
                created.then_some(*step)
            })
    }
}

/// The last value recorded at or before `at` in step-ordered `events`.
fn last_at<T: Copy>(events: &[(usize, T)], at: usize) -> Option<T> {
    let n = events.partition_point(|(step, _)| *step <= at);
    n.checked_sub(1).map(|i| events[i].1)
}

/// The catalog as the replay has it so far. Every relation's members, indexes, columns'
/// dependents and backing indexes are kept by relation, so a drop or rename touches what
/// it moves, not the whole catalog: a 50,000-migration history replays in linear time.
#[derive(Default)]
struct Model {
    live: HashMap<Object, Option<RelKind>>,
    /// A relation's columns, constraints and triggers; a type's enum values.
    members: HashMap<Name, HashSet<Object>>,
    /// An index's table, and a table's indexes.
    index_on: HashMap<Name, Name>,
    indexes_of: HashMap<Name, HashSet<Name>>,
    /// Constraints backed by an index of the same name (primary key, unique, exclusion).
    backed: HashMap<Name, HashSet<String>>,
    /// What each column of a table has using it (constraints, indexes): dropped with it.
    dependents: HashMap<Name, HashMap<String, Vec<Object>>>,
    shapes: HashMap<Object, Vec<(usize, Option<IndexShape>)>>,
    events: HashMap<Object, Vec<(usize, State)>>,
    unknown_columns: HashMap<Name, Vec<(usize, bool)>>,
}

/// The relation (or, for an enum value, the type) an object is a member of.
fn owner(object: &Object) -> Option<&Name> {
    object.parent()
}

impl Model {
    fn record(&mut self, step: usize, object: &Object, state: State) {
        let events = self.events.entry(object.clone()).or_default();
        match events.last_mut() {
            Some((_, last)) if *last == state => {}
            Some((at, last)) if *at == step => *last = state,
            _ => events.push((step, state)),
        }
    }

    fn set_shape(&mut self, step: usize, object: &Object, shape: Option<IndexShape>) {
        let events = self.shapes.entry(object.clone()).or_default();
        match events.last_mut() {
            Some((at, last)) if *at == step => *last = shape,
            _ => events.push((step, shape)),
        }
    }

    /// Makes `object` live, with its place among its owner's members.
    fn insert(&mut self, object: Object, kind: Option<RelKind>) {
        if let Some(owner) = owner(&object) {
            self.members
                .entry(owner.clone())
                .or_default()
                .insert(object.clone());
        }
        self.live.insert(object, kind);
    }

    /// Removes `object` from the live catalog; its kind, if it was live.
    fn remove(&mut self, object: &Object) -> Option<Option<RelKind>> {
        let kind = self.live.remove(object)?;
        if let Some(owner) = owner(object)
            && let Some(members) = self.members.get_mut(owner)
        {
            members.remove(object);
        }
        Some(kind)
    }

    fn set_index_on(&mut self, index: &Name, table: &Name) {
        if let Some(old) = self.index_on.insert(index.clone(), table.clone())
            && let Some(set) = self.indexes_of.get_mut(&old)
        {
            set.remove(index);
        }
        self.indexes_of
            .entry(table.clone())
            .or_default()
            .insert(index.clone());
    }

    fn unset_index_on(&mut self, index: &Name) {
        if let Some(table) = self.index_on.remove(index)
            && let Some(set) = self.indexes_of.get_mut(&table)
        {
            set.remove(index);
        }
    }

    fn create(&mut self, step: usize, object: Object, kind: Option<RelKind>) {
        self.record(step, &object, State::Present(kind));
        if kind == Some(RelKind::Index) {
            self.set_shape(step, &object, None);
        }
        if let Object::Relation(name) = &object
            && matches!(
                kind,
                Some(
                    RelKind::Table | RelKind::View | RelKind::MaterializedView | RelKind::Composite
                )
            )
        {
            // A table, view or composite type has a row type of its name.
            let row_type = Object::Type(name.clone());
            if !self.live.contains_key(&row_type) {
                self.record(step, &row_type, State::Present(None));
                self.insert(row_type, None);
            }
        }
        self.insert(object, kind);
    }

    fn drop(&mut self, step: usize, object: &Object) {
        let Some(kind) = self.remove(object) else {
            return;
        };
        self.record(step, object, State::Absent);
        if let Object::Column(table, column) = object {
            let dependents = self
                .dependents
                .get_mut(table)
                .and_then(|columns| columns.remove(column))
                .unwrap_or_default();
            for dependent in dependents {
                self.drop(step, &dependent);
            }
        }
        match object {
            Object::Relation(name) => {
                let members: Vec<Object> = self
                    .members
                    .remove(name)
                    .map(|m| m.into_iter().collect())
                    .unwrap_or_default();
                for member in members
                    .iter()
                    .filter(|m| !matches!(m, Object::EnumValue(..)))
                {
                    self.drop(step, member);
                }
                let indexes: Vec<Name> = self
                    .indexes_of
                    .remove(name)
                    .map(|i| i.into_iter().collect())
                    .unwrap_or_default();
                for index in indexes {
                    self.index_on.remove(&index);
                    self.drop(step, &Object::Relation(index));
                }
                self.unset_index_on(name);
                self.backed.remove(name);
                self.dependents.remove(name);
                if kind != Some(RelKind::Index) && kind != Some(RelKind::Sequence) {
                    self.drop(step, &Object::Type(name.clone()));
                }
                self.set_unknown_columns(step, name, false);
            }
            Object::Type(name) => {
                let values: Vec<Object> = self
                    .members
                    .get(name)
                    .map(|m| {
                        m.iter()
                            .filter(|o| matches!(o, Object::EnumValue(..)))
                            .cloned()
                            .collect()
                    })
                    .unwrap_or_default();
                for value in values {
                    self.drop(step, &value);
                }
                if self.live.get(&Object::Relation(name.clone())) == Some(&Some(RelKind::Composite))
                {
                    self.drop(step, &Object::Relation(name.clone()));
                }
            }
            Object::Schema(schema) => {
                // Rare enough (a schema dropped with CASCADE) to look at every object.
                let inside: Vec<Object> = self
                    .live
                    .keys()
                    .filter(|o| schema_of(o) == Some(schema.as_str()))
                    .cloned()
                    .collect();
                for o in inside {
                    self.drop(step, &o);
                }
            }
            Object::Constraint(table, constraint)
                if self
                    .backed
                    .get_mut(table)
                    .is_some_and(|set| set.remove(constraint)) =>
            {
                let index = Name {
                    schema: table.schema.clone(),
                    name: constraint.clone(),
                };
                self.unset_index_on(&index);
                self.drop(step, &Object::Relation(index));
            }
            _ => {}
        }
    }

    fn rename(&mut self, step: usize, from: &Object, to: &Object) {
        let Some(kind) = self.remove(from) else {
            return;
        };
        self.record(step, from, State::Absent);
        self.record(step, to, State::Present(kind));
        self.insert(to.clone(), kind);
        if kind == Some(RelKind::Index) {
            let shape = self
                .shapes
                .get(from)
                .and_then(|e| e.last())
                .and_then(|(_, s)| s.clone());
            self.set_shape(step, to, shape);
        }
        match (from, to) {
            (Object::Column(table, old), Object::Column(_, new)) => {
                if let Some(columns) = self.dependents.get_mut(table)
                    && let Some(list) = columns.remove(old)
                {
                    columns.insert(new.clone(), list);
                }
            }
            (Object::Relation(old), Object::Relation(new)) => {
                let members: Vec<Object> = self
                    .members
                    .get(old)
                    .map(|m| {
                        m.iter()
                            .filter(|o| !matches!(o, Object::EnumValue(..)))
                            .cloned()
                            .collect()
                    })
                    .unwrap_or_default();
                for member in members {
                    let moved = reparent(&member, new);
                    self.rename(step, &member, &moved);
                }
                if let Some(indexes) = self.indexes_of.remove(old) {
                    for index in &indexes {
                        self.index_on.insert(index.clone(), new.clone());
                    }
                    self.indexes_of.insert(new.clone(), indexes);
                }
                if let Some(table) = self.index_on.get(old).cloned() {
                    self.unset_index_on(old);
                    self.set_index_on(new, &table);
                }
                if let Some(backed) = self.backed.remove(old) {
                    self.backed.insert(new.clone(), backed);
                }
                if let Some(columns) = self.dependents.remove(old) {
                    let moved = columns
                        .into_iter()
                        .map(|(c, list)| (c, list.iter().map(|o| reparent(o, new)).collect()))
                        .collect();
                    self.dependents.insert(new.clone(), moved);
                }
                if kind != Some(RelKind::Index) && kind != Some(RelKind::Sequence) {
                    self.rename(step, &Object::Type(old.clone()), &Object::Type(new.clone()));
                }
                if self
                    .unknown_columns
                    .get(old)
                    .and_then(|e| e.last())
                    .is_some_and(|(_, unknown)| *unknown)
                {
                    self.set_unknown_columns(step, old, false);
                    self.set_unknown_columns(step, new, true);
                }
            }
            (Object::Type(old), Object::Type(new)) => {
                let values: Vec<Object> = self
                    .members
                    .get(old)
                    .map(|m| {
                        m.iter()
                            .filter(|o| matches!(o, Object::EnumValue(..)))
                            .cloned()
                            .collect()
                    })
                    .unwrap_or_default();
                for value in values {
                    let moved = reparent(&value, new);
                    self.rename(step, &value, &moved);
                }
                if self.live.get(&Object::Relation(old.clone())) == Some(&Some(RelKind::Composite))
                {
                    self.rename(
                        step,
                        &Object::Relation(old.clone()),
                        &Object::Relation(new.clone()),
                    );
                }
            }
            (Object::Constraint(table, old), Object::Constraint(_, new))
                if self
                    .backed
                    .get_mut(table)
                    .is_some_and(|set| set.remove(old)) =>
            {
                self.backed
                    .entry(table.clone())
                    .or_default()
                    .insert(new.clone());
                let index = |name: &str| {
                    Object::Relation(Name {
                        schema: table.schema.clone(),
                        name: name.to_owned(),
                    })
                };
                self.rename(step, &index(old), &index(new));
            }
            (Object::Schema(old), Object::Schema(new)) => {
                let inside: Vec<Object> = self
                    .live
                    .keys()
                    .filter(|o| schema_of(o) == Some(old.as_str()) && o.parent().is_none())
                    .cloned()
                    .collect();
                for o in inside {
                    let moved = in_schema(&o, new);
                    self.rename(step, &o, &moved);
                }
            }
            _ => {}
        }
    }

    fn set_unknown_columns(&mut self, step: usize, relation: &Name, unknown: bool) {
        let events = self.unknown_columns.entry(relation.clone()).or_default();
        if events.last().is_none_or(|(_, last)| *last != unknown) {
            events.push((step, unknown));
        }
    }

    fn apply(&mut self, step: usize, effect: &Effect) {
        match effect {
            Effect::Create {
                object, kind, on, ..
            } => {
                let object = resolve(object);
                if let (Object::Relation(index), Some(table)) = (&object, on) {
                    let table = resolve_name(table);
                    if self
                        .live
                        .contains_key(&Object::Constraint(table.clone(), index.name.clone()))
                    {
                        self.backed
                            .entry(table.clone())
                            .or_default()
                            .insert(index.name.clone());
                    }
                    self.set_index_on(index, &table);
                }
                if !self.live.contains_key(&object) {
                    self.create(step, object, *kind);
                }
            }
            Effect::Drop { object } => self.drop(step, &resolve(object)),
            Effect::Rename { from, to } => self.rename(step, &resolve(from), &resolve(to)),
            Effect::KnownColumns(name) => {
                self.set_unknown_columns(step, &resolve_name(name), false)
            }
            Effect::UnknownColumns(name) => {
                self.set_unknown_columns(step, &resolve_name(name), true)
            }
            Effect::Depends { object, columns } => {
                let object = resolve(object);
                let table = match &object {
                    Object::Relation(index) => self.index_on.get(index).cloned(),
                    other => other.parent().cloned(),
                };
                if let Some(table) = table {
                    for column in columns {
                        if self
                            .live
                            .contains_key(&Object::Column(table.clone(), column.clone()))
                        {
                            self.dependents
                                .entry(table.clone())
                                .or_default()
                                .entry(column.clone())
                                .or_default()
                                .push(object.clone());
                        }
                    }
                }
            }
            Effect::Shape { index, shape } => {
                let object = Object::Relation(resolve_name(index));
                if self.live.contains_key(&object) {
                    self.set_shape(step, &object, Some(shape.clone()));
                }
            }
            Effect::Alter(_) | Effect::Uses(_) => {}
        }
    }
}

fn schema_of(object: &Object) -> Option<&str> {
    match object {
        Object::Relation(n) | Object::Type(n) | Object::Function(n) => n.schema.as_deref(),
        Object::Column(t, _)
        | Object::Constraint(t, _)
        | Object::Trigger(t, _)
        | Object::EnumValue(t, _) => t.schema.as_deref(),
        Object::Schema(_) | Object::Extension(_) => None,
    }
}

/// A member object moved to another parent (a table's column after the table's rename).
fn reparent(object: &Object, parent: &Name) -> Object {
    match object {
        Object::Column(_, c) => Object::Column(parent.clone(), c.clone()),
        Object::Constraint(_, c) => Object::Constraint(parent.clone(), c.clone()),
        Object::Trigger(_, c) => Object::Trigger(parent.clone(), c.clone()),
        Object::EnumValue(_, v) => Object::EnumValue(parent.clone(), v.clone()),
        other => other.clone(),
    }
}

/// A schema-level object moved to `schema`.
fn in_schema(object: &Object, schema: &str) -> Object {
    let moved = |n: &Name| Name {
        schema: Some(schema.to_owned()),
        name: n.name.clone(),
    };
    match object {
        Object::Relation(n) => Object::Relation(moved(n)),
        Object::Type(n) => Object::Type(moved(n)),
        Object::Function(n) => Object::Function(moved(n)),
        other => other.clone(),
    }
}
