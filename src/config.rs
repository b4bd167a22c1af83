//! Every setting: a flag, a `SESSIOND_*` environment variable, a default
//! and its bounds, all shown by `sessiond --help`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::builder::BoolishValueParser;
use clap::{ArgAction, Parser, ValueEnum};

use crate::persist::{FsyncPolicy, PersistConfig};
use crate::session::{Limits, Timeouts};

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

    /// Serve gRPC server reflection (for grpcurl and similar tools).
    #[arg(
        long,
        env = "SESSIOND_GRPC_REFLECTION",
        default_value_t = true,
        action = ArgAction::Set,
        value_parser = BoolishValueParser::new(),
        value_name = "BOOL"
    )]
    pub grpc_reflection: bool,

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

    /// Directory for the journal and snapshots. Unset: purely in memory,
    /// and a restart forgets every session.
    #[arg(long, env = "SESSIOND_DATA_DIR")]
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

    /// Log format.
    #[arg(long, env = "SESSIOND_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
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
        let config = Config::try_parse_from(args).map_err(|e| e.to_string())?;
        config.validate()?;
        Ok(config)
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
        Ok(())
    }

    pub fn limits(&self) -> Limits {
        Limits {
            max_key_bytes: self.max_key_bytes,
            max_value_bytes: self.max_value_bytes,
            max_session_bytes: self.max_session_bytes,
            max_keys: self.max_keys,
            max_sessions: self.max_sessions,
        }
    }

    /// Persistence settings, when `--data-dir` is set.
    pub fn persistence(&self) -> Option<PersistConfig> {
        self.data_dir.as_ref().map(|dir| PersistConfig {
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
    fn defaults_match_the_design() {
        let c = Config::defaults();
        assert_eq!(c.grpc_addr.to_string(), "127.0.0.1:50051");
        assert_eq!(c.admin_addr.to_string(), "127.0.0.1:9090");
        assert_eq!(c.drain_delay, Duration::from_secs(5));
        assert!(c.grpc_reflection);
        assert_eq!(c.idle_timeout, Duration::from_secs(14 * 24 * 3600));
        assert_eq!(c.absolute_timeout, None);
        assert_eq!(c.max_key_bytes, 256);
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
        ] {
            let err = Config::parse_from_args(std::iter::once("sessiond").chain(args)).unwrap_err();
            assert!(err.contains(flag), "{err}");
        }
    }
}
