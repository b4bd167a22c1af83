//! Every setting: a flag, a `SESSIOND_*` environment variable, a default
//! and its bounds, all shown by `sessiond --help`, grouped by concern: one
//! module (and one `--help` heading) per group.

mod access;
mod durability;
mod gateway;
mod listeners;
mod sessions;
mod storage;
#[cfg(test)]
mod tests;

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, ValueEnum};

pub use access::Access;
pub use durability::Durability;
pub use gateway::{normalize_origin, Gateway, MIN_HEADER_BYTES};
pub use listeners::Listeners;
pub use sessions::{PerUserLimitPolicy, Sessions};
pub use storage::{BackendKind, RedisUrl, Storage};

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
    /// Log format.
    #[arg(long, env = "SESSIOND_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    #[command(flatten, next_help_heading = "Listeners")]
    pub listeners: Listeners,

    #[command(flatten, next_help_heading = "Access control")]
    pub access: Access,

    #[command(flatten, next_help_heading = "Sessions: timeouts and limits")]
    pub sessions: Sessions,

    #[command(flatten, next_help_heading = "HTTP gateway")]
    pub gateway: Gateway,

    #[command(flatten, next_help_heading = "Storage backend")]
    pub storage: Storage,

    #[command(flatten, next_help_heading = "Durability (memory backend, --data-dir)")]
    pub durability: Durability,
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

    fn defaults_unchecked() -> Self {
        Config::try_parse_from(["sessiond"]).expect("the defaults parse")
    }

    /// Checks the settings against each other; the message is one line
    /// naming the flag to fix.
    pub fn validate(&self) -> Result<(), String> {
        self.listeners.validate()?;
        self.sessions.validate()?;
        self.durability.validate()?;
        self.gateway.validate(&self.sessions.limits())?;
        self.validate_backend()?;
        self.validate_access()
    }
}
