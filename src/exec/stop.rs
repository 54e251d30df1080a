//! Clean stops on SIGINT and SIGTERM (what Kubernetes, systemd and a cancelled CI job
//! send first). The first signal is a request: the statement in flight that holds the
//! most (a DDL transaction, a `CREATE INDEX CONCURRENTLY`) is cancelled on the server,
//! a backfill batch finishes, and each phase stops at its next unit boundary; the
//! executor then releases the lease, so the next run starts at once. A second signal
//! exits at once, as a user pressing Ctrl-C twice means.
//!
//! The handler itself only writes to a pipe (`signal-hook`'s iterator); the watcher
//! thread does the rest, outside signal context.

use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};
use std::sync::{Mutex, Once};
use std::time::{Duration, Instant};

use signal_hook::consts::{SIGINT, SIGTERM};

/// The signal received, 0 for none.
static RECEIVED: AtomicI32 = AtomicI32::new(0);

type Cancel = Box<dyn Fn() + Send>;

/// What to cancel when a stop is requested: the statements in flight, by registration.
static IN_FLIGHT: Mutex<Vec<(u64, Cancel)>> = Mutex::new(Vec::new());
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// A stop that was asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signal(pub i32);

impl Signal {
    pub fn name(&self) -> &'static str {
        match self.0 {
            SIGINT => "SIGINT",
            SIGTERM => "SIGTERM",
            _ => "a signal",
        }
    }

    /// 128 + the signal's number: what a shell reports for a process the signal ended
    /// (130, 143), so a deploy system reads the stop as what it was.
    pub fn exit_code(&self) -> u8 {
        (128 + self.0) as u8
    }
}

/// Starts listening for SIGINT and SIGTERM (once per process; commands that change a
/// database call it before their first connection).
pub fn install(log: fn(&str)) {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM]) else {
            log("warning: cannot listen for SIGINT/SIGTERM; a signal ends sqlrail at once");
            return;
        };
        std::thread::spawn(move || {
            for signal in signals.forever() {
                if RECEIVED
                    .compare_exchange(0, signal, Ordering::SeqCst, Ordering::SeqCst)
                    .is_err()
                {
                    // The second: the user means it.
                    log(&format!(
                        "{}: a second stop signal; exiting at once (the lease frees itself within {}s)",
                        Signal(signal).name(),
                        crate::db::lock::STALE.as_secs()
                    ));
                    std::process::exit(128 + signal);
                }
                log(&format!(
                    "{}: stopping: the statement in flight is cancelled or its batch finishes, then the lock is released (send it again to exit at once)",
                    Signal(signal).name()
                ));
                for (_, cancel) in IN_FLIGHT.lock().unwrap_or_else(|p| p.into_inner()).iter() {
                    cancel();
                }
            }
        });
    });
}

/// The stop asked for, if any.
pub fn requested() -> Option<Signal> {
    match RECEIVED.load(Ordering::SeqCst) {
        0 => None,
        n => Some(Signal(n)),
    }
}

/// Sleeps `duration`, or less when a stop is asked for meanwhile.
pub fn sleep(duration: Duration) {
    let until = Instant::now() + duration;
    while requested().is_none() {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return;
        }
        std::thread::sleep(left.min(Duration::from_millis(100)));
    }
}

/// While alive, a stop request runs `cancel` (a server-side cancel of the statement in
/// flight). Already stopping: runs it at once.
pub struct CancelOnStop {
    id: u64,
}

impl CancelOnStop {
    pub fn register(cancel: impl Fn() + Send + 'static) -> CancelOnStop {
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        IN_FLIGHT
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((id, Box::new(cancel)));
        // A signal that came just before the registration found nothing to cancel.
        if requested().is_some()
            && let Some((_, cancel)) = IN_FLIGHT
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .iter()
                .find(|(i, _)| *i == id)
        {
            cancel();
        }
        CancelOnStop { id }
    }
}

impl Drop for CancelOnStop {
    fn drop(&mut self) {
        IN_FLIGHT
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|(i, _)| *i != self.id);
    }
}
