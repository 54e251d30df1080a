//! The DDL sequence: DDL migrations in version order, with the index builds and backfills
//! whose entries say `after: ddl/V…` or `before: ddl/V…` placed at that point.
//!
//! The phase model runs every DDL migration before any index build. A real history does
//! not: an index built concurrently at migration 40 may be dropped at 60, or a constraint
//! at 41 may take it over (`ADD CONSTRAINT … USING INDEX`). Run after the DDL, the index
//! comes back or the constraint cannot be made, and a fresh database differs from the one
//! the history built. A placed index build is part of the DDL sequence: it runs at its
//! point, and a failure stops the sequence there like a DDL failure.

use crate::config::Phase;
use crate::project::{Migration, Project};

/// Where a placed entry goes: right `Before` or right `After` a DDL migration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Side {
    Before,
    After,
}

/// The DDL migration an index or backfill entry is placed at, and on which side.
pub fn placement<'a>(project: &'a Project, m: &Migration) -> Option<(&'a str, Side)> {
    let entry = project.entry(&m.id)?;
    match (&entry.after, &entry.before) {
        (Some(after), _) => Some((after.as_str(), Side::After)),
        (None, Some(before)) => Some((before.as_str(), Side::Before)),
        (None, None) => None,
    }
}

/// Where a placed file sorts: its DDL migration's position, the side, its phase, its version.
type Slot = (usize, Side, usize, u64);

/// The DDL sequence of `project`.
pub fn sequence(project: &Project) -> Vec<&Migration> {
    let ddl: Vec<&Migration> = project.phase(Phase::Ddl).collect();
    let position: std::collections::HashMap<&str, usize> = ddl
        .iter()
        .enumerate()
        .map(|(i, m)| (m.id.as_str(), i))
        .collect();
    // Placed files at one point keep the phases' order (indexes, then backfills) and
    // their versions'.
    let mut placed: Vec<(Slot, &Migration)> = project
        .migrations
        .iter()
        .filter(|m| m.phase != Phase::Ddl)
        .filter_map(|m| {
            let (target, side) = placement(project, m)?;
            let at = *position.get(target)?;
            let phase = Phase::ALL.iter().position(|p| *p == m.phase).unwrap_or(0);
            Some(((at, side, phase, m.version), m))
        })
        .collect();
    placed.sort_by_key(|(key, _)| *key);
    let mut out = Vec::with_capacity(ddl.len() + placed.len());
    let mut placed = placed.into_iter().peekable();
    for (i, m) in ddl.iter().enumerate() {
        while let Some((_, p)) =
            placed.next_if(|((at, side, ..), _)| *at == i && *side == Side::Before)
        {
            out.push(p);
        }
        out.push(*m);
        while let Some((_, p)) =
            placed.next_if(|((at, side, ..), _)| *at == i && *side == Side::After)
        {
            out.push(p);
        }
    }
    out
}
