//! libpq's `target_session_attrs` (PostgreSQL 14's full set): which of a multi-host
//! target's servers a connection may settle on. The driver knows only `any`, `read-write`
//! and `read-only`, and tries hosts without telling which one answered, so sqlrail walks
//! the hosts itself and checks each server with one query.

use postgres::Client;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SessionAttrs {
    /// The first server that accepts the connection.
    #[default]
    Any,
    /// A server whose sessions may write (`transaction_read_only` off).
    ReadWrite,
    /// A server whose sessions may not write.
    ReadOnly,
    /// A server not in recovery.
    Primary,
    /// A server in recovery (a streaming standby).
    Standby,
    /// A standby if any host is one, else any server.
    PreferStandby,
}

/// What a server is, as far as `target_session_attrs` cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerRole {
    pub in_recovery: bool,
    pub read_only: bool,
}

impl ServerRole {
    /// One round trip; works through a transaction pooler (no prepared statement).
    pub fn read(client: &mut Client) -> Result<ServerRole, postgres::Error> {
        let rows = client.simple_query(
            "SELECT pg_is_in_recovery()::text, current_setting('transaction_read_only')",
        )?;
        let row = rows.iter().find_map(|m| match m {
            postgres::SimpleQueryMessage::Row(row) => Some(row),
            _ => None,
        });
        let field = |i: usize| row.and_then(|r| r.get(i)).unwrap_or_default();
        Ok(ServerRole {
            in_recovery: field(0) == "true",
            read_only: field(1) == "on",
        })
    }

    /// `a standby (in recovery)`, `read-only (default_transaction_read_only is on)`, …
    pub fn describe(&self) -> &'static str {
        match (self.in_recovery, self.read_only) {
            (true, _) => "a standby (in recovery): it accepts no writes",
            (false, true) => "read-only (default_transaction_read_only is on)",
            (false, false) => "a primary that accepts writes",
        }
    }
}

impl SessionAttrs {
    pub fn parse(value: &str) -> Option<SessionAttrs> {
        Some(match value {
            "any" => SessionAttrs::Any,
            "read-write" => SessionAttrs::ReadWrite,
            "read-only" => SessionAttrs::ReadOnly,
            "primary" => SessionAttrs::Primary,
            "standby" => SessionAttrs::Standby,
            "prefer-standby" => SessionAttrs::PreferStandby,
            _ => return None,
        })
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            SessionAttrs::Any => "any",
            SessionAttrs::ReadWrite => "read-write",
            SessionAttrs::ReadOnly => "read-only",
            SessionAttrs::Primary => "primary",
            SessionAttrs::Standby => "standby",
            SessionAttrs::PreferStandby => "prefer-standby",
        }
    }

    /// Whether a server has to be asked what it is before it can be used.
    pub fn needs_check(&self) -> bool {
        *self != SessionAttrs::Any
    }

    /// Whether sessions on a server of `role` qualify (on the first pass, for
    /// `prefer-standby`: the second pass takes any server).
    pub fn accepts(&self, role: ServerRole) -> bool {
        match self {
            SessionAttrs::Any => true,
            SessionAttrs::ReadWrite => !role.read_only,
            SessionAttrs::ReadOnly => role.read_only,
            SessionAttrs::Primary => !role.in_recovery,
            SessionAttrs::Standby | SessionAttrs::PreferStandby => role.in_recovery,
        }
    }

    /// Whether the target asks for a server that takes writes: then a standby or a
    /// read-only server met during a run is a failover in progress, to wait out, not a
    /// mistake in the settings.
    pub fn wants_writes(&self) -> bool {
        matches!(self, SessionAttrs::ReadWrite | SessionAttrs::Primary)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_libpq_value_parses_and_judges_like_libpq() {
        let primary = ServerRole {
            in_recovery: false,
            read_only: false,
        };
        let standby = ServerRole {
            in_recovery: true,
            read_only: true,
        };
        let read_only_primary = ServerRole {
            in_recovery: false,
            read_only: true,
        };
        for (text, on_primary, on_standby, on_read_only_primary) in [
            ("any", true, true, true),
            ("read-write", true, false, false),
            ("read-only", false, true, true),
            ("primary", true, false, true),
            ("standby", false, true, false),
            ("prefer-standby", false, true, false),
        ] {
            let attrs = SessionAttrs::parse(text).unwrap();
            assert_eq!(attrs.as_str(), text);
            assert_eq!(attrs.accepts(primary), on_primary, "{text} on a primary");
            assert_eq!(attrs.accepts(standby), on_standby, "{text} on a standby");
            assert_eq!(
                attrs.accepts(read_only_primary),
                on_read_only_primary,
                "{text} on a read-only primary"
            );
        }
        assert_eq!(SessionAttrs::parse("read_write"), None);
    }
}
