//! Every setting: a flag, a `SESSIOND_*` environment variable, a default
//! and its bounds, all shown by `sessiond --help`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::builder::BoolishValueParser;
use clap::parser::ValueSource;
use clap::{ArgAction, ArgMatches, Parser, ValueEnum};

use crate::session::{Limits, Namespace, PerUserPolicy, Timeouts};
use crate::storage::durable::{FsyncPolicy, PersistConfig};
use crate::storage::redis::{redact, RedisConfig, Target};

/// Where sessions are held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BackendKind {
    /// This process's memory (journaled with --data-dir).
    Memory,
    /// Redis or Valkey, standalone (--redis-url) or Cluster
    /// (--redis-cluster), shared by every sessiond replica.
    Redis,
}

/// A Redis URL, which may hold a password: shown (Debug, Display) with the
/// password replaced, so a logged `Config` never carries it.
#[derive(Clone, PartialEq, Eq)]
pub struct RedisUrl(pub String);

impl std::str::FromStr for RedisUrl {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        if s.starts_with("redis://") || s.starts_with("rediss://") || s.starts_with("valkey://") {
            Ok(RedisUrl(s.to_owned()))
        } else {
            Err("expected redis://[user:password@]host:port[/db] or rediss://... (TLS)".into())
        }
    }
}

impl std::fmt::Debug for RedisUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", redact(&self.0))
    }
}

impl std::fmt::Display for RedisUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&redact(&self.0))
    }
}

/// Flags whose meaning belongs to the memory backend: with `--backend
/// redis` each is refused by name (clap's id, the flag). Redis persists
/// the sessions itself, and replicas sharing it cannot count sessions
/// exactly.
const MEMORY_ONLY: [(&str, &str); 7] = [
    ("data_dir", "--data-dir"),
    ("fsync", "--fsync"),
    ("snapshot_interval", "--snapshot-interval"),
    ("snapshot_log_bytes", "--snapshot-log-bytes"),
    ("accept_data_loss", "--accept-data-loss"),
    ("max_sessions", "--max-sessions"),
    ("max_sessions_per_namespace", "--max-sessions-per-namespace"),
];

/// What a login beyond `--max-sessions-per-user` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PerUserLimitPolicy {
    /// End the user's oldest session to make room.
    EvictOldest,
    /// Refuse the new one (RESOURCE_EXHAUSTED).
    Refuse,
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// sessiond: a standalone session server (gRPC API over a sharded in-memory
/// store with TTL eviction). Every flag can also be set by its environment
/// variable.
#[derive(Debug, Clone, Parser)]
#[command(name = "sessiond", version, about, long_about = None)]
pub struct Config {
    /// Address of the gRPC API.
    #[arg(long, env = "SESSIOND_GRPC_ADDR", default_value = "127.0.0.1:50051")]
    pub grpc_addr: SocketAddr,

