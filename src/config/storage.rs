//! Where sessions are held: the backend, and Redis's connection settings.

use std::path::PathBuf;
use std::time::Duration;

use clap::parser::ValueSource;
use clap::{ArgMatches, ValueEnum};

use super::{parse_duration, parse_path, Config};
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

#[derive(Debug, Clone, clap::Args)]
pub struct Storage {
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
}

impl Storage {
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

    pub(super) fn validate(&self) -> Result<(), String> {
        if self.redis_timeout.is_zero() {
            return Err("--redis-timeout must be more than 0".into());
        }
        if self.redis_cluster.iter().any(|n| n.trim().is_empty()) {
            return Err("--redis-cluster: give host:port,host:port,... with no empty entry".into());
        }
        Ok(())
    }
}

impl Config {
    /// Notes which memory-only flags `matches` got from the command line or
    /// the environment (see [`Storage::given`]).
    pub fn note_given(&mut self, matches: &ArgMatches) {
        self.storage.given = MEMORY_ONLY
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
            "data_dir" => self.durability.persistence().is_some(),
            "fsync" => self.durability.fsync != defaults.durability.fsync,
            "snapshot_interval" => {
                self.durability.snapshot_interval != defaults.durability.snapshot_interval
            }
            "snapshot_log_bytes" => {
                self.durability.snapshot_log_bytes != defaults.durability.snapshot_log_bytes
            }
            "accept_data_loss" => self.durability.accept_data_loss,
            "max_sessions" => self.sessions.max_sessions != defaults.sessions.max_sessions,
            _ => self.sessions.max_sessions_per_namespace.is_some(),
        };
        // An empty --data-dir means "in memory": the image sets
        // SESSIOND_DATA_DIR, and a Redis replica clears it.
        let given = |id: &str| self.storage.given.contains(&id) && id != "data_dir";
        MEMORY_ONLY
            .iter()
            .find(|(id, _)| given(id) || changed(id))
            .map(|(_, flag)| *flag)
    }

    /// The backend's settings: the memory-only flags are refused with
    /// Redis, naming the one to remove and why.
    pub(super) fn validate_backend(&self) -> Result<(), String> {
        if self.storage.backend == BackendKind::Memory {
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
        self.storage.validate()
    }
}
