//! Durability: sessions survive restarts and crashes; damage is cut or
//! reported, never silently dropped.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use sessiond::clock::{Clock, Millis};
use sessiond::session::{Limits, Namespace, SessionError, SessionId, Timeouts};
use sessiond::session::{SessionInfo, Update};
use sessiond::storage::durable::codec::{self, Next};
use sessiond::storage::durable::{Durable, FsyncPolicy, PersistConfig, Persistence, RecoverError};
use sessiond::storage::memory::Memory;
use sessiond::storage::Storage;

const T0: Millis = 1_700_000_000_000;
/// The namespace of tests that are not about namespaces.
const NS: Namespace = Namespace::DEFAULT;

/// id -> (version, data), as a writer believes it.
type Model = BTreeMap<String, (u64, BTreeMap<String, String>)>;

fn config(dir: &Path, accept_data_loss: bool) -> PersistConfig {
    PersistConfig {
        dir: dir.to_path_buf(),
        fsync: FsyncPolicy::Everysec,
        snapshot_interval: Duration::from_secs(3600),
        snapshot_log_bytes: u64::MAX,
        accept_data_loss,
    }
}

fn store(clock: &Clock) -> Memory {
    let limits = Limits {
        max_sessions: 100_000,
        ..Limits::default()
    };
    Memory::new(limits, Timeouts::default(), clock.clone())
}

fn open(clock: &Clock, dir: &Path) -> (Memory, Arc<Persistence>) {
    let store = store(clock);
    let persistence = Persistence::open(&store, config(dir, false)).expect("recovers");
    (store, persistence)
}

fn data(pairs: &[(&str, String)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

/// What a session looks like from outside, without touching it.
fn read(
    store: &Memory,
    id: &SessionId,
) -> Result<(SessionInfo, HashMap<String, String>), SessionError> {
    store.get(&NS, id, &[], false)
}

#[test]
fn ten_thousand_sessions_survive_a_graceful_restart() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Clock::manual(T0);
    let (store, persistence) = open(&clock, dir.path());
    let mut live = Vec::new();
    let mut short = Vec::new();
    for i in 0..10_000u32 {
        let idle = (i % 10 == 0).then(|| Duration::from_secs(60));
        let info = store
            .create(
                &NS,
                data(&[("user", format!("\"u{i}\"")), ("n", i.to_string())]),
                idle,
            )
            .unwrap();
        if i % 3 == 0 {
            let update = Update {
                upsert: data(&[("cart", format!("[{i}]"))]),
                remove: vec!["n".into()],
                expected_version: None,
            };
            store.set(&NS, &info.id, update).unwrap();
        }
        if idle.is_some() {
            short.push(info.id);
        } else {
            live.push(info.id);
        }
    }
    // Some sessions rotate, some are flushed, some change idle timeouts.
    let rotated: Vec<_> = live
        .drain(..100)
        .map(|id| store.rotate(&NS, &id).unwrap().id)
        .collect();
    live.extend(rotated);
    let flushed: Vec<_> = live.drain(..50).collect();
    for id in &flushed {
        assert!(store.flush(&NS, id).unwrap());
    }
    for id in &live[..100] {
        store
            .touch(&NS, id, Some(Duration::from_secs(7200)))
            .unwrap();
    }
    clock.advance(Duration::from_secs(30));
    for id in &live[100..200] {
        store.get(&NS, id, &[], true).unwrap();
    }
    let before: Vec<_> = live
        .iter()
        .map(|id| (id.clone(), read(&store, id).unwrap()))
        .collect();
    persistence.close().unwrap();
    drop(store);

    clock.advance(Duration::from_secs(31)); // the 60 s sessions expire while down
    let (store, persistence) = open(&clock, dir.path());
    assert_eq!(
        store.len(),
        live.len(),
        "exactly the live sessions came back"
    );
    for (id, expected) in &before {
        assert_eq!(
            &read(&store, id).unwrap(),
            expected,
            "identical data, version, deadlines"
        );
    }
    for id in short.iter().chain(&flushed) {
        assert_eq!(read(&store, id).unwrap_err(), SessionError::NotFound);
    }
    assert!(persistence.recovered().records >= live.len() as u64);
}

#[test]
fn the_journal_alone_restores_every_change_after_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Clock::manual(T0);
    let (store, persistence) = open(&clock, dir.path());
    let a = store
        .create(&NS, data(&[("x", "1".into())]), None)
        .unwrap()
        .id;
    let b = store.create(&NS, data(&[]), None).unwrap().id;
    store
        .set(
            &NS,
            &a,
            Update {
                upsert: data(&[("y", "2".into())]),
                ..Update::default()
            },
        )
        .unwrap();
    let b2 = store.rotate(&NS, &b).unwrap().id;
    let before = (read(&store, &a).unwrap(), read(&store, &b2).unwrap());
    // No snapshot: the process "dies", its journal writer flushing on the way.
    drop(persistence);
    drop(store);

    let (store, _p) = open(&clock, dir.path());
    assert_eq!(
        (read(&store, &a).unwrap(), read(&store, &b2).unwrap()),
        before
    );
    assert_eq!(
        read(&store, &b).unwrap_err(),
        SessionError::NotFound,
        "rotated id stays dead"
    );
}

