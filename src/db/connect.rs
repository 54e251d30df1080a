//! Where to connect and how: connection strings from flags or the environment (first match
//! wins: `--database-url`; `DATABASE_URL_DIRECT` + `DATABASE_URL_POOLER`; `DATABASE_URL`;
//! libpq's `PG*` variables), TLS modes as libpq spells them, and a description of the
//! target that never contains the password.

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use postgres::config::{Host, LoadBalanceHosts, SslMode};
use postgres::{Client, Config, NoTls};
use postgres_native_tls::MakeTlsConnector;

use super::connect_policy::GaveUp;
use super::session_attrs::{ServerRole, SessionAttrs};
use crate::config::RetrySettings;

/// libpq's `sslmode` values, all of them (`postgres::Config` knows only the first three).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsMode {
    Disable,
    /// TLS when the server offers it, without verifying the certificate (libpq's default).
    Prefer,
    /// TLS, without verifying the certificate.
    Require,
    /// TLS, the certificate signed by the root certificate (`sslrootcert`).
    VerifyCa,
    /// `VerifyCa`, and the host name matches the certificate.
    VerifyFull,
}

impl TlsMode {
    fn parse(value: &str) -> Option<TlsMode> {
        Some(match value {
            "disable" | "allow" => TlsMode::Disable,
            "prefer" => TlsMode::Prefer,
            "require" => TlsMode::Require,
            "verify-ca" => TlsMode::VerifyCa,
            "verify-full" => TlsMode::VerifyFull,
            _ => return None,
        })
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            TlsMode::Disable => "disable",
            TlsMode::Prefer => "prefer",
            TlsMode::Require => "require",
            TlsMode::VerifyCa => "verify-ca",
            TlsMode::VerifyFull => "verify-full",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("{source_name} is not a valid connection string: {message}")]
    Malformed {
        source_name: String,
        message: String,
    },
    #[error(
        "{source_name}: sslmode `{value}` is not one of disable, allow, prefer, require, verify-ca, verify-full"
    )]
    SslMode { source_name: String, value: String },
    #[error("{}: cannot read the root certificate: {source}", path.display())]
    RootCert {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: not a PEM certificate: {source}", path.display())]
    BadRootCert {
        path: PathBuf,
        source: native_tls::Error,
    },
    #[error(
        "no database given: pass --database-url URL, or set DATABASE_URL (or DATABASE_URL_DIRECT / DATABASE_URL_POOLER), or libpq's PGHOST / PGDATABASE; sqlrail does not guess one"
    )]
    NoTarget,
    #[error(
        "PGSERVICE is set, but sqlrail does not read pg_service.conf: give the service's settings as --database-url URL or DATABASE_URL instead"
    )]
    ServiceFile,
    #[error(
        "{source_name}: target_session_attrs `{value}` is not one of any, read-write, read-only, primary, standby, prefer-standby"
    )]
    SessionAttrs { source_name: String, value: String },
    #[error("cannot set up TLS: {0}")]
    Tls(#[from] native_tls::Error),
    #[error("sslmode={mode} needs a root certificate: set sslrootcert (or PGSSLROOTCERT), or put it in {}", default.display())]
    NoRootCert {
        mode: &'static str,
        default: PathBuf,
    },
}

/// One database to connect to.
#[derive(Clone)]
pub struct Target {
    config: Config,
    tls: TlsMode,
    root_cert: Option<PathBuf>,
    /// Which of the hosts a connection may settle on (libpq's `target_session_attrs`).
    attrs: SessionAttrs,
    /// Where the setting came from (`--database-url`, `DATABASE_URL`, …), for messages.
    pub source_name: String,
    /// The TLS connector, built on first use and shared by clones: building one loads
    /// the system's CA bundle, ~50 ms that every reconnect paid before.
    connector: Arc<OnceLock<MakeTlsConnector>>,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the password.
        f.write_str(&self.describe())
    }
}

impl Target {
    /// Parses a URL (`postgres://user:pw@host:5432/db?sslmode=require`) or a libpq
    /// key/value string (`host=… dbname=…`) named `source_name` in errors.
    pub fn parse(text: &str, source_name: &str) -> Result<Target, ConnectError> {
        let taken = take_libpq_options(text);
        let rest = taken.rest;
        let mut config = Config::from_str(&rest).map_err(|e| ConnectError::Malformed {
            source_name: source_name.to_owned(),
            message: bad_port(&rest).unwrap_or_else(|| strip_password(&e.to_string(), text)),
        })?;
        if config.get_hosts().is_empty() {
            config.host_path("/var/run/postgresql");
        }
        let tls = match taken.sslmode {
            None => TlsMode::Prefer,
            Some(v) => TlsMode::parse(&v).ok_or_else(|| ConnectError::SslMode {
                source_name: source_name.to_owned(),
                value: v,
            })?,
        };
        let attrs = match taken.target_session_attrs {
            None => SessionAttrs::Any,
            Some(v) => SessionAttrs::parse(&v).ok_or_else(|| ConnectError::SessionAttrs {
                source_name: source_name.to_owned(),
                value: v,
            })?,
        };
        Ok(Target {
            config,
            tls,
            root_cert: taken.sslrootcert.map(PathBuf::from),
            attrs,
            source_name: source_name.to_owned(),
            connector: Arc::default(),
        })
    }

