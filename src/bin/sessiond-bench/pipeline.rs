//! Rows 4c-4e: Gets on sessiond's `Pipeline` stream (sessiond.v1), one stream
//! per connection, the path that spreads HTTP/2's per-call cost over many
//! reads as the `redis` crate's multiplexed connection spreads Redis's
//! per-read syscalls. It drives the real server: the same access layer,
//! handlers, storage and metrics as the unary Get.
//!
//! The client keeps the same number of reads in flight as the other loads:
//! `concurrency` workers per connection, each waiting for its own read,
//! tagged with the worker's number. The requests go through one channel
//! into the stream, whose encoder writes whatever is queued when it runs
//! as one HTTP/2 write, and a reader task hands each reply to the worker
//! its tag names (replies may come in any order).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use sessiond::grpc::pb;
use sessiond::grpc::pb::pipeline_request::Op;
use sessiond::grpc::pb::pipeline_response::Result as Outcome;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_stream::wrappers::ReceiverStream;
use tonic::Status;

use crate::grpc::{session_client, H2};
use crate::load::{bounded, XorShift};
use crate::report::{Control, Recorder};

/// Where the reply to each worker's read goes: slot `tag`.
type Waiters = Arc<Vec<Mutex<Option<oneshot::Sender<Result<(), String>>>>>>;

/// One connection's Pipeline stream: workers send tagged reads into it.
#[derive(Clone)]
pub struct Pipeline {
    requests: mpsc::Sender<pb::PipelineRequest>,
    waiters: Waiters,
}

/// Opens the stream on `h2` for `workers` workers and starts the task that
/// hands each reply to the worker waiting for it.
pub async fn open(h2: H2, addr: SocketAddr, workers: usize) -> Result<Pipeline, Status> {
    let (requests, queued) = mpsc::channel(workers.max(1));
    let waiters: Waiters = Arc::new((0..workers).map(|_| Mutex::new(None)).collect());
    let mut replies = session_client(h2, addr)
        .pipeline(ReceiverStream::new(queued))
        .await?
        .into_inner();
    let slots = waiters.clone();
    tokio::spawn(async move {
        // The stream ended: dropping the waiters fails their reads.
        while let Ok(Some(reply)) = replies.message().await {
            let Some(slot) = slots.get(reply.tag as usize) else {
                continue;
            };
            let outcome = match reply.result {
                Some(Outcome::Get(_)) => Ok(()),
                Some(Outcome::Error(e)) => Err(format!("code {}: {}", e.code, e.message)),
                other => Err(format!("an unexpected reply: {other:?}")),
            };
            if let Some(done) = slot.lock().expect("a waiter slot").take() {
                let _ = done.send(outcome);
            }
        }
    });
    Ok(Pipeline { requests, waiters })
}

impl Pipeline {
    /// Worker `tag` reads `id` through the stream, waiting for its reply.
    async fn get(&self, tag: usize, id: String) -> Result<(), String> {
        let (done, reply) = oneshot::channel();
        *self.waiters[tag].lock().expect("a waiter slot") = Some(done);
        let request = pb::PipelineRequest {
            tag: tag as u64,
            op: Some(Op::Get(pb::GetRequest {
                id,
                keys: Vec::new(),
                no_touch: false,
            })),
        };
        self.requests
            .send(request)
            .await
            .map_err(|_| "the stream is closed".to_string())?;
        reply
            .await
            .map_err(|_| "the stream ended before the reply".to_string())?
    }
}

/// `per_connection` workers on each stream, each with one read of a random
/// session in flight at a time.
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
                    let outcome = bounded(pipeline.get(w, id)).await;
                    // A broken stream fails every read at once: count the
                    // failure once instead of spinning on it.
                    let broken = outcome.is_err() && pipeline.requests.is_closed();
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
