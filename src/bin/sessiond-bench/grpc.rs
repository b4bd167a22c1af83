//! The gRPC side: a lean HTTP/2 client (hyper's connection driven directly,
//! without tonic's `Channel` and its buffer task), the operation mix, and
//! bulk creation of sessions.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime};

use hyper::client::conn::http2::SendRequest;
use hyper_util::rt::{TokioExecutor, TokioIo};
use sessiond::grpc::pb;
use sessiond::grpc::pb::session_service_client::SessionServiceClient;
use tokio::net::TcpStream;
use tokio::task::JoinHandle;

use crate::load::{bounded, XorShift};
use crate::report::{Control, Recorder};

/// sessiond-bench's own service: the empty RPC of the baseline
/// (proto/bench/v1/empty.proto).
pub mod bench_pb {
    // build.rs generates these apart from the contract's code.
    include!(concat!(env!("OUT_DIR"), "/bench/bench.v1.rs"));
}

/// One HTTP/2 connection as a tower service for tonic's generated clients.
/// Clones share the connection; each request is one stream.
#[derive(Clone)]
pub struct H2(SendRequest<tonic::body::Body>);

type ResponseFuture = Pin<
    Box<dyn Future<Output = Result<http::Response<hyper::body::Incoming>, hyper::Error>> + Send>,
>;

impl tonic::codegen::Service<http::Request<tonic::body::Body>> for H2 {
    type Response = http::Response<hyper::body::Incoming>;
    type Error = hyper::Error;
    type Future = ResponseFuture;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), hyper::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<tonic::body::Body>) -> ResponseFuture {
        Box::pin(self.0.send_request(request))
    }
}

/// Opens one HTTP/2 connection (TCP_NODELAY, as the server sets it).
pub async fn connect(addr: SocketAddr) -> std::io::Result<H2> {
    let stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (send, connection) = hyper::client::conn::http2::Builder::new(TokioExecutor::new())
        .handshake(TokioIo::new(stream))
        .await
        .map_err(std::io::Error::other)?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(H2(send))
}

pub fn origin(addr: SocketAddr) -> http::Uri {
    format!("http://{addr}")
        .parse()
        .expect("an address is a valid origin")
}

pub fn session_client(h2: H2, addr: SocketAddr) -> SessionServiceClient<H2> {
    SessionServiceClient::with_origin(h2, origin(addr))
}

pub fn empty_client(
    h2: H2,
    addr: SocketAddr,
) -> bench_pb::empty_service_client::EmptyServiceClient<H2> {
    bench_pb::empty_service_client::EmptyServiceClient::with_origin(h2, origin(addr))
}

/// The operations of a mix, in the order of [`OPS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Get,
    Set,
    Touch,
    Create,
    Flush,
    /// The baseline's empty RPC.
    Empty,
    /// Create bound to one of [`BOUND_USERS`] users (issue 16's row).
    CreateBound,
}

pub const OPS: [&str; 7] = [
    "get",
    "set",
    "touch",
    "create",
    "flush",
    "empty",
    "create_bound",
];

/// Users the `create_bound` operation binds to, picked at random: a few
/// sessions each over a run, far below the per-user limit.
pub const BOUND_USERS: usize = 1_000_000;

impl Op {
    fn from_name(name: &str) -> Option<Op> {
        Some(match name {
            "get" => Op::Get,
            "set" => Op::Set,
            "touch" => Op::Touch,
            "create" => Op::Create,
            "flush" => Op::Flush,
            "empty" => Op::Empty,
            "create_bound" => Op::CreateBound,
            _ => return None,
        })
    }
}

/// A weighted mix such as `get=90,set=10`: a cumulative table to pick from.
#[derive(Debug, Clone)]
pub struct Mix(Vec<(u64, Op)>);