/// Builds a journal with `n` sessions created one record each, without a
/// snapshot, and returns the journal file and the byte offsets of its frames.
fn journal_with_records(
    dir: &Path,
    clock: &Clock,
    n: usize,
) -> (std::path::PathBuf, Vec<u64>, Vec<SessionId>) {
    let (store, persistence) = open(clock, dir);
    let ids: Vec<_> = (0..n)
        .map(|i| {
            store
                .create(&NS, data(&[("i", i.to_string())]), None)
                .unwrap()
                .id
        })
        .collect();
    drop(persistence);
    let mut logs: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "log"))
        .collect();
    logs.sort();
    let log = logs.pop().unwrap();
    let bytes = std::fs::read(&log).unwrap();
    let mut offsets = Vec::new();
    let mut cursor = std::io::Cursor::new(&bytes);
    let mut offset = 0u64;
    let mut payload = Vec::new();
    loop {
        let (next, used) =
            codec::read_frame(&mut cursor, bytes.len() as u64 - offset, &mut payload).unwrap();
        if next != Next::Frame {
            assert_eq!(next, Next::End);
            break;
        }
        offsets.push(offset);
        offset += used;
    }
    offsets.push(offset);
    (log, offsets, ids)
}

fn copy_dir(from: &Path, to: &Path) {
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, to.join(p.file_name().unwrap())).unwrap();
    }
}

#[test]
fn a_journal_cut_at_every_byte_of_its_last_record_recovers_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Clock::manual(T0);
    let (log, offsets, ids) = journal_with_records(dir.path(), &clock, 5);
    // Frames: the header, then one per session.
    assert_eq!(offsets.len(), 1 + 5 + 1);
    let (last_start, end) = (offsets[5], offsets[6]);
    for cut in last_start..end {
        let copy = tempfile::tempdir().unwrap();
        copy_dir(dir.path(), copy.path());
        let copied_log = copy.path().join(log.file_name().unwrap());
        std::fs::OpenOptions::new()
            .write(true)
            .open(&copied_log)
            .unwrap()
            .set_len(cut)
            .unwrap();

        let (store, _p) = open(&clock, copy.path());
        assert_eq!(store.len(), 4, "cut at {cut}");
        for id in &ids[..4] {
            assert!(read(&store, id).is_ok());
        }
        assert_eq!(read(&store, &ids[4]).unwrap_err(), SessionError::NotFound);
        assert_eq!(
            std::fs::metadata(&copied_log).unwrap().len(),
            last_start,
            "the torn tail was cut"
        );
    }
}

