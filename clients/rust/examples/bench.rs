//! The Rust client's benchmark rows (BENCHMARKS.md, "The Rust client"):
//!
//! - N1: Get through [`Pipeline`] ÷ `GET` through the `redis` crate's
//!   multiplexed connection, at the same number of calls in flight;
//! - N2: a near-cache hit ÷ that `GET`;
//! - N3: from a Flush sent by one client to the eviction seen by another
//!   client's near cache (p50 / p99 / max).
//!
//! The three loads alternate round after round (Pipeline, Redis, near
//! cache), so drift on a shared machine falls on each alike. Run against a
//! sessiond and a redis-server already started: `bench/rust-client.sh`
//! starts both, pins them, and runs this.
//!
//! ```sh
//! cargo run --release -p sessiond-client --example bench -- \
//!     --sessiond http://127.0.0.1:50051 --redis redis://127.0.0.1:6379
//! ```

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use hdrhistogram::Histogram;
use redis::AsyncCommands;
use sessiond_client::{pb, Client, NearCacheConfig};

#[derive(Parser)]
struct Args {
    /// sessiond's gRPC address.
    #[arg(long, default_value = "http://127.0.0.1:50051")]
    sessiond: String,
    /// The redis-server to compare with.
    #[arg(long, default_value = "redis://127.0.0.1:6379")]
    redis: String,
    /// Calls in flight, for every load.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Sessions (and Redis keys) read at random.
    #[arg(long, default_value_t = 10_000)]
    sessions: usize,
    /// Bytes of each session's value.
    #[arg(long, default_value_t = 100)]
    value_size: usize,
    /// Seconds of each load in each round.
    #[arg(long, default_value_t = 5)]
    seconds: u64,
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Flushes timed for N3.
    #[arg(long, default_value_t = 2_000)]
    flushes: usize,
}

/// What one load did in one round.
struct Run {
    ops_per_s: f64,
    latency: Histogram<u64>,
}

impl Run {
    fn line(&self, label: &str) -> String {
        format!(
            "{label:<18} {:>10.0} ops/s  p50 {:>6} µs  p99 {:>6} µs",
            self.ops_per_s,
            self.latency.value_at_quantile(0.5),
            self.latency.value_at_quantile(0.99)
        )
    }
}

