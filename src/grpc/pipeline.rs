//! `Pipeline`: Get / Set / Touch / Flush multiplexed on one stream. Each
//! request runs through the same code as its unary call
//! ([`SessionService::get_op`] and the others, counted and admitted by
//! [`SessionService::run`]); a request that storage answers at once (every
//! request, on memory) is answered inline, in order, with no task, channel
//! or allocation of its own; one that waits (an fsync, a Redis round trip)
//! joins a set of futures polled by the same stream, so replies may come
//! out of order.
//!
//! Flow control is HTTP/2's: replies are produced only as fast as tonic
//! sends them, and requests are read only as replies are produced, so a
//! client that does not read its replies stops the server reading its
//! requests. Within that, at most `max_in_flight` requests wait for
//! storage at once; past it a request is answered RESOURCE_EXHAUSTED
//! without running.

use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use futures_util::stream::FuturesUnordered;
use futures_util::{Stream, StreamExt};
use tonic::{Response, Status, Streaming};

use super::pb;
use super::pb::pipeline_request::Op as Request;
use super::pipeline_reply::{Body, PipelineReply};
use super::service::{Caller, Rpc, SessionService};
use crate::auth::Access;
use crate::lifecycle::Phase;
use crate::session::Namespace;
use crate::storage::{Op, Storage};

/// A reply that storage gives later.
type Later = Pin<Box<dyn Future<Output = PipelineReply> + Send>>;

/// The replies of one Pipeline stream, produced as tonic asks for them.
pub struct Replies {
    service: SessionService,
    /// Checked once, when the stream opened.
    access: Arc<Access>,
    /// Counted against when a request names an unknown session.
    peer: Option<IpAddr>,
    requests: Streaming<pb::PipelineRequest>,
    /// Requests waiting for storage.
    waiting: FuturesUnordered<Later>,
    max_in_flight: usize,
    /// False once no more requests are read: the client closed its side,
    /// a message did not decode, or the server is stopping.
    reading: bool,
    /// The status the stream ends with once the waiting requests are
    /// answered; `None` for OK.
    ending: Option<Status>,
    finished: bool,
    /// Resolves once the server stops accepting requests.
    stopping: Pin<Box<dyn Future<Output = ()> + Send>>,
}

impl SessionService {
    /// Opens a Pipeline stream for the caller of `request`.
    pub(super) fn open_pipeline(
        &self,
        request: tonic::Request<Streaming<pb::PipelineRequest>>,
    ) -> Result<Response<Replies>, Status> {
        let (caller, requests) = Caller::of(request);
        // Only reachable if the service is served without its
        // access-control layer: fail closed, as every unary call does.
        let access = caller
            .shared_access()
            .ok_or_else(|| Status::unauthenticated("no credential was checked"))?;
        let mut phases = self.lifecycle().subscribe();
        if *phases.borrow() == Phase::Stopping {
            return Err(Status::unavailable(
                "sessiond is shutting down; open the stream on another instance",
            ));
        }
        let stopping = Box::pin(async move {
            let _ = phases.wait_for(|p| *p == Phase::Stopping).await;
        });
        Ok(Response::new(Replies {
            service: self.clone(),
            access,
            peer: caller.peer(),
            requests,
            waiting: FuturesUnordered::new(),
            max_in_flight: self.max_pipeline_in_flight(),
            reading: true,
            ending: None,
            finished: false,
            stopping,
        }))
    }

    /// Runs one request of a Pipeline: its reply now, or a future of it.
    fn pipelined(
        &self,
        caller: Caller,
        request: pb::PipelineRequest,
    ) -> Result<PipelineReply, Later> {
        let tag = request.tag;
        match request.op {
            Some(Request::Get(req)) => {
                self.step(Rpc::PipelineGet, false, caller, tag, Body::Get, |s, ns| {
                    self.get_op(s, ns, req)
                })
            }
            Some(Request::Set(req)) => {
                self.step(Rpc::PipelineSet, true, caller, tag, Body::Set, |s, ns| {
                    self.set_op(s, ns, req)
                })
            }
            Some(Request::Touch(req)) => self.step(
                Rpc::PipelineTouch,
                true,
                caller,
                tag,
                Body::Touch,
                |s, ns| self.touch_op(s, ns, req),
            ),
            Some(Request::Flush(req)) => self.step(
                Rpc::PipelineFlush,
                true,
                caller,
                tag,
                Body::Flush,
                |s, ns| self.flush_op(s, ns, req),
            ),
            None => {
                let refused = Status::invalid_argument(
                    "a PipelineRequest carries one of get, set, touch or flush",
                );
                let answer = self.counted::<Body>(Rpc::Pipeline, Instant::now(), Err(refused));
                Ok(PipelineReply::of(tag, answer.map(Response::into_inner)))
            }
        }
    }

