//! The one connection policy, for every connection a run opens (its first, each phase's,
//! every reconnect): a failure that may pass is retried on the run's backoff schedule
//! until `settings.retry.connect_deadline`, each attempt logged with its reason and wait;
//! one that will not fix itself fails at once.
//!
//! | failure | verdict |
//! |---|---|
//! | refused, reset, timed out, cut at any point of the startup or TLS handshake | retried |
//! | SQLSTATE 08xxx, 57P01–57P03 (shutting down, starting up), 53300 (too many connections) | retried |
//! | a server that is not what `target_session_attrs` asks for (a standby mid-failover) | retried |
//! | a host name that does not resolve | retried for [`DNS_GRACE`], then fails |
//! | authentication (28xxx), unknown database (3D000), 08P01 (a startup parameter refused), any other SQLSTATE | fails at once |
//! | TLS certificate or host name verification, a server without TLS for `sslmode=require` | fails at once |
//! | an invalid connection string or option, a missing password | fails at once |
//!
//! Messages are read only for the driver's own fixed English texts (its errors carry no
//! kind accessor) and for OpenSSL's verification failures; server errors go by SQLSTATE.

use std::time::{Duration, Instant};

use super::connect::{ConnectFailure, Connected, HostCause, Target};
use super::errors::{ErrorClass, describe};
use crate::config::RetrySettings;

/// How long a host name that does not resolve is retried: long enough for a DNS record
/// that a failover is switching, short enough that a typo fails fast.
pub const DNS_GRACE: Duration = Duration::from_secs(10);

/// What a failure to connect means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// May pass: retried.
    Transient,
    /// A host name that does not resolve: retried for [`DNS_GRACE`].
    Unresolved,
    /// Will not fix itself.
    Permanent,
}

impl Verdict {
    /// A failure over several hosts is as bad as its worst host: a wrong password or
    /// certificate on one of them is a settings problem a retry cannot fix.
    pub fn of(failure: &ConnectFailure) -> Verdict {
        let ConnectFailure::Hosts(failures) = failure else {
            return Verdict::Permanent;
        };
        let verdicts = failures.iter().map(|f| match &f.cause {
            HostCause::Server(e) => Verdict::of_error(e),
            HostCause::Unqualified { .. } => Verdict::Transient,
        });
        verdicts.fold(Verdict::Transient, |worst, v| match (worst, v) {
            (Verdict::Permanent, _) | (_, Verdict::Permanent) => Verdict::Permanent,
            (Verdict::Unresolved, _) | (_, Verdict::Unresolved) => Verdict::Unresolved,
            _ => Verdict::Transient,
        })
    }

    /// One host's error while connecting.
    pub fn of_error(error: &postgres::Error) -> Verdict {
        if let Some(code) = error.code() {
            // A protocol violation at startup is the server refusing what the client
            // sends (PgBouncer and the `options` parameter): the same every time.
            if code.code() == "08P01" {
                return Verdict::Permanent;
            }
            return match ErrorClass::of_sqlstate(code.code()) {
                ErrorClass::ConnectionLost | ErrorClass::Transient => Verdict::Transient,
                _ => Verdict::Permanent,
            };
        }
        if error.is_closed() {
            return Verdict::Transient;
        }
        let top = error.to_string();
        // tokio-postgres's `Kind::{Config, ConfigParse, Authentication}`.
        const SETTINGS: [&str; 3] = [
            "invalid configuration",
            "invalid connection string",
            "authentication error",
        ];
        if SETTINGS.iter().any(|s| top.starts_with(s)) {
            return Verdict::Permanent;
        }
        let chain = describe(error).to_ascii_lowercase();
        if top.starts_with("error performing TLS handshake") {
            // A cut handshake ("unexpected EOF", "connection reset") may pass; a
            // certificate that does not verify, or a server without TLS, will not.
            const POLICY: [&str; 4] = ["certificate", "verify", "hostname", "does not support tls"];
            return if POLICY.iter().any(|p| chain.contains(p)) {
                Verdict::Permanent
            } else {
                Verdict::Transient
            };
        }
        if chain.contains("failed to lookup address") {
            return Verdict::Unresolved;
        }
        // Everything else below SQL: refused, reset, early EOF, "bytes remaining on
        // stream", timeouts.
        Verdict::Transient
    }
}

/// The longest wait between two connection attempts, whatever `max_backoff` says: an
/// attempt at a server that is down costs it nothing, and a promotion should be noticed
/// within a second of the new primary taking writes (with waits of `max_backoff`, 8 s,
/// a failover cost up to 8 s more than it had to).
pub const CONNECT_WAIT_CAP: Duration = Duration::from_secs(1);

/// Connecting failed for good: why, and how hard it was tried.
#[derive(Debug)]
pub struct GaveUp {
    pub failure: ConnectFailure,
    pub attempts: u32,
    pub elapsed: Duration,
    pub verdict: Verdict,
}

impl std::fmt::Display for GaveUp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", first_line(&self.failure.to_string()))?;
        if self.attempts > 1 {
            write!(
                f,
                " (gave up after {} attempts in {:.0}s: settings.retry.connect_deadline)",
                self.attempts,
                self.elapsed.as_secs_f64()
            )?;
        }
        Ok(())
    }
}

/// Opens a connection to `target` under the policy; `what` names the connection in the
/// log lines (`the first connection`, `a reconnect for 0003_orders`). A stop signal ends
/// the wait early.
pub fn open(
    target: &Target,
    retry: &RetrySettings,
    what: &str,
    log: &dyn Fn(&str),
) -> Result<Connected, GaveUp> {
    let started = Instant::now();
    let mut attempt = 0;
    loop {
        attempt += 1;
        let failure = match target.open(retry.connect_timeout.0) {
            Ok(connected) => {
                if attempt > 1 {
                    log(&format!(
                        "connected to {} after {attempt} attempts ({:.1}s)",
                        connected.host,
                        started.elapsed().as_secs_f64()
                    ));
                }
                return Ok(connected);
            }
            Err(failure) => failure,
        };
        let verdict = Verdict::of(&failure);
        let elapsed = started.elapsed();
        let wait = backoff(retry, attempt).min(CONNECT_WAIT_CAP);
        let give_up = match verdict {
            Verdict::Permanent => true,
            Verdict::Unresolved => elapsed + wait > DNS_GRACE.min(retry.connect_deadline.0),
            Verdict::Transient => elapsed + wait > retry.connect_deadline.0,
        } || crate::exec::stop::requested().is_some();
        if give_up {
            return Err(GaveUp {
                failure,
                attempts: attempt,
                elapsed,
                verdict,
            });
        }
        log(&format!(
            "{what}: cannot connect to {} ({}); attempt {attempt}, retrying in {:.1}s ({:.0}s of {:.0}s connect deadline used)",
            failure.host().unwrap_or("the server"),
            first_line(&failure.to_string()),
            wait.as_secs_f64(),
            elapsed.as_secs_f64(),
            retry.connect_deadline.0.as_secs_f64()
        ));
        crate::exec::stop::sleep(wait);
    }
}

/// The run's backoff: `initial_backoff` doubling to `max_backoff`, ±20% jitter so that
/// runners cut off together do not come back together.
pub fn backoff(retry: &RetrySettings, attempt: u32) -> Duration {
    let base =
        retry.initial_backoff.0.as_secs_f64() * 2f64.powi(attempt.saturating_sub(1).min(20) as i32);
    let capped = base.min(retry.max_backoff.0.as_secs_f64());
    Duration::from_secs_f64(capped * (0.8 + 0.4 * fastrand::f64()))
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or(s).to_owned()
}
