//! Objects' lifetimes through the history: the effects of every step replayed in order on
//! a model of the catalog, recording for each object the steps at which it appears,
//! disappears, or becomes unknown. Dropping or renaming a table carries its columns,
//! constraints, triggers, indexes, owned sequences and row type with it; dropping it also
//! drops what is known to depend on it (foreign keys referencing it, views reading it,
//! partitions), as PostgreSQL does.
//!
//! What the replay cannot know is *unknown*, never guessed absent: an object first met in
//! a statement that does not fail when it already exists (`CREATE … IF NOT EXISTS`, a
//! guarded `DO` block, `DROP … IF EXISTS`) may have been there before, so it is unknown
//! before that step (an extension a cloud provider installs, an index made by hand); a
//! name PostgreSQL chooses that was taken (it picks another); a view after a `CASCADE`
//! drop of a column it may read; a function of several overloads after one is dropped.
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
    /// It may or may not exist.
    Unknown,
}

/// The lifetimes of every object the history names.
#[derive(Debug, Default)]
pub struct Timeline {
    /// The states each object entered, with the step that made it so, in step order.
    events: HashMap<Object, Vec<(usize, State)>>,
    /// Objects first met in a statement that allows them to exist already: before that
    /// step they are unknown, not absent.
    unknown_before: HashMap<Object, usize>,
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

/// One step's effects, and the statement (index in the file) each comes from.
pub struct StepEffects<'a> {
    pub effects: &'a [Effect],
    pub statements: &'a [usize],
}