    /// libpq's environment: PGHOST (default: the local socket; several, comma-separated),
    /// PGPORT (5432; one, or one per host), PGUSER (the login name), PGDATABASE (the
    /// user), PGPASSWORD, PGSSLMODE (prefer), PGSSLROOTCERT, PGTARGETSESSIONATTRS (any),
    /// PGCONNECT_TIMEOUT.
    pub fn from_pg_env(env: &dyn Fn(&str) -> Option<String>) -> Result<Target, ConnectError> {
        let mut config = Config::new();
        // libpq's default user is the operating-system account (not `$USER`, which a
        // `sudo` or a container may leave pointing at someone else).
        let user = env("PGUSER")
            .filter(|u| !u.is_empty())
            .or_else(os_user)
            .unwrap_or_else(|| "postgres".into());
        match env("PGHOST").filter(|h| !h.is_empty()) {
            Some(host) => {
                for h in host.split(',') {
                    config.host(h);
                }
            }
            None => {
                config.host_path("/var/run/postgresql");
            }
        }
        let ports = env("PGPORT").unwrap_or_else(|| "5432".into());
        for port in ports.split(',') {
            config.port(port.trim().parse().map_err(|_| ConnectError::Malformed {
                source_name: "PGPORT".into(),
                message: format!("`{port}` is not a port number"),
            })?);
        }
        config.user(&user);
        config.dbname(&env("PGDATABASE").unwrap_or_else(|| user.clone()));
        if let Some(password) = env("PGPASSWORD") {
            config.password(password);
        }
        if let Some(seconds) = env("PGCONNECT_TIMEOUT").and_then(|s| s.trim().parse::<u64>().ok())
            && seconds > 0
        {
            config.connect_timeout(Duration::from_secs(seconds));
        }
        let attrs = match env("PGTARGETSESSIONATTRS") {
            None => SessionAttrs::Any,
            Some(v) => SessionAttrs::parse(&v).ok_or(ConnectError::SessionAttrs {
                source_name: "PGTARGETSESSIONATTRS".into(),
                value: v,
            })?,
        };
        let tls = match env("PGSSLMODE") {
            None => TlsMode::Prefer,
            Some(v) => TlsMode::parse(&v).ok_or(ConnectError::SslMode {
                source_name: "PGSSLMODE".into(),
                value: v,
            })?,
        };
        Ok(Target {
            config,
            tls,
            root_cert: env("PGSSLROOTCERT").map(PathBuf::from),
            attrs,
            source_name: "PG* environment".into(),
            connector: Arc::default(),
        })
    }

    /// Takes the password from `PGPASSWORD`, else the password file (`PGPASSFILE` or
    /// `~/.pgpass`), when the target names none: libpq's order, whatever form the target
    /// was given in (a URL or key=value string too, as psql does). Returns a warning when
    /// the file is ignored.
    pub fn fill_password(&mut self, env: &dyn Fn(&str) -> Option<String>) -> Option<String> {
        if self.config.get_password().is_some() {
            return None;
        }
        if let Some(password) = env("PGPASSWORD") {
            self.config.password(password);
            return None;
        }
        let path = super::pgpass::location(env)?;
        let host = match self.config.get_hosts().first()? {
            Host::Tcp(name) => name.clone(),
            Host::Unix(dir) => dir.display().to_string(),
        };
        let user = self.config.get_user()?.to_owned();
        let wanted = super::pgpass::Wanted {
            host: &host,
            port: self.config.get_ports().first().copied().unwrap_or(5432),
            dbname: self.config.get_dbname().unwrap_or(&user),
            user: &user,
        };
        match super::pgpass::lookup(&path, &wanted) {
            Ok(Some(password)) => {
                self.config.password(password);
                None
            }
            Ok(None) => None,
            Err(warning) => Some(warning),
        }
    }

    /// `user@host:port/db (sslmode=…)`: what to show in logs, every host listed (in
    /// order) when there are several. No password, ever.
    pub fn describe(&self) -> String {
        let hosts: Vec<String> = (0..self.host_count()).map(|i| self.host_label(i)).collect();
        self.describe_on(&hosts.join(","))
    }

    /// The same, naming one host: the one a connection settled on or that refused.
    pub fn describe_on(&self, host: &str) -> String {
        let attrs = if self.attrs.needs_check() {
            format!(", target_session_attrs={}", self.attrs.as_str())
        } else {
            String::new()
        };
        format!(
            "{}@{host}/{} (sslmode={}{attrs})",
            self.config.get_user().unwrap_or("?"),
            self.config.get_dbname().unwrap_or("?"),
            self.tls.as_str()
        )
    }

    /// How many hosts the target lists (`host=a,b` or `postgres://a,b/…`).
    fn host_count(&self) -> usize {
        self.config
            .get_hosts()
            .len()
            .max(self.config.get_hostaddrs().len())
            .max(1)
    }

