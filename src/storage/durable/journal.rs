//! The append-only journal: changes are framed into an in-memory buffer
//! under a short mutex (which also orders them), and a writer thread moves
//! the buffer to disk and fsyncs it by policy, like Redis's AOF.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use clap::ValueEnum;
use tokio::sync::watch;

use super::codec;

/// When the journal reaches the disk (Redis's `appendfsync`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FsyncPolicy {
    /// Every acknowledged change is on disk: replies wait for the fsync
    /// (batched across concurrent requests).
    Always,
    /// fsync once a second: a crash of the machine loses at most the last
    /// second; a crash of the process alone loses nothing written.
    Everysec,
    /// Leave it to the OS.
    No,
}

/// How long the writer lets changes gather when nobody waits for them.
const WRITE_INTERVAL: Duration = Duration::from_millis(50);
const EVERYSEC: Duration = Duration::from_secs(1);

/// Name of the journal file with sequence number `seq`.
pub fn log_path(dir: &Path, seq: u64) -> PathBuf {
    dir.join(format!("journal-{seq:016}.log"))
}

/// A cheap `Clone` handle for appending to the journal.
#[derive(Clone)]
pub struct Journal(Arc<Shared>);

struct Shared {
    pending: Mutex<Pending>,
    /// Wakes the writer (only when someone waits for an fsync, or on
    /// rotation and close).
    wake: Condvar,
    policy: FsyncPolicy,
    /// Highest lsn known to be on disk (fsynced).
    synced: watch::Sender<u64>,
    /// Set when a write or fsync failed: changes can no longer be made
    /// durable, so the store refuses them.
    failed: AtomicBool,
    /// Bytes in the current journal file.
    file_bytes: AtomicU64,
}

struct Pending {
    /// Framed changes not yet handed to the file.
    bytes: Vec<u8>,
    /// The last lsn handed out.
    last_lsn: u64,
    /// A switch to a new file: bytes before `offset` still go to the old one.
    rotation: Option<(usize, u64)>,
    closed: bool,
}

/// Owns the writer thread; `close` flushes and joins it.
pub struct JournalWriter {
    journal: Journal,
    thread: Option<JoinHandle<()>>,
}

impl Journal {
    /// Opens a new journal file `seq` in `dir` and starts its writer.
    /// `last_lsn` continues the numbering of what was recovered.
    pub fn start(
        dir: &Path,
        seq: u64,
        last_lsn: u64,
        policy: FsyncPolicy,
    ) -> std::io::Result<(Journal, JournalWriter)> {
        let (file, bytes) = open_log(dir, seq)?;
        let journal = Journal(Arc::new(Shared {
            pending: Mutex::new(Pending {
                bytes: Vec::with_capacity(64 * 1024),
                last_lsn,
                rotation: None,
                closed: false,
            }),
            wake: Condvar::new(),
            policy,
            synced: watch::channel(last_lsn).0,
            failed: AtomicBool::new(false),
            file_bytes: AtomicU64::new(bytes),
        }));
        let thread = std::thread::Builder::new()
            .name("sessiond-journal".into())
            .spawn({
                let journal = journal.clone();
                let dir = dir.to_path_buf();
                move || journal.write_loop(dir, file)
            })?;
        Ok((
            journal.clone(),
            JournalWriter {
                journal,
                thread: Some(thread),
            },
        ))
    }

    /// Frames one change into the buffer; `encode` writes its payload given
    /// its lsn. Returns the lsn. Called under the session's map guard, so
    /// the journal holds one session's changes in the order they happened.
    pub fn append(&self, encode: impl FnOnce(u64, &mut Vec<u8>)) -> u64 {
        let mut p = lock(&self.0.pending);
        p.last_lsn += 1;
        let lsn = p.last_lsn;
        codec::frame(&mut p.bytes, |out| encode(lsn, out));
        drop(p);
        if self.0.policy == FsyncPolicy::Always {
            self.0.wake.notify_one();
        }
        lsn
    }

    pub fn policy(&self) -> FsyncPolicy {
        self.0.policy
    }