impl Timeline {
    /// Replays `steps` (each a migration's effects, in order) on an empty database that
    /// has the `public` schema and PL/pgSQL, as `initdb` leaves one.
    pub fn replay<'a>(steps: impl Iterator<Item = StepEffects<'a>>) -> Timeline {
        let mut model = Model::default();
        model.create(0, Object::Schema(DEFAULT_SCHEMA.into()), None);
        model.create(0, Object::Extension("plpgsql".into()), None);
        let mut count = 0;
        for (i, step) in steps.enumerate() {
            count = i + 1;
            let mut statement = usize::MAX;
            let mut skipping = false;
            for (effect, &at) in step.effects.iter().zip(step.statements) {
                if at != statement {
                    statement = at;
                    // A statement whose head is `CREATE … IF NOT EXISTS` of an object
                    // that exists does nothing: none of what it lists happens.
                    skipping = model.is_noop(effect);
                    model.auto.clear();
                    model.unnamed.clear();
                    model.keep_unknown.clear();
                }
                if !skipping {
                    model.apply(count, effect);
                }
            }
        }
        Timeline {
            events: model.events,
            unknown_before: model.unknown_before,
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
        match self
            .events
            .get(object)
            .and_then(|events| last_at(events, at))
        {
            Some(state) => state,
            None if self.unknown_before.get(object).is_some_and(|&s| at < s) => State::Unknown,
            None => State::Absent,
        }
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
        if let Some(&s) = self.unknown_before.get(object) {
            steps.push(s);
        }
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

    /// Every step at which `object` was created (from absent or unknown).
    pub fn creations(&self, object: &Object) -> impl Iterator<Item = usize> + '_ {
        let mut before = State::Absent;
        self.events
            .get(object)
            .into_iter()
            .flatten()
            .filter_map(move |(step, state)| {
                let created =
                    !matches!(before, State::Present(_)) && matches!(state, State::Present(_));
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
    /// What each column of a table has using it (constraints, indexes, an owned
    /// sequence): dropped with it.
    dependents: HashMap<Name, HashMap<String, Vec<Object>>>,
    /// What goes when a relation goes: foreign keys referencing it, views reading it,
    /// its partitions.
    relation_dependents: HashMap<Name, Vec<Object>>,
    /// The argument signatures each function name was created with.
    overloads: HashMap<Name, HashSet<String>>,
    shapes: HashMap<Object, Vec<(usize, Option<IndexShape>)>>,
    events: HashMap<Object, Vec<(usize, State)>>,
    unknown_before: HashMap<Object, usize>,
    unknown_columns: HashMap<Name, Vec<(usize, bool)>>,
    /// In the statement being replayed: objects named by PostgreSQL (`AutoNamed`), and
    /// those whose chosen name was taken, so PostgreSQL gave them another.
    auto: HashSet<Object>,
    unnamed: HashSet<Object>,
    /// Functions a statement dropped one overload of, left unknown: its `Drop` is skipped.
    keep_unknown: HashSet<Object>,
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

    /// `object` has no event yet: the first statement naming it allows it to have existed,
    /// so before `step` it is unknown.
    fn first_seen_uncertain(&mut self, step: usize, object: &Object) {
        if !self.events.contains_key(object) {
            self.unknown_before.entry(object.clone()).or_insert(step);
        }
    }

    fn set_shape(&mut self, step: usize, object: &Object, shape: Option<IndexShape>) {
        let events = self.shapes.entry(object.clone()).or_default();
        match events.last_mut() {
            Some((at, last)) if *at == step => *last = shape,
            _ => events.push((step, shape)),
        }
    }

    /// Whether `effect`, the first of its statement, makes the statement a no-op:
    /// `CREATE … IF NOT EXISTS` of an object that exists.
    fn is_noop(&self, effect: &Effect) -> bool {
        matches!(effect, Effect::IfAbsent(object) if self.live.contains_key(&resolve(object)))
    }

    /// Makes `object` live, with its place among its owner's members.
    fn insert(&mut self, object: Object, kind: Option<RelKind>) {
        if let Some(owner) = object.parent() {
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
        if let Some(owner) = object.parent()
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

    /// Marks `object` as unknown from `step` (and no longer live).
    fn unknown(&mut self, step: usize, object: &Object) {
        self.remove(object);
        self.record(step, object, State::Unknown);
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
                for dependent in self.relation_dependents.remove(name).unwrap_or_default() {
                    self.drop(step, &dependent);
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
                // The table's indexes now list the column under its new name.
                let indexes: Vec<Name> = self
                    .indexes_of
                    .get(table)
                    .map(|i| i.iter().cloned().collect())
                    .unwrap_or_default();
                for index in indexes {
                    let index = Object::Relation(index);
                    let renamed = self
                        .shapes
                        .get(&index)
                        .and_then(|e| e.last())
                        .and_then(|(_, s)| s.clone())
                        .filter(|s| s.columns.as_ref().is_some_and(|c| c.contains(old)))
                        .map(|mut s| {
                            for c in s.columns.iter_mut().flatten() {
                                if c == old {
                                    *c = new.clone();
                                }
                            }
                            s
                        });
                    if let Some(shape) = renamed {
                        self.set_shape(step, &index, Some(shape));
                    }
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
                    let moved_schema = old.schema != new.schema;
                    let mut kept = HashSet::new();
                    for index in indexes {
                        // `SET SCHEMA` moves the table's indexes with it.
                        let target = if moved_schema {
                            let target = Name {
                                schema: new.schema.clone(),
                                name: index.name.clone(),
                            };
                            self.index_on.remove(&index);
                            self.rename(
                                step,
                                &Object::Relation(index),
                                &Object::Relation(target.clone()),
                            );
                            target
                        } else {
                            index
                        };
                        self.index_on.insert(target.clone(), new.clone());
                        kept.insert(target);
                    }
                    self.indexes_of.insert(new.clone(), kept);
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
                if let Some(list) = self.relation_dependents.remove(old) {
                    self.relation_dependents.insert(new.clone(), list);
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
            (Object::Function(old), Object::Function(new)) => {
                if let Some(signatures) = self.overloads.remove(old) {
                    self.overloads.insert(new.clone(), signatures);
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

    /// Whether `object` is a column a `CREATE OR REPLACE VIEW` lists for a view the replay
    /// knows every column of: it is new, not possibly there before.
    fn replaced_view_column(&self, object: &Object) -> bool {
        let Object::Column(view, _) = object else {
            return false;
        };
        matches!(
            self.live.get(&Object::Relation(view.clone())),
            Some(Some(RelKind::View | RelKind::MaterializedView))
        ) && self
            .unknown_columns
            .get(view)
            .and_then(|e| e.last())
            .is_none_or(|(_, unknown)| !unknown)
    }

    fn set_unknown_columns(&mut self, step: usize, relation: &Name, unknown: bool) {
        let events = self.unknown_columns.entry(relation.clone()).or_default();
        if events.last().is_none_or(|(_, last)| *last != unknown) {
            events.push((step, unknown));
        }
    }

    fn apply(&mut self, step: usize, effect: &Effect) {
        match effect {
            // Read by `is_noop` before the statement's effects apply.
            Effect::IfAbsent(_) => {}
            Effect::AutoNamed(object) => {
                self.auto.insert(resolve(object));
            }
            Effect::Create {
                object,
                kind,
                may_exist,
                on,
            } => {
                let object = resolve(object);
                if self.live.contains_key(&object) {
                    // A name PostgreSQL chose is taken: it chose another one, which the
                    // replay cannot name. What the statement says of this object is about
                    // that other one.
                    if self.auto.contains(&object) {
                        self.unnamed.insert(object);
                    }
                    return;
                }
                if *may_exist && !self.replaced_view_column(&object) {
                    self.first_seen_uncertain(step, &object);
                }
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
                self.create(step, object, *kind);
            }
            Effect::Drop { object } => {
                let object = resolve(object);
                if self.keep_unknown.contains(&object) {
                    return;
                }
                if !self.live.contains_key(&object) {
                    // Dropping what the replay never saw: it may have been there (made
                    // in a way the tokens do not show), so it was unknown until now.
                    self.first_seen_uncertain(step, &object);
                    self.record(step, &object, State::Absent);
                }
                self.drop(step, &object)
            }
            Effect::Rename { from, to } => self.rename(step, &resolve(from), &resolve(to)),
            Effect::KnownColumns(name) => {
                self.set_unknown_columns(step, &resolve_name(name), false)
            }
            Effect::UnknownColumns(name) => {
                self.set_unknown_columns(step, &resolve_name(name), true)
            }
            Effect::Depends { object, columns } => {
                let object = resolve(object);
                if self.unnamed.contains(&object) {
                    return;
                }
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
            Effect::DependsOn { object, relation } => {
                let object = resolve(object);
                if !self.unnamed.contains(&object) {
                    self.relation_dependents
                        .entry(resolve_name(relation))
                        .or_default()
                        .push(object);
                }
            }
            Effect::Shape { index, shape } => {
                let object = Object::Relation(resolve_name(index));
                if self.live.contains_key(&object) && !self.unnamed.contains(&object) {
                    self.set_shape(step, &object, Some(shape.clone()));
                }
            }
            Effect::Overload {
                function,
                args,
                dropped,
            } => self.overload(step, &resolve_name(function), args.as_deref(), *dropped),
            Effect::Cascaded(object) => {
                // What depends on a dropped column in ways the tokens do not show (a view
                // reading it) may be gone with it: the views of its table are unknown.
                if let Object::Column(table, _) = resolve(object) {
                    let views: Vec<Object> = self
                        .relation_dependents
                        .get(&table)
                        .map(|d| {
                            d.iter()
                                .filter(|o| {
                                    matches!(
                                        self.live.get(o),
                                        Some(Some(RelKind::View | RelKind::MaterializedView))
                                    )
                                })
                                .cloned()
                                .collect()
                        })
                        .unwrap_or_default();
                    for view in views {
                        self.unknown(step, &view);
                    }
                }
            }
            Effect::Alter(_) | Effect::Uses(_) => {}
        }
    }

    /// A function created or dropped with argument types `args`. Dropping one of several
    /// overloads leaves the name: the `Drop` that follows is undone; when which one went
    /// cannot be told, the function is unknown.
    fn overload(&mut self, step: usize, function: &Name, args: Option<&str>, dropped: bool) {
        let object = Object::Function(function.clone());
        let signatures = self.overloads.entry(function.clone()).or_default();
        if !dropped {
            if let Some(args) = args {
                signatures.insert(args.to_owned());
            }
            return;
        }
        let others = match args {
            Some(args) => signatures.iter().filter(|s| *s != args).count(),
            None => 0,
        };
        if let Some(args) = args {
            signatures.remove(args);
        }
        if others > 0 && self.live.contains_key(&object) {
            // The `Drop` after this would take the name away, but other overloads keep it.
            // The argument types are read from tokens (`int` and `integer` differ there),
            // so which remain is not certain: unknown, not present, and the `Drop` skipped.
            self.unknown(step, &object);
            self.keep_unknown.insert(object);
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
