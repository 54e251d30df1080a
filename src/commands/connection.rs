//! What the database commands share: the project around the current directory, the
//! connection chosen once per run (strategy, TLS), and the executor built on it.

use std::time::Duration;

use crate::cli::DbArgs;
use crate::db::connect::{Strategy, choose};
use crate::db::errors::{ErrorClass, one_line};
use crate::db::lock::LockTable;
use crate::error::Error;
use crate::exec::executor::Executor;
use crate::ledger::Ledger;
use crate::ledger::state::PhaseState;
use crate::project::{Project, find_root};

/// The project, its ledger and an executor connected to the chosen database.
pub struct Session {
    pub project: Project,
    pub ledger: Ledger,
    /// The index and backfill state, beside the ledger.
    pub state: PhaseState,
    pub exec: Executor,
    /// `Using DIRECT (…)`, `Using POOLER (DIRECT unavailable - …)`, `Using …`.
    pub announcement: String,
}

/// Loads the project and opens the run's connection. `lock_wait`: see `apply --lock-wait`.
pub fn open(args: &DbArgs, lock_wait: Option<Duration>, quiet: bool) -> Result<Session, Error> {
    let project = load_project()?;
    let strategy = resolve(args)?;
    open_project(project, &strategy, lock_wait, quiet)
}

/// The project around the current directory (the nearest directory with a manifest.yaml).
pub fn load_project() -> Result<Project, Error> {
    let cwd = std::env::current_dir()?;
    let root = find_root(&cwd).ok_or_else(|| {
        Error::Usage(format!(
            "no manifest.yaml in {} or above it; run this inside a sqlrail project",
            cwd.display()
        ))
    })?;
    Ok(Project::load(&root)?)
}

/// Where to connect: `--database-url`, else the environment.
pub fn resolve(args: &DbArgs) -> Result<Strategy, Error> {
    let env = |name: &str| std::env::var(name).ok();
    let mut strategy = Strategy::resolve(args.database_url.as_deref(), &env)
        .map_err(|e| Error::Connect(e.to_string()))?;
    for warning in strategy.fill_passwords(&env) {
        crate::say!("{warning}");
    }
    Ok(strategy)
}

/// Opens the run's connection for a loaded project.
pub fn open_project(
    project: Project,
    strategy: &Strategy,
    lock_wait: Option<Duration>,
    quiet: bool,
) -> Result<Session, Error> {
    let settings = &project.manifest.settings;
    let log: Box<dyn Fn(&str)> = if quiet {
        Box::new(|_| {})
    } else {
        Box::new(|line| crate::say!("{line}"))
    };
    crate::exec::stop::install(|line| crate::say!("{line}"));
    // The first read goes on the first connection; a cut right after the handshake (a
    // pooler or proxy dropping a fresh TLS session) is retried like one during it.
    let started = std::time::Instant::now();
    let (chosen, ledger) = loop {
        let mut chosen = choose(strategy, &settings.retry, &*log).map_err(|(target, e)| {
            Error::Connect(format!(
                "cannot connect to {target}: {}",
                one_line(&e.to_string())
            ))
        })?;
        match crate::ledger::locate(&mut chosen.client, settings) {
            Ok(Some(legacy)) => {
                if !quiet {
                    crate::say!(
                        "note: using the ledger {} that an earlier sqlrail made (the default is now {}); set `ledger_schema: public` in manifest.yaml to say so",
                        legacy.name(),
                        Ledger::new(&settings.ledger_schema, &settings.ledger_table).name()
                    );
                }
                break (chosen, legacy);
            }
            Ok(None) => {
                break (
                    chosen,
                    Ledger::new(&settings.ledger_schema, &settings.ledger_table),
                );
            }
            Err(e)
                if ErrorClass::of(&e) == ErrorClass::ConnectionLost
                    && started.elapsed() < settings.retry.connect_deadline.0
                    && crate::exec::stop::requested().is_none() =>
            {
                let wait = crate::db::connect_policy::backoff(&settings.retry, 1);
                log(&format!(
                    "the first connection to {} was lost at its first read ({}); connecting again in {:.1}s",
                    chosen.host,
                    one_line(&crate::db::errors::describe(&e)),
                    wait.as_secs_f64()
                ));
                crate::exec::stop::sleep(wait);
            }
            Err(e) => {
                return Err(Error::Connect(format!(
                    "cannot read where the ledger is: {}",
                    one_line(&crate::db::errors::describe(&e))
                )));
            }
        }
    };
    if !quiet {
        crate::say!("{}", chosen.announcement);
    }
    let exec = Executor::new(
        chosen.target,
        chosen.client,
        chosen.host,
        LockTable::new(&ledger.schema),
        settings.retry.clone(),
        settings.lock_retry.clone(),
        lock_wait,
        log,
    );
    Ok(Session {
        state: PhaseState::new(&ledger.schema),
        ledger,
        project,
        exec,
        announcement: chosen.announcement,
    })
}
