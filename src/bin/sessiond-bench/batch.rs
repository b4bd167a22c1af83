//! Row 4c: Gets pipelined over one HTTP/2 stream per connection
//! (`bench.v1.BatchGetService/GetStream`, proto/bench/v1/batch.proto), the
//! path that spreads HTTP/2's per-call cost over many reads as the `redis`
//! crate's multiplexed connection spreads Redis's per-read syscalls.
//!
//! The server side serves the stream from a real memory backend
//! (`sessiond::storage::memory::Memory`), beside sessiond's own
//! `SessionService` on the same map (the client
//! fills it with `Create`, as the unary load does). Each read does what the
//! unary Get does to it: parse the id, look it up in the caller's
//! namespace (the default one: this server has no access control), slide
//! its deadline, copy its data out, convert it to a `GetResponse`.
//!
//! The client side keeps the same number of reads in flight as the other
//! loads: `concurrency` workers per connection, each waiting for its own
//! read. A writer task per connection sends whatever reads are queued when
//! it runs as one message, so batches form only from reads that are
//! waiting anyway, the way the `redis` crate pipelines.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use sessiond::grpc::pb;
use sessiond::metrics::{Api, Metrics};
use sessiond::session::{Namespace, SessionId};
use sessiond::storage::memory::Memory;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::{Stream, StreamExt};
use tonic::{Request, Response, Status, Streaming};

use crate::grpc::bench_pb::batch_get_service_client::BatchGetServiceClient;
use crate::grpc::bench_pb::batch_get_service_server::{self, BatchGetServiceServer};
use crate::grpc::bench_pb::{GetBatch, GetBatchReply, GetResult};
use crate::grpc::{origin, H2};
use crate::load::{bounded, XorShift};
use crate::report::{Control, Recorder};

/// The server's side: the store the reads go to and the metrics each batch
/// is counted in, as sessiond counts each request.
pub struct BatchGet {
    store: Memory,
    metrics: Metrics,
}

impl BatchGet {
    pub fn server(store: Memory, metrics: Metrics) -> BatchGetServiceServer<Self> {
        BatchGetServiceServer::new(BatchGet { store, metrics })
    }
}

type Replies = Pin<Box<dyn Stream<Item = Result<GetBatchReply, Status>> + Send>>;

#[tonic::async_trait]
impl batch_get_service_server::BatchGetService for BatchGet {
    type GetStreamStream = Replies;

    async fn get_stream(
        &self,
        request: Request<Streaming<GetBatch>>,
    ) -> Result<Response<Replies>, Status> {
        let (store, metrics) = (self.store.clone(), self.metrics.clone());
        // Answered inline as each batch is decoded: no task or channel per
        // stream, the replies leave in the order the batches came.
        let replies = request.into_inner().map(move |batch| {
            let started = Instant::now();
            let reply = GetBatchReply {
                results: batch?.gets.into_iter().map(|g| read(&store, g)).collect(),
            };
            metrics.record(Api::Grpc, "GetBatch", "OK", started.elapsed());
            Ok(reply)
        });
        Ok(Response::new(Box::pin(replies)))
    }
}

/// One read, as `SessionService::get` does it; a failure is reported in
/// the result, since a status would end the whole stream.
fn read(store: &Memory, get: pb::GetRequest) -> GetResult {
    let read = SessionId::parse(&get.id)
        .and_then(|id| store.get(&Namespace::DEFAULT, &id, &get.keys, !get.no_touch));
    match read {
        Ok((info, data)) => GetResult {
            session: Some(pb::GetResponse {
                session: Some(info.into()),
                data,
            }),
            code: 0,
            message: String::new(),
        },
        Err(e) => {
            let status = Status::from(e);
            GetResult {
                session: None,
                code: status.code() as i32,
                message: status.message().to_owned(),
            }
        }
    }
}

/// A read waiting for its reply: the worker's side of the pipeline.
struct Pending {
    get: pb::GetRequest,
    done: oneshot::Sender<Result<(), String>>,
}

