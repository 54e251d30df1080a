//! The order and parallelism of a fleet run: canaries first, one at a time, then the
//! rest at most `concurrency` at once; `on_failure: stop` starts no new target after a
//! failure. A stop signal (SIGINT/SIGTERM) is passed on to the runs in flight, which stop
//! cleanly as a single run does, and no new target starts.

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::outcome::{FleetCommand, TargetRun, finish, spawn};
use super::targets::{OnFailure, Rollout, Target};

/// What every target's run is: the binary, the project, the command and its options.
pub struct Runs<'a> {
    pub exe: PathBuf,
    pub root: PathBuf,
    pub command: FleetCommand,
    /// Options passed to each run as given (`--phase ddl`, `--lock-wait 30s`, …).
    pub passed: Vec<String>,
    /// Called once per target as it finishes (or is skipped), in finishing order.
    pub on_done: &'a (dyn Fn(&TargetRun) + Sync),
}

/// Runs the fleet; the outcomes come back in the targets' order.
pub fn run(runs: &Runs, targets: &[Target], rollout: &Rollout) -> Vec<TargetRun> {
    let mut outcomes: Vec<Option<TargetRun>> = (0..targets.len()).map(|_| None).collect();
    let in_flight = InFlight::default();
    let watcher = in_flight.watch_for_stop();
    // Read-only commands change nothing, so there is nothing to stage: every target at
    // the fleet's concurrency, and a failure stops nothing.
    let staged = runs.command == FleetCommand::Apply;
    let canaries: Vec<usize> = if staged {
        rollout
            .canary
            .iter()
            .filter_map(|c| targets.iter().position(|t| &t.name == c))
            .collect()
    } else {
        Vec::new()
    };
    let mut halted: Option<String> = None;
    for &i in &canaries {
        let outcome = match &halted {
            Some(why) => TargetRun::not_started(&targets[i], why),
            None => run_one(runs, &targets[i], &in_flight),
        };
        if outcome.result.failed() && halted.is_none() {
            halted = Some(format!("the canary {} did not succeed", targets[i].name));
        }
        (runs.on_done)(&outcome);
        outcomes[i] = Some(outcome);
    }
    let rest: VecDeque<usize> = (0..targets.len())
        .filter(|i| !canaries.contains(i))
        .collect();
    let queue = Mutex::new(rest);
    let stop_new = Mutex::new(halted);
    let done = Mutex::new(Vec::new());
    let workers = rollout.concurrency.min(targets.len()).max(1);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let Some(i) = queue.lock().unwrap().pop_front() else {
                        break;
                    };
                    let why = stop_new.lock().unwrap().clone().or_else(|| {
                        crate::exec::stop::requested().map(|s| format!("{} received", s.name()))
                    });
                    let outcome = match why {
                        Some(why) => TargetRun::not_started(&targets[i], &why),
                        None => run_one(runs, &targets[i], &in_flight),
                    };
                    if staged
                        && outcome.result.failed()
                        && outcome.result != super::outcome::Result::NotStarted
                        && rollout.on_failure == OnFailure::Stop
                    {
                        stop_new.lock().unwrap().get_or_insert_with(|| {
                            format!(
                                "on_failure: stop, after {} ended {}",
                                targets[i].name,
                                outcome.result.as_str()
                            )
                        });
                    }
                    (runs.on_done)(&outcome);
                    done.lock().unwrap().push((i, outcome));
                }
            });
        }
    });
    for (i, outcome) in done.into_inner().unwrap() {
        outcomes[i] = Some(outcome);
    }
    in_flight.finished.store(true, Ordering::SeqCst);
    let _ = watcher.join();
    outcomes
        .into_iter()
        .map(|o| o.expect("every target has an outcome"))
        .collect()
}

fn run_one(runs: &Runs, target: &Target, in_flight: &InFlight) -> TargetRun {
    let started = Instant::now();
    match spawn(&runs.exe, &runs.root, runs.command, &runs.passed, target) {
        Ok(child) => {
            let pid = child.id();
            in_flight.add(pid);
            let outcome = finish(runs.command, target, child, started);
            in_flight.remove(pid);
            outcome
        }
        Err(e) => {
            let mut outcome = TargetRun::not_started(target, &format!("cannot start sqlrail: {e}"));
            outcome.result = super::outcome::Result::Error;
            outcome
        }
    }
}

/// The child runs in flight, so that a stop signal reaches each of them.
#[derive(Default, Clone)]
struct InFlight {
    pids: Arc<Mutex<HashMap<u32, bool>>>,
    finished: Arc<AtomicBool>,
}

impl InFlight {
    /// A signal that came while this child was starting is passed on at the next poll.
    fn add(&self, pid: u32) {
        self.pids.lock().unwrap().insert(pid, false);
    }

    fn remove(&self, pid: u32) {
        self.pids.lock().unwrap().remove(&pid);
    }

    /// A thread that, once a stop signal came, passes it on to every child once.
    fn watch_for_stop(&self) -> std::thread::JoinHandle<()> {
        let this = self.clone();
        std::thread::spawn(move || {
            while !this.finished.load(Ordering::SeqCst) {
                if let Some(signal) = crate::exec::stop::requested() {
                    for (pid, sent) in this.pids.lock().unwrap().iter_mut() {
                        if !*sent {
                            // SAFETY: kill(2) has no memory effects. The pid is a child
                            // this process started; it leaves the map right after it is
                            // reaped, so only that instant could see the pid reused.
                            unsafe {
                                libc::kill(*pid as libc::pid_t, signal.0);
                            }
                            *sent = true;
                        }
                    }
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        })
    }
}
