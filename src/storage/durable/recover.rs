//! Start-up: the snapshot, then every journal file after it, replayed into
//! the store. A torn tail of the last journal (a crash mid-write) is cut
//! with a warning; any other damage stops start-up with the file and offset,
//! unless `--accept-data-loss` says to cut the damaged part and go on.

use std::fs::{File, OpenOptions};
use std::io::{BufReader, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use super::codec::{self, Next, Record};
use super::journal::log_path;
use super::snapshot::snapshot_path;
use crate::storage::memory::Memory;

/// Damage that stops start-up.
#[derive(Debug, thiserror::Error)]
pub enum RecoverError {
    #[error("{path}: damaged at byte {offset}: {reason} (start with --accept-data-loss to cut the damaged part and continue)")]
    Corrupt {
        path: PathBuf,
        offset: u64,
        reason: String,
    },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// What recovery found.
#[derive(Debug, Default, Clone, Copy)]
pub struct Recovered {
    /// Records applied from the snapshot and the journal.
    pub records: u64,
    /// Sessions alive after dropping those that expired while down.
    pub sessions: usize,
    /// The highest lsn seen: the journal continues after it.
    pub last_lsn: u64,
    /// The sequence number the next journal file takes.
    pub next_seq: u64,
}

/// Replays `dir` into `store` (which must be empty and not yet journaling).
pub fn recover(
    store: &Memory,
    dir: &Path,
    accept_data_loss: bool,
) -> Result<Recovered, RecoverError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| RecoverError::Io { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let _ = std::fs::remove_file(dir.join("snapshot.tmp"));
    let mut found = Recovered::default();

    let snapshot = snapshot_path(dir);
    let mut first_seq = 0;
    if snapshot.exists() {
        let mut complete = false;
        replay_file(&snapshot, accept_data_loss, false, |record| {
            match record {
                Record::SnapshotHeader { log_seq, .. } => first_seq = log_seq,
                Record::SnapshotEnd { .. } => complete = true,
                _ => {}
            }
            apply(store, record, &mut found);
        })?;
        if !complete && !accept_data_loss {
            return Err(RecoverError::Corrupt {
                path: snapshot,
                offset: 0,
                reason: "the snapshot has no end marker".into(),
            });
        }
    }

    let mut logs = journal_files(dir).map_err(io(dir))?;
    logs.sort();
    let last_seq = logs.last().map(|&(seq, _)| seq);
    for (seq, path) in logs {
        if seq < first_seq {
            // Already in the snapshot; left behind by a crash before cleanup.
            let _ = std::fs::remove_file(&path);
            continue;
        }
        let is_last = Some(seq) == last_seq;
        replay_file(&path, accept_data_loss, is_last, |record| {
            apply(store, record, &mut found)
        })?;
    }
    found.next_seq = last_seq.unwrap_or(0).max(first_seq) + 1;
    found.sessions = store.finish_restore();
    Ok(found)
}

fn apply(store: &Memory, record: Record, found: &mut Recovered) {
    let lsn = match &record {
        Record::Put { lsn, .. }
        | Record::Update { lsn, .. }
        | Record::Deadline { lsn, .. }
        | Record::Delete { lsn, .. }
        | Record::Rotate { lsn, .. }
        | Record::Bind { lsn, .. } => *lsn,
        _ => 0,
    };
    found.last_lsn = found.last_lsn.max(lsn);
    if lsn > 0 {
        found.records += 1;
    }
    match record {
        Record::Put { lsn, digest, state } => store.restore_put(lsn, digest, state),
        Record::Update {
            lsn,
            digest,
            version,
            idle_deadline_ms,
            upsert,
            remove,
        } => store.restore_update(lsn, &digest, version, idle_deadline_ms, upsert, remove),
        Record::Deadline {
            lsn,
            digest,
            idle_ms,
            idle_deadline_ms,
        } => store.restore_deadline(lsn, &digest, idle_ms, idle_deadline_ms),
        Record::Delete { lsn, digest } => store.restore_delete(lsn, &digest),
        Record::Rotate {
            lsn,
            old,
            new,
            state,
        } => store.restore_rotate(lsn, &old, new, state),
        Record::Bind { lsn, digest, user } => store.restore_bind(lsn, &digest, user),
        Record::LogHeader { .. } | Record::SnapshotHeader { .. } | Record::SnapshotEnd { .. } => {}
    }
}

/// Journal files in `dir` with their sequence numbers.
pub fn journal_files(dir: &Path) -> std::io::Result<Vec<(u64, PathBuf)>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let seq = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_prefix("journal-"))
            .and_then(|n| n.strip_suffix(".log"))
            .and_then(|n| n.parse::<u64>().ok());
        if let Some(seq) = seq {
            debug_assert_eq!(log_path(dir, seq), path);
            out.push((seq, path));
        }
    }
    Ok(out)
}

/// Reads every frame of one file into `each`. A torn tail is cut when
/// `tail_may_tear` (the last journal); damage is an error unless
/// `accept_data_loss`, in which case the file is cut there.
fn replay_file(
    path: &Path,
    accept_data_loss: bool,
    tail_may_tear: bool,
    mut each: impl FnMut(Record),
) -> Result<(), RecoverError> {
    let io = |source| RecoverError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(io)?;
    let len = file.metadata().map_err(io)?.len();
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let mut offset = 0u64;
    let mut payload = Vec::new();
    let mut decoder = codec::Decoder::default();
    loop {
        let (next, used) =
            codec::read_frame(&mut reader, len - offset, &mut payload).map_err(io)?;
        let problem = match next {
            Next::End => return Ok(()),
            Next::Frame => match decoder.decode(&payload) {
                Ok(record) => {
                    each(record);
                    offset += used;
                    continue;
                }
                Err(reason) => reason,
            },
            Next::Torn if tail_may_tear => {
                tracing::warn!(file = %path.display(), offset, cut = len - offset, "cutting the torn tail of the journal (a crash mid-write)");
                return truncate(path, offset).map_err(io);
            }
            Next::Torn => "the file ends inside a record",
            Next::Corrupt(reason) => reason,
        };
        if accept_data_loss {
            tracing::error!(file = %path.display(), offset, reason = problem, lost_bytes = len - offset, "damaged; cutting it here as --accept-data-loss allows");
            return truncate(path, offset).map_err(io);
        }
        return Err(RecoverError::Corrupt {
            path: path.to_path_buf(),
            offset,
            reason: problem.to_string(),
        });
    }
}

fn truncate(path: &Path, at: u64) -> std::io::Result<()> {
    let file = OpenOptions::new().write(true).open(path)?;
    file.set_len(at)?;
    let mut file = file;
    file.seek(SeekFrom::Start(at))?;
    file.sync_all()
}
