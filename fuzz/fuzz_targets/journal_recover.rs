//! Start-up recovery on damaged files: the input becomes a snapshot and a
//! journal file in a fresh directory, and `Persistence::open` recovers it
//! into an empty store. It must never panic; with `--accept-data-loss` it
//! must always start (damage is cut, not fatal); without, it either starts
//! or refuses with the file and offset of the damage.
#![no_main]

use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use sessiond::clock::Clock;
use sessiond::session::{Limits, Timeouts};
use sessiond::storage::durable::{FsyncPolicy, PersistConfig, Persistence, RecoverError};
use sessiond::storage::memory::Memory;

fuzz_target!(|data: &[u8]| {
    // flags | snapshot length (2 bytes) | snapshot | journal; bit 0 of the
    // flags is --accept-data-loss, bit 1 whether there is a snapshot, the
    // rest the journal file's sequence number (a snapshot names the first
    // one it needs).
    let [flags, a, b, rest @ ..] = data else {
        return;
    };
    let accept = flags & 1 == 1;
    let cut = usize::from(u16::from_le_bytes([*a, *b])).min(rest.len());
    let (snapshot, journal) = rest.split_at(cut);
    let dir = tempfile::tempdir_in("/dev/shm")
        .or_else(|_| tempfile::tempdir())
        .unwrap();
    if flags & 2 == 2 {
        std::fs::write(dir.path().join("snapshot.bin"), snapshot).unwrap();
    }
    let seq = flags >> 2;
    std::fs::write(dir.path().join(format!("journal-{seq:016}.log")), journal).unwrap();

    let memory = Memory::new(
        Limits::default(),
        Timeouts::default(),
        Clock::manual(1_000_000),
    );
    let config = PersistConfig {
        dir: dir.path().to_path_buf(),
        fsync: FsyncPolicy::No,
        snapshot_interval: Duration::from_secs(3600),
        snapshot_log_bytes: u64::MAX,
        accept_data_loss: accept,
    };
    match Persistence::open(&memory, config) {
        Ok(persistence) => {
            // What was recovered can be snapshotted and closed again.
            persistence.close().expect("closes");
        }
        Err(RecoverError::Corrupt { .. }) if !accept => {}
        Err(e) => panic!("recovery (accept_data_loss {accept}) failed: {e}"),
    }
});
