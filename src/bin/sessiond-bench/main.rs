//! sessiond-bench: a load generator for sessiond, in the spirit of
//! redis-benchmark, and the baselines it is compared with (BENCHMARKS.md).
//!
//! - `grpc`: a mix of Create/Get/Set/Touch/Flush (or the baseline's empty
//!   RPC) over HTTP/2 connections with requests in flight on each;
//! - `http`: `GET /session` with cookies on HTTP/1.1 keep-alive connections;
//! - `redis`: `GET`/`SET` with the `redis` crate, the same job for Redis;
//! - `expiry`: memory per session and Get latency while 1M sessions expire
//!   at one instant; `redis-fill`: Redis's memory for the same sessions;
//! - `pipeline`: Gets on sessiond's `Pipeline` stream, one stream per
//!   connection (rows 4c-4e);
//! - `serve-empty`, `serve-hello`: the baselines, served with sessiond's
//!   own gRPC and HTTP server settings.
//!
//! Every load is closed-loop, bounded in time and count, and prints ops/s,
//! latency percentiles (HDR histogram) and CPU time per request of the
//! client and, given `--server-pid`, of the server.

mod expiry;
mod grpc;
mod http;
mod load;
mod pipeline;
mod redis_side;
mod report;
mod serve;
mod users;

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use load::Window;
use report::{Control, Summary};

/// The allocator sessiond runs with, so the baselines run with it too.
#[global_allocator]
static ALLOCATOR: sessiond::alloc::MiMalloc = sessiond::alloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "sessiond-bench",
    about = "Load generator and baselines for sessiond"
)]
struct Cli {
    /// Client runtime threads (default: the CPUs this process may use, so
    /// `taskset -c 1` gives one).
    #[arg(long, global = true)]
    threads: Option<usize>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Drive the gRPC API (or the empty-RPC baseline with --mix empty).
    Grpc(GrpcArgs),
    /// Drive the HTTP gateway (or the hello-world baseline) with cookies.
    Http(HttpArgs),
    /// Drive sessiond's Pipeline stream (rows 4c-4e) with Gets, one stream per
    /// connection.
    Pipeline(GrpcArgs),
    /// Drive Redis with GET (or SET) through the `redis` crate.
    Redis(RedisArgs),
    /// Memory per session, then Get latency while they all expire at once.
    Expiry(expiry::ExpiryArgs),
    /// SETEX sessions into Redis and report its memory growth.
    RedisFill(expiry::RedisFillArgs),
    /// Memory per session with users bound, and one RevokeUserSessions
    /// of a user with many sessions (issue 16).
    Users(users::UsersArgs),
    /// Serve the empty RPC (bench.v1.EmptyService) with sessiond's settings.
    ServeEmpty(ServeArgs),
    /// Serve a hello-world over sessiond's HTTP connection settings.
    ServeHello(HelloArgs),
}

/// The measured window, shared by every load.
#[derive(Args, Clone, Copy)]
struct WindowArgs {
    /// Measured time (an upper bound when --requests is given).
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    duration: Duration,
    /// Stop after this many measured requests.
    #[arg(long)]
    requests: Option<u64>,
    /// Unmeasured load first.
    #[arg(long, default_value = "2s", value_parser = humantime::parse_duration)]
    warmup: Duration,
    /// The server's process id, to report its CPU time per request.
    #[arg(long)]
    server_pid: Option<u32>,
    /// The backend's process id (the redis-server behind a sessiond on
    /// `--backend redis`), to report its CPU time per request too.
    #[arg(long)]
    backend_pid: Option<u32>,
}

impl WindowArgs {
    fn window(self) -> Window {
        Window {
            warmup: self.warmup,
            duration: self.duration,
            server_pid: self.server_pid,
            backend_pid: self.backend_pid,
        }
    }
}

#[derive(Args)]
struct GrpcArgs {
    #[arg(long, default_value = "127.0.0.1:50051")]
    addr: SocketAddr,
    /// Operations and weights: create, get, set, touch, flush; or `empty`
    /// alone for the baseline.
    #[arg(long, default_value = "get=100")]
    mix: String,
    /// HTTP/2 connections.
    #[arg(long, default_value_t = 4)]
    connections: usize,
    /// Requests in flight per connection.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Live sessions to spread requests over (created first).
    #[arg(long, default_value_t = 10_000)]
    sessions: usize,
    /// Bytes of data per session and per Set.
    #[arg(long, default_value_t = 100)]
    value_size: usize,
    #[command(flatten)]
    window: WindowArgs,
}

