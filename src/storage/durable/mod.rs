//! Durability: an append-only journal of changes plus periodic snapshots in
//! `--data-dir`, replayed at start-up, so a restart or a crash does not log
//! everyone out.
//!
//! What a crash can cost: with `--fsync everysec` (the default) at most the
//! last second of changes if the machine dies, nothing written if only the
//! process dies; with `always`, nothing acknowledged. Deadlines slid by reads
//! are journaled coarsely (see `memory::changes`), so after a crash a
//! session may expire a little early, never late.
//!
//! [`Durable`] is the backend: memory underneath, told to the journal
//! through memory's `ChangeSink`, each change answered once durable.

mod backend;
pub mod codec;
mod journal;
mod recover;
mod sink;
mod snapshot;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub use backend::Durable;
pub use journal::{FsyncPolicy, Journal};
pub use recover::{RecoverError, Recovered};
pub use snapshot::SnapshotReport;

use crate::storage::memory::Memory;
use journal::JournalWriter;

/// How persistence is set up (from `--data-dir` and friends).
#[derive(Debug, Clone)]
pub struct PersistConfig {
    pub dir: PathBuf,
    pub fsync: FsyncPolicy,
    /// Snapshot at least this often while there are changes.
    pub snapshot_interval: Duration,
    /// Snapshot early once the journal has grown this large.
    pub snapshot_log_bytes: u64,
    /// Cut damaged files at the damage instead of refusing to start.
    pub accept_data_loss: bool,
}

/// Figures for metrics.
#[derive(Debug, Clone, Copy, Default)]
pub struct PersistStats {
    /// Wall-clock ms of the last finished snapshot (0: none yet).
    pub last_snapshot_ms: u64,
    pub last_snapshot_duration: Duration,
    pub last_snapshot_sessions: u64,
    /// Bytes in the current journal file.
    pub log_bytes: u64,
    /// Records replayed at start-up.
    pub records_replayed: u64,
}

/// The running persistence of one memory backend.
pub struct Persistence {
    config: PersistConfig,
    store: Memory,
    journal: Journal,
    writer: Mutex<Option<JournalWriter>>,
    /// The sequence number the next journal file takes.
    next_seq: AtomicU64,
    /// One snapshot at a time.
    snapshotting: Mutex<()>,
    recovered: Recovered,
    last_snapshot_ms: AtomicU64,
    last_snapshot_micros: AtomicU64,
    last_snapshot_sessions: AtomicU64,
}

impl Persistence {
    /// Recovers `dir` into `store` (empty, not serving), then journals every
    /// change from here on. Blocking: run it off the async threads.
    pub fn open(store: &Memory, config: PersistConfig) -> Result<Arc<Self>, RecoverError> {
        let started = Instant::now();
        let recovered = recover::recover(store, &config.dir, config.accept_data_loss)?;
        let (journal, writer) = Journal::start(
            &config.dir,
            recovered.next_seq,
            recovered.last_lsn,
            config.fsync,
        )
        .map_err(|source| RecoverError::Io {
            path: config.dir.clone(),
            source,
        })?;
        store.attach_sink(journal.clone());
        tracing::info!(
            dir = %config.dir.display(),
            records = recovered.records,
            sessions = recovered.sessions,
            elapsed = ?started.elapsed(),
            fsync = ?config.fsync,
            "recovered sessions from disk"
        );
        Ok(Arc::new(Persistence {
            next_seq: AtomicU64::new(recovered.next_seq + 1),
            config,
            store: store.clone(),
            journal,
            writer: Mutex::new(Some(writer)),
            snapshotting: Mutex::new(()),
            recovered,
            last_snapshot_ms: AtomicU64::new(0),
            last_snapshot_micros: AtomicU64::new(0),
            last_snapshot_sessions: AtomicU64::new(0),
        }))
    }

    /// Writes a snapshot and drops the journal files it replaces. Blocking.
    pub fn snapshot(&self) -> std::io::Result<SnapshotReport> {
        let _one = self.snapshotting.lock().unwrap_or_else(|e| e.into_inner());
        let seq = self.next_seq.fetch_add(1, Ordering::AcqRel);
        self.journal.rotate(seq);
        let report = snapshot::write(&self.store, &self.config.dir, seq)?;
        for (old, path) in recover::journal_files(&self.config.dir)? {
            if old < seq {
                std::fs::remove_file(path)?;
            }
        }
        self.last_snapshot_ms
            .store(self.store.clock().now_ms(), Ordering::Relaxed);
        self.last_snapshot_micros
            .store(report.duration.as_micros() as u64, Ordering::Relaxed);
        self.last_snapshot_sessions
            .store(report.sessions, Ordering::Relaxed);
        tracing::info!(sessions = report.sessions, bytes = report.bytes, elapsed = ?report.duration, "snapshot written");
        Ok(report)
    }

    /// Snapshots in the background whenever the interval has passed with
    /// changes in the journal, or the journal outgrew its bound. Runs until
    /// its task is aborted.
    pub async fn run_snapshots(self: Arc<Self>) {
        let mut last = Instant::now();
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let grown = self.journal.file_bytes();
            let has_changes = grown > 64;
            let due = (has_changes && last.elapsed() >= self.config.snapshot_interval)
                || grown >= self.config.snapshot_log_bytes;
            if !due {
                continue;
            }
            let this = self.clone();
            match tokio::task::spawn_blocking(move || this.snapshot()).await {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => {
                    tracing::error!(error = %e, "snapshot failed; the journal keeps every change")
                }
                Err(e) => tracing::error!(error = %e, "snapshot task failed"),
            }
            last = Instant::now();
        }
    }

    /// At shutdown: a final snapshot, then the journal is flushed, fsynced
    /// and closed. Blocking.
    pub fn close(&self) -> std::io::Result<()> {
        let result = self.snapshot().map(|_| ());
        if let Some(writer) = self.writer.lock().unwrap_or_else(|e| e.into_inner()).take() {
            writer.close();
        }
        result
    }

    pub fn stats(&self) -> PersistStats {
        PersistStats {
            last_snapshot_ms: self.last_snapshot_ms.load(Ordering::Relaxed),
            last_snapshot_duration: Duration::from_micros(
                self.last_snapshot_micros.load(Ordering::Relaxed),
            ),
            last_snapshot_sessions: self.last_snapshot_sessions.load(Ordering::Relaxed),
            log_bytes: self.journal.file_bytes(),
            records_replayed: self.recovered.records,
        }
    }

    /// The journal changes wait for.
    pub(crate) fn journal(&self) -> &Journal {
        &self.journal
    }

    pub fn recovered(&self) -> Recovered {
        self.recovered
    }
}

/// fsyncs a directory, so a created or renamed file's name is durable.
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}
