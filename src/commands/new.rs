//! `sqlrail new <phase> <name>`: create the next migration file of a phase, with a header
//! saying what belongs in it, and its manifest entry.

use crate::cli::NewArgs;
use crate::config::{Manifest, ManifestText, Phase, parse_id};
use crate::error::{Error, Exit};
use crate::project::{ProjectError, discover, find_root};

use super::manifest::{read_or_new, write_atomically};

pub fn run(args: &NewArgs) -> Result<Exit, Error> {
    let phase = Phase::from(args.phase);
    let name = file_name_part(&args.name)?;
    if phase == Phase::Backfills && args.table.is_none() {
        return Err(Error::Usage(
            "a backfill walks one table's key range: pass --table <table> (and --key <column> if it is not `id`)".into(),
        ));
    }
    let cwd = std::env::current_dir()?;
    let root = find_root(&cwd).unwrap_or(cwd);
    let manifest_path = root.join("manifest.yaml");
    let (text, _) = read_or_new(&manifest_path)?;
    let manifest = Manifest::parse(&manifest_path, &text)?;
    // The next version after every file and every entry of the phase (an entry whose file
    // was deleted still owns its version in databases that applied it).
    let files = discover(&root, phase)?;
    let last = files
        .iter()
        .map(|m| m.version)
        .chain(
            manifest
                .migrations
                .iter()
                .filter_map(|e| parse_id(&e.id))
                .filter(|(p, _, _)| *p == phase)
                .map(|(_, v, _)| v),
        )
        .max()
        .unwrap_or(0);
    let stem = format!("V{}__{name}", last + 1);
    let id = format!("{}/{stem}", phase.dir());
    let dir = root.join("sql").join(phase.dir());
    let path = dir.join(format!("{stem}.sql"));

    let mut fields = Vec::new();
    if let Some(table) = &args.table {
        fields.push(match &args.key {
            Some(key) => format!("backfill: {{ table: {table}, key: {key} }}"),
            None => format!("backfill: {{ table: {table} }}"),
        });
    }
    let placed = [("before", &args.before), ("after", &args.after)];
    for (key, target) in placed {
        let Some(target) = target else { continue };
        if phase == Phase::Ddl {
            return Err(Error::Usage(format!(
                "--{key} places an index file or a backfill in the DDL sequence; a DDL migration's place is its version"
            )));
        }
        if manifest.entry(target).is_none() || !target.starts_with("ddl/") {
            return Err(Error::Usage(format!(
                "--{key} {target}: no such DDL migration in manifest.yaml; give its id, e.g. ddl/V12__users_email_key"
            )));
        }
        fields.push(format!("{key}: {target}"));
    }
    let mut edit = ManifestText::new(&manifest_path, &text);
    edit.append_entry(&id, &fields)
        .map_err(|e| Error::Usage(e.to_string()))?;
    edit.validate()?;

    let io = |source: std::io::Error| ProjectError::Read {
        path: path.clone(),
        source,
    };
    std::fs::create_dir_all(&dir).map_err(io)?;
    // `create_new`: never overwrite a file that appeared meanwhile.
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(io)?;
    std::io::Write::write_all(&mut file, header(phase, &name, args).as_bytes()).map_err(io)?;
    if let Err(e) = write_atomically(&manifest_path, &edit.text()) {
        // Nothing half-done: without its entry the file would only confuse.
        let _ = std::fs::remove_file(&path);
        return Err(e);
    }
    println!("{}", path.display());
    let next = match phase {
        Phase::Ddl => {
            "write the schema change (`manifest sync` then proposes a fingerprint for what it creates)"
        }
        Phase::Indexes => "write one CREATE INDEX CONCURRENTLY",
        Phase::Backfills => "write one UPDATE/INSERT/DELETE over :lo/:hi",
    };
    crate::say!("created {id}: {next}, then run `sqlrail manifest sync`");
    Ok(Exit::Success)
}

/// `add leads-score` → `add_leads_score`; refinery names take letters, digits and `_`.
fn file_name_part(name: &str) -> Result<String, Error> {
    let name: String = name
        .trim()
        .chars()
        .map(|c| {
            if c == '-' || c == ' ' {
                '_'
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect();
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(Error::Usage(format!(
            "`{name}` cannot be part of a file name: use letters, digits and `_` (e.g. add_leads_score)"
        )));
    }
    Ok(name)
}

fn header(phase: Phase, name: &str, args: &NewArgs) -> String {
    match phase {
        Phase::Ddl => format!(
            "-- {name}: a schema change. It runs in one transaction, with its ledger row and the DDL\n\
             -- lock_timeout; a failure stops the deploy. Schema only: a data change gets its own batched\n\
             -- file in the data phase (`sqlrail new --help`).\n\n"
        ),
        Phase::Indexes => format!(
            "-- {name}: one index build, run outside a transaction; a failure warns and is retried next run.\n\
             -- Exactly one statement: CREATE [UNIQUE] INDEX CONCURRENTLY <index> ON <table> (...);\n\n"
        ),
        Phase::Backfills => {
            let table = args.table.as_deref().unwrap_or("<table>");
            let key = args.key.as_deref().unwrap_or("id");
            format!(
                "-- {name}: a batched backfill of {table}. One DML statement; the runner binds :lo and :hi to each\n\
                 -- batch's range of {table}.{key} (inclusive) and commits per batch. Keep it idempotent, e.g.\n\
                 --   UPDATE {table} SET col = ... WHERE {key} BETWEEN :lo AND :hi AND col IS DISTINCT FROM ...;\n\n"
            )
        }
    }
}