    /// Address of the admin listener: /healthz, /readyz and /metrics. Keep it
    /// off the public network. `sessiond healthcheck` probes it too.
    #[arg(
        long,
        env = "SESSIOND_ADMIN_ADDR",
        default_value = "127.0.0.1:9090",
        global = true
    )]
    pub admin_addr: SocketAddr,

    /// Serve gRPC server reflection, v1 and v1alpha (for grpcurl, Postman,
    /// Evans, grpcio-reflection and similar tools).
    #[arg(
        long,
        env = "SESSIOND_GRPC_REFLECTION",
        default_value_t = true,
        action = ArgAction::Set,
        value_parser = BoolishValueParser::new(),
        value_name = "BOOL"
    )]
    pub grpc_reflection: bool,

    /// Concurrent HTTP/2 streams per gRPC connection (each unary call, each
    /// Pipeline or Watch stream takes one while it lasts). A client that
    /// opens more is refused the extra streams (REFUSED_STREAM), so one
    /// connection cannot hold unbounded server state.
    #[arg(
        long,
        env = "SESSIOND_MAX_STREAMS_PER_CONNECTION",
        default_value_t = 256
    )]
    pub max_streams_per_connection: u32,

    /// Requests of one Pipeline stream waiting for storage at once (a change
    /// waiting for its fsync, a Redis round trip). Past it a request is
    /// answered RESOURCE_EXHAUSTED without running; the memory backend
    /// answers at once, so there it is never reached.
    #[arg(long, env = "SESSIOND_MAX_PIPELINE_IN_FLIGHT", default_value_t = 1024)]
    pub max_pipeline_in_flight: usize,

    /// Events a Watch subscriber may leave unread before it is dropped
    /// (RESOURCE_EXHAUSTED "subscriber too slow"): a slow subscriber costs
    /// at most this much memory, never more.
    #[arg(long, env = "SESSIOND_WATCH_BUFFER", default_value_t = 1024)]
    pub watch_buffer: usize,
    /// Address of the HTTP gateway (browser cookies in, sessions out).
    #[arg(long, env = "SESSIOND_HTTP_ADDR", default_value = "127.0.0.1:8080")]
    pub http_addr: SocketAddr,

    /// Name of the session cookie. A `__Host-` name needs --cookie-secure
    /// and no --cookie-domain; a `__Secure-` name needs --cookie-secure.
    #[arg(long, env = "SESSIOND_COOKIE_NAME", default_value = "sessionid")]
    pub cookie_name: String,

    /// Mark the cookie `Secure` (sent over HTTPS only). Turn off
    /// (`--cookie-secure false`) only for plain-HTTP development.
    #[arg(long, env = "SESSIOND_COOKIE_SECURE", default_value_t = true,
          num_args = 0..=1, default_missing_value = "true",
          value_parser = BoolishValueParser::new())]
    pub cookie_secure: bool,

    /// `Domain` attribute of the cookie, to share it with subdomains.
    /// Unset: no `Domain`, so only this host receives it.
    #[arg(long, env = "SESSIOND_COOKIE_DOMAIN")]
    pub cookie_domain: Option<String>,

    /// Send the cookie without `Max-Age`, so the browser forgets it when it
    /// closes (Django's SESSION_EXPIRE_AT_BROWSER_CLOSE). The session itself
    /// still expires after its idle timeout.
    #[arg(long, env = "SESSIOND_COOKIE_BROWSER_SESSION", default_value_t = false,
          num_args = 0..=1, default_missing_value = "true",
          value_parser = BoolishValueParser::new())]
    pub cookie_browser_session: bool,

    /// Origins (`scheme://host[:port]`, comma-separated) allowed to make
    /// state-changing requests, besides the gateway's own host.
    #[arg(long, env = "SESSIOND_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub allowed_origins: Vec<String>,

    /// Session keys that `GET /auth` exports as `X-Session-<Key>` headers
    /// (comma-separated; `_` becomes `-` in the header name).
    #[arg(long, env = "SESSIOND_AUTH_HEADERS", value_delimiter = ',')]
    pub auth_headers: Vec<String>,

    /// Session keys that must hold a truthy value (not absent, `null`,
    /// `false`, `0` or `""`) for `GET /auth` to answer 200, e.g. `is_login`:
    /// without it, any live session passes, anonymous ones included.
    #[arg(long, env = "SESSIOND_AUTH_REQUIRE", value_delimiter = ',')]
    pub auth_require: Vec<String>,

    /// Largest HTTP request body, in bytes; larger ones get 413.
    #[arg(long, env = "SESSIOND_MAX_BODY_BYTES", default_value_t = 1024 * 1024)]
    pub max_body_bytes: usize,

    /// Largest HTTP request head (request line and headers), in bytes;
    /// larger ones get 431. At least 8192.
    #[arg(long, env = "SESSIOND_MAX_HEADER_BYTES", default_value_t = 32 * 1024)]
    pub max_header_bytes: usize,

    /// How long an HTTP client may take to send a request's head, or its
    /// body, before the gateway gives up on it (slow-client protection).
    #[arg(long, env = "SESSIOND_HTTP_READ_TIMEOUT", default_value = "10s", value_parser = parse_duration)]
    pub http_read_timeout: Duration,

    /// Default idle timeout: activity slides the deadline this far ahead.
    #[arg(long, env = "SESSIOND_IDLE_TIMEOUT", default_value = "14d", value_parser = parse_duration)]
    pub idle_timeout: Duration,

    /// Smallest idle timeout a client may set per session.
    #[arg(long, env = "SESSIOND_MIN_IDLE_TIMEOUT", default_value = "1s", value_parser = parse_duration)]
    pub min_idle_timeout: Duration,

    /// Largest idle timeout a client may set per session.
    #[arg(long, env = "SESSIOND_MAX_IDLE_TIMEOUT", default_value = "366d", value_parser = parse_duration)]
    pub max_idle_timeout: Duration,

    /// Cap on a session's life from creation that activity never extends.
    /// Unset: no cap.
    #[arg(long, env = "SESSIOND_ABSOLUTE_TIMEOUT", value_parser = parse_duration)]
    pub absolute_timeout: Option<Duration>,

    /// Most sessions in the store; creation beyond it is refused.
    #[arg(long, env = "SESSIOND_MAX_SESSIONS", default_value_t = Limits::default().max_sessions)]
    pub max_sessions: usize,

    /// Most sessions in any one namespace, so that one application cannot
    /// fill the store and lock the others out. Unset: only --max-sessions.
    #[arg(long, env = "SESSIOND_MAX_SESSIONS_PER_NAMESPACE")]
    pub max_sessions_per_namespace: Option<usize>,

    /// Most live sessions bound to one user (see BindUser).
    #[arg(long, env = "SESSIOND_MAX_SESSIONS_PER_USER", default_value_t = Limits::default().max_sessions_per_user)]
    pub max_sessions_per_user: usize,

    /// What a binding beyond --max-sessions-per-user does: end the user's
    /// oldest session, or refuse with RESOURCE_EXHAUSTED.
    #[arg(long, env = "SESSIOND_PER_USER_LIMIT_POLICY", value_enum, default_value_t = PerUserLimitPolicy::EvictOldest)]
    pub per_user_limit_policy: PerUserLimitPolicy,

    /// Largest JSON value, in bytes.
    #[arg(long, env = "SESSIOND_MAX_VALUE_BYTES", default_value_t = Limits::default().max_value_bytes)]
    pub max_value_bytes: usize,

    /// Largest session (keys plus values), in bytes.
    #[arg(long, env = "SESSIOND_MAX_SESSION_BYTES", default_value_t = Limits::default().max_session_bytes)]
    pub max_session_bytes: usize,

    /// Most keys in one session.
    #[arg(long, env = "SESSIOND_MAX_KEYS", default_value_t = Limits::default().max_keys)]
    pub max_keys: usize,

    /// Longest key, in bytes.
    #[arg(long, env = "SESSIOND_MAX_KEY_BYTES", default_value_t = Limits::default().max_key_bytes)]
    pub max_key_bytes: usize,

    /// After SIGTERM/SIGINT, how long readiness reports "draining" while
    /// requests are still served, so load balancers stop sending before the
    /// listeners close.
    #[arg(long, env = "SESSIOND_DRAIN_DELAY", default_value = "5s", value_parser = parse_duration)]
    pub drain_delay: Duration,

    /// How long in-flight requests may take to finish once the listeners
    /// close (after the drain delay).
    #[arg(long, env = "SESSIOND_SHUTDOWN_GRACE", default_value = "30s", value_parser = parse_duration)]
    pub shutdown_grace: Duration,

    /// Directory for the journal and snapshots. Unset or empty: purely in
    /// memory, and a restart forgets every session.
    #[arg(long, env = "SESSIOND_DATA_DIR", value_parser = parse_path)]
    pub data_dir: Option<PathBuf>,

    /// When the journal is fsynced: `always` (before each reply), `everysec`
    /// or `no` (left to the OS). Used with --data-dir.
    #[arg(long, env = "SESSIOND_FSYNC", value_enum, default_value_t = FsyncPolicy::Everysec)]
    pub fsync: FsyncPolicy,

    /// Snapshot at least this often while sessions change (with --data-dir).
    #[arg(long, env = "SESSIOND_SNAPSHOT_INTERVAL", default_value = "15m", value_parser = parse_duration)]
    pub snapshot_interval: Duration,

    /// Snapshot early once the journal grows past this many bytes.
    #[arg(long, env = "SESSIOND_SNAPSHOT_LOG_BYTES", default_value_t = 64 << 20)]
    pub snapshot_log_bytes: u64,

    /// At start-up, cut a damaged journal or snapshot at the damage and go
    /// on, instead of refusing to start. What follows the damage is lost.
    #[arg(long, env = "SESSIOND_ACCEPT_DATA_LOSS")]
    pub accept_data_loss: bool,

    /// Where sessions are held: `memory` (this process; journaled with
    /// --data-dir) or `redis` (Redis / Valkey, shared by every sessiond
    /// replica: --redis-url or --redis-cluster). With `redis`, the
    /// durability flags and --max-sessions are refused: Redis persists the
    /// sessions (configure its appendonly), and its maxmemory bounds them.
    #[arg(long, env = "SESSIOND_BACKEND", value_enum, default_value_t = BackendKind::Memory)]
    pub backend: BackendKind,

    /// The Redis / Valkey server of --backend redis:
    /// `redis://[user:password@]host:port[/db]`, or `rediss://` for TLS.
    /// Prefer SESSIOND_REDIS_PASSWORD_FILE to a password in the URL; logs
    /// show the URL with any password replaced.
    #[arg(
        long,
        env = "SESSIOND_REDIS_URL",
        default_value = "redis://127.0.0.1:6379",
        hide_env_values = true
    )]
    pub redis_url: RedisUrl,

    /// Seed nodes of a Redis / Valkey Cluster, `host:port,...`
    /// (`rediss://host:port` for TLS), for --backend redis instead of
    /// --redis-url; the rest of the cluster is discovered.
    #[arg(long, env = "SESSIOND_REDIS_CLUSTER", value_delimiter = ',')]
    pub redis_cluster: Vec<String>,

    /// A file whose first line is the Redis password (with the URL's user,
    /// or Redis's `default` one). Overrides a password in the URL.
    #[arg(long, env = "SESSIOND_REDIS_PASSWORD_FILE", value_parser = parse_path)]
    pub redis_password_file: Option<PathBuf>,

    /// PEM CA certificate(s) that a `rediss://` server (or Cluster node)
    /// must chain to, instead of the system's roots: for a private CA.
    #[arg(long, env = "SESSIOND_REDIS_CA_FILE", value_parser = parse_path)]
    pub redis_ca_file: Option<PathBuf>,

    /// The longest one call to Redis may take, connecting included: past
    /// it the request fails with UNAVAILABLE (HTTP 503) instead of waiting.
    #[arg(long, env = "SESSIOND_REDIS_TIMEOUT", default_value = "1s", value_parser = parse_duration)]
    pub redis_timeout: Duration,

    /// The memory-only flags given on the command line or in the
    /// environment (clap's ids), whatever their value: `--backend redis`
    /// refuses them even when they repeat a default.
    #[arg(skip)]
    pub given: Vec<&'static str>,

    /// Log format.
    #[arg(long, env = "SESSIOND_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// File of gRPC bearer tokens, one per line: `NAMESPACE:SHA256_HEX[:ro]`
    /// (`sessiond hash-token` prints such a line; `#` starts a comment).
    /// Re-read on SIGHUP. Unset (and no --tls-client-ca): no access control,
    /// and every listener must be on loopback.
    #[arg(long, env = "SESSIOND_TOKENS_FILE")]
    pub tokens_file: Option<PathBuf>,

    /// The namespace the HTTP gateway serves (its browsers need no token:
    /// the cookie is their credential). Empty: the default namespace.
    #[arg(long, env = "SESSIOND_HTTP_NAMESPACE", default_value = "")]
    pub http_namespace: String,

    /// Namespaces (comma-separated; `(default)` names the default one)
    /// whose gRPC callers may create a session under an id they chose, by
    /// `Set` with `create_if_missing`, as express-session needs: ids of at
    /// least 128 bits (22 to 256 characters of [A-Za-z0-9_-]). Every other
    /// namespace, and the HTTP gateway, stay strict.
    #[arg(long, env = "SESSIOND_CLIENT_ID_NAMESPACES", value_delimiter = ',')]
    pub client_id_namespaces: Vec<String>,

    /// Allow listeners on non-loopback addresses with no access control
    /// (no --tokens-file, no --tls-client-ca). Anyone who reaches the port
    /// can then read and change every session.
    #[arg(long, env = "SESSIOND_INSECURE_NO_AUTH", default_value_t = false,
          num_args = 0..=1, default_missing_value = "true",
          value_parser = BoolishValueParser::new())]
    pub insecure_no_auth: bool,

    /// PEM certificate chain: serve gRPC and the HTTP gateway over TLS
    /// (with --tls-key).
    #[arg(long, env = "SESSIOND_TLS_CERT")]
    pub tls_cert: Option<PathBuf>,

    /// PEM private key of --tls-cert.
    #[arg(long, env = "SESSIOND_TLS_KEY")]
    pub tls_key: Option<PathBuf>,

    /// PEM CA certificate(s): gRPC clients must present a certificate it
    /// signed (mTLS), and its subject's common name (CN) is their
    /// namespace. With --tokens-file as well, a client may use either.
    #[arg(long, env = "SESSIOND_TLS_CLIENT_CA")]
    pub tls_client_ca: Option<PathBuf>,
}

