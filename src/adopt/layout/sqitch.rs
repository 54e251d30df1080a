//! sqitch: `sqitch.plan` lists the changes in deploy order; each change's SQL is
//! `deploy/<change>.sql` (with `revert/` and `verify/` beside it, not adopted). A change
//! reworked later appears again in the plan: its earlier instances' scripts are
//! `deploy/<change>@<tag>.sql`, the tag being the first one after that instance, and only
//! the last instance is `deploy/<change>.sql` (sqitch's own rule). Deploy scripts usually
//! wrap themselves in `BEGIN; … COMMIT;`, which the splitting drops: sqlrail owns the
//! transaction.
//!
//! Each instance's `origin` is the change's name, `name#2` for its second instance: the
//! registry (`sqitch.changes`) has a row per deployed instance.

use std::collections::HashMap;
use std::path::Path;

use crate::config::Tool;

use super::{File, source};
use crate::adopt::Found;

/// A line of the plan that deploys a change.
struct Instance<'p> {
    change: &'p str,
    /// Which instance of the change it is, from 1.
    nth: usize,
    /// The first tag after it, if any.
    tag: Option<&'p str>,
}

pub fn read(_root: &Path, files: &[File]) -> Option<Found> {
    let plan = files.iter().find(|f| f.name == "sqitch.plan")?;
    let dir = plan.path.parent()?;
    let text = std::fs::read_to_string(&plan.path).ok()?;
    let mut found = Found {
        tool: Some(Tool::Sqitch),
        ..Found::default()
    };
    let by_path: HashMap<&Path, &File> = files.iter().map(|f| (f.path.as_path(), f)).collect();
    let mut instances: Vec<Instance<'_>> = Vec::new();
    let mut counts: HashMap<&str, usize> = HashMap::new();
    let mut untagged = 0;
    for line in text.lines() {
        let line = line.trim();
        if let Some(pragma) = line.strip_prefix('%') {
            if let Some(("project", name)) =
                pragma.split_once('=').map(|(k, v)| (k.trim(), v.trim()))
            {
                found.project = Some(name.to_owned());
            }
            continue;
        }
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(tag) = line.strip_prefix('@') {
            let tag = tag.split_whitespace().next().unwrap_or_default();
            for i in &mut instances[untagged..] {
                i.tag = Some(tag);
            }
            untagged = instances.len();
            continue;
        }
        let Some(word) = line.split_whitespace().next() else {
            continue;
        };
        if let Some(reverted) = word.strip_prefix('-') {
            found.skipped.push((
                plan.path.clone(),
                format!("sqitch.plan reverts `{reverted}` here (a `-` line): sqlrail migrates forward only; adopt the revert by hand as a new migration if the schema needs it"),
            ));
            continue;
        }
        let change = word.strip_prefix('+').unwrap_or(word);
        let nth = counts.entry(change).or_default();
        *nth += 1;
        instances.push(Instance {
            change,
            nth: *nth,
            tag: None,
        });
    }
    for instance in &instances {
        let last = counts[instance.change] == instance.nth;
        let script = match (last, instance.tag) {
            (true, _) => format!("{}.sql", instance.change),
            (false, Some(tag)) => format!("{}@{tag}.sql", instance.change),
            (false, None) => {
                found.skipped.push((
                    plan.path.clone(),
                    format!("sqitch.plan reworks `{}` with no tag between its instances, so which script an earlier instance ran cannot be told: adopt it by hand", instance.change),
                ));
                continue;
            }
        };
        let path = dir.join("deploy").join(&script);
        let Some(file) = by_path.get(path.as_path()) else {
            found.skipped.push((
                plan.path.clone(),
                format!("sqitch.plan deploys `{}` but deploy/{script} is missing: the history cannot be adopted without it", instance.change),
            ));
            continue;
        };
        let Some(sql) = file.text.clone() else {
            continue;
        };
        let origin = if instance.nth == 1 {
            instance.change.to_owned()
        } else {
            format!("{}#{}", instance.change, instance.nth)
        };
        let name = if instance.nth == 1 {
            instance.change.to_owned()
        } else {
            format!("{}_{}", instance.change, instance.nth)
        };
        found.sources.push(source(file, &origin, &name, sql, true));
    }
    for f in files.iter().filter(|f| f.name.ends_with(".sql")) {
        let under = |d: &str| f.path.starts_with(dir.join(d));
        if under("revert") || under("verify") {
            found.skipped.push((
                f.path.clone(),
                "a sqitch revert or verify script: sqlrail migrates forward only".into(),
            ));
        }
    }
    (!found.sources.is_empty()).then_some(found)
}
