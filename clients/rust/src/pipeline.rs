//! The multiplexed handle: calls from any task become tagged requests on
//! one `Pipeline` stream, and a reader task hands each reply to the call
//! its tag names (replies may come in any order).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::{mpsc, oneshot, Semaphore};
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Code, Status, Streaming};

use crate::pb;
use crate::pb::pipeline_request::Op;
use crate::pb::pipeline_response::Result as Outcome;
use crate::Client;

/// Requests queued for the stream beyond those in flight: the sender waits
/// when it is full, so a burst of calls is bounded in memory.
const QUEUE: usize = 1024;

/// Requests one stream has waiting for replies by default: the server's
/// default `--max-pipeline-in-flight`, past which it refuses requests
/// RESOURCE_EXHAUSTED. A call past it waits for a reply to another.
pub const DEFAULT_MAX_IN_FLIGHT: usize = 1024;

/// A handle on one Pipeline stream. Clones share it.
#[derive(Clone)]
pub struct Pipeline {
    requests: mpsc::Sender<pb::PipelineRequest>,
    shared: Arc<Shared>,
}

struct Shared {
    next_tag: AtomicU64,
    /// A permit for each request waiting for its reply.
    in_flight: Semaphore,
    /// The calls waiting for a reply, by tag; `Err` once the stream ended,
    /// with the status it ended with.
    waiting: Mutex<Result<HashMap<u64, oneshot::Sender<Outcome>>, Status>>,
}

impl Shared {
    fn lock(
        &self,
    ) -> std::sync::MutexGuard<'_, Result<HashMap<u64, oneshot::Sender<Outcome>>, Status>> {
        self.waiting.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Fails every waiting call, and every later one, with `status`.
    fn end(&self, status: Status) {
        let mut waiting = self.lock();
        // Dropping the senders wakes the calls; they read the status here.
        *waiting = Err(status);
    }
}

impl Pipeline {
    pub(crate) async fn open(client: &Client) -> Result<Self, Status> {
        let (requests, queued) = mpsc::channel(QUEUE);
        let replies = client
            .raw()
            .pipeline(client.request(ReceiverStream::new(queued)))
            .await
            .map_err(connection_lost)?
            .into_inner();
        let shared = Arc::new(Shared {
            next_tag: AtomicU64::new(0),
            in_flight: Semaphore::new(client.max_in_flight.max(1)),
            waiting: Mutex::new(Ok(HashMap::new())),
        });
        tokio::spawn(read(replies, shared.clone()));
        Ok(Pipeline { requests, shared })
    }

    /// Get: the session's data (all keys, or those named) and info; counts
    /// as activity.
    pub async fn get(&self, id: String, keys: Vec<String>) -> Result<pb::GetResponse, Status> {
        let op = Op::Get(pb::GetRequest {
            id,
            keys,
            no_touch: false,
        });
        match self.call(op).await? {
            Outcome::Get(r) => Ok(r),
            other => Err(unexpected(other)),
        }
    }

    /// Set, exactly as the unary call takes it.
    pub async fn set(&self, request: pb::SetRequest) -> Result<pb::SetResponse, Status> {
        match self.call(Op::Set(request)).await? {
            Outcome::Set(r) => Ok(r),
            other => Err(unexpected(other)),
        }
    }

    /// Touch: slides the deadline, optionally with a new idle timeout.
    pub async fn touch(&self, request: pb::TouchRequest) -> Result<pb::TouchResponse, Status> {
        match self.call(Op::Touch(request)).await? {
            Outcome::Touch(r) => Ok(r),
            other => Err(unexpected(other)),
        }
    }

    /// Flush: whether a live session was deleted.
    pub async fn flush(&self, id: String) -> Result<bool, Status> {
        match self.call(Op::Flush(pb::FlushRequest { id })).await? {
            Outcome::Flush(r) => Ok(r.existed),
            other => Err(unexpected(other)),
        }
    }

    /// Whether the stream has ended: every call now fails; open another.
    pub fn is_closed(&self) -> bool {
        self.shared.lock().is_err()
    }

    /// Sends `op` under a fresh tag and waits for its reply; a reply that
    /// carries an error becomes that error.
    async fn call(&self, op: Op) -> Result<Outcome, Status> {
        // Held until the reply, so the server never sees more waiting than
        // the client allows; the semaphore is never closed.
        let _permit = self.shared.in_flight.acquire().await;
        let tag = self.shared.next_tag.fetch_add(1, Ordering::Relaxed);
        let (done, reply) = oneshot::channel();
        match &mut *self.shared.lock() {
            Ok(waiting) => waiting.insert(tag, done),
            Err(ended) => return Err(ended.clone()),
        };
        let request = pb::PipelineRequest { tag, op: Some(op) };
        if self.requests.send(request).await.is_err() {
            return Err(self.ended());
        }
        match reply.await {
            Ok(Outcome::Error(e)) => Err(Status::new(Code::from(e.code), e.message)),
            Ok(outcome) => Ok(outcome),
            Err(_) => Err(self.ended()),
        }
    }

    /// The status the stream ended with.
    fn ended(&self) -> Status {
        match &*self.shared.lock() {
            Err(status) => status.clone(),
            Ok(_) => Status::unavailable("the Pipeline stream ended"),
        }
    }
}

/// Hands each reply to its call until the stream ends, then fails the
/// calls still waiting.
async fn read(mut replies: Streaming<pb::PipelineResponse>, shared: Arc<Shared>) {
    let ended = loop {
        match replies.message().await {
            Ok(Some(reply)) => {
                let done = match &mut *shared.lock() {
                    Ok(waiting) => waiting.remove(&reply.tag),
                    Err(_) => None,
                };
                if let Some(done) = done {
                    let outcome = reply.result.unwrap_or(Outcome::Error(pb::PipelineError {
                        code: Code::Internal as i32,
                        message: "a reply with no result".into(),
                    }));
                    let _ = done.send(outcome);
                }
            }
            Ok(None) => break Status::unavailable("the server closed the Pipeline stream"),
            Err(status) => break connection_lost(status),
        }
    };
    shared.end(ended);
}

/// `status` as the caller should read it: tonic says CANCELLED when the
/// connection closes under a call (hyper's "connection closed"), but this
/// client cancels no stream, so that is sessiond going away: UNAVAILABLE,
/// which callers retry, as gRPC names a lost connection.
fn connection_lost(status: Status) -> Status {
    if status.code() == Code::Cancelled {
        Status::unavailable(format!(
            "the connection to sessiond closed: {}",
            status.message()
        ))
    } else {
        status
    }
}

fn unexpected(outcome: Outcome) -> Status {
    Status::internal(format!(
        "a reply of another kind than its request: {outcome:?}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connection_closed_under_the_stream_reads_unavailable_and_other_codes_pass() {
        let closed = connection_lost(Status::cancelled("operation was canceled"));
        assert_eq!(closed.code(), Code::Unavailable);
        assert!(closed.message().contains("operation was canceled"));
        let refused = connection_lost(Status::resource_exhausted("too many in flight"));
        assert_eq!(refused.code(), Code::ResourceExhausted);
        assert_eq!(refused.message(), "too many in flight");
    }
}
