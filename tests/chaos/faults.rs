//! The faults a trial injects, one kind per trial, each at a random moment of the run.

use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Fault {
    /// Every connection through the loopback proxy cut at a random moment.
    CutRandom,
    /// The connection cut while the server runs the slow DDL migration's transaction (the
    /// server checks for a lost client every 10 ms, so it aborts mid-transaction).
    CutMidTransaction,
    /// The connection cut while the server builds one of the indexes (mid-statement; the
    /// build is cancelled and leaves an invalid index behind).
    CutMidStatement,
    /// The connection cut right after a chunk containing `COMMIT` reached the server, from
    /// a random moment on: the client never learns whether its unit committed.
    CutAfterCommit,
    /// Every connection through the proxy to the TLS-only cluster cut mid TLS session.
    TlsCut,
    /// `pg_terminate_backend` of every sqlrail backend.
    Terminate,
    /// The server itself restarted (a crash or a fast shutdown), on the owned cluster.
    Restart,
    /// Another session holds `ACCESS EXCLUSIVE` on `chaos_items` for 1-3 s, longer than the
    /// DDL `lock_timeout` (300 ms): the lock-retry path.
    LockHolder,
    /// Another session holds row locks on a range of `chaos_items` during the backfills.
    RowLocks,
    /// A second and a third runner started mid-run.
    Runners,
    /// The runner killed with SIGKILL (a deploy timeout); the next run takes over the
    /// lease once it is stale.
    Kill,
    /// The first one to three connections of the run (to the TLS-only cluster) cut 1-30 ms
    /// after they were accepted: during or right after the TLS handshake.
    FirstConnectionCut,
    /// A primary and a streaming standby: the primary crashes mid-run and the standby is
    /// promoted 10-20 s later; the runner has both hosts with
    /// `target_session_attrs=read-write`.
    DelayedPromotion,
}

impl Fault {
    pub const ALL: [Fault; 13] = [
        Fault::CutRandom,
        Fault::CutMidTransaction,
        Fault::CutMidStatement,
        Fault::CutAfterCommit,
        Fault::TlsCut,
        Fault::Terminate,
        Fault::Restart,
        Fault::LockHolder,
        Fault::RowLocks,
        Fault::Runners,
        Fault::Kill,
        Fault::FirstConnectionCut,
        Fault::DelayedPromotion,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Fault::CutRandom => "cut-random",
            Fault::CutMidTransaction => "cut-mid-transaction",
            Fault::CutMidStatement => "cut-mid-statement",
            Fault::CutAfterCommit => "cut-after-commit",
            Fault::TlsCut => "cut-tls-session",
            Fault::Terminate => "terminate-backend",
            Fault::Restart => "server-restart",
            Fault::LockHolder => "lock-holder",
            Fault::RowLocks => "row-locks",
            Fault::Runners => "concurrent-runners",
            Fault::Kill => "kill-runner",
            Fault::FirstConnectionCut => "cut-first-connections",
            Fault::DelayedPromotion => "delayed-promotion",
        }
    }

    pub fn from_name(name: &str) -> Option<Fault> {
        Fault::ALL.into_iter().find(|f| f.name() == name)
    }

    /// Whether the trial runs against the owned (TLS, restartable) cluster.
    pub fn on_owned_server(self) -> bool {
        matches!(
            self,
            Fault::TlsCut | Fault::Restart | Fault::FirstConnectionCut
        )
    }

    /// Whether the runner's connections go through the cutting proxy.
    pub fn via_proxy(self) -> bool {
        matches!(
            self,
            Fault::CutRandom
                | Fault::CutMidTransaction
                | Fault::CutMidStatement
                | Fault::CutAfterCommit
                | Fault::TlsCut
        )
    }

    /// Whether the database is set to notice a lost client during a statement
    /// (`client_connection_check_interval`), so a cut aborts the work in flight.
    pub fn checks_client_connection(self) -> bool {
        matches!(self, Fault::CutMidTransaction | Fault::CutMidStatement)
    }

    /// A line in the faulted runner's output that shows the fault reached the path it
    /// exercises (a retry, a lock retry, a re-check pass, a wait for the lease).
    pub fn evidence(self) -> &'static [&'static str] {
        match self {
            Fault::LockHolder => &["lock_timeout (attempt"],
            Fault::RowLocks => &["were held by other sessions"],
            Fault::Runners => &["waiting for the migration lock"],
            Fault::Kill => &[],
            Fault::FirstConnectionCut => &[
                "the first connection: cannot connect",
                "was lost at its first read",
            ],
            Fault::DelayedPromotion => &["cannot connect to", "waiting for a writable host"],
            _ => &["retry ", "index build failed", "was interrupted"],
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