#[test]
fn a_flipped_byte_in_the_middle_is_reported_with_file_and_offset() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Clock::manual(T0);
    let (log, offsets, ids) = journal_with_records(dir.path(), &clock, 5);
    let damaged_record = offsets[3];
    let mut bytes = std::fs::read(&log).unwrap();
    bytes[damaged_record as usize + 20] ^= 0x01;
    std::fs::write(&log, &bytes).unwrap();

    let err = Persistence::open(&store(&clock), config(dir.path(), false))
        .err()
        .expect("damage is not ignored");
    match &err {
        RecoverError::Corrupt { path, offset, .. } => {
            assert_eq!(path, &log);
            assert_eq!(*offset, damaged_record);
        }
        other => panic!("{other:?}"),
    }
    let message = err.to_string();
    assert!(
        message.contains("--accept-data-loss") && message.contains(&damaged_record.to_string()),
        "{message}"
    );

    // With the flag, what precedes the damage is kept and the rest cut.
    let store = store(&clock);
    Persistence::open(&store, config(dir.path(), true)).unwrap();
    assert_eq!(store.len(), 2);
    assert!(read(&store, &ids[1]).is_ok());
    assert_eq!(read(&store, &ids[2]).unwrap_err(), SessionError::NotFound);
}

#[test]
fn a_damaged_snapshot_stops_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Clock::manual(T0);
    let (store, persistence) = open(&clock, dir.path());
    for i in 0..50 {
        store
            .create(&NS, data(&[("i", i.to_string())]), None)
            .unwrap();
    }
    persistence.close().unwrap();
    let snapshot = dir.path().join("snapshot.bin");
    let mut bytes = std::fs::read(&snapshot).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x10;
    std::fs::write(&snapshot, &bytes).unwrap();
    let err = Persistence::open(&self::store(&clock), config(dir.path(), false))
        .err()
        .unwrap();
    assert!(err.to_string().contains("snapshot.bin"), "{err}");
}

#[test]
fn a_snapshot_taken_while_writes_continue_equals_the_model() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Clock::manual(T0);
    let (store, persistence) = open(&clock, dir.path());
    // Each writer keeps a model of its own sessions.
    let writing = std::sync::atomic::AtomicUsize::new(3);
    let mut snapshots = 0;
    let models: Vec<Model> = std::thread::scope(|scope| {
        let snapshotter = scope.spawn(|| {
            let mut n = 0;
            while writing.load(std::sync::atomic::Ordering::Acquire) > 0 {
                persistence.snapshot().unwrap();
                n += 1;
            }
            n
        });
        let writers: Vec<_> = (0..3)
            .map(|w| {
                let store = store.clone();
                let writing = &writing;
                scope.spawn(move || {
                    let mut model: Model = BTreeMap::new();
                    let mut ids = Vec::new();
                    for i in 0..3000u32 {
                        match i % 7 {
                            0..=2 => {
                                let info = store
                                    .create(&NS, data(&[("w", w.to_string())]), None)
                                    .unwrap();
                                model.insert(
                                    info.id.expose().to_string(),
                                    (1, [("w".to_string(), w.to_string())].into()),
                                );
                                ids.push(info.id);
                            }
                            3 | 4 if !ids.is_empty() => {
                                let id = &ids[i as usize % ids.len()];
                                let key = format!("k{}", i % 5);
                                let info = store
                                    .set(
                                        &NS,
                                        id,
                                        Update {
                                            upsert: data(&[(&key, i.to_string())]),
                                            ..Update::default()
                                        },
                                    )
                                    .unwrap();
                                let m = model.get_mut(id.expose()).unwrap();
                                m.0 = info.version;
                                m.1.insert(key, i.to_string());
                            }
                            5 if !ids.is_empty() => {
                                let id = ids.swap_remove(i as usize % ids.len());
                                let new = store.rotate(&NS, &id).unwrap();
                                let mut m = model.remove(id.expose()).unwrap();
                                m.0 = new.version;
                                model.insert(new.id.expose().to_string(), m);
                                ids.push(new.id);
                            }
                            6 if !ids.is_empty() => {
                                let id = ids.swap_remove(i as usize % ids.len());
                                assert!(store.flush(&NS, &id).unwrap());
                                model.remove(id.expose());
                            }
                            _ => {}
                        }
                    }
                    writing.fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
                    model
                })
            })
            .collect();
        snapshots = snapshotter.join().unwrap();
        writers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    assert!(snapshots >= 1);
    // Changes after the last snapshot live only in the journal.
    let mut models = models;
    for (id, (version, values)) in models[0].iter_mut().take(20) {
        let info = store
            .set(
                &NS,
                &SessionId::parse(id).unwrap(),
                Update {
                    upsert: data(&[("late", "true".into())]),
                    ..Update::default()
                },
            )
            .unwrap();
        *version = info.version;
        values.insert("late".into(), "true".into());
    }
    drop(persistence); // a crash after the last change: snapshot + journal must hold everything
    drop(store);

    let (store, _p) = open(&clock, dir.path());
    let expected: Model = models.into_iter().flatten().collect();
    assert_eq!(store.len(), expected.len());
    for (id, (version, values)) in expected {
        let (info, got) = read(&store, &SessionId::parse(&id).unwrap()).unwrap();
        assert_eq!(info.version, version);
        assert_eq!(got.into_iter().collect::<BTreeMap<_, _>>(), values);
    }
}

#[tokio::test]
async fn fsync_always_acknowledges_only_what_is_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Clock::manual(T0);
    let store = store(&clock);
    let mut cfg = config(dir.path(), false);
    cfg.fsync = FsyncPolicy::Always;
    let durable = Durable::new(store.clone());
    let persistence = durable.open(cfg).unwrap();
    // Answered only once journaled and fsynced: no separate step to wait.
    let id = Storage::new(durable)
        .create(&NS, data(&[]), None)
        .await
        .unwrap()
        .id;
    // Read the journal as another process would, without closing anything.
    let recovered = self::store(&clock);
    let copy = tempfile::tempdir().unwrap();
    copy_dir(dir.path(), copy.path());
    Persistence::open(&recovered, config(copy.path(), false)).unwrap();
    assert!(read(&recovered, &id).is_ok());
    drop(persistence);
}