    /// `host:port` of the `i`th host, as messages name it.
    fn host_label(&self, i: usize) -> String {
        let name = match (
            self.config.get_hosts().get(i),
            self.config.get_hostaddrs().get(i),
        ) {
            (Some(Host::Tcp(h)), _) => h.clone(),
            (Some(Host::Unix(p)), _) => p.display().to_string(),
            (None, Some(addr)) => addr.to_string(),
            (None, None) => "?".into(),
        };
        format!("{name}:{}", self.port_of(i))
    }

    /// One port for every host, or one per host (libpq's rule).
    fn port_of(&self, i: usize) -> u16 {
        let ports = self.config.get_ports();
        ports
            .get(i)
            .or_else(|| ports.first())
            .copied()
            .unwrap_or(5432)
    }

    /// Whether a server the target reached may be used for writes as far as the
    /// settings go: a target asking for `read-write` or `primary` that meets a standby is
    /// in a failover (wait for the promotion); any other target met one by mistake.
    pub fn wants_writes(&self) -> bool {
        self.attrs.wants_writes()
    }

    /// The same target, its connections started with server settings (`-c name=value`
    /// startup options): they live and die with the session, so unlike `SET` they cannot
    /// leak to other clients through a pooler.
    pub fn with_options(&self, options: &str) -> Target {
        let mut target = self.clone();
        target.config.options(options);
        target
    }

    pub fn has_options(&self) -> bool {
        self.config.get_options().is_some()
    }

    /// The database connections open: the one named, else (as in libpq) the user's name.
    pub fn dbname(&self) -> String {
        self.config
            .get_dbname()
            .or(self.config.get_user())
            .unwrap_or("postgres")
            .to_owned()
    }

    /// The same server and credentials, another database (`reset` drops and creates the
    /// target's database from the maintenance database).
    pub fn with_dbname(&self, dbname: &str) -> Target {
        let mut target = self.clone();
        target.config.dbname(dbname);
        target
    }

    /// Whether every host the target may connect to is this machine: a unix socket,
    /// `localhost`, an address in 127.0.0.0/8 or `::1` (and `hostaddr`, when given, too).
    /// `reset` refuses anything else without `--force`.
    pub fn is_local(&self) -> bool {
        let local_name = |name: &str| {
            let name = name.trim_start_matches('[').trim_end_matches(']');
            name.eq_ignore_ascii_case("localhost")
                || name
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        };
        let hosts_local = self.config.get_hosts().iter().all(|host| match host {
            Host::Unix(_) => true,
            Host::Tcp(name) => local_name(name),
        });
        hosts_local
            && self
                .config
                .get_hostaddrs()
                .iter()
                .all(std::net::IpAddr::is_loopback)
    }

    /// Opens one connection, within `timeout` per host (or the target's own
    /// `connect_timeout`).
    pub fn connect(&self, timeout: Duration) -> Result<Client, ConnectFailure> {
        self.open(timeout).map(|c| c.client)
    }

    /// Opens one connection and says which host it reached: the hosts in order (shuffled
    /// for `load_balance_hosts=random`), each asked what it is when
    /// `target_session_attrs` needs to know, the first that qualifies kept (for
    /// `prefer-standby`, a standby, else the first that answered). One attempt: the
    /// retries around it are `db::connect_policy`'s.
    pub fn open(&self, timeout: Duration) -> Result<Connected, ConnectFailure> {
        let tls = match self.tls {
            TlsMode::Disable => None,
            _ => Some(match self.connector.get() {
                Some(tls) => tls.clone(),
                None => {
                    let tls = self.connector().map_err(ConnectFailure::Setup)?;
                    self.connector.get_or_init(|| tls).clone()
                }
            }),
        };
        let mut order: Vec<usize> = (0..self.host_count()).collect();
        if self.config.get_load_balance_hosts() == LoadBalanceHosts::Random {
            fastrand::shuffle(&mut order);
        }
        let mut failures = Vec::new();
        // `prefer-standby`: the first primary that answered, in case no host is a standby.
        let mut fallback: Option<Connected> = None;
        for i in order {
            let host = self.host_label(i);
            let config = self.one_host(i, timeout);
            let connected = match &tls {
                None => config.connect(NoTls),
                Some(tls) => config.connect(tls.clone()),
            };
            let mut client = match connected {
                Ok(client) => client,
                Err(error) => {
                    failures.push(HostFailure {
                        host,
                        cause: HostCause::Server(error),
                    });
                    continue;
                }
            };
            if !self.attrs.needs_check() {
                return Ok(Connected { client, host });
            }
            match ServerRole::read(&mut client) {
                Ok(role) if self.attrs.accepts(role) => return Ok(Connected { client, host }),
                Ok(_) if self.attrs == SessionAttrs::PreferStandby => {
                    fallback.get_or_insert(Connected { client, host });
                }
                Ok(role) => failures.push(HostFailure {
                    host,
                    cause: HostCause::Unqualified {
                        role,
                        wanted: self.attrs,
                    },
                }),
                Err(error) => failures.push(HostFailure {
                    host,
                    cause: HostCause::Server(error),
                }),
            }
        }
        fallback.ok_or(ConnectFailure::Hosts(failures))
    }

