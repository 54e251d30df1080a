//! Chaos trials: the chaos project (the example project plus 50 generated DDL migrations,
//! 5 index builds and 2 backfills over 200,000 rows) applied to a fresh database while one
//! fault acts at a random moment: connection cuts through a loopback proxy (at random,
//! mid-transaction, mid-statement, right after `COMMIT`, in a TLS session), terminated
//! backends, a server restart (a cluster the harness owns), a table lock held past
//! `lock_timeout`, row locks during the backfills, two more runners, a killed runner.
//! After each trial a plain run must exit 0 and the invariants must hold (see
//! `invariants.rs`).
//!
//! `cargo test --test chaos` runs 20 trials (every fault kind at least once), as CI does;
//! `bench/chaos.sh` runs 200 and writes the report. Settings (environment):
//! `SQLRAIL_CHAOS_TRIALS` (default 20), `SQLRAIL_CHAOS_SEED` (default: the clock; printed,
//! so a failing run can be replayed), `SQLRAIL_CHAOS_FAULTS` (comma-separated fault names,
//! default all), `SQLRAIL_CHAOS_REPORT` (a file for the Markdown report),
//! `SQLRAIL_CHAOS_LOGS` (a directory that keeps every runner's output).

#[path = "../support/mod.rs"]
mod support;

mod faults;
mod invariants;
mod project;
mod report;
mod server;
mod trial;

use faults::Fault;
use invariants::Expected;
use report::Report;
use server::Server;
use support::cluster::Cluster;
use trial::Stage;

struct Config {
    trials: usize,
    seed: u64,
    faults: Vec<Fault>,
    report: Option<String>,
    logs: Option<std::path::PathBuf>,
}

impl Config {
    fn from_env() -> Config {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let trials = var("SQLRAIL_CHAOS_TRIALS").map_or(20, |v| {
            v.parse()
                .unwrap_or_else(|_| panic!("SQLRAIL_CHAOS_TRIALS={v} is not a number"))
        });
        let seed = var("SQLRAIL_CHAOS_SEED").map_or_else(
            || {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos() as u64
            },
            |v| {
                v.parse()
                    .unwrap_or_else(|_| panic!("SQLRAIL_CHAOS_SEED={v} is not a number"))
            },
        );
        let faults = var("SQLRAIL_CHAOS_FAULTS").map_or(Fault::ALL.to_vec(), |v| {
            v.split(',')
                .map(|name| {
                    Fault::from_name(name.trim()).unwrap_or_else(|| {
                        let names: Vec<_> = Fault::ALL.iter().map(|f| f.name()).collect();
                        panic!("SQLRAIL_CHAOS_FAULTS: unknown fault {name:?}; one of {names:?}")
                    })
                })
                .collect()
        });
        Config {
            trials,
            seed,
            faults,
            report: var("SQLRAIL_CHAOS_REPORT"),
            logs: var("SQLRAIL_CHAOS_LOGS").map(Into::into),
        }
    }
}

#[test]
fn chaos_trials_keep_every_invariant() {
    let config = Config::from_env();
    eprintln!(
        "chaos: {} trials, seed {} (SQLRAIL_CHAOS_SEED={} replays them)",
        config.trials, config.seed, config.seed
    );
    let project_dir = support::example_project();
    project::write(project_dir.path());
    let (code, _, stderr) = support::sqlrail(&["manifest", "sync"], project_dir.path());
    assert_eq!(code, 0, "manifest sync: {stderr}");
    let (ddl, indexes, backfills) = project::expected_ids(project_dir.path());
    assert_eq!(ddl.len(), 35 + project::GENERATED_DDL);
    let expected = Expected {
        ddl,
        indexes,
        backfills,
    };
    let logs = tempfile::tempdir().unwrap();
    let logs = config
        .logs
        .clone()
        .unwrap_or_else(|| logs.path().to_owned());
    std::fs::create_dir_all(&logs).unwrap();
    let stage = Stage {
        project: project_dir.path(),
        expected: &expected,
        logs: &logs,
    };

    // The owned cluster (TLS, restartable) only when a chosen fault needs it.
    let local = Server::Local;
    let owned = config
        .faults
        .iter()
        .any(|f| f.on_owned_server())
        .then(|| Server::Owned(Cluster::start()));
    let servers: Vec<&Server> = std::iter::once(&local).chain(owned.as_ref()).collect();
    run_all(&config, &servers, &stage);
}

fn run_all(config: &Config, servers: &[&Server], stage: &Stage) {
    let references: Vec<_> = servers.iter().map(|s| trial::reference(s, stage)).collect();
    for (server, reference) in servers.iter().zip(&references) {
        eprintln!(
            "chaos: a clean run on the {} server takes {:.1}s",
            server.name(),
            reference.duration.as_secs_f64()
        );
    }
    let started = std::time::Instant::now();
    let mut report = Report::default();
    for t in 0..config.trials {
        let fault = config.faults[t % config.faults.len()];
        let which = usize::from(fault.on_owned_server());
        let mut rng = fastrand::Rng::with_seed(config.seed.wrapping_add(t as u64));
        let outcome = trial::run(
            t,
            fault,
            servers[which],
            &references[which],
            stage,
            &mut rng,
        );
        eprintln!(
            "chaos: trial {t:>3} {:<20} injected={} path={} exits={:?} plain={} {:.1}s{}",
            fault.name(),
            outcome.injected,
            outcome.path_seen,
            outcome.faulted_exits,
            outcome.plain_exit,
            outcome.seconds,
            if outcome.violations.is_empty() {
                ""
            } else {
                "  VIOLATION"
            }
        );
        report.add(&outcome);
    }
    let table = report.table();
    let summary = format!(
        "{} trials in {:.0}s, seed {}\n\n{table}",
        config.trials,
        started.elapsed().as_secs_f64(),
        config.seed
    );
    eprintln!("{summary}");
    for failure in report.failures() {
        eprintln!("{failure}");
    }
    if let Some(path) = &config.report {
        let mut text = summary.clone();
        for failure in report.failures() {
            text.push_str(&format!("\n{failure}\n"));
        }
        std::fs::write(path, text).unwrap();
    }
    assert_eq!(
        report.failed_trials(),
        0,
        "invariants violated (replay with SQLRAIL_CHAOS_SEED={}):\n{}",
        config.seed,
        report.failures().join("\n")
    );
}