/// hyper refuses a smaller head buffer.
pub const MIN_HEADER_BYTES: usize = 8192;

/// A character allowed in an RFC 7230 token (cookie and header names).
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// `scheme://host[:port]` in the form browsers send in `Origin`: lower
/// case, no default port, no trailing slash. `None` if it is not an http(s)
/// origin.
pub fn normalize_origin(origin: &str) -> Option<String> {
    let origin = origin.trim().trim_end_matches('/');
    let (scheme, authority) = origin.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "http" => "80",
        "https" => "443",
        _ => return None,
    };
    let authority: http::uri::Authority = authority.parse().ok()?;
    if authority.as_str().contains('@') || authority.host().is_empty() {
        return None;
    }
    let host = authority.host().to_ascii_lowercase();
    Some(match authority.port_u16() {
        Some(port) if port.to_string() != default_port => format!("{scheme}://{host}:{port}"),
        _ => format!("{scheme}://{host}"),
    })
}

/// A path, where empty (`SESSIOND_DATA_DIR=`) is allowed and means unset;
/// clap's own path parser refuses empty values.
fn parse_path(s: &str) -> Result<PathBuf, String> {
    Ok(PathBuf::from(s))
}

pub(crate) fn parse_duration(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s).map_err(|e| format!("{e} (use e.g. 90s, 30m, 14d)"))
}