    /// The driver's configuration for the `i`th host alone (the driver would try every
    /// host itself, without saying which one answered). Every other setting is carried
    /// over.
    fn one_host(&self, i: usize, timeout: Duration) -> Config {
        let from = &self.config;
        let mut config = Config::new();
        if let Some(user) = from.get_user() {
            config.user(user);
        }
        if let Some(password) = from.get_password() {
            config.password(password);
        }
        if let Some(dbname) = from.get_dbname() {
            config.dbname(dbname);
        }
        if let Some(options) = from.get_options() {
            config.options(options);
        }
        match from.get_hosts().get(i) {
            Some(Host::Tcp(name)) => {
                config.host(name);
            }
            Some(Host::Unix(dir)) => {
                config.host_path(dir);
            }
            None => {}
        }
        if let Some(addr) = from.get_hostaddrs().get(i) {
            config.hostaddr(*addr);
        }
        config.port(self.port_of(i));
        config.connect_timeout(from.get_connect_timeout().copied().unwrap_or(timeout));
        if let Some(t) = from.get_tcp_user_timeout() {
            config.tcp_user_timeout(*t);
        }
        config.keepalives(from.get_keepalives());
        config.keepalives_idle(from.get_keepalives_idle());
        if let Some(interval) = from.get_keepalives_interval() {
            config.keepalives_interval(interval);
        }
        if let Some(retries) = from.get_keepalives_retries() {
            config.keepalives_retries(retries);
        }
        config.channel_binding(from.get_channel_binding());
        config.application_name(from.get_application_name().unwrap_or("sqlrail"));
        config.ssl_mode(match self.tls {
            TlsMode::Disable => SslMode::Disable,
            TlsMode::Prefer => SslMode::Prefer,
            _ => SslMode::Require,
        });
        config
    }

    /// A server-side cancel of what `client` is running (for a stop signal): a cancel
    /// request on a connection of its own, with the target's TLS settings.
    pub fn canceller(&self, client: &Client) -> impl Fn() + Send + 'static {
        let token = client.cancel_token();
        let tls = match self.tls {
            TlsMode::Disable => None,
            _ => self.connector.get().cloned(),
        };
        move || {
            let _ = match &tls {
                Some(tls) => token.cancel_query(tls.clone()),
                None => token.cancel_query(NoTls),
            };
        }
    }

    fn connector(&self) -> Result<MakeTlsConnector, ConnectError> {
        let mut builder = native_tls::TlsConnector::builder();
        match self.tls {
            // libpq does not verify certificates below verify-ca.
            TlsMode::Disable | TlsMode::Prefer | TlsMode::Require => {
                builder.danger_accept_invalid_certs(true);
                builder.danger_accept_invalid_hostnames(true);
            }
            TlsMode::VerifyCa | TlsMode::VerifyFull => {
                let default = home().join(".postgresql/root.crt");
                let path = match &self.root_cert {
                    Some(p) => p.clone(),
                    None if default.is_file() => default,
                    None => {
                        return Err(ConnectError::NoRootCert {
                            mode: self.tls.as_str(),
                            default,
                        });
                    }
                };
                let pem = std::fs::read(&path).map_err(|source| ConnectError::RootCert {
                    path: path.clone(),
                    source,
                })?;
                let cert = native_tls::Certificate::from_pem(&pem)
                    .map_err(|source| ConnectError::BadRootCert { path, source })?;
                builder.add_root_certificate(cert);
                // Only the given root, as libpq does.
                builder.disable_built_in_roots(true);
                if self.tls == TlsMode::VerifyCa {
                    builder.danger_accept_invalid_hostnames(true);
                }
            }
        }
        Ok(MakeTlsConnector::new(builder.build()?))
    }
}

/// A connection and the host it reached (`host:port`), for the messages that name it.
pub struct Connected {
    pub client: Client,
    pub host: String,
}

/// Why a connection could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum ConnectFailure {
    #[error(transparent)]
    Setup(ConnectError),
    /// Every host was tried: each one and why it was not used, in order.
    #[error("{}", hosts_failure(.0))]
    Hosts(Vec<HostFailure>),
}

/// One host that was not used.
#[derive(Debug)]
pub struct HostFailure {
    /// `host:port`.
    pub host: String,
    pub cause: HostCause,
}

#[derive(Debug)]
pub enum HostCause {
    /// The connection failed, or the question what the server is did.
    Server(postgres::Error),
    /// The server answered but is not what `target_session_attrs` asks for.
    Unqualified {
        role: ServerRole,
        wanted: SessionAttrs,
    },
}

impl std::fmt::Display for HostCause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HostCause::Server(e) => f.write_str(&server_failure(e)),
            HostCause::Unqualified { role, wanted } => write!(
                f,
                "the server is {}, not what target_session_attrs={} asks for",
                role.describe(),
                wanted.as_str()
            ),
        }
    }
}

impl ConnectFailure {
    /// The host the failure names: the last one tried.
    pub fn host(&self) -> Option<&str> {
        match self {
            ConnectFailure::Hosts(failures) => failures.last().map(|f| f.host.as_str()),
            ConnectFailure::Setup(_) => None,
        }
    }

