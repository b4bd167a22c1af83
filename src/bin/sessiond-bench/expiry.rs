//! Memory per session and mass expiry. sessiond: creates many sessions
//! that all expire at one instant (each gets the idle timeout that ends
//! there), reports the server's RSS growth per session, then keeps reading
//! other, live sessions through the expiry and compares Get latency while
//! the reaper reclaims them with the steady state just before. Redis: the
//! same sessions as SETEX, and its `used_memory` growth.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use clap::Args;

use crate::grpc;
use crate::http;
use crate::load;
use crate::redis_side;
use crate::report::{process_rss, Control, CpuMark, Summary, STOP};

#[derive(Args)]
pub struct ExpiryArgs {
    #[arg(long, default_value = "127.0.0.1:50051")]
    addr: SocketAddr,
    /// sessiond's admin listener, whose /metrics tells when the sessions
    /// have been reclaimed.
    #[arg(long, default_value = "127.0.0.1:9090")]
    admin_addr: SocketAddr,
    /// sessiond's process id (for its RSS and CPU time).
    #[arg(long)]
    server_pid: u32,
    /// Sessions that expire together.
    #[arg(long, default_value_t = 1_000_000)]
    sessions: usize,
    /// Long-lived sessions read throughout.
    #[arg(long, default_value_t = 10_000)]
    live: usize,
    #[arg(long, default_value_t = 100)]
    value_size: usize,
    /// When the sessions expire, counted from the start of the fill; the
    /// fill must end at least 10 s before.
    #[arg(long, default_value = "60s", value_parser = humantime::parse_duration)]
    expire_in: Duration,
    #[arg(long, default_value_t = 4)]
    connections: usize,
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Longest wait for reclamation and for memory to come back.
    #[arg(long, default_value = "60s", value_parser = humantime::parse_duration)]
    settle: Duration,
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1 << 20) as f64
}

