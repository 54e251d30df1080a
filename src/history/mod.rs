//! The project's history: its migrations in the order a fresh database receives them,
//! and which catalog objects exist after each one. Fingerprints are judged against it.
//!
//! A fingerprint may let sqlrail skip a migration only when it proves that migration's
//! own effect (design.md §5, revised 2026-12-02). On real histories, checks built from
//! `CREATE OR REPLACE`, re-created index names or objects renamed later held *before*
//! their migration ran, and `apply` recorded migrations that never ran. So every use of a
//! fingerprint goes through the history: a proposal is kept only if the replay says it
//! does not hold just before its migration and holds just after; `verify` expects a check
//! to hold only while the history says its objects exist; and a database another tool
//! migrated part-way is placed in the history by comparing what holds there with what
//! should hold after each migration ([`adoption`]).

pub mod adoption;
pub mod order;
pub mod predict;
pub mod probe;
pub mod proposal;
pub mod timeline;

use crate::config::{Fingerprint, Phase};
use crate::project::{Migration, Project};
use crate::sql::effects::{Effect, of_file};

pub use predict::Truth;
pub use timeline::{StepEffects, Timeline};

/// One step of the history: a migration and what its statements do.
#[derive(Debug)]
pub struct Step<'p> {
    pub migration: &'p Migration,
    pub effects: Vec<Effect>,
    /// The statement (index in the file) each effect comes from.
    pub statements: Vec<usize>,
}

/// The project's steps in order, and the objects' lifetimes through them. Step `k`
/// (from 1) is `steps[k - 1]`; state 0 is the empty database.
#[derive(Debug)]
pub struct History<'p> {
    pub steps: Vec<Step<'p>>,
    /// How many steps form the DDL sequence (DDL migrations and the index builds and
    /// backfills placed in it); the rest are index files built after it.
    pub sequenced: usize,
    pub timeline: Timeline,
    /// Steps by migration id, built on the first look-up.
    step_by_id: std::sync::OnceLock<std::collections::HashMap<String, usize>>,
}

impl<'p> History<'p> {
    /// The history of `project`. Files that do not lex contribute no effects (they are
    /// refused before anything runs, and `lint` reports them).
    pub fn of(project: &'p Project) -> History<'p> {
        let sequence = order::sequence(project);
        let sequenced = sequence.len();
        let in_sequence: std::collections::HashSet<&str> =
            sequence.iter().map(|m| m.id.as_str()).collect();
        let rest = project
            .phase(Phase::Indexes)
            .filter(|m| !in_sequence.contains(m.id.as_str()));
        let steps: Vec<Step<'p>> = sequence
            .iter()
            .copied()
            .chain(rest)
            .map(|migration| {
                let (statements, effects) = of_file(&migration.sql)
                    .map(|effects| effects.into_iter().unzip())
                    .unwrap_or_default();
                Step {
                    migration,
                    effects,
                    statements,
                }
            })
            .collect();
        let timeline = Timeline::replay(steps.iter().map(|s| StepEffects {
            effects: &s.effects,
            statements: &s.statements,
        }));
        History {
            steps,
            sequenced,
            timeline,
            step_by_id: std::sync::OnceLock::new(),
        }
    }

    /// The step (from 1) of migration `id`.
    pub fn step_of(&self, id: &str) -> Option<usize> {
        let steps = self.step_by_id.get_or_init(|| {
            self.steps
                .iter()
                .enumerate()
                .map(|(i, s)| (s.migration.id.clone(), i + 1))
                .collect()
        });
        steps.get(id).copied()
    }

    /// What `fingerprint` should answer after step `state`, for the migration at step
    /// `own` (a `sql:` check is taken to hold from its own step on).
    pub fn predict(&self, fingerprint: &Fingerprint, state: usize, own: usize) -> Truth {
        predict::predict(fingerprint, &self.timeline, state, own)
    }
}

#[cfg(test)]
mod tests;