    /// The driver errors, host by host.
    pub fn server_errors(&self) -> impl Iterator<Item = &postgres::Error> {
        let failures: &[HostFailure] = match self {
            ConnectFailure::Hosts(failures) => failures,
            ConnectFailure::Setup(_) => &[],
        };
        failures.iter().filter_map(|f| match &f.cause {
            HostCause::Server(e) => Some(e),
            HostCause::Unqualified { .. } => None,
        })
    }
}

/// One host: its error alone (as before multi-host targets); several: each named.
fn hosts_failure(failures: &[HostFailure]) -> String {
    match failures {
        [one] => one.cause.to_string(),
        many => many
            .iter()
            .map(|f| format!("{}: {}", f.host, f.cause))
            .collect::<Vec<_>>()
            .join("; "),
    }
}

/// The driver's error, plus what to do when it is the one every first-time user meets.
fn server_failure(error: &postgres::Error) -> String {
    let text = crate::db::errors::describe(error);
    if text.ends_with("password missing") {
        format!(
            "{text}: the server asks for a password; put it in the URL, PGPASSWORD or the password file (PGPASSFILE, ~/.pgpass)"
        )
    } else {
        text
    }
}

fn home() -> PathBuf {
    std::env::var_os("HOME").map_or_else(|| PathBuf::from("/root"), PathBuf::from)
}

/// The libpq options the driver does not implement (it rejects `sslmode=verify-full`
/// and `target_session_attrs=primary`), taken out of the connection string.
struct Taken {
    rest: String,
    sslmode: Option<String>,
    sslrootcert: Option<String>,
    target_session_attrs: Option<String>,
}

