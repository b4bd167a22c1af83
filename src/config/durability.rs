//! The journal and snapshots of the memory backend (`--data-dir`).

use std::path::PathBuf;
use std::time::Duration;

use super::{parse_duration, parse_path};
use crate::storage::durable::{FsyncPolicy, PersistConfig};

#[derive(Debug, Clone, clap::Args)]
pub struct Durability {
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
}

impl Durability {
    /// Persistence settings, when `--data-dir` is set (an empty one means
    /// in memory).
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

    pub(super) fn validate(&self) -> Result<(), String> {
        if self.snapshot_interval.is_zero() {
            return Err("--snapshot-interval must be more than 0".into());
        }
        Ok(())
    }
}