/// Runs `op` from `concurrency` tasks for `seconds`, each call on a key
/// chosen at random; the rate and the latency of every call.
async fn load<F, Fut>(concurrency: usize, keys: usize, seconds: u64, op: F) -> Run
where
    F: Fn(usize) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let tasks: Vec<_> = (0..concurrency)
        .map(|worker| {
            let (op, stop) = (op.clone(), stop.clone());
            tokio::spawn(async move {
                let mut latency = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).unwrap();
                let mut seed = 0x9e37_79b9_7f4a_7c15u64 ^ (worker as u64 + 1);
                while !stop.load(Ordering::Relaxed) {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    let t = Instant::now();
                    op(seed as usize % keys).await;
                    latency.saturating_record(t.elapsed().as_micros() as u64);
                }
                latency
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let mut latency = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).unwrap();
    for task in tasks {
        latency.add(task.await.unwrap()).unwrap();
    }
    let elapsed = started.elapsed().as_secs_f64();
    Run {
        ops_per_s: latency.len() as f64 / elapsed,
        latency,
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let client = Client::connect(args.sessiond.clone()).await?;
    let value = format!("\"{}\"", "v".repeat(args.value_size.saturating_sub(2)));

    let mut ids = Vec::with_capacity(args.sessions);
    for _ in 0..args.sessions {
        let create = pb::CreateRequest {
            data: HashMap::from([("v".to_string(), value.clone())]),
            ..Default::default()
        };
        let created = client.raw().create(client.request(create)).await?;
        ids.push(created.into_inner().session.unwrap().id);
    }
    let ids = Arc::new(ids);
    let redis = redis::Client::open(args.redis.as_str())?
        .get_multiplexed_async_connection()
        .await?;
    let keys: Arc<Vec<String>> = Arc::new(ids.iter().map(|id| format!("session:{id}")).collect());
    let mut setup = redis.clone();
    for key in keys.iter() {
        let () = setup.set_ex(key, &value, 3600).await?;
    }

    let pipeline = client.pipeline().await?;
    let cache = client.near_cache(NearCacheConfig::default()).await?;
    tokio::time::timeout(Duration::from_secs(10), cache.ready()).await??;
    for id in ids.iter() {
        cache.get(id).await?;
    }
    assert_eq!(
        cache.len(),
        ids.len().min(NearCacheConfig::default().max_entries)
    );

    let (n, seconds) = (args.concurrency, args.seconds);
    let mut ratios = (Vec::new(), Vec::new());
    for round in 1..=args.rounds {
        let on_pipeline = {
            let (pipeline, ids) = (pipeline.clone(), ids.clone());
            load(n, ids.len(), seconds, move |i| {
                let (pipeline, id) = (pipeline.clone(), ids[i].clone());
                async move {
                    pipeline.get(id, vec![]).await.expect("Pipeline Get");
                }
            })
            .await
        };
        let on_redis = {
            let (redis, keys) = (redis.clone(), keys.clone());
            load(n, keys.len(), seconds, move |i| {
                let (mut redis, keys) = (redis.clone(), keys.clone());
                async move {
                    let read: Option<String> = redis.get(&keys[i]).await.expect("Redis GET");
                    assert!(read.is_some());
                }
            })
            .await
        };
        let hits_before = cache.stats().hits;
        let on_cache = {
            let (cache, ids) = (cache.clone(), ids.clone());
            load(n, ids.len(), seconds, move |i| {
                let (cache, ids) = (cache.clone(), ids.clone());
                async move {
                    cache.get(&ids[i]).await.expect("near-cache Get");
                }
            })
            .await
        };
        let hits = cache.stats().hits - hits_before;
        println!("round {round}");
        println!("  {}", on_pipeline.line("Pipeline Get"));
        println!("  {}", on_redis.line("Redis GET"));
        println!(
            "  {}  ({:.4} of them hits)",
            on_cache.line("near-cache Get"),
            hits as f64 / on_cache.latency.len() as f64
        );
        ratios.0.push(on_pipeline.ops_per_s / on_redis.ops_per_s);
        ratios.1.push(on_cache.ops_per_s / on_redis.ops_per_s);
    }
    let spread = |r: &Vec<f64>| {
        let (lo, hi) = (
            r.iter().copied().fold(f64::INFINITY, f64::min),
            r.iter().copied().fold(0.0, f64::max),
        );
        format!("{:.2} ({lo:.2}-{hi:.2})", median(r.clone()))
    };
    println!("RESULT N1 pipeline_get/redis_get {}", spread(&ratios.0));
    println!("RESULT N2 near_cache_hit/redis_get {}", spread(&ratios.1));

    // N3: a Flush through another client's Pipeline, timed from just
    // before it is sent to when this cache no longer holds the session
    // (NearCache::evicted wakes on the eviction, no polling).
    let other = Client::connect(args.sessiond.clone())
        .await?
        .pipeline()
        .await?;
    let mut eviction = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).unwrap();
    for _ in 0..args.flushes {
        let create = pb::CreateRequest::default();
        let created = client.raw().create(client.request(create)).await?;
        let id = created.into_inner().session.unwrap().id;
        cache.get(&id).await?;
        assert!(cache.is_cached(&id));
        let probe = id.clone();
        let sent = Instant::now();
        let flush = tokio::spawn({
            let other = other.clone();
            async move { other.flush(id).await }
        });
        cache.evicted(&probe).await;
        eviction.saturating_record(sent.elapsed().as_micros() as u64);
        assert!(flush.await??);
    }
    println!(
        "RESULT N3 flush_to_eviction_us p50={} p99={} max={} n={}",
        eviction.value_at_quantile(0.5),
        eviction.value_at_quantile(0.99),
        eviction.max(),
        eviction.len()
    );
    Ok(())
}