#[test]
fn namespaced_sessions_come_back_in_their_namespace_and_are_counted_there() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Clock::manual(T0);
    let shop = Namespace::parse("shop").unwrap();
    let blog = Namespace::parse("blog").unwrap();
    let (store, persistence) = open(&clock, dir.path());
    let in_shop = store
        .create(&shop, data(&[("a", "1".into())]), None)
        .unwrap()
        .id;
    let rotated = store.create(&blog, data(&[]), None).unwrap().id;
    let rotated = store.rotate(&blog, &rotated).unwrap().id;
    // One namespace from the snapshot, the other from the journal after it.
    persistence.snapshot().unwrap();
    let in_default = store.create(&NS, data(&[]), None).unwrap().id;
    let from_journal = store.create(&shop, data(&[]), None).unwrap().id;
    drop((store, persistence));

    let (store, _persistence) = open(&clock, dir.path());
    assert_eq!(store.get(&shop, &in_shop, &[], false).unwrap().1["a"], "1");
    assert!(store.get(&shop, &from_journal, &[], false).is_ok());
    assert!(store.get(&blog, &rotated, &[], false).is_ok());
    assert!(store.get(&NS, &in_default, &[], false).is_ok());
    assert_eq!(
        store.get(&NS, &in_shop, &[], false).unwrap_err(),
        SessionError::NotFound,
        "a namespaced session is not found in the default namespace"
    );
    assert_eq!(store.namespace_len(&shop), 2);
    assert_eq!(store.namespace_len(&blog), 1);
    assert_eq!(store.namespace_len(&NS), 1);
}

