//! Memory micro-benchmarks (issue 7): the hot path without any transport.
//! Get, Set and Create on a store of live sessions of ~100 bytes, and the
//! expiry sweep (`purge_expired`) over sessions that are all due.
//!
//! `cargo bench --bench store`; under `cargo test --all-targets` criterion
//! runs each benchmark once, as a test.

use std::collections::HashMap;
use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use sessiond::clock::Clock;
use sessiond::session::Update;
use sessiond::session::{Limits, Namespace, SessionId, Timeouts};
use sessiond::storage::memory::Memory;

/// Live sessions the Get/Set/Create benchmarks run against: enough that
/// lookups miss the CPU caches as they do in a server.
const LIVE: usize = 100_000;
/// Every session of these benchmarks lives in the default namespace.
const NS: Namespace = Namespace::DEFAULT;

/// About 100 bytes of session data: one key, a 96-byte JSON string.
fn data() -> HashMap<String, String> {
    HashMap::from([("user".to_string(), format!("\"{}\"", "x".repeat(94)))])
}

fn store(clock: Clock) -> Memory {
    let limits = Limits {
        max_sessions: 10_000_000,
        ..Limits::default()
    };
    Memory::new(limits, Timeouts::default(), clock)
}

fn filled(n: usize) -> (Memory, Vec<SessionId>) {
    let store = store(Clock::system());
    let ids = (0..n)
        .map(|_| store.create(&NS, data(), None).unwrap().id)
        .collect();
    (store, ids)
}

fn hot_path(c: &mut Criterion) {
    let (store, ids) = filled(LIVE);
    let mut group = c.benchmark_group("store");
    group.throughput(Throughput::Elements(1));

    let mut i = 0;
    group.bench_function("get", |b| {
        b.iter(|| {
            i = (i + 7919) % ids.len();
            black_box(store.get(&NS, &ids[i], &[], true).unwrap());
        })
    });

    let value = format!("\"{}\"", "y".repeat(94));
    group.bench_function("set", |b| {
        b.iter_batched(
            || Update {
                upsert: HashMap::from([("user".to_string(), value.clone())]),
                ..Update::default()
            },
            |update| {
                i = (i + 7919) % ids.len();
                black_box(store.set(&NS, &ids[i], update).unwrap());
            },
            BatchSize::SmallInput,
        )
    });

    group.bench_function("create", |b| {
        b.iter_batched(
            data,
            |data| black_box(store.create(&NS, data, None).unwrap()),
            BatchSize::SmallInput,
        )
    });

    group.bench_function("session_id_parse_and_digest", |b| {
        let raw = ids[0].expose().to_owned();
        b.iter(|| black_box(SessionId::parse(black_box(&raw)).unwrap().digest()))
    });
    group.finish();
}

/// Reclaiming sessions that are all due: `purge_expired` called until
/// nothing due is left, as the reaper does (each call visits a bounded
/// number of index entries, then the reaper yields).
fn expiry_sweep(c: &mut Criterion) {
    const DUE: usize = 4096;
    let mut group = c.benchmark_group("expiry");
    group.throughput(Throughput::Elements(DUE as u64));
    group.sample_size(20);
    group.bench_function("purge_4096_due", |b| {
        b.iter_batched(
            || {
                let clock = Clock::manual(0);
                let store = store(clock.clone());
                for _ in 0..DUE {
                    store
                        .create(&NS, data(), Some(Duration::from_secs(60)))
                        .unwrap();
                }
                clock.advance(Duration::from_secs(61));
                store
            },
            |store| {
                // Bounded turns, as the reaper takes them.
                let mut reclaimed = 0;
                loop {
                    let purge = store.purge_expired();
                    reclaimed += purge.reclaimed;
                    if !purge.more {
                        break;
                    }
                }
                assert_eq!(reclaimed, DUE);
                store
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group!(benches, hot_path, expiry_sweep);
criterion_main!(benches);
