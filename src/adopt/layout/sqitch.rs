//! sqitch: `sqitch.plan` lists the changes in deploy order; each change's SQL is
//! `deploy/<change>.sql` (with `revert/` and `verify/` beside it, not adopted). Deploy
//! scripts usually wrap themselves in `BEGIN; … COMMIT;`, which the splitting drops:
//! sqlrail owns the transaction.

use std::path::Path;

use crate::config::Tool;

use super::{File, source};
use crate::adopt::Found;

pub fn read(_root: &Path, files: &[File]) -> Option<Found> {
    let plan = files.iter().find(|f| f.name == "sqitch.plan")?;
    let dir = plan.path.parent()?;
    let text = std::fs::read_to_string(&plan.path).ok()?;
    let mut found = Found {
        tool: Some(Tool::Sqitch),
        ..Found::default()
    };
    let mut seen = std::collections::HashSet::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with(['%', '#', '@']) {
            continue;
        }
        let Some(change) = line.split_whitespace().next() else {
            continue;
        };
        let deploy = dir.join("deploy").join(format!("{change}.sql"));
        let Some(file) = files.iter().find(|f| f.path == deploy) else {
            continue;
        };
        if !seen.insert(change.to_owned()) {
            found.skipped.push((
                file.path.clone(),
                format!("`{change}` is reworked in sqitch.plan; its earlier versions live under deploy/{change}@<tag>.sql: adopt them by hand"),
            ));
            continue;
        }
        let Some(sql) = file.text.clone() else {
            continue;
        };
        found.sources.push(source(file, change, change, sql, true));
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