/// One connection's pipeline: workers queue reads here.
#[derive(Clone)]
pub struct Pipeline {
    queue: mpsc::Sender<Pending>,
}

/// Reads and batches sent over every pipeline, for the mean batch size.
#[derive(Default)]
pub struct BatchCounts {
    pub reads: AtomicU64,
    pub batches: AtomicU64,
}

/// Opens the stream on `h2` and starts the writer and reader tasks that
/// batch the queued reads and hand each reply to the worker waiting for it.
pub async fn pipeline(
    h2: H2,
    addr: SocketAddr,
    in_flight: usize,
    counts: Arc<BatchCounts>,
) -> Result<Pipeline, Status> {
    let (queue, mut queued) = mpsc::channel::<Pending>(in_flight.max(1));
    let (outgoing, batches) = mpsc::channel::<GetBatch>(in_flight.max(1));
    // Waiters of the batches sent, in order: replies come back in that order.
    let (sent, mut waiting) = mpsc::unbounded_channel::<Vec<oneshot::Sender<_>>>();
    let mut client = BatchGetServiceClient::with_origin(h2, origin(addr));
    let mut replies = client
        .get_stream(ReceiverStream::new(batches))
        .await?
        .into_inner();
    tokio::spawn(async move {
        while let Some(first) = queued.recv().await {
            let (mut gets, mut waiters) = (vec![first.get], vec![first.done]);
            while let Ok(next) = queued.try_recv() {
                gets.push(next.get);
                waiters.push(next.done);
            }
            counts.reads.fetch_add(gets.len() as u64, Ordering::Relaxed);
            counts.batches.fetch_add(1, Ordering::Relaxed);
            if sent.send(waiters).is_err() || outgoing.send(GetBatch { gets }).await.is_err() {
                break;
            }
        }
    });
    tokio::spawn(async move {
        loop {
            let reply = match replies.message().await {
                Ok(Some(reply)) => reply,
                // The stream ended: dropping the waiters fails their reads.
                Ok(None) | Err(_) => break,
            };
            let Some(waiters) = waiting.recv().await else {
                break;
            };
            for (done, result) in waiters.into_iter().zip(reply.results) {
                let outcome = match result.session {
                    Some(_) => Ok(()),
                    None => Err(format!("code {}: {}", result.code, result.message)),
                };
                let _ = done.send(outcome);
            }
        }
    });
    Ok(Pipeline { queue })
}

impl Pipeline {
    /// Reads `id` through the pipeline, waiting for its reply.
    async fn get(&self, id: String) -> Result<(), String> {
        let (done, reply) = oneshot::channel();
        let get = pb::GetRequest {
            id,
            keys: Vec::new(),
            no_touch: false,
        };
        self.queue
            .send(Pending { get, done })
            .await
            .map_err(|_| "the pipeline is closed".to_string())?;
        reply
            .await
            .map_err(|_| "the stream ended before the reply".to_string())?
    }
}

/// `per_connection` workers on each pipeline, each with one read of a
/// random session in flight at a time.
pub fn spawn_workers(
    pipelines: &[Pipeline],
    per_connection: usize,
    ids: Arc<Vec<String>>,
    control: &Arc<Control>,
) -> Vec<JoinHandle<Recorder>> {
    let mut workers = Vec::new();
    for (c, pipeline) in pipelines.iter().enumerate() {
        for w in 0..per_connection {
            let pipeline = pipeline.clone();
            let ids = ids.clone();
            let mut recorder = Recorder::new(control.clone(), 1, 1);
            workers.push(tokio::spawn(async move {
                let mut rng = XorShift::new((c * per_connection + w + 1) as u64);
                while recorder.running() {
                    let id = ids[rng.below(ids.len())].clone();
                    let started = Instant::now();
                    let outcome = bounded(pipeline.get(id)).await;
                    // A broken stream fails every read at once: count the
                    // failure once instead of spinning on it.
                    let broken = outcome.is_err() && pipeline.queue.is_closed();
                    recorder.record(0, started, outcome);
                    if broken {
                        break;
                    }
                }
                recorder
            }));
        }
    }
    workers
}