#[derive(Args)]
struct HttpArgs {
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// Path to GET.
    #[arg(long, default_value = "/session")]
    path: String,
    #[arg(long, default_value = "sessionid")]
    cookie_name: String,
    /// HTTP/1.1 keep-alive connections, one request in flight each.
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// Sessions created first with POST /session.
    #[arg(long, default_value_t = 1000)]
    sessions: usize,
    #[arg(long, default_value_t = 100)]
    value_size: usize,
    #[command(flatten)]
    window: WindowArgs,
}

#[derive(Args)]
struct RedisArgs {
    #[arg(long, default_value = "redis://127.0.0.1:6379/")]
    url: String,
    /// SET instead of GET.
    #[arg(long)]
    set: bool,
    /// Multiplexed connections.
    #[arg(long, default_value_t = 4)]
    connections: usize,
    /// Requests in flight per connection.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Keys (SETEX'd first) to spread requests over.
    #[arg(long, default_value_t = 10_000)]
    sessions: usize,
    #[arg(long, default_value_t = 100)]
    value_size: usize,
    #[command(flatten)]
    window: WindowArgs,
}

#[derive(Args)]
struct ServeArgs {
    #[arg(long)]
    addr: SocketAddr,
}

#[derive(Args)]
struct HelloArgs {
    #[arg(long)]
    addr: SocketAddr,
    /// Answer with the status, headers and body a gateway `GET /session`
    /// answers (fixed bytes) instead of `hello`: the response the contract
    /// asks for, without the handler that computes it.
    #[arg(long)]
    gateway_response: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let threads = cli
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let runtime = match &cli.command {
        // The servers run on the runtime `#[tokio::main]` gives sessiond.
        Command::ServeEmpty(_) | Command::ServeHello(_) => {
            tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
        }
        // One core: a current-thread runtime is the cheapest client.
        _ if threads == 1 => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build(),
        _ => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .enable_all()
            .build(),
    }
    .expect("a tokio runtime");
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Grpc(args) => run_grpc(args).await,
            Command::Http(args) => run_http(args).await,
            Command::Pipeline(args) => run_pipeline(args).await,
            Command::Redis(args) => run_redis(args).await,
            Command::Expiry(args) => expiry::run(args).await,
            Command::RedisFill(args) => expiry::redis_fill(args).await,
            Command::Users(args) => users::run(args).await,
            Command::ServeEmpty(args) => serve::empty(args.addr).await,
            Command::ServeHello(args) => serve::hello(args.addr, args.gateway_response).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("sessiond-bench: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run_grpc(args: GrpcArgs) -> Result<(), String> {
    let mix = grpc::Mix::parse(&args.mix)?;
    let mut clients = Vec::new();
    let mut empties = Vec::new();
    for _ in 0..args.connections.max(1) {
        let h2 = grpc::connect(args.addr)
            .await
            .map_err(|e| format!("cannot connect to {}: {e}", args.addr))?;
        clients.push(grpc::session_client(h2.clone(), args.addr));
        empties.push(grpc::empty_client(h2, args.addr));
    }
    let ids = if mix.only_empty() {
        Vec::new()
    } else {
        grpc::create_many(
            &clients,
            args.connections * args.concurrency,
            args.sessions.max(1),
            args.value_size,
            None,
            true,
        )
        .await
        .map_err(|e| format!("creating sessions: {e}"))?
    };
    println!(
        "grpc {} mix {} | {} connections x {} in flight | {} sessions of {} B",
        args.addr, args.mix, args.connections, args.concurrency, args.sessions, args.value_size
    );
    let control = Control::new(args.window.requests);
    let load = grpc::Workload {
        per_connection: args.concurrency.max(1),
        mix,
        ids: Arc::new(ids),
        value_size: args.value_size,
    };
    let workers = grpc::spawn_workers(&clients, &empties, &load, &control, 1);
    let (recorder, from, to) = load::measure(args.window.window(), control, workers).await;
    Summary::new(&recorder.slots[0], from, to).print(&args.mix);
    report::print_per_op(&grpc::OPS, &recorder.per_op);
    if let Some(e) = recorder.first_error {
        println!("first error: {e}");
    }
    Ok(())
}

async fn run_pipeline(args: GrpcArgs) -> Result<(), String> {
    let per_connection = args.concurrency.max(1);
    let (mut clients, mut pipelines) = (Vec::new(), Vec::new());
    for _ in 0..args.connections.max(1) {
        let h2 = grpc::connect(args.addr)
            .await
            .map_err(|e| format!("cannot connect to {}: {e}", args.addr))?;
        clients.push(grpc::session_client(h2.clone(), args.addr));
        pipelines.push(
            pipeline::open(h2, args.addr, per_connection)
                .await
                .map_err(|e| format!("cannot open the stream on {}: {e}", args.addr))?,
        );
    }
    let ids = grpc::create_many(
        &clients,
        args.connections * per_connection,
        args.sessions.max(1),
        args.value_size,
        None,
        true,
    )
    .await
    .map_err(|e| format!("creating sessions: {e}"))?;
    println!(
        "pipeline {} get | {} connections x {} in flight, one stream each | {} sessions of {} B",
        args.addr, args.connections, per_connection, args.sessions, args.value_size
    );
    let control = Control::new(args.window.requests);
    let workers = pipeline::spawn_workers(&pipelines, per_connection, Arc::new(ids), &control);
    let (recorder, from, to) = load::measure(args.window.window(), control, workers).await;
    Summary::new(&recorder.slots[0], from, to).print("pipeline_get");
    if let Some(e) = recorder.first_error {
        println!("first error: {e}");
    }
    Ok(())
}

async fn run_http(args: HttpArgs) -> Result<(), String> {
    let ids = http::create_sessions(
        args.addr,
        &args.cookie_name,
        args.sessions.max(1),
        args.value_size,
    )
    .await
    .map_err(|e| format!("creating sessions on {}: {e}", args.addr))?;
    let mut conns = Vec::new();
    for _ in 0..args.connections.max(1) {
        conns.push(
            http::connect(args.addr)
                .await
                .map_err(|e| format!("cannot connect to {}: {e}", args.addr))?,
        );
    }
    println!(
        "http {} GET {} | {} connections | {} sessions of {} B",
        args.addr, args.path, args.connections, args.sessions, args.value_size
    );
    let control = Control::new(args.window.requests);
    let workers = http::spawn_workers(
        conns,
        args.addr,
        &args.path,
        &args.cookie_name,
        Arc::new(ids),
        &control,
    );
    let (recorder, from, to) = load::measure(args.window.window(), control, workers).await;
    Summary::new(&recorder.slots[0], from, to)
        .print(&format!("GET {}", args.path).replace(' ', "_"));
    if let Some(e) = recorder.first_error {
        println!("first error: {e}");
    }
    Ok(())
}

async fn run_redis(args: RedisArgs) -> Result<(), String> {
    let mut conns = Vec::new();
    for _ in 0..args.connections.max(1) {
        conns.push(
            redis_side::connect(&args.url)
                .await
                .map_err(|e| format!("cannot connect to {}: {e}", args.url))?,
        );
    }
    let keys = redis_side::keys(args.sessions.max(1), 11);
    let value = redis_side::value(args.value_size);
    redis_side::fill(&mut conns[0], &keys, &value, 3600)
        .await
        .map_err(|e| format!("SETEX: {e}"))?;
    let op = if args.set { "SET" } else { "GET" };
    println!(
        "redis {} {op} | {} connections x {} in flight | {} keys of {} B",
        args.url, args.connections, args.concurrency, args.sessions, args.value_size
    );
    let control = Control::new(args.window.requests);
    let workers = redis_side::spawn_workers(
        &conns,
        args.concurrency.max(1),
        Arc::new(keys),
        args.set.then(|| Arc::new(value)),
        &control,
    );
    let (recorder, from, to) = load::measure(args.window.window(), control, workers).await;
    Summary::new(&recorder.slots[0], from, to).print(&format!("redis_{op}"));
    if let Some(e) = recorder.first_error {
        println!("first error: {e}");
    }
    Ok(())
}