    /// One request through [`SessionService::run`], its answer wrapped in
    /// the reply's `body`.
    fn step<T: Send + 'static>(
        &self,
        rpc: Rpc,
        changes: bool,
        caller: Caller,
        tag: u64,
        body: fn(T) -> Body,
        op: impl FnOnce(&Storage, &Namespace) -> Result<Op<T>, Status>,
    ) -> Result<PipelineReply, Later> {
        let reply = move |answer: Result<Response<T>, Status>| {
            PipelineReply::of(tag, answer.map(|r| body(r.into_inner())))
        };
        match self.run(rpc, changes, caller, op) {
            Ok(answer) => Ok(reply(answer)),
            Err(pending) => {
                let service = self.clone();
                Err(Box::pin(
                    async move { reply(service.read_later(pending).await) },
                ))
            }
        }
    }

    /// The reply to a request that found `max_in_flight` others waiting:
    /// counted under its op, and not run.
    fn refused_in_flight(&self, request: &pb::PipelineRequest, max: usize) -> PipelineReply {
        let rpc = match request.op {
            Some(Request::Get(_)) => Rpc::PipelineGet,
            Some(Request::Set(_)) => Rpc::PipelineSet,
            Some(Request::Touch(_)) => Rpc::PipelineTouch,
            Some(Request::Flush(_)) => Rpc::PipelineFlush,
            None => Rpc::Pipeline,
        };
        let refused = Status::resource_exhausted(format!(
            "{max} requests of this Pipeline stream are waiting for storage \
             (--max-pipeline-in-flight); wait for their replies before sending more"
        ));
        let answer = self.counted::<Body>(rpc, Instant::now(), Err(refused));
        PipelineReply::of(request.tag, answer.map(Response::into_inner))
    }
}

