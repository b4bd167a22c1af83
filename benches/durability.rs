//! Durability figures for 1M sessions (issue 6): snapshot time and peak RSS,
//! start-up replay time, and Get p99 during a snapshot vs steady state,
//! measured side by side in one run.
//!
//! `cargo bench --bench durability` (SESSIONS=200000 for a quicker run).

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use rand::Rng;
use sessiond::clock::Clock;
use sessiond::session::{Limits, Namespace, SessionId, Timeouts};
use sessiond::storage::durable::{FsyncPolicy, PersistConfig, Persistence};
use sessiond::storage::memory::Memory;

fn rss_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn new_store() -> Memory {
    let limits = Limits {
        max_sessions: 4_000_000,
        ..Limits::default()
    };
    Memory::new(limits, Timeouts::default(), Clock::system())
}

/// Get latencies on one thread until `stop` is set (or `max` elapses).
fn gets(store: &Memory, ids: &[SessionId], stop: &AtomicBool, max: Duration) -> Histogram<u64> {
    let mut h = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).unwrap();
    let mut rng = rand::rng();
    let started = Instant::now();
    while !stop.load(Ordering::Relaxed) && started.elapsed() < max {
        let id = &ids[rng.random_range(0..ids.len())];
        let t = Instant::now();
        let got = store.get(&Namespace::DEFAULT, id, &[], true);
        h.record(t.elapsed().as_nanos() as u64).unwrap();
        assert!(got.is_ok());
    }
    h
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --all-targets` runs this
    // binary without it, to check that it builds and starts.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let n: usize = std::env::var("SESSIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().unwrap();
    let config = PersistConfig {
        dir: dir.path().to_path_buf(),
        fsync: FsyncPolicy::Everysec,
        snapshot_interval: Duration::from_secs(3600),
        snapshot_log_bytes: u64::MAX,
        accept_data_loss: false,
    };

    let store = new_store();
    let persistence = Persistence::open(&store, config.clone()).unwrap();
    let rss_empty = rss_kib("VmRSS:");
    let started = Instant::now();
    let ids: Vec<SessionId> = (0..n)
        .map(|i| {
            let data = [
                ("user".to_string(), format!("\"user{i:08}\"")),
                ("is_login".to_string(), "true".to_string()),
                ("cart".to_string(), "[1,2,3,4,5]".to_string()),
                (
                    "csrf".to_string(),
                    "\"0123456789abcdef0123456789\"".to_string(),
                ),
            ]
            .into();
            store.create(&Namespace::DEFAULT, data, None).unwrap().id
        })
        .collect();
    let fill = started.elapsed();
    let rss_full = rss_kib("VmRSS:");

    let stop = AtomicBool::new(false);
    let steady = gets(&store, &ids, &stop, Duration::from_secs(3));

    let (report, during) = std::thread::scope(|scope| {
        let reader = scope.spawn(|| gets(&store, &ids, &stop, Duration::from_secs(600)));
        let report = persistence.snapshot().unwrap();
        stop.store(true, Ordering::Relaxed);
        (report, reader.join().unwrap())
    });
    let rss_peak = rss_kib("VmHWM:");
    persistence.close().unwrap();
    drop(persistence);
    drop(store);

    let replay_started = Instant::now();
    let restored = new_store();
    let reopened = Persistence::open(&restored, config).unwrap();
    let replay = replay_started.elapsed();
    assert_eq!(restored.len(), n);
    drop(reopened);

    let p = |h: &Histogram<u64>, q: f64| Duration::from_nanos(h.value_at_quantile(q));
    println!("sessions                      {n} (~100 B of data each), filled in {fill:.2?}");
    println!(
        "snapshot                      {:.2?} for {} sessions, {} MiB on disk",
        report.duration,
        report.sessions,
        report.bytes >> 20
    );
    println!(
        "RSS                           empty {} MiB, full {} MiB, peak during snapshot {} MiB (+{} MiB)",
        rss_empty >> 10,
        rss_full >> 10,
        rss_peak >> 10,
        rss_peak.saturating_sub(rss_full) >> 10
    );
    println!("start-up replay               {replay:.2?}");
    println!(
        "Get p50 / p99 steady          {:?} / {:?} ({} gets)",
        p(&steady, 0.5),
        p(&steady, 0.99),
        steady.len()
    );
    println!(
        "Get p50 / p99 during snapshot {:?} / {:?} ({} gets)",
        p(&during, 0.5),
        p(&during, 0.99),
        during.len()
    );
    println!(
        "ratio p99 during / steady     {:.2} (target <= 1.5)",
        p(&during, 0.99).as_nanos() as f64 / p(&steady, 0.99).as_nanos().max(1) as f64
    );
}
