//! Fleets: the same project run against many databases (a database per tenant, shards,
//! one primary per region) from one `--targets` file, with a canary and bounded
//! parallelism. Each target is a whole sqlrail run in its own child process, so what
//! holds for one database (connection strategy, lease lock, ledger, phases, retries, stop
//! signals) holds for each, and one target's crash or lost connection cannot reach
//! another's.

pub mod discover;
pub mod outcome;
pub mod report;
pub mod rollout;
pub mod targets;

pub use targets::{FleetError, Rollout, Target, TargetsFile};