impl Config {
    /// Defaults, as if started with no flags and no environment: for tests
    /// and embedding.
    pub fn defaults() -> Self {
        Config::parse_from_args(["sessiond"]).expect("defaults are valid")
    }

    /// Parses flags (and the environment) without exiting the process.
    pub fn parse_from_args<I, T>(args: I) -> Result<Self, String>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        use clap::{CommandFactory, FromArgMatches};
        let matches = Config::command()
            .try_get_matches_from(args)
            .map_err(|e| e.to_string())?;
        let mut config = Config::from_arg_matches(&matches).map_err(|e| e.to_string())?;
        config.note_given(&matches);
        config.validate()?;
        Ok(config)
    }

    /// Notes which memory-only flags `matches` got from the command line or
    /// the environment (see [`Config::given`]).
    pub fn note_given(&mut self, matches: &ArgMatches) {
        self.given = MEMORY_ONLY
            .iter()
            .map(|(id, _)| *id)
            .filter(|id| {
                matches!(
                    matches.value_source(id),
                    Some(ValueSource::CommandLine | ValueSource::EnvVariable)
                )
            })
            .collect();
    }

    /// With `--backend redis`, the first memory-only flag set: given, or
    /// changed from its default by a caller that built the config itself.
    fn memory_only_flag_set(&self) -> Option<&'static str> {
        let defaults = Config::defaults_unchecked();
        let changed = |id: &str| match id {
            "data_dir" => self.persistence().is_some(),
            "fsync" => self.fsync != defaults.fsync,
            "snapshot_interval" => self.snapshot_interval != defaults.snapshot_interval,
            "snapshot_log_bytes" => self.snapshot_log_bytes != defaults.snapshot_log_bytes,
            "accept_data_loss" => self.accept_data_loss,
            "max_sessions" => self.max_sessions != defaults.max_sessions,
            _ => self.max_sessions_per_namespace.is_some(),
        };
        // An empty --data-dir means "in memory": the image sets
        // SESSIOND_DATA_DIR, and a Redis replica clears it.
        let given = |id: &str| self.given.contains(&id) && id != "data_dir";
        MEMORY_ONLY
            .iter()
            .find(|(id, _)| given(id) || changed(id))
            .map(|(_, flag)| *flag)
    }

    fn defaults_unchecked() -> Self {
        Config::try_parse_from(["sessiond"]).expect("the defaults parse")
    }

    /// The backend's settings: the memory-only flags are refused with
    /// Redis, naming the one to remove and why.
    fn validate_backend(&self) -> Result<(), String> {
        if self.backend == BackendKind::Memory {
            return Ok(());
        }
        if let Some(flag) = self.memory_only_flag_set() {
            let why = if flag.starts_with("--max-sessions") {
                "sessiond replicas sharing Redis cannot count sessions exactly; bound Redis \
                 with maxmemory (and maxmemory-policy noeviction) instead"
            } else {
                "Redis persists the sessions itself (configure its appendonly and \
                 appendfsync); sessiond keeps no journal or snapshots"
            };
            return Err(format!(
                "{flag} does not apply with --backend redis: {why}. Remove {flag}"
            ));
        }
        if self.redis_timeout.is_zero() {
            return Err("--redis-timeout must be more than 0".into());
        }
        if self.redis_cluster.iter().any(|n| n.trim().is_empty()) {
            return Err("--redis-cluster: give host:port,host:port,... with no empty entry".into());
        }
        Ok(())
    }

    /// The Redis connection settings of `--backend redis` (`None` for
    /// memory), with the password file read.
    pub fn redis(&self) -> Result<Option<RedisConfig>, String> {
        if self.backend != BackendKind::Redis {
            return Ok(None);
        }
        let target = match self.redis_cluster.is_empty() {
            true => Target::Standalone(self.redis_url.0.clone()),
            false => Target::Cluster(
                self.redis_cluster
                    .iter()
                    .map(|n| n.trim().to_owned())
                    .collect(),
            ),
        };
        let password = match &self.redis_password_file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| format!("--redis-password-file {}: {e}", path.display()))?;
                let line = text.lines().next().unwrap_or("").trim_end_matches('\r');
                if line.is_empty() {
                    return Err(format!(
                        "--redis-password-file {}: the file is empty",
                        path.display()
                    ));
                }
                Some(line.to_owned())
            }
            None => None,
        };
        let ca = match &self.redis_ca_file {
            Some(path) => Some(
                std::fs::read(path)
                    .map_err(|e| format!("--redis-ca-file {}: {e}", path.display()))?,
            ),
            None => None,
        };
        Ok(Some(RedisConfig {
            target,
            password,
            timeout: self.redis_timeout,
            ca,
        }))
    }

    /// Checks the settings against each other; the message is one line
    /// naming the flag to fix.
    pub fn validate(&self) -> Result<(), String> {
        let positive = [
            ("--max-sessions", self.max_sessions),
            ("--max-value-bytes", self.max_value_bytes),
            ("--max-session-bytes", self.max_session_bytes),
            ("--max-keys", self.max_keys),
            ("--max-key-bytes", self.max_key_bytes),
            ("--max-pipeline-in-flight", self.max_pipeline_in_flight),
            ("--watch-buffer", self.watch_buffer),
            (
                "--max-streams-per-connection",
                self.max_streams_per_connection as usize,
            ),
        ];
        if let Some((flag, _)) = positive.iter().find(|(_, v)| *v == 0) {
            return Err(format!("{flag} must be at least 1"));
        }
        if self.min_idle_timeout.is_zero() {
            return Err("--min-idle-timeout must be more than 0".into());
        }
        if self.min_idle_timeout > self.max_idle_timeout {
            return Err("--min-idle-timeout must not exceed --max-idle-timeout".into());
        }
        if self.idle_timeout < self.min_idle_timeout || self.idle_timeout > self.max_idle_timeout {
            return Err(format!(
                "--idle-timeout {} is outside [--min-idle-timeout {}, --max-idle-timeout {}]",
                humantime::format_duration(self.idle_timeout),
                humantime::format_duration(self.min_idle_timeout),
                humantime::format_duration(self.max_idle_timeout),
            ));
        }
        if self.absolute_timeout.is_some_and(|a| a.is_zero()) {
            return Err(
                "--absolute-timeout must be more than 0 (leave it unset for no cap)".into(),
            );
        }
        if self.snapshot_interval.is_zero() {
            return Err("--snapshot-interval must be more than 0".into());
        }
        if self.max_value_bytes > self.max_session_bytes {
            return Err("--max-value-bytes must not exceed --max-session-bytes".into());
        }
        if self.max_sessions_per_namespace == Some(0) {
            return Err("--max-sessions-per-namespace must be at least 1".into());
        }
        if self.max_sessions_per_user == 0 {
            return Err("--max-sessions-per-user must be at least 1".into());
        }
        Namespace::parse(&self.http_namespace).map_err(|e| format!("--http-namespace: {e}"))?;
        self.parsed_client_id_namespaces()?;
        self.validate_backend()?;
        self.validate_security()?;
        self.validate_gateway()
    }

    /// TLS files come in pairs, and without access control every listener
    /// stays on loopback (Redis's protected mode) unless explicitly opened.
    fn validate_security(&self) -> Result<(), String> {
        if self.tls_cert.is_some() != self.tls_key.is_some() {
            return Err("--tls-cert and --tls-key go together: give both or neither".into());
        }
        if self.tls_client_ca.is_some() && self.tls_cert.is_none() {
            return Err("--tls-client-ca needs --tls-cert and --tls-key (mTLS is TLS)".into());
        }
        if self.access_control() || self.insecure_no_auth {
            return Ok(());
        }
        let public = [
            ("--grpc-addr", self.grpc_addr),
            ("--http-addr", self.http_addr),
            ("--admin-addr", self.admin_addr),
        ]
        .into_iter()
        .find(|(_, addr)| !addr.ip().is_loopback());
        match public {
            Some((flag, addr)) => Err(format!(
                "{flag} {addr} is not a loopback address and no access control is configured: \
                 give --tokens-file (or --tls-client-ca), or --insecure-no-auth to serve it open"
            )),
            None => Ok(()),
        }
    }

    /// Whether gRPC callers must present a credential (a token or a client
    /// certificate).
    pub fn access_control(&self) -> bool {
        self.tokens_file.is_some() || self.tls_client_ca.is_some()
    }

    /// The namespaces whose callers may choose session ids (validated).
    pub fn client_id_namespaces(&self) -> Vec<Namespace> {
        self.parsed_client_id_namespaces().unwrap_or_default()
    }

    fn parsed_client_id_namespaces(&self) -> Result<Vec<Namespace>, String> {
        self.client_id_namespaces
            .iter()
            .map(|name| match name.trim() {
                "(default)" => Ok(Namespace::DEFAULT),
                "" => Err("--client-id-namespaces: an empty name; write (default) for the default namespace".to_string()),
                name => Namespace::parse(name).map_err(|e| format!("--client-id-namespaces: {e}")),
            })
            .collect()
    }

    /// The namespace the HTTP gateway serves (validated).
    pub fn http_namespace(&self) -> Namespace {
        Namespace::parse(&self.http_namespace).unwrap_or_default()
    }

    /// The HTTP gateway's settings: cookie attributes that browsers would
    /// silently refuse are refused here instead, with the flag named.
    fn validate_gateway(&self) -> Result<(), String> {
        if self.max_body_bytes == 0 {
            return Err("--max-body-bytes must be at least 1".into());
        }
        if self.max_header_bytes < MIN_HEADER_BYTES {
            return Err(format!(
                "--max-header-bytes must be at least {MIN_HEADER_BYTES}"
            ));
        }
        if self.http_read_timeout.is_zero() {
            return Err("--http-read-timeout must be more than 0".into());
        }
        let name = &self.cookie_name;
        if name.is_empty() || !name.bytes().all(is_token_byte) {
            return Err(format!(
                "--cookie-name {name:?} is not a valid cookie name (letters, digits and !#$%&'*+-.^_`|~)"
            ));
        }
        if let Some(domain) = &self.cookie_domain {
            let valid = !domain.is_empty()
                && domain
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
            if !valid {
                return Err(format!("--cookie-domain {domain:?} is not a domain name"));
            }
        }
        let lower = name.to_ascii_lowercase();
        if lower.starts_with("__host-") {
            if !self.cookie_secure {
                return Err(
                    "--cookie-name with the __Host- prefix needs --cookie-secure true".into(),
                );
            }
            if self.cookie_domain.is_some() {
                return Err(
                    "--cookie-name with the __Host- prefix must not have a --cookie-domain".into(),
                );
            }
        }
        if lower.starts_with("__secure-") && !self.cookie_secure {
            return Err(
                "--cookie-name with the __Secure- prefix needs --cookie-secure true".into(),
            );
        }
        // Empty entries (an empty variable, a trailing comma) mean nothing.
        for origin in self.allowed_origins.iter().filter(|o| !o.trim().is_empty()) {
            normalize_origin(origin).ok_or_else(|| {
                format!("--allowed-origins: {origin:?} is not an origin like https://app.example.com[:port]")
            })?;
        }
        for key in self.auth_headers.iter().filter(|k| !k.is_empty()) {
            let valid = !key.is_empty()
                && key.len() <= self.max_key_bytes
                && key
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
            if !valid {
                return Err(format!(
                    "--auth-headers: {key:?} cannot name a header (use letters, digits, '.', '_' and '-')"
                ));
            }
        }
        for key in self.auth_require.iter().filter(|k| !k.is_empty()) {
            crate::session::validate_key(key, &self.limits())
                .map_err(|e| format!("--auth-require: {e}"))?;
        }
        Ok(())
    }

    pub fn limits(&self) -> Limits {
        Limits {
            max_key_bytes: self.max_key_bytes,
            max_value_bytes: self.max_value_bytes,
            max_session_bytes: self.max_session_bytes,
            max_keys: self.max_keys,
            max_sessions: self.max_sessions,
            max_sessions_per_namespace: self.max_sessions_per_namespace.unwrap_or(usize::MAX),
            max_sessions_per_user: self.max_sessions_per_user,
            per_user_policy: match self.per_user_limit_policy {
                PerUserLimitPolicy::EvictOldest => PerUserPolicy::EvictOldest,
                PerUserLimitPolicy::Refuse => PerUserPolicy::Refuse,
            },
        }
    }

    /// Persistence settings, when `--data-dir` is set.
    pub fn persistence(&self) -> Option<PersistConfig> {
        let dir = self.data_dir.as_ref().filter(|d| !d.as_os_str().is_empty());
        dir.map(|dir| PersistConfig {
            dir: dir.clone(),
            fsync: self.fsync,
            snapshot_interval: self.snapshot_interval,
            snapshot_log_bytes: self.snapshot_log_bytes,
            accept_data_loss: self.accept_data_loss,
        })
    }

    pub fn timeouts(&self) -> Timeouts {
        Timeouts {
            default_idle: self.idle_timeout,
            min_idle: self.min_idle_timeout,
            max_idle: self.max_idle_timeout,
            absolute: self.absolute_timeout,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_per_user_limit_and_its_policy_reach_the_limits() {
        let config = Config::try_parse_from([
            "sessiond",
            "--max-sessions-per-user",
            "5",
            "--per-user-limit-policy",
            "refuse",
        ])
        .unwrap();
        let limits = config.limits();
        assert_eq!(limits.max_sessions_per_user, 5);
        assert_eq!(limits.per_user_policy, PerUserPolicy::Refuse);
        let defaults = Config::try_parse_from(["sessiond"]).unwrap().limits();
        assert_eq!(defaults.per_user_policy, PerUserPolicy::EvictOldest);
        let zero = Config::try_parse_from(["sessiond", "--max-sessions-per-user", "0"]).unwrap();
        assert!(zero
            .validate()
            .unwrap_err()
            .contains("--max-sessions-per-user"));
    }

    #[test]
    fn redis_refuses_every_memory_only_flag_by_name_even_at_its_default() {
        let cases: [&[&str]; 8] = [
            &["--data-dir", "/var/lib/sessiond"],
            &["--fsync", "always"],
            &["--fsync", "everysec"],
            &["--snapshot-interval", "1m"],
            &["--snapshot-log-bytes", "1024"],
            &["--accept-data-loss"],
            &["--max-sessions", "1000000"],
            &["--max-sessions-per-namespace", "5"],
        ];
        for extra in cases {
            let args = ["sessiond", "--backend", "redis"].iter().chain(extra);
            let err = Config::parse_from_args(args).unwrap_err();
            assert!(err.contains(extra[0]), "{extra:?}: {err}");
            assert!(err.contains("--backend redis"), "{err}");
            let memory = ["sessiond"].iter().chain(extra);
            assert!(
                Config::parse_from_args(memory).is_ok(),
                "{extra:?} with memory"
            );
        }
        let plain = Config::parse_from_args(["sessiond", "--backend", "redis"]).unwrap();
        assert_eq!(plain.backend, BackendKind::Redis);
        let cleared = ["sessiond", "--backend", "redis", "--data-dir", ""];
        assert!(
            Config::parse_from_args(cleared).is_ok(),
            "an empty --data-dir is no journal"
        );
    }

    #[test]
    fn the_redis_settings_read_the_password_file_and_never_show_it() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("password");
        std::fs::write(&file, "s3cret\n").unwrap();
        let config = Config::parse_from_args([
            "sessiond",
            "--backend",
            "redis",
            "--redis-url",
            "redis://app:inurl@cache:6379/2",
            "--redis-password-file",
            file.to_str().unwrap(),
        ])
        .unwrap();
        let redis = config.redis().unwrap().expect("redis settings");
        assert_eq!(redis.password.as_deref(), Some("s3cret"));
        let shown = format!("{config:?} {redis:?} {}", redis.target);
        assert!(
            !shown.contains("s3cret") && !shown.contains("inurl"),
            "{shown}"
        );

        let cluster = Config::parse_from_args([
            "sessiond",
            "--backend",
            "redis",
            "--redis-cluster",
            "10.0.0.1:6379,10.0.0.2:6379",
        ])
        .unwrap();
        let redis = cluster.redis().unwrap().unwrap();
        assert!(matches!(redis.target, Target::Cluster(ref n) if n.len() == 2));

        std::fs::write(&file, "").unwrap();
        assert!(config.redis().unwrap_err().contains("empty"));
        assert!(Config::defaults().redis().unwrap().is_none());
        assert!(Config::parse_from_args(["sessiond", "--redis-url", "http://x"]).is_err());
    }

    #[test]
    fn defaults_match_the_design() {
        let c = Config::defaults();
        assert_eq!(c.grpc_addr.to_string(), "127.0.0.1:50051");
        assert_eq!(c.admin_addr.to_string(), "127.0.0.1:9090");
        assert_eq!(c.drain_delay, Duration::from_secs(5));
        assert!(c.grpc_reflection);
        assert_eq!(c.idle_timeout, Duration::from_secs(14 * 24 * 3600));
        assert_eq!(c.absolute_timeout, None);
        assert_eq!(c.max_key_bytes, 256);
        assert_eq!(c.http_addr.to_string(), "127.0.0.1:8080");
        assert_eq!(c.cookie_name, "sessionid");
        assert!(c.cookie_secure);
        assert_eq!(c.cookie_domain, None);
        assert!(!c.cookie_browser_session);
        assert!(c.allowed_origins.is_empty());
        assert_eq!(c.max_body_bytes, 1024 * 1024);
    }

    #[test]
    fn public_addresses_need_access_control_or_the_insecure_flag() {
        let public = [
            "sessiond",
            "--grpc-addr",
            "0.0.0.0:1",
            "--http-addr",
            "0.0.0.0:2",
        ];
        let with = |extra: &[&'static str]| {
            Config::parse_from_args(public.iter().copied().chain(extra.iter().copied()))
        };
        assert!(with(&[]).is_err());
        assert!(with(&["--insecure-no-auth"]).is_ok());
        assert!(with(&["--tokens-file", "/etc/sessiond/tokens"]).is_ok());
        let mtls = [
            "--tls-cert",
            "c.pem",
            "--tls-key",
            "k.pem",
            "--tls-client-ca",
            "ca.pem",
        ];
        assert!(with(&mtls).is_ok());
    }

    #[test]
    fn cookie_secure_can_be_turned_off_by_flag_value() {
        let c = Config::parse_from_args(["sessiond", "--cookie-secure", "false"]).unwrap();
        assert!(!c.cookie_secure);
        let c = Config::parse_from_args(["sessiond", "--cookie-secure"]).unwrap();
        assert!(c.cookie_secure);
        let c = Config::parse_from_args(["sessiond", "--cookie-browser-session"]).unwrap();
        assert!(c.cookie_browser_session);
    }

    #[test]
    fn client_id_namespaces_are_a_comma_list_checked_at_start() {
        let config =
            Config::parse_from_args(["sessiond", "--client-id-namespaces", "express,(default)"])
                .unwrap();
        let names: Vec<String> = config
            .client_id_namespaces()
            .iter()
            .map(|n| n.as_str().to_owned())
            .collect();
        assert_eq!(names, ["express", ""]);
        assert!(Config::defaults().client_id_namespaces().is_empty());
        for bad in ["a:b", "express,"] {
            let err =
                Config::parse_from_args(["sessiond", "--client-id-namespaces", bad]).unwrap_err();
            assert!(err.contains("--client-id-namespaces"), "{bad:?}: {err}");
        }
    }

    #[test]
    fn lists_are_comma_separated() {
        let c = Config::parse_from_args([
            "sessiond",
            "--allowed-origins",
            "https://a.example,http://b.example:8000",
            "--auth-headers",
            "username,is_login",
        ])
        .unwrap();
        assert_eq!(c.allowed_origins.len(), 2);
        assert_eq!(c.auth_headers, vec!["username", "is_login"]);
        let empty =
            Config::parse_from_args(["sessiond", "--allowed-origins", "", "--auth-headers", "a,"]);
        assert!(empty.is_ok(), "empty entries are ignored: {empty:?}");
    }

    #[test]
    fn host_prefixed_cookies_need_secure_and_no_domain() {
        let ok = Config::parse_from_args(["sessiond", "--cookie-name", "__Host-sid"]);
        assert!(ok.is_ok());
        for (args, flag) in [
            (
                vec!["--cookie-name", "__Host-sid", "--cookie-secure", "false"],
                "__Host-",
            ),
            (
                vec![
                    "--cookie-name",
                    "__Host-sid",
                    "--cookie-domain",
                    "example.com",
                ],
                "__Host-",
            ),
            (
                vec!["--cookie-name", "__Secure-sid", "--cookie-secure", "false"],
                "__Secure-",
            ),
        ] {
            let err = Config::parse_from_args(std::iter::once("sessiond").chain(args)).unwrap_err();
            assert!(err.contains(flag), "{err}");
            assert!(!err.contains('\n'), "one line: {err}");
        }
    }

    #[test]
    fn origins_are_normalized_as_browsers_send_them() {
        assert_eq!(
            normalize_origin("HTTPS://App.Example.com:443/").as_deref(),
            Some("https://app.example.com")
        );
        assert_eq!(
            normalize_origin("http://localhost:3000").as_deref(),
            Some("http://localhost:3000")
        );
        for bad in [
            "app.example.com",
            "ftp://x",
            "https://",
            "https://a/b",
            "https://u@a",
        ] {
            assert_eq!(normalize_origin(bad), None, "{bad}");
        }
    }

    #[test]
    fn an_empty_data_dir_means_in_memory() {
        let c = Config::parse_from_args(["sessiond", "--data-dir", ""]).unwrap();
        assert!(c.persistence().is_none());
        let c = Config::parse_from_args(["sessiond", "--data-dir", "/var/lib/sessiond"]).unwrap();
        assert_eq!(
            c.persistence().unwrap().dir,
            PathBuf::from("/var/lib/sessiond")
        );
    }

    #[test]
    fn durations_use_humantime() {
        let c = Config::parse_from_args([
            "sessiond",
            "--idle-timeout",
            "30m",
            "--absolute-timeout",
            "12h",
        ])
        .unwrap();
        assert_eq!(c.idle_timeout, Duration::from_secs(1800));
        assert_eq!(c.absolute_timeout, Some(Duration::from_secs(12 * 3600)));
    }

    #[test]
    fn reflection_can_be_turned_off() {
        for off in ["false", "no", "0", "off"] {
            let c = Config::parse_from_args(["sessiond", "--grpc-reflection", off]).unwrap();
            assert!(!c.grpc_reflection, "{off}");
        }
        let c = Config::parse_from_args(["sessiond", "--grpc-reflection=true"]).unwrap();
        assert!(c.grpc_reflection);
    }

    #[test]
    fn bad_settings_are_refused_with_the_flag_named() {
        for (args, flag) in [
            (vec!["--idle-timeout", "0s"], "--idle-timeout"),
            (vec!["--idle-timeout", "soon"], "idle-timeout"),
            (vec!["--max-sessions", "0"], "--max-sessions"),
            (
                vec!["--max-value-bytes", "10", "--max-session-bytes", "5"],
                "--max-value-bytes",
            ),
            (vec!["--grpc-addr", "nowhere"], "grpc-addr"),
            (vec!["--admin-addr", "nowhere"], "admin-addr"),
            (vec!["--drain-delay", "later"], "drain-delay"),
            (vec!["--grpc-reflection", "maybe"], "grpc-reflection"),
            (vec!["--http-addr", "nowhere"], "http-addr"),
            (vec!["--cookie-name", "bad name"], "--cookie-name"),
            (vec!["--cookie-name", ""], "--cookie-name"),
            (vec!["--cookie-domain", "a b"], "--cookie-domain"),
            (vec!["--allowed-origins", "evil"], "--allowed-origins"),
            (vec!["--auth-headers", "a:b"], "--auth-headers"),
            (vec!["--auth-require", "a,\u{7}"], "--auth-require"),
            (vec!["--max-body-bytes", "0"], "--max-body-bytes"),
            (vec!["--max-header-bytes", "100"], "--max-header-bytes"),
            (vec!["--http-read-timeout", "0s"], "--http-read-timeout"),
            (vec!["--cookie-secure", "maybe"], "cookie-secure"),
            (
                vec!["--max-sessions-per-namespace", "0"],
                "--max-sessions-per-namespace",
            ),
            (vec!["--http-namespace", "a:b"], "--http-namespace"),
            (vec!["--tls-cert", "c.pem"], "--tls-key"),
            (vec!["--grpc-addr", "0.0.0.0:1"], "--tokens-file"),
            (vec!["--http-addr", "[::]:1"], "--insecure-no-auth"),
            (vec!["--admin-addr", "10.0.0.1:1"], "--admin-addr"),
        ] {
            let err = Config::parse_from_args(std::iter::once("sessiond").chain(args)).unwrap_err();
            assert!(err.contains(flag), "{err}");
        }
    }
}