/// A data directory written before digests were cut to 128 bits (format 2,
/// 32-byte digests) still recovers, and keeps recovering once this sessiond
/// has added journal files of its own format next to the old one.
#[test]
fn a_format_2_journal_with_full_sha256_digests_recovers() {
    use sha2::{Digest as _, Sha256};

    let dir = tempfile::tempdir().unwrap();
    let clock = Clock::manual(T0);
    let id = SessionId::generate();
    let mut bytes = Vec::new();
    codec::frame(&mut bytes, |o| {
        o.push(1); // LOG_HEADER
        o.extend_from_slice(b"SESSIOND");
        o.extend_from_slice(&2u32.to_le_bytes());
        o.extend_from_slice(&1u64.to_le_bytes());
    });
    codec::frame(&mut bytes, |o| {
        o.push(7); // PUT_IN
        o.extend_from_slice(&1u64.to_le_bytes()); // lsn
        o.extend_from_slice(&Sha256::digest(id.expose().as_bytes()));
        o.extend_from_slice(&0u32.to_le_bytes()); // the default namespace
        for v in [4, T0, 60_000, Millis::MAX, T0 + 60_000] {
            o.extend_from_slice(&v.to_le_bytes());
        }
        o.extend_from_slice(&1u32.to_le_bytes());
        for s in ["user", "\"yuan\""] {
            o.extend_from_slice(&(s.len() as u32).to_le_bytes());
            o.extend_from_slice(s.as_bytes());
        }
    });
    std::fs::write(dir.path().join(format!("journal-{:016}.log", 1)), bytes).unwrap();

    let (store, persistence) = open(&clock, dir.path());
    let (info, found) = read(&store, &id).expect("the old session is found by its id");
    assert_eq!(info.version, 4);
    assert_eq!(found, data(&[("user", "\"yuan\"".into())]));
    let update = Update {
        upsert: data(&[("user", "\"ana\"".into())]),
        remove: vec![],
        expected_version: None,
    };
    store.set(&NS, &id, update).unwrap();
    drop(persistence);

    let (store, _persistence) = open(&clock, dir.path());
    let (info, found) = read(&store, &id).expect("found after a second restart");
    assert_eq!(info.version, 5);
    assert_eq!(found, data(&[("user", "\"ana\"".into())]));
}

fn alice() -> sessiond::session::UserId {
    sessiond::session::UserId::parse("alice").unwrap()
}

fn listed(store: &Memory) -> Vec<sessiond::session::Handle> {
    let mut out: Vec<_> = store
        .list_user_sessions(&NS, &alice(), None)
        .unwrap()
        .into_iter()
        .map(|s| s.handle)
        .collect();
    out.sort_by_key(|h| h.0);
    out
}

/// The user index is rebuilt from the journal alone (a crash) and from a
/// snapshot (a graceful restart): bindings made at Create and by BindUser,
/// moved, unbound, rotated and revoked come back exactly as they were.
#[test]
fn a_users_sessions_are_rebuilt_from_the_journal_and_from_a_snapshot() {
    use sessiond::session::{Binding, Handle};
    let dir = tempfile::tempdir().unwrap();
    let clock = Clock::manual(T0);
    let (store, persistence) = open(&clock, dir.path());
    let meta = Binding::new(alice(), "Firefox".into(), "192.0.2.1".into()).unwrap();
    let a = store.create_bound(&NS, data(&[]), None, &meta).unwrap().id;
    let b = store.create(&NS, data(&[]), None).unwrap().id;
    store
        .bind_user(&NS, &b, Some(Binding::to(alice())))
        .unwrap();
    let b = store.rotate(&NS, &b).unwrap().id;
    let c = store
        .create_bound(&NS, data(&[]), None, &Binding::to(alice()))
        .unwrap()
        .id;
    store.bind_user(&NS, &c, None).unwrap();
    let d = store
        .create_bound(&NS, data(&[]), None, &Binding::to(alice()))
        .unwrap()
        .id;
    assert!(store
        .revoke_session(&NS, &Handle(d.digest()), None)
        .unwrap());
    let before = listed(&store);
    let mut expected = vec![Handle(a.digest()), Handle(b.digest())];
    expected.sort_by_key(|h| h.0);
    assert_eq!(before, expected);
    drop(persistence);
    drop(store);

    let (store, persistence) = open(&clock, dir.path());
    assert_eq!(listed(&store), before, "from the journal alone");
    let shown = store.list_user_sessions(&NS, &alice(), None).unwrap();
    let of_a = shown
        .iter()
        .find(|s| s.handle == Handle(a.digest()))
        .unwrap();
    assert_eq!(
        (of_a.user_agent.as_str(), of_a.ip.as_str()),
        ("Firefox", "192.0.2.1")
    );
    assert_eq!(store.bound_user(&NS, &c).unwrap(), None);
    persistence.close().unwrap();
    drop(store);

    let (store, _p) = open(&clock, dir.path());
    assert_eq!(listed(&store), before, "from the snapshot");
    assert_eq!(store.revoke_user_sessions(&NS, &alice(), None).unwrap(), 2);
}