impl Mix {
    pub fn parse(text: &str) -> Result<Mix, String> {
        let mut total = 0;
        let mut table = Vec::new();
        for part in text.split(',').filter(|p| !p.is_empty()) {
            let (name, weight) = part.split_once('=').unwrap_or((part, "1"));
            let op = Op::from_name(name.trim())
                .ok_or_else(|| format!("unknown operation {name:?} (one of {})", OPS.join(", ")))?;
            let weight: u64 = weight
                .trim()
                .parse()
                .map_err(|_| format!("weight of {name} is not a whole number"))?;
            if weight > 0 {
                total += weight;
                table.push((total, op));
            }
        }
        if table.is_empty() {
            return Err("the mix names no operation with a weight above 0".into());
        }
        if table.iter().any(|&(_, op)| op == Op::Empty) && table.len() > 1 {
            return Err("`empty` (the baseline) cannot be mixed with session operations".into());
        }
        Ok(Mix(table))
    }

    pub fn only_empty(&self) -> bool {
        self.0.iter().all(|&(_, op)| op == Op::Empty)
    }

    fn pick(&self, rng: &mut XorShift) -> Op {
        let total = self.0.last().expect("not empty").0;
        let x = rng.next() % total;
        self.0
            .iter()
            .find(|&&(upto, _)| x < upto)
            .expect("in range")
            .1
    }
}

/// Session data of about `size` bytes: one key holding a JSON string.
pub fn session_data(size: usize, seed: u64) -> std::collections::HashMap<String, String> {
    let key = "user";
    // Key + quotes + filler = size.
    let filler = size.saturating_sub(key.len() + 2).max(1);
    let mut rng = XorShift::new(seed);
    let text: String = (0..filler)
        .map(|_| char::from(b'a' + rng.below(26) as u8))
        .collect();
    [(key.to_string(), format!("\"{text}\""))].into()
}

/// A protobuf `Duration` from `d`.
fn pb_duration(d: Duration) -> prost_types::Duration {
    prost_types::Duration {
        seconds: d.as_secs() as i64,
        nanos: d.subsec_nanos() as i32,
    }
}

/// The idle timeout that makes a session created now expire at `at`.
fn until(at: SystemTime) -> Option<prost_types::Duration> {
    let left = at.duration_since(SystemTime::now()).unwrap_or_default();
    Some(pb_duration(left.max(Duration::from_secs(1))))
}

/// Creates `n` sessions over `clients` with `in_flight` requests at once;
/// returns their ids if `keep`. With `expire_at`, each gets the idle
/// timeout that ends at that instant, so they all expire together.
pub async fn create_many(
    clients: &[SessionServiceClient<H2>],
    in_flight: usize,
    n: usize,
    value_size: usize,
    expire_at: Option<SystemTime>,
    keep: bool,
) -> Result<Vec<String>, tonic::Status> {
    create_many_bound(clients, in_flight, n, value_size, expire_at, keep, None).await
}

/// [`create_many`], the `i`-th session bound to user `<prefix><i / k>`
/// when `per_user` is `Some((prefix, k))` (issue 16's memory and
/// revocation rows).
pub async fn create_many_bound(
    clients: &[SessionServiceClient<H2>],
    in_flight: usize,
    n: usize,
    value_size: usize,
    expire_at: Option<SystemTime>,
    keep: bool,
    per_user: Option<(&'static str, usize)>,
) -> Result<Vec<String>, tonic::Status> {
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let data = session_data(value_size, 1);
    let mut tasks = Vec::new();
    for t in 0..in_flight.max(1) {
        let mut client = clients[t % clients.len()].clone();
        let next = next.clone();
        let data = data.clone();
        tasks.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= n {
                    break;
                }
                let request = pb::CreateRequest {
                    data: data.clone(),
                    idle_timeout: expire_at.and_then(until),
                    user: per_user.map(|(prefix, k)| pb::UserBinding {
                        user_id: format!("{prefix}{:07}", i / k.max(1)),
                        ..Default::default()
                    }),
                };
                let created = bounded(client.create(request))
                    .await
                    .map_err(tonic::Status::unavailable)?
                    .into_inner();
                if keep {
                    ids.extend(created.session.map(|s| s.id));
                }
            }
            Ok::<_, tonic::Status>(ids)
        }));
    }
    let mut ids = Vec::with_capacity(if keep { n } else { 0 });
    for task in tasks {
        ids.extend(task.await.expect("a creating task panicked")?);
    }
    Ok(ids)
}

