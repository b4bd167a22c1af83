//! Issue 16's rows: memory per session with a user bound against without
//! (one fresh sessiond each: `--per-user 0` is unbound), and the time of
//! one `RevokeUserSessions` of a user with many sessions. Create with a
//! binding against without is the `grpc` load's `create_bound` and
//! `create` mixes.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use clap::Args;

use crate::grpc;
use crate::report::process_rss;
use sessiond::grpc::pb;

#[derive(Args)]
pub struct UsersArgs {
    #[arg(long, default_value = "127.0.0.1:50051")]
    addr: SocketAddr,
    /// sessiond's process id (for its RSS).
    #[arg(long)]
    server_pid: u32,
    /// Sessions created for the memory figure.
    #[arg(long, default_value_t = 1_000_000)]
    sessions: usize,
    /// Sessions per user in the memory fill; 0 binds none.
    #[arg(long, default_value_t = 0)]
    per_user: usize,
    #[arg(long, default_value_t = 100)]
    value_size: usize,
    /// Sessions of the one user then revoked in one call (0: skip). The
    /// server needs `--max-sessions-per-user` at least this.
    #[arg(long, default_value_t = 0)]
    revoke: usize,
    #[arg(long, default_value_t = 4)]
    connections: usize,
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
}

pub async fn run(args: UsersArgs) -> Result<(), String> {
    let pid = args.server_pid;
    let rss = || process_rss(pid).ok_or(format!("cannot read /proc/{pid}/status"));
    let mut clients = Vec::new();
    for _ in 0..args.connections.max(1) {
        let h2 = grpc::connect(args.addr)
            .await
            .map_err(|e| format!("cannot connect to {}: {e}", args.addr))?;
        clients.push(grpc::session_client(h2, args.addr));
    }
    let in_flight = args.connections * args.concurrency;

    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_base = rss()?;
    let per_user = (args.per_user > 0).then_some(("user-", args.per_user));
    let started = Instant::now();
    grpc::create_many_bound(
        &clients,
        in_flight,
        args.sessions,
        args.value_size,
        None,
        false,
        per_user,
    )
    .await
    .map_err(|e| format!("creating sessions: {e}"))?;
    let fill = started.elapsed();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_full = rss()?;
    let per_session = rss_full.saturating_sub(rss_base) as f64 / args.sessions.max(1) as f64;
    println!(
        "memory     {} sessions of {} B, {} per user, created in {fill:.2?}: {per_session:.0} B per session",
        args.sessions, args.value_size, args.per_user
    );
    println!(
        "RESULT label=users_memory per_user={} bytes_per_session={per_session:.0} rss_base={rss_base} rss_full={rss_full}",
        args.per_user
    );

    if args.revoke > 0 {
        grpc::create_many_bound(
            &clients,
            in_flight,
            args.revoke,
            args.value_size,
            None,
            false,
            Some(("revoke-target-", args.revoke)),
        )
        .await
        .map_err(|e| format!("creating the user's sessions: {e}"))?;
        let mut client = clients[0].clone();
        let started = Instant::now();
        let revoked = client
            .revoke_user_sessions(pb::RevokeUserSessionsRequest {
                user_id: "revoke-target-0000000".into(),
                except_id: String::new(),
            })
            .await
            .map_err(|e| format!("RevokeUserSessions: {e}"))?
            .into_inner()
            .revoked;
        let took = started.elapsed();
        println!("revoke     {revoked} sessions of one user in one call: {took:.2?}");
        println!(
            "RESULT label=users_revoke revoked={revoked} micros={}",
            took.as_micros()
        );
        if revoked != args.revoke as u64 {
            return Err(format!("revoked {revoked}, expected {}", args.revoke));
        }
    }
    Ok(())
}