pub async fn run(args: ExpiryArgs) -> Result<(), String> {
    let pid = args.server_pid;
    let rss = || process_rss(pid).ok_or(format!("cannot read /proc/{pid}/status"));
    let mut clients = Vec::new();
    for _ in 0..args.connections.max(1) {
        let h2 = grpc::connect(args.addr)
            .await
            .map_err(|e| format!("cannot connect to {}: {e}", args.addr))?;
        clients.push(grpc::session_client(h2, args.addr));
    }
    let mut admin = http::connect(args.admin_addr)
        .await
        .map_err(|e| format!("cannot connect to {}: {e}", args.admin_addr))?;
    let in_flight = args.connections * args.concurrency;
    let live = grpc::create_many(&clients, in_flight, args.live, args.value_size, None, true)
        .await
        .map_err(|e| format!("creating live sessions: {e}"))?;

    // Memory: RSS before and after the sessions that will expire.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_base = rss()?;
    let held_base = http::scrape_gauge(&mut admin, args.admin_addr, "sessiond_sessions")
        .await
        .ok_or(format!(
            "no sessiond_sessions on http://{}/metrics",
            args.admin_addr
        ))?;
    let started = Instant::now();
    let expire_at = SystemTime::now() + args.expire_in;
    let expire_instant = started + args.expire_in;
    grpc::create_many(
        &clients,
        in_flight,
        args.sessions,
        args.value_size,
        Some(expire_at),
        false,
    )
    .await
    .map_err(|e| format!("creating the sessions that expire: {e}"))?;
    let fill = started.elapsed();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_full = rss()?;
    let growth = rss_full.saturating_sub(rss_base);
    let per_session = growth as f64 / args.sessions as f64;
    println!(
        "memory     {} sessions of {} B created in {fill:.2?}: RSS {:.1} -> {:.1} MiB, {per_session:.0} B per session",
        args.sessions,
        args.value_size,
        mib(rss_base),
        mib(rss_full)
    );
    println!(
        "RESULT label=sessiond_memory bytes_per_session={per_session:.0} rss_base={rss_base} rss_full={rss_full}"
    );
    if Instant::now() + Duration::from_secs(10) > expire_instant {
        return Err(format!(
            "the fill took {fill:.1?}: raise --expire-in so that 10 s of steady state remain"
        ));
    }

    // Latency: steady until the instant, then while they are reclaimed.
    let control = Control::new(None);
    let load = grpc::Workload {
        per_connection: args.concurrency.max(1),
        mix: grpc::Mix::parse("get")?,
        ids: Arc::new(live),
        value_size: args.value_size,
    };
    let workers = grpc::spawn_workers(&clients, &[], &load, &control, 3);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let steady_from = CpuMark::now(Some(pid));
    control.set(1);
    tokio::time::sleep_until(expire_instant.into()).await;
    let steady_to = CpuMark::now(Some(pid));
    control.set(2);
    let expired = Instant::now();
    let target = rss_base + growth / 10;
    let (mut reclaimed, mut memory_back) = (None, None);
    while expired.elapsed() < args.settle {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let held = http::scrape_gauge(&mut admin, args.admin_addr, "sessiond_sessions").await;
        if reclaimed.is_none() && held.is_some_and(|n| n <= held_base) {
            reclaimed = Some(expired.elapsed());
        }
        if memory_back.is_none() && rss()? <= target {
            memory_back = Some(expired.elapsed());
        }
        if reclaimed.is_some_and(|r| expired.elapsed() >= r.max(Duration::from_secs(1))) {
            break;
        }
    }
    let during_to = CpuMark::now(Some(pid));
    control.set(3);
    tokio::time::sleep(Duration::from_secs(2)).await;
    control.set(STOP);
    let recorder = load::join(workers).await;
    while memory_back.is_none() && expired.elapsed() < args.settle {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if rss()? <= target {
            memory_back = Some(expired.elapsed());
        }
    }
    let rss_end = rss()?;

    let steady = Summary::new(&recorder.slots[0], steady_from, steady_to);
    let during = Summary::new(&recorder.slots[1], steady_to, during_to);
    steady.print("steady");
    during.print("expiring");
    let ratio = during.p999 as f64 / steady.p999.max(1) as f64;
    let secs =
        |d: Option<Duration>| d.map_or("nan".to_string(), |d| format!("{:.1}", d.as_secs_f64()));
    println!(
        "expiry     Get p99.9 {} µs while expiring / {} µs steady = {ratio:.2}; reclaimed after {} s; RSS back within 10% of its growth after {} s (RSS {:.1} MiB at the end, base {:.1})",
        during.p999,
        steady.p999,
        secs(reclaimed),
        secs(memory_back),
        mib(rss_end),
        mib(rss_base),
    );
    println!(
        "RESULT label=expiry p999_ratio={ratio:.2} steady_p999_us={} during_p999_us={} reclaimed_s={} memory_back_s={} rss_end={rss_end} rss_base={rss_base}",
        steady.p999,
        during.p999,
        secs(reclaimed),
        secs(memory_back),
    );
    if let Some(e) = recorder.first_error {
        println!("first error: {e}");
    }
    Ok(())
}

#[derive(Args)]
pub struct RedisFillArgs {
    #[arg(long, default_value = "redis://127.0.0.1:6379/")]
    url: String,
    #[arg(long, default_value_t = 1_000_000)]
    sessions: usize,
    #[arg(long, default_value_t = 100)]
    value_size: usize,
    /// SETEX's time to live.
    #[arg(long, default_value_t = 3600)]
    ttl: u64,
}

pub async fn redis_fill(args: RedisFillArgs) -> Result<(), String> {
    let mut conn = redis_side::connect(&args.url)
        .await
        .map_err(|e| format!("cannot connect to {}: {e}", args.url))?;
    let keys = redis_side::keys(args.sessions, 99);
    let value = redis_side::value(args.value_size);
    let (used_base, rss_base) = redis_side::memory(&mut conn)
        .await
        .map_err(|e| e.to_string())?;
    let started = Instant::now();
    redis_side::fill(&mut conn, &keys, &value, args.ttl)
        .await
        .map_err(|e| format!("SETEX: {e}"))?;
    let fill = started.elapsed();
    let (used_full, rss_full) = redis_side::memory(&mut conn)
        .await
        .map_err(|e| e.to_string())?;
    let per_session = used_full.saturating_sub(used_base) as f64 / args.sessions as f64;
    let rss_per_session = rss_full.saturating_sub(rss_base) as f64 / args.sessions as f64;
    println!(
        "redis      {} SETEX of {} B in {fill:.2?}: used_memory {:.1} -> {:.1} MiB, {per_session:.0} B per session (RSS {rss_per_session:.0} B per session)",
        args.sessions,
        args.value_size,
        mib(used_base),
        mib(used_full)
    );
    println!(
        "RESULT label=redis_memory bytes_per_session={per_session:.0} rss_bytes_per_session={rss_per_session:.0}"
    );
    Ok(())
}