    pub fn has_failed(&self) -> bool {
        self.0.failed.load(Ordering::Acquire)
    }

    /// Bytes in the current journal file.
    pub fn file_bytes(&self) -> u64 {
        self.0.file_bytes.load(Ordering::Relaxed)
    }

    /// Waits until every change appended so far is fsynced. `false` if the
    /// journal failed and never will be.
    pub async fn wait_synced(&self) -> bool {
        let target = lock(&self.0.pending).last_lsn;
        let mut synced = self.0.synced.subscribe();
        let _ = synced.wait_for(|&s| s >= target || self.has_failed()).await;
        !self.has_failed()
    }

    /// Everything appended from now on goes to journal file `seq`. The
    /// switch point is fixed under the append mutex, so each change lands in
    /// exactly one file, in order.
    pub fn rotate(&self, seq: u64) {
        let mut p = lock(&self.0.pending);
        let offset = p.bytes.len();
        p.rotation = Some((offset, seq));
        drop(p);
        self.0.wake.notify_one();
    }

    fn write_loop(&self, dir: PathBuf, mut file: File) {
        let s = &*self.0;
        let mut last_fsync = Instant::now();
        let mut dirty = false;
        loop {
            let (bytes, last_lsn, rotation, closed) = {
                let mut p = lock(&s.pending);
                if p.bytes.is_empty() && p.rotation.is_none() && !p.closed {
                    p = s
                        .wake
                        .wait_timeout(p, WRITE_INTERVAL)
                        .unwrap_or_else(|e| e.into_inner())
                        .0;
                }
                let bytes = std::mem::replace(&mut p.bytes, Vec::with_capacity(64 * 1024));
                (bytes, p.last_lsn, p.rotation.take(), p.closed)
            };
            let result = (|| -> std::io::Result<()> {
                let split = rotation.map_or(bytes.len(), |(offset, _)| offset);
                if split > 0 {
                    file.write_all(&bytes[..split])?;
                    s.file_bytes.fetch_add(split as u64, Ordering::Relaxed);
                    dirty = true;
                }
                if let Some((_, seq)) = rotation {
                    file.sync_data()?;
                    let (new_file, header) = open_log(&dir, seq)?;
                    file = new_file;
                    s.file_bytes.store(header, Ordering::Relaxed);
                    file.write_all(&bytes[split..])?;
                    s.file_bytes
                        .fetch_add((bytes.len() - split) as u64, Ordering::Relaxed);
                }
                let due = match s.policy {
                    FsyncPolicy::Always => true,
                    FsyncPolicy::Everysec => last_fsync.elapsed() >= EVERYSEC,
                    FsyncPolicy::No => false,
                };
                if dirty && (due || closed) {
                    file.sync_data()?;
                    last_fsync = Instant::now();
                    dirty = false;
                }
                Ok(())
            })();
            match result {
                Ok(()) if !dirty => {
                    s.synced.send_replace(last_lsn);
                }
                Ok(()) => {}
                Err(e) => {
                    tracing::error!(error = %e, dir = %dir.display(), "journal write failed; refusing changes from now on");
                    s.failed.store(true, Ordering::Release);
                    s.synced.send_replace(last_lsn);
                    return;
                }
            }
            if closed {
                return;
            }
        }
    }
}

impl JournalWriter {
    /// Writes and fsyncs everything appended, then stops the writer.
    pub fn close(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        lock(&self.journal.0.pending).closed = true;
        self.journal.0.wake.notify_one();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for JournalWriter {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Opens (creating) journal file `seq` for appending; a new file starts with
/// a header frame. Returns the file and its length.
fn open_log(dir: &Path, seq: u64) -> std::io::Result<(File, u64)> {
    let path = log_path(dir, seq);
    let mut file = OpenOptions::new().create(true).append(true).open(&path)?;
    let mut len = file.metadata()?.len();
    if len == 0 {
        let mut header = Vec::new();
        codec::frame(&mut header, |out| codec::log_header(out, seq));
        file.write_all(&header)?;
        file.sync_data()?;
        super::sync_dir(dir)?;
        len = header.len() as u64;
    }
    Ok((file, len))
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