/// What each worker runs.
#[derive(Clone)]
pub struct Workload {
    /// Workers (requests in flight) per connection.
    pub per_connection: usize,
    pub mix: Mix,
    /// The live sessions reads and writes pick from.
    pub ids: Arc<Vec<String>>,
    pub value_size: usize,
}

/// Starts the workload's workers on each connection; they record into
/// `slots` phases and run until the control stops them.
pub fn spawn_workers(
    clients: &[SessionServiceClient<H2>],
    empties: &[bench_pb::empty_service_client::EmptyServiceClient<H2>],
    load: &Workload,
    control: &Arc<Control>,
    slots: usize,
) -> Vec<JoinHandle<Recorder>> {
    let (per_client, value_size) = (load.per_connection, load.value_size);
    let mut workers = Vec::new();
    let connections = clients.len().max(empties.len());
    for c in 0..connections {
        for w in 0..per_client {
            let seed = (c * per_client + w + 1) as u64;
            let mut recorder = Recorder::new(control.clone(), slots, OPS.len());
            let mix = load.mix.clone();
            let ids = load.ids.clone();
            if mix.only_empty() {
                let mut client = empties[c].clone();
                workers.push(tokio::spawn(async move {
                    while recorder.running() {
                        let started = Instant::now();
                        let outcome = bounded(client.call(bench_pb::Empty {})).await.map(drop);
                        recorder.record(Op::Empty as usize, started, outcome);
                    }
                    recorder
                }));
                continue;
            }
            let mut client = clients[c].clone();
            workers.push(tokio::spawn(async move {
                let mut rng = XorShift::new(seed);
                let value = session_data(value_size, seed)
                    .into_values()
                    .next()
                    .unwrap_or_default();
                // Sessions this worker created: what it flushes, so that
                // the shared pool other workers read stays alive.
                let mut own: Vec<String> = Vec::new();
                while recorder.running() {
                    let op = mix.pick(&mut rng);
                    let pick = rng.below(ids.len());
                    let id = || ids[pick].clone();
                    let started = Instant::now();
                    let outcome = match op {
                        Op::Get => bounded(client.get(pb::GetRequest {
                            id: id(),
                            keys: Vec::new(),
                            no_touch: false,
                        }))
                        .await
                        .map(drop),
                        Op::Set => bounded(client.set(pb::SetRequest {
                            id: id(),
                            upsert: [("user".to_string(), value.clone())].into(),
                            remove: Vec::new(),
                            expected_version: None,
                            ..Default::default()
                        }))
                        .await
                        .map(drop),
                        Op::Touch => bounded(client.touch(pb::TouchRequest {
                            id: id(),
                            idle_timeout: None,
                        }))
                        .await
                        .map(drop),
                        Op::Create => bounded(client.create(pb::CreateRequest {
                            data: [("user".to_string(), value.clone())].into(),
                            idle_timeout: None,
                            user: None,
                        }))
                        .await
                        .map(|r| {
                            if own.len() < 10_000 {
                                own.extend(r.into_inner().session.map(|s| s.id));
                            }
                        }),
                        Op::CreateBound => bounded(client.create(pb::CreateRequest {
                            data: [("user".to_string(), value.clone())].into(),
                            idle_timeout: None,
                            user: Some(pb::UserBinding {
                                user_id: format!("user-{}", rng.below(BOUND_USERS)),
                                ..Default::default()
                            }),
                        }))
                        .await
                        .map(|r| {
                            if own.len() < 10_000 {
                                own.extend(r.into_inner().session.map(|s| s.id));
                            }
                        }),
                        Op::Flush => {
                            let id = own.pop().unwrap_or_else(|| "0".repeat(32));
                            bounded(client.flush(pb::FlushRequest { id }))
                                .await
                                .map(drop)
                        }
                        Op::Empty => unreachable!("the mix refuses empty with others"),
                    };
                    recorder.record(op as usize, started, outcome);
                }
                recorder
            }));
        }
    }
    workers
}