/// Removes `sslmode`, `sslrootcert` and `target_session_attrs` from a URL's query or a
/// key/value string and returns them.
fn take_libpq_options(text: &str) -> Taken {
    let (mut sslmode, mut sslrootcert, mut attrs) = (None, None, None);
    let mut take = |key: &str, value: &str| {
        let slot = match key {
            "sslmode" => &mut sslmode,
            "sslrootcert" => &mut sslrootcert,
            "target_session_attrs" => &mut attrs,
            _ => return false,
        };
        *slot = Some(value.to_owned());
        true
    };
    let rest = if text.starts_with("postgres://") || text.starts_with("postgresql://") {
        match text.split_once('?') {
            Some((base, query)) => {
                let kept: Vec<&str> = query
                    .split('&')
                    .filter(|pair| {
                        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                        !take(k, &percent_decode(v))
                    })
                    .collect();
                if kept.is_empty() {
                    base.to_owned()
                } else {
                    format!("{base}?{}", kept.join("&"))
                }
            }
            None => text.to_owned(),
        }
    } else {
        text.split_whitespace()
            .filter(|pair| {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                !take(k.trim(), v.trim_matches('\''))
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    Taken {
        rest,
        sslmode,
        sslrootcert,
        target_session_attrs: attrs,
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(v) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The driver's parse errors may quote the input; keep the password out of them.
fn strip_password(message: &str, text: &str) -> String {
    let mut message = message.to_owned();
    if let Some(password) = password_of(text)
        && !password.is_empty()
    {
        message = message.replace(&password, "***");
    }
    message
}

/// The parser says only "invalid connection string"; a port that is not a number from 1
/// to 65535 is the usual cause and worth naming.
fn bad_port(text: &str) -> Option<String> {
    let ports: Vec<&str> = match text.split_once("://") {
        Some((_, rest)) => {
            let hosts = rest.split(['/', '?']).next().unwrap_or_default();
            let hosts = hosts.rsplit_once('@').map_or(hosts, |(_, h)| h);
            hosts
                .split(',')
                .filter_map(|h| h.rsplit_once(']').map_or(Some(h), |(_, p)| Some(p)))
                .filter_map(|h| h.rsplit_once(':').map(|(_, p)| p))
                .collect()
        }
        None => text
            .split_whitespace()
            .filter_map(|kv| kv.strip_prefix("port="))
            .flat_map(|p| p.split(','))
            .collect(),
    };
    ports
        .into_iter()
        .find(|p| !p.is_empty() && p.parse::<u16>().map_or(true, |n| n == 0))
        .map(|p| format!("`{p}` is not a port number (1 to 65535)"))
}

/// The password written in a URL (`user:pw@`) or key/value string (`password=pw`).
fn password_of(text: &str) -> Option<String> {
    if let Some(rest) = text.split_once("://").map(|(_, r)| r) {
        let userinfo = rest.split_once('@')?.0;
        return userinfo.split_once(':').map(|(_, p)| p.to_owned());
    }
    text.split_whitespace()
        .find_map(|kv| kv.strip_prefix("password="))
        .map(|p| p.trim_matches('\'').to_owned())
}

/// Connection strings from the environment and flags, in precedence order.
#[derive(Debug, Clone)]
pub enum Strategy {
    /// One target for the whole run.
    Single(Box<Target>),
    /// Probe `direct` once (5 s); use it if it answers, else `pooler`. Never switched later.
    DirectOrPooler {
        direct: Box<Target>,
        pooler: Box<Target>,
    },
}

impl Strategy {
    /// Fills passwords from the password file for the targets that name none; the
    /// warnings about an ignored file.
    pub fn fill_passwords(&mut self, env: &dyn Fn(&str) -> Option<String>) -> Vec<String> {
        let targets: Vec<&mut Target> = match self {
            Strategy::Single(target) => vec![target],
            Strategy::DirectOrPooler { direct, pooler } => vec![direct, pooler],
        };
        let mut warnings: Vec<String> = targets
            .into_iter()
            .filter_map(|t| t.fill_password(env))
            .collect();
        warnings.dedup();
        warnings
    }

    /// The target that reaches the server directly (the only one for `Single`).
    pub fn direct(&self) -> &Target {
        match self {
            Strategy::Single(target) => target,
            Strategy::DirectOrPooler { direct, .. } => direct,
        }
    }

    /// `--database-url` first, then `DATABASE_URL_DIRECT` + `DATABASE_URL_POOLER`,
    /// `DATABASE_URL`, and libpq's `PG*` variables.
    pub fn resolve(
        flag: Option<&str>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Strategy, ConnectError> {
        if let Some(url) = flag {
            return Ok(Strategy::Single(Box::new(Target::parse(
                url,
                "--database-url",
            )?)));
        }
        let var = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        match (var("DATABASE_URL_DIRECT"), var("DATABASE_URL_POOLER")) {
            (Some(direct), Some(pooler)) => {
                return Ok(Strategy::DirectOrPooler {
                    direct: Box::new(Target::parse(&direct, "DATABASE_URL_DIRECT")?),
                    pooler: Box::new(Target::parse(&pooler, "DATABASE_URL_POOLER")?),
                });
            }
            (Some(direct), None) => {
                return Ok(Strategy::Single(Box::new(Target::parse(
                    &direct,
                    "DATABASE_URL_DIRECT",
                )?)));
            }
            (None, Some(pooler)) => {
                return Ok(Strategy::Single(Box::new(Target::parse(
                    &pooler,
                    "DATABASE_URL_POOLER",
                )?)));
            }
            (None, None) => {}
        }
        if let Some(url) = var("DATABASE_URL") {
            return Ok(Strategy::Single(Box::new(Target::parse(
                &url,
                "DATABASE_URL",
            )?)));
        }
        // libpq would fall back to the local socket and a database named after the user:
        // for `apply` that silently migrates whatever `postgres` (or `$USER`) is. A
        // database command must be told where to go.
        if var("PGSERVICE").is_some() {
            return Err(ConnectError::ServiceFile);
        }
        if var("PGHOST").is_none() && var("PGDATABASE").is_none() {
            return Err(ConnectError::NoTarget);
        }
        Ok(Strategy::Single(Box::new(Target::from_pg_env(env)?)))
    }
}

/// The name of the account this process runs as, as libpq takes its default user.
fn os_user() -> Option<String> {
    let mut buffer = vec![0u8; 4096];
    let mut entry: libc::passwd = unsafe { std::mem::zeroed() };
    let mut found: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: getpwuid_r writes the entry's strings into `buffer`, which outlives the
    // read of `pw_name` below; `found` is null or points at `entry`.
    let code = unsafe {
        libc::getpwuid_r(
            libc::geteuid(),
            &mut entry,
            buffer.as_mut_ptr().cast(),
            buffer.len(),
            &mut found,
        )
    };
    if code != 0 || found.is_null() || entry.pw_name.is_null() {
        return None;
    }
    // SAFETY: a NUL-terminated string inside `buffer`.
    let name = unsafe { std::ffi::CStr::from_ptr(entry.pw_name) };
    name.to_str().ok().map(str::to_owned)
}

/// The chosen target and the line that says so (`Using DIRECT`, …).
pub struct Chosen {
    pub target: Target,
    pub client: Client,
    /// The host the connection reached (`host:port`).
    pub host: String,
    pub announcement: String,
}

/// Opens the run's first connection under the connection policy (retried like every
/// other). For `DirectOrPooler`, the direct target is probed once with a 5 s timeout,
/// and the choice holds for the whole run. On failure: the target that failed (naming
/// the host that refused) and why.
pub fn choose(
    strategy: &Strategy,
    retry: &RetrySettings,
    log: &dyn Fn(&str),
) -> Result<Chosen, (String, GaveUp)> {
    let opened = |target: &Target| {
        super::connect_policy::open(target, retry, "the first connection", log).map_err(|e| {
            let host = e.failure.host().map(str::to_owned);
            let described = match host {
                Some(h) if target.host_count() == 1 => target.describe_on(&h),
                _ => target.describe(),
            };
            (described, e)
        })
    };
    match strategy {
        Strategy::Single(target) => {
            let c = opened(target)?;
            Ok(Chosen {
                announcement: format!("Using {}", target.describe_on(&c.host)),
                target: (**target).clone(),
                client: c.client,
                host: c.host,
            })
        }
        Strategy::DirectOrPooler { direct, pooler } => match direct.open(Duration::from_secs(5)) {
            Ok(c) => Ok(Chosen {
                announcement: format!("Using DIRECT ({})", direct.describe_on(&c.host)),
                target: (**direct).clone(),
                client: c.client,
                host: c.host,
            }),
            Err(e) => {
                let why = first_line(&e.to_string());
                let c = opened(pooler)?;
                Ok(Chosen {
                    announcement: format!(
                        "Using POOLER (DIRECT unavailable - {why}) ({})",
                        pooler.describe_on(&c.host)
                    ),
                    target: (**pooler).clone(),
                    client: c.client,
                    host: c.host,
                })
            }
        },
    }
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or(s).to_owned()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }

    #[test]
    fn local_hosts_are_sockets_localhost_and_loopback_addresses() {
        let local = |url: &str| Target::parse(url, "url").unwrap().is_local();
        for url in [
            "postgres://u@localhost/db",
            "postgres://u@LOCALHOST:5433/db",
            "postgres://u@127.0.0.1/db",
            "postgres://u@127.8.9.10/db",
            "postgres://u@[::1]:5432/db",
            "postgres://u@%2Fvar%2Frun%2Fpostgresql/db",
            "host=/tmp dbname=db",
            "dbname=db",
        ] {
            assert!(local(url), "{url} is local");
        }
        for url in [
            "postgres://u@db.internal/db",
            "postgres://u@10.0.0.5/db",
            "postgres://u@128.0.0.1/db",
            "postgres://u@localhost.evil.example/db",
            "host=localhost,db.internal dbname=db",
            "host=localhost hostaddr=10.0.0.5 dbname=db",
        ] {
            assert!(!local(url), "{url} is not local");
        }
    }

    #[test]
    fn a_bad_port_is_named() {
        for (text, port) in [
            ("postgres://u:pw@h:99999/db", "99999"),
            ("postgres://h:5x/db", "5x"),
            ("host=h port=70000 dbname=db", "70000"),
        ] {
            let e = Target::parse(text, "--database-url")
                .unwrap_err()
                .to_string();
            assert!(
                e.contains(&format!("`{port}` is not a port number")),
                "{text}: {e}"
            );
            assert!(!e.contains("pw"), "{e}");
        }
        assert_eq!(super::bad_port("postgres://u@[::1]:5432/db"), None);
    }

    #[test]
    fn the_database_name_defaults_to_the_user() {
        let named = Target::parse("postgres://alice@h/crm", "url").unwrap();
        assert_eq!(named.dbname(), "crm");
        assert_eq!(named.with_dbname("postgres").dbname(), "postgres");
        assert_eq!(
            Target::parse("postgres://alice@h", "url").unwrap().dbname(),
            "alice"
        );
    }

    #[test]
    fn sources_take_precedence_in_order() {
        let all = env(&[
            ("DATABASE_URL_DIRECT", "postgres://u@direct/db"),
            ("DATABASE_URL_POOLER", "postgres://u@pooler:6432/db"),
            ("DATABASE_URL", "postgres://u@plain/db"),
            ("PGHOST", "pghost"),
        ]);
        let flag = Strategy::resolve(Some("postgres://u@flag/db"), &all).unwrap();
        assert!(matches!(flag, Strategy::Single(t) if t.describe().starts_with("u@flag:5432/db")));
        let both = Strategy::resolve(None, &all).unwrap();
        assert!(matches!(both, Strategy::DirectOrPooler { .. }));
        let plain =
            Strategy::resolve(None, &env(&[("DATABASE_URL", "postgres://u@plain/db")])).unwrap();
        assert!(matches!(plain, Strategy::Single(t) if t.source_name == "DATABASE_URL"));
        let pg = Strategy::resolve(
            None,
            &env(&[
                ("PGHOST", "h"),
                ("PGPORT", "6543"),
                ("PGUSER", "alice"),
                ("PGSSLMODE", "require"),
            ]),
        )
        .unwrap();
        let Strategy::Single(t) = pg else { panic!() };
        assert_eq!(t.describe(), "alice@h:6543/alice (sslmode=require)");
    }

    #[test]
    fn nothing_that_names_a_database_is_an_error_not_a_guess() {
        // PGUSER alone names a role, not a database: libpq would pick the local socket's
        // database of that name.
        for vars in [&[][..], &[("PGUSER", "alice"), ("PGPORT", "5433")][..]] {
            let Err(e) = Strategy::resolve(None, &env(vars)) else {
                panic!("an error")
            };
            assert!(matches!(e, ConnectError::NoTarget), "{e}");
            assert!(e.to_string().contains("pass --database-url URL"), "{e}");
        }
        let Err(e) = Strategy::resolve(None, &env(&[("PGSERVICE", "prod")])) else {
            panic!("an error")
        };
        assert!(matches!(e, ConnectError::ServiceFile), "{e}");
        // A database alone is enough, as with psql: the local socket, user from the OS.
        let Strategy::Single(t) = Strategy::resolve(None, &env(&[("PGDATABASE", "app")])).unwrap()
        else {
            panic!()
        };
        assert_eq!(
            t.describe(),
            format!(
                "{}@/var/run/postgresql:5432/app (sslmode=prefer)",
                os_user().unwrap()
            )
        );
    }

    #[test]
    fn tls_options_are_read_from_urls_and_key_values() {
        let t = Target::parse(
            "postgres://u:secret@h/db?sslmode=verify-full&sslrootcert=%2Ftmp%2Fca.pem&application_name=x",
            "t",
        )
        .unwrap();
        assert_eq!(t.tls, TlsMode::VerifyFull);
        assert_eq!(t.root_cert.as_deref(), Some(Path::new("/tmp/ca.pem")));
        let t =
            Target::parse("host=h dbname=d sslmode=verify-ca sslrootcert=/ca.pem", "t").unwrap();
        assert_eq!(
            (t.tls, t.root_cert),
            (TlsMode::VerifyCa, Some(PathBuf::from("/ca.pem")))
        );
        let e = Target::parse("postgres://u@h/db?sslmode=sometimes", "DATABASE_URL").unwrap_err();
        assert_eq!(
            e.to_string(),
            "DATABASE_URL: sslmode `sometimes` is not one of disable, allow, prefer, require, verify-ca, verify-full"
        );
    }

    #[test]
    fn multi_host_targets_keep_every_host_and_their_session_attrs() {
        let t = Target::parse(
            "postgres://app@db-a:5433,db-b/crm?target_session_attrs=read-write&connect_timeout=3",
            "DATABASE_URL",
        )
        .unwrap();
        assert_eq!(t.host_count(), 2);
        assert_eq!(
            t.describe(),
            "app@db-a:5433,db-b:5432/crm (sslmode=prefer, target_session_attrs=read-write)"
        );
        assert_eq!(
            t.describe_on("db-b:5432"),
            "app@db-b:5432/crm (sslmode=prefer, target_session_attrs=read-write)"
        );
        assert!(t.wants_writes());
        // The driver's configuration for one host carries everything else over.
        let second = t.one_host(1, Duration::from_secs(10));
        assert_eq!(second.get_hosts(), &[Host::Tcp("db-b".into())]);
        assert_eq!(second.get_ports(), &[5432]);
        assert_eq!(second.get_dbname(), Some("crm"));
        assert_eq!(second.get_connect_timeout(), Some(&Duration::from_secs(3)));
        // key=value form, with libpq 14's values the driver does not know.
        for (value, writes) in [("primary", true), ("prefer-standby", false), ("any", false)] {
            let t = Target::parse(
                &format!("host=a,b port=5432,5433 dbname=d target_session_attrs={value}"),
                "--database-url",
            )
            .unwrap();
            assert_eq!(t.wants_writes(), writes, "{value}");
            assert_eq!(t.host_label(1), "b:5433");
        }
        let e = Target::parse(
            "postgres://h/db?target_session_attrs=writable",
            "DATABASE_URL",
        )
        .unwrap_err();
        assert!(matches!(e, ConnectError::SessionAttrs { .. }), "{e}");
        // libpq's environment: several hosts and ports.
        let t = Target::from_pg_env(&env(&[
            ("PGHOST", "a,b"),
            ("PGPORT", "5432,5433"),
            ("PGUSER", "u"),
            ("PGDATABASE", "d"),
            ("PGTARGETSESSIONATTRS", "primary"),
        ]))
        .unwrap();
        assert_eq!(
            t.describe(),
            "u@a:5432,b:5433/d (sslmode=prefer, target_session_attrs=primary)"
        );
    }

    #[test]
    fn pgpassword_fills_a_url_without_a_password_as_libpq_does() {
        let vars = env(&[("PGPASSWORD", "from-env"), ("PGPASSFILE", "/nonexistent")]);
        let mut t = Target::parse("postgres://app@db/crm", "DATABASE_URL").unwrap();
        assert_eq!(t.fill_password(&vars), None);
        assert_eq!(t.config.get_password(), Some(&b"from-env"[..]));
        // A password in the URL wins.
        let mut t = Target::parse("postgres://app:in-url@db/crm", "DATABASE_URL").unwrap();
        t.fill_password(&vars);
        assert_eq!(t.config.get_password(), Some(&b"in-url"[..]));
        let mut t = Target::parse("host=db user=app dbname=crm", "--database-url").unwrap();
        t.fill_password(&vars);
        assert_eq!(t.config.get_password(), Some(&b"from-env"[..]));
    }

    #[test]
    fn passwords_never_appear_in_descriptions_or_errors() {
        let t = Target::parse(
            "postgres://app:hunter2@db.internal:5432/crm",
            "DATABASE_URL",
        )
        .unwrap();
        assert_eq!(t.describe(), "app@db.internal:5432/crm (sslmode=prefer)");
        assert!(!format!("{t:?}").contains("hunter2"));
        let e = Target::parse(
            "postgres://app:hunter2@db.internal:notaport/crm",
            "DATABASE_URL",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("DATABASE_URL is not a valid connection string"),
            "{e}"
        );
        assert!(!e.contains("hunter2"), "{e}");
    }
}
