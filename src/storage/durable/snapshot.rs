//! Snapshots: every live session written to `snapshot.bin`, without
//! stopping the world. The sessions are shared out of memory (a pointer
//! each, under each shard's read lock in turn), then encoded into a buffer
//! with no lock held and written in the background; the file replaces the previous one atomically (write to a
//! temporary, fsync, rename, fsync the directory).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::codec;
use crate::storage::memory::Memory;

/// Chunk of encoded sessions handed to the file at a time.
const CHUNK: usize = 1 << 20;

pub fn snapshot_path(dir: &Path) -> PathBuf {
    dir.join("snapshot.bin")
}

fn temp_path(dir: &Path) -> PathBuf {
    dir.join("snapshot.tmp")
}

/// What a snapshot wrote.
#[derive(Debug, Clone, Copy)]
pub struct SnapshotReport {
    pub sessions: u64,
    pub bytes: u64,
    pub duration: Duration,
}

/// Writes every live session of `store` to a new snapshot that journal file
/// `log_seq` and later ones continue. The caller has already rotated the
/// journal to `log_seq`, so every change not in the snapshot is there.
pub fn write(store: &Memory, dir: &Path, log_seq: u64) -> std::io::Result<SnapshotReport> {
    let started = Instant::now();
    let now = store.clock().now_ms();
    let temp = temp_path(dir);
    let mut file = BufWriter::with_capacity(CHUNK, File::create(&temp)?);
    let mut buf = Vec::with_capacity(CHUNK + 64 * 1024);
    codec::frame(&mut buf, |out| codec::snapshot_header(out, log_seq, now));
    let mut sessions = 0u64;
    let mut bytes = 0u64;
    for entry in store.snapshot_entries() {
        let encoded = store.with_snapshot_state(&entry, now, |lsn, digest, state| {
            codec::frame(&mut buf, |out| codec::put(out, lsn, digest, state))
        });
        if encoded.is_some() {
            sessions += 1;
        }
        if buf.len() >= CHUNK {
            file.write_all(&buf)?;
            bytes += buf.len() as u64;
            buf.clear();
        }
    }
    codec::frame(&mut buf, |out| codec::snapshot_end(out, sessions));
    file.write_all(&buf)?;
    bytes += buf.len() as u64;
    let file = file.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&temp, snapshot_path(dir))?;
    super::sync_dir(dir)?;
    Ok(SnapshotReport {
        sessions,
        bytes,
        duration: started.elapsed(),
    })
}