impl Stream for Replies {
    type Item = Result<PipelineReply, Status>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if !this.waiting.is_empty() {
                if let Poll::Ready(Some(reply)) = this.waiting.poll_next_unpin(cx) {
                    return Poll::Ready(Some(Ok(reply)));
                }
            }
            if this.finished {
                return Poll::Ready(None);
            }
            if !this.reading {
                if !this.waiting.is_empty() {
                    return Poll::Pending;
                }
                this.finished = true;
                return Poll::Ready(this.ending.take().map(Err));
            }
            if this.stopping.as_mut().poll(cx).is_ready() {
                this.reading = false;
                this.ending = Some(Status::unavailable(
                    "sessiond is shutting down; reopen the stream on another instance",
                ));
                continue;
            }
            match this.requests.poll_next_unpin(cx) {
                Poll::Ready(Some(Ok(request))) => {
                    if this.waiting.len() >= this.max_in_flight {
                        let reply = this.service.refused_in_flight(&request, this.max_in_flight);
                        return Poll::Ready(Some(Ok(reply)));
                    }
                    let caller = Caller::on_stream(&this.access, this.peer);
                    match this.service.pipelined(caller, request) {
                        Ok(reply) => return Poll::Ready(Some(Ok(reply))),
                        Err(later) => this.waiting.push(later),
                    }
                }
                Poll::Ready(Some(Err(status))) => {
                    // A message that does not decode ends this stream only,
                    // once the requests before it are answered.
                    tracing::debug!(code = ?status.code(), "a Pipeline stream ends on a bad message");
                    let _ = this.service.counted::<()>(
                        Rpc::Pipeline,
                        Instant::now(),
                        Err(status.clone()),
                    );
                    this.reading = false;
                    this.ending = Some(status);
                }
                Poll::Ready(None) => this.reading = false,
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;
    use std::collections::HashMap;
    use std::time::Duration;

    use tokio::sync::{mpsc, Semaphore};
    use tokio_stream::wrappers::ReceiverStream;

    use super::*;
    use crate::clock::Clock;
    use crate::grpc::pb::pipeline_response::Result as Outcome;
    use crate::grpc::pb::session_service_client::SessionServiceClient;
    use crate::grpc::Authenticate;
    use crate::lifecycle::Lifecycle;
    use crate::metrics::Metrics;
    use crate::session::{
        Binding, Handle, Limits, MergePatch, SessionId, SessionInfo, SessionRead, SetMode,
        Timeouts, Update, UserId, UserSession,
    };
    use crate::storage::memory::Memory;
    use crate::storage::{Backend, StoreStats};

    /// Memory whose Sets wait for a permit of `release`, as a change waits
    /// for its fsync: what makes requests of a stream wait for storage.
    struct Held {
        memory: Memory,
        release: Arc<Semaphore>,
    }

    impl Backend for Held {
        fn clock(&self) -> &Clock {
            self.memory.clock()
        }
        fn limits(&self) -> &Limits {
            self.memory.limits()
        }
        fn timeouts(&self) -> &Timeouts {
            self.memory.timeouts()
        }
        fn create(
            &self,
            ns: &Namespace,
            data: HashMap<String, String>,
            idle: Option<Duration>,
        ) -> Op<SessionInfo> {
            Backend::create(&self.memory, ns, data, idle)
        }
        fn read(
            &self,
            ns: &Namespace,
            id: Cow<'_, SessionId>,
            keys: Vec<String>,
            touch: bool,
        ) -> Op<SessionRead> {
            Backend::read(&self.memory, ns, id, keys, touch)
        }
        fn set(&self, ns: &Namespace, id: &SessionId, update: Update) -> Op<SessionInfo> {
            Backend::set(&self.memory, ns, id, update)
        }
        fn set_with(
            &self,
            ns: &Namespace,
            id: &SessionId,
            update: Update,
            mode: SetMode,
        ) -> Op<SessionInfo> {
            let (memory, release) = (self.memory.clone(), self.release.clone());
            let (ns, id) = (ns.clone(), id.clone());
            Op::boxed(async move {
                let _permit = release.acquire().await;
                Backend::set_with(&memory, &ns, &id, update, mode).await
            })
        }
        fn count(&self, ns: &Namespace) -> Op<u64> {
            Backend::count(&self.memory, ns)
        }
        fn clear(&self, ns: &Namespace) -> Op<u64> {
            Backend::clear(&self.memory, ns)
        }
        fn merge(
            &self,
            ns: &Namespace,
            id: &SessionId,
            patch: &MergePatch,
            versions: Option<&[u64]>,
        ) -> Op<SessionRead> {
            Backend::merge(&self.memory, ns, id, patch, versions)
        }
        fn flush(&self, ns: &Namespace, id: &SessionId) -> Op<bool> {
            Backend::flush(&self.memory, ns, id)
        }
        fn rotate(&self, ns: &Namespace, id: &SessionId) -> Op<SessionInfo> {
            Backend::rotate(&self.memory, ns, id)
        }
        fn touch(&self, ns: &Namespace, id: &SessionId, idle: Option<Duration>) -> Op<SessionInfo> {
            Backend::touch(&self.memory, ns, id, idle)
        }
        fn create_bound(
            &self,
            ns: &Namespace,
            data: HashMap<String, String>,
            idle: Option<Duration>,
            binding: Binding,
        ) -> Op<SessionInfo> {
            Backend::create_bound(&self.memory, ns, data, idle, binding)
        }
        fn bind_user(
            &self,
            ns: &Namespace,
            id: &SessionId,
            binding: Option<Binding>,
        ) -> Op<SessionInfo> {
            Backend::bind_user(&self.memory, ns, id, binding)
        }
        fn bound_user(&self, ns: &Namespace, id: &SessionId) -> Op<Option<UserId>> {
            Backend::bound_user(&self.memory, ns, id)
        }
        fn list_user_sessions(
            &self,
            ns: &Namespace,
            user: &UserId,
            current: Option<&SessionId>,
        ) -> Op<Vec<UserSession>> {
            Backend::list_user_sessions(&self.memory, ns, user, current)
        }
        fn revoke_session(
            &self,
            ns: &Namespace,
            handle: &Handle,
            user: Option<&UserId>,
        ) -> Op<bool> {
            Backend::revoke_session(&self.memory, ns, handle, user)
        }
        fn revoke_user_sessions(
            &self,
            ns: &Namespace,
            user: &UserId,
            except: Option<&SessionId>,
        ) -> Op<u64> {
            Backend::revoke_user_sessions(&self.memory, ns, user, except)
        }
        fn len(&self) -> usize {
            Backend::len(&self.memory)
        }
        fn namespace_len(&self, ns: &Namespace) -> usize {
            Backend::namespace_len(&self.memory, ns)
        }
        fn stats(&self) -> StoreStats {
            Backend::stats(&self.memory)
        }
    }

    /// An open Pipeline stream on a server over a [`Held`] store, whose
    /// streams may have `max_in_flight` requests waiting, and a session.
    struct Fixture {
        id: SessionId,
        send: mpsc::Sender<pb::PipelineRequest>,
        replies: tonic::Streaming<pb::PipelineResponse>,
        /// Lets that many held Sets go on.
        release: Arc<Semaphore>,
        metrics: Metrics,
    }

    async fn stream_on_held(max_in_flight: usize) -> Fixture {
        let memory = Memory::new(Limits::default(), Timeouts::default(), Clock::manual(0));
        let release = Arc::new(Semaphore::new(0));
        let store = Storage::new(Held {
            memory: memory.clone(),
            release: release.clone(),
        });
        let metrics = Metrics::new();
        let service = SessionService::new(store, Lifecycle::default(), metrics.clone())
            .with_pipeline_in_flight(max_in_flight);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tonic::transport::Server::builder()
            .add_service(service.into_server(Authenticate::new(None, false, metrics.clone())))
            .serve_with_incoming(crate::app::grpc_incoming(listener));
        tokio::spawn(server);
        let mut client = SessionServiceClient::connect(format!("http://{addr}"))
            .await
            .unwrap();
        let id = memory
            .create(&Namespace::DEFAULT, HashMap::new(), None)
            .unwrap()
            .id;
        let (send, requests) = mpsc::channel(16);
        let replies = client
            .pipeline(ReceiverStream::new(requests))
            .await
            .unwrap()
            .into_inner();
        Fixture {
            id,
            send,
            replies,
            release,
            metrics,
        }
    }

    fn set(tag: u64, id: &SessionId) -> pb::PipelineRequest {
        pb::PipelineRequest {
            tag,
            op: Some(Request::Set(pb::SetRequest {
                id: id.expose().into(),
                upsert: [("n".to_string(), tag.to_string())].into(),
                ..Default::default()
            })),
        }
    }

    fn get(tag: u64, id: &SessionId) -> pb::PipelineRequest {
        pb::PipelineRequest {
            tag,
            op: Some(Request::Get(pb::GetRequest {
                id: id.expose().into(),
                keys: vec![],
                no_touch: true,
            })),
        }
    }

    fn code(reply: &pb::PipelineResponse) -> tonic::Code {
        match &reply.result {
            Some(Outcome::Error(e)) => tonic::Code::from(e.code),
            _ => tonic::Code::Ok,
        }
    }

    #[tokio::test]
    async fn past_the_in_flight_cap_a_request_is_refused_without_running_and_the_stream_goes_on() {
        let Fixture {
            id,
            send,
            mut replies,
            release,
            metrics,
        } = stream_on_held(2).await;

        // Two Sets wait for storage; the third finds the cap reached.
        for tag in 1..=3 {
            send.send(set(tag, &id)).await.unwrap();
        }
        let refused = replies.message().await.unwrap().unwrap();
        assert_eq!(refused.tag, 3);
        assert_eq!(code(&refused), tonic::Code::ResourceExhausted);
        match &refused.result {
            Some(Outcome::Error(e)) => assert!(e.message.contains("--max-pipeline-in-flight")),
            other => panic!("{other:?}"),
        }

        // A Get answers at once, ahead of the Sets still waiting: out of
        // order. Nothing was set yet, and the refused Set never ran.
        send.send(get(4, &id)).await.ok();
        // At the cap, the Get is refused too: the cap counts every request.
        let also_refused = replies.message().await.unwrap().unwrap();
        assert_eq!(
            (also_refused.tag, code(&also_refused)),
            (4, tonic::Code::ResourceExhausted)
        );

        release.add_permits(2);
        let mut done: Vec<u64> = Vec::new();
        for _ in 0..2 {
            let reply = replies.message().await.unwrap().unwrap();
            assert_eq!(code(&reply), tonic::Code::Ok, "{reply:?}");
            done.push(reply.tag);
        }
        done.sort();
        assert_eq!(done, [1, 2]);

        // Under the cap again: a Get answers, and sees the two Sets only.
        send.send(get(5, &id)).await.unwrap();
        let read = replies.message().await.unwrap().unwrap();
        assert_eq!(read.tag, 5);
        match read.result {
            Some(Outcome::Get(r)) => assert_eq!(r.session.unwrap().version, 3),
            other => panic!("{other:?}"),
        }
        let text = metrics.render(Default::default(), 1);
        let series = r#"sessiond_requests_total{api="grpc",method="Pipeline/Set",outcome="RESOURCE_EXHAUSTED"} 1"#;
        assert!(text.lines().any(|l| l == series), "{text}");
    }

    #[tokio::test]
    async fn a_get_is_answered_while_a_set_before_it_waits_for_storage() {
        let Fixture {
            id,
            send,
            mut replies,
            release,
            ..
        } = stream_on_held(8).await;
        send.send(set(1, &id)).await.unwrap();
        send.send(get(2, &id)).await.unwrap();
        let first = replies.message().await.unwrap().unwrap();
        assert_eq!(first.tag, 2);
        match first.result {
            Some(Outcome::Get(r)) => assert_eq!(r.session.unwrap().version, 1),
            other => panic!("{other:?}"),
        }
        release.add_permits(1);
        let second = replies.message().await.unwrap().unwrap();
        assert_eq!((second.tag, code(&second)), (1, tonic::Code::Ok));
        // The client closing its side ends the stream once all is answered.
        drop(send);
        assert!(replies.message().await.unwrap().is_none());
    }
}
