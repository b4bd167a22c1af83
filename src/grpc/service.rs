//! `SessionService`: each RPC parses its input at the edge, calls the
//! storage boundary in the caller's namespace, and converts the result back.

use std::net::IpAddr;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use tonic::metadata::MetadataMap;
use tonic::{Code, Extensions, Request, Response, Status};
use tracing::Instrument;

use super::auth::{Authenticate, Authenticated};
use super::convert::{binding, idle_timeout, optional_id, user_id};
use super::get_reply::GetReply;
use super::get_request::GetQuery;
use super::pb;
use super::pipeline::Replies;
use super::server_pb::session_service_server::{self, SessionServiceServer};
use super::status::code_name;
use super::watch::Events;
use crate::auth::Access;
use crate::lifecycle::Lifecycle;
use crate::metrics::{Api, Metrics, Series};
use crate::session::{Handle, Namespace, SessionId, SetMode, Update};
use crate::storage::{Op, Storage};

/// The tonic service: a storage handle, the process lifecycle (so requests
/// arriving once listeners close get `UNAVAILABLE`) and the metrics every
/// request is counted in.
#[derive(Clone)]
pub struct SessionService {
    store: Storage,
    lifecycle: Lifecycle,
    metrics: Metrics,
    /// The series of `metrics` this service counts requests in.
    series: Arc<SeriesTable>,
    /// The namespaces whose callers may choose session ids
    /// (`--client-id-namespaces`): there ids are parsed by the wider rule
    /// and a Set may create. Empty, the common case, costs a Get nothing.
    client_ids: Arc<[Namespace]>,
    /// Requests of one Pipeline stream that may wait for storage at once
    /// (`--max-pipeline-in-flight`).
    pipeline_in_flight: usize,
    /// Events one Watch subscriber may leave untaken before it is dropped
    /// (`--watch-buffer`).
    watch_buffer: usize,
}

impl SessionService {
    pub fn new(store: Storage, lifecycle: Lifecycle, metrics: Metrics) -> Self {
        SessionService {
            store,
            lifecycle,
            metrics,
            series: Arc::new(SeriesTable::new()),
            client_ids: Arc::from([]),
            pipeline_in_flight: 1024,
            watch_buffer: 1024,
        }
    }

    /// Bounds the requests of one Pipeline stream waiting for storage at
    /// once; past it a request is answered RESOURCE_EXHAUSTED.
    pub fn with_pipeline_in_flight(mut self, max: usize) -> Self {
        self.pipeline_in_flight = max.max(1);
        self
    }

    /// Bounds the events a Watch subscriber may leave untaken; one more
    /// ends its stream RESOURCE_EXHAUSTED.
    pub fn with_watch_buffer(mut self, events: usize) -> Self {
        self.watch_buffer = events.max(1);
        self
    }

    pub(super) fn watch_buffer(&self) -> usize {
        self.watch_buffer
    }

    pub(super) fn store(&self) -> &Storage {
        &self.store
    }

    pub(super) fn max_pipeline_in_flight(&self) -> usize {
        self.pipeline_in_flight
    }

    pub(super) fn lifecycle(&self) -> &Lifecycle {
        &self.lifecycle
    }

    /// Lets callers in `namespaces` create sessions under ids they chose
    /// (`Set` with `create_if_missing`); every other namespace stays strict.
    pub fn with_client_id_namespaces(mut self, namespaces: Vec<Namespace>) -> Self {
        self.client_ids = namespaces.into();
        self
    }

    /// Whether callers in `ns` may choose session ids.
    fn chooses_ids(&self, ns: &Namespace) -> bool {
        !self.client_ids.is_empty() && self.client_ids.contains(ns)
    }

    /// Parses a session id at the edge by the rule of the caller's
    /// namespace: server-issued ids only, or client-chosen ones too.
    pub(super) fn parse_id(&self, ns: &Namespace, raw: String) -> Result<SessionId, Status> {
        if self.chooses_ids(ns) {
            let id = SessionId::parse_chosen(raw)?;
            name_in_span(&id);
            Ok(id)
        } else {
            parse_id(raw)
        }
    }

    /// The service wrapped for tonic's router behind `authenticate`, with
    /// message limits that follow the store's: a request can carry at most
    /// a full session.
    pub fn into_server(
        self,
        authenticate: Authenticate,
    ) -> Authenticated<SessionServiceServer<Self>> {
        let limit = (self.store.limits().max_session_bytes * 2 + 64 * 1024).max(4 << 20);
        let server = SessionServiceServer::new(self)
            .max_decoding_message_size(limit)
            .max_encoding_message_size(limit);
        authenticate.layer(server)
    }

    /// Runs `op`, a read (which parses the request and calls storage in
    /// the caller's namespace), inside the request's span, after the
    /// shutdown and permission checks, and counts the request with its
    /// outcome and latency. Every RPC goes through here or [`Self::change`],
    /// so every request is counted, malformed ones included.
    ///
    /// Synchronous when storage answers at once (memory always does): the
    /// answer is then `Ok`, and the RPC's future stays small and is not
    /// moved through an instrumented async wrapper on every call. An answer
    /// that waits comes back as `Err`, for [`Self::read_later`].
    #[allow(clippy::result_large_err)] // the `Ok` is the fast path; boxing it would cost a Get an allocation
    fn read<T>(
        &self,
        rpc: Rpc,
        caller: Caller,
        op: impl FnOnce(&Storage, &Namespace) -> Result<Op<T>, Status>,
    ) -> Result<Result<Response<T>, Status>, Pending<T>> {
        self.run(rpc, false, caller, op)
    }

    /// [`Self::read`] for an RPC that `changes` sessions or not: a Pipeline
    /// answers its changes at once too when storage does.
    #[allow(clippy::result_large_err)] // as `read`
    pub(super) fn run<T>(
        &self,
        rpc: Rpc,
        changes: bool,
        caller: Caller,
        op: impl FnOnce(&Storage, &Namespace) -> Result<Op<T>, Status>,
    ) -> Result<Result<Response<T>, Status>, Pending<T>> {
        let span = request_span(rpc);
        let _entered = span.enter();
        let started = Instant::now();
        let op = match self
            .admitted(rpc, changes, &caller)
            .and_then(|ns| op(&self.store, ns))
        {
            Ok(op) => op,
            Err(refused) => return Ok(self.settled(rpc, started, caller, Err(refused))),
        };
        match op.now() {
            Ok(answer) => Ok(self.settled(rpc, started, caller, answer.map_err(Status::from))),
            Err(op) => {
                drop(_entered);
                Err(Pending {
                    op,
                    rpc,
                    caller,
                    started,
                    span,
                })
            }
        }
    }

    /// Waits for a read that [`Self::read`] found pending, then counts it.
    pub(super) async fn read_later<T>(&self, pending: Pending<T>) -> Result<Response<T>, Status> {
        let Pending {
            op,
            rpc,
            caller,
            started,
            span,
        } = pending;
        async {
            let answer = op.await.map_err(Status::from);
            self.settled(rpc, started, caller, answer)
        }
        .instrument(span)
        .await
    }

    /// [`Self::read`] for an RPC that changes sessions. Storage answers a
    /// change once it is as durable as `--fsync` says.
    async fn change<T>(
        &self,
        rpc: Rpc,
        caller: Caller,
        op: impl FnOnce(&Storage, &Namespace) -> Result<Op<T>, Status>,
    ) -> Result<Response<T>, Status> {
        async {
            let started = Instant::now();
            let answer = match self
                .admitted(rpc, true, &caller)
                .and_then(|ns| op(&self.store, ns))
            {
                Ok(op) => op.await.map_err(Status::from),
                Err(refused) => Err(refused),
            };
            self.settled(rpc, started, caller, answer)
        }
        .instrument(request_span(rpc))
        .await
    }

    /// The caller's namespace, unless the server is stopping or the caller
    /// may not run `rpc`.
    pub(super) fn admitted<'c>(
        &self,
        rpc: Rpc,
        changes: bool,
        caller: &'c Caller,
    ) -> Result<&'c Namespace, Status> {
        if self.lifecycle.is_stopping() {
            return Err(Status::unavailable(
                "sessiond is shutting down; retry on another instance",
            ));
        }
        match caller.access() {
            // Only reachable if the service is served without its
            // access-control layer: fail closed.
            None => Err(Status::unauthenticated("no credential was checked")),
            Some(access) if access.read_only && changes => Err(Status::permission_denied(format!(
                "{} changes sessions, and this token is read-only",
                rpc.name()
            ))),
            Some(access) => Ok(&access.namespace),
        }
    }

    /// Counts the request; an unknown session is counted against the
    /// caller's address too.
    fn settled<T>(
        &self,
        rpc: Rpc,
        started: Instant,
        caller: Caller,
        result: Result<T, Status>,
    ) -> Result<Response<T>, Status> {
        if matches!(&result, Err(s) if s.code() == Code::NotFound) {
            self.metrics.unknown_session(Api::Grpc, caller.peer());
        }
        self.counted(rpc, started, result)
    }

    /// Logs the outcome at DEBUG and counts the request with its latency.
    pub(super) fn counted<T>(
        &self,
        rpc: Rpc,
        started: Instant,
        result: Result<T, Status>,
    ) -> Result<Response<T>, Status> {
        let code = match &result {
            Ok(_) => {
                tracing::debug!("ok");
                Code::Ok
            }
            Err(status) => {
                tracing::debug!(code = ?status.code(), "refused");
                status.code()
            }
        };
        self.series
            .of(rpc, code, &self.metrics)
            .record(started.elapsed());
        result.map(Response::new)
    }
}

/// The request's span. DEBUG, as tower-http's TraceLayer makes its spans:
/// at the default `info` filter an enabled span costs ~10% of a Get's
/// server CPU (the fmt layer formats its fields per request;
/// BENCHMARKS.md), and the INFO events inside name their session
/// themselves.
fn request_span(rpc: Rpc) -> tracing::Span {
    tracing::debug_span!("grpc", rpc = rpc.name(), session = tracing::field::Empty)
}

/// The RPCs of `SessionService`: each names its requests' span and metric
/// series.
#[derive(Debug, Clone, Copy)]
pub(super) enum Rpc {
    Create,
    Get,
    Set,
    Flush,
    Rotate,
    Touch,
    BindUser,
    ListUserSessions,
    RevokeSession,
    RevokeUserSessions,
    CountSessions,
    ClearSessions,
    /// A Pipeline stream itself: a request naming no op, a stream that
    /// ended on a message that does not decode.
    Pipeline,
    PipelineGet,
    PipelineSet,
    PipelineTouch,
    PipelineFlush,
    /// A Watch opened, or ended for falling behind.
    Watch,
}

impl Rpc {
    const COUNT: usize = 18;

    fn name(self) -> &'static str {
        match self {
            Rpc::Create => "Create",
            Rpc::Get => "Get",
            Rpc::Set => "Set",
            Rpc::Flush => "Flush",
            Rpc::Rotate => "Rotate",
            Rpc::Touch => "Touch",
            Rpc::BindUser => "BindUser",
            Rpc::ListUserSessions => "ListUserSessions",
            Rpc::RevokeSession => "RevokeSession",
            Rpc::RevokeUserSessions => "RevokeUserSessions",
            Rpc::CountSessions => "CountSessions",
            Rpc::ClearSessions => "ClearSessions",
            Rpc::Pipeline => "Pipeline",
            Rpc::PipelineGet => "Pipeline/Get",
            Rpc::PipelineSet => "Pipeline/Set",
            Rpc::PipelineTouch => "Pipeline/Touch",
            Rpc::PipelineFlush => "Pipeline/Flush",
            Rpc::Watch => "Watch",
        }
    }
}

/// gRPC status codes: 0 (OK) to 16 (UNAUTHENTICATED).
const CODES: usize = Code::Unauthenticated as usize + 1;

/// The metric series of every (RPC, status code), each registered the
/// first time a request is counted in it, so /metrics shows the same
/// series as when every request went through `Metrics::record`, and then
/// recorded into directly: the thread-local map `Metrics::record` searches
/// cost a Get ~130 instructions.
struct SeriesTable([[OnceLock<Series>; CODES]; Rpc::COUNT]);

impl SeriesTable {
    fn new() -> Self {
        SeriesTable(std::array::from_fn(|_| {
            std::array::from_fn(|_| OnceLock::new())
        }))
    }

    fn of(&self, rpc: Rpc, code: Code, metrics: &Metrics) -> &Series {
        self.0[rpc as usize][code as usize]
            .get_or_init(|| metrics.series(Api::Grpc, rpc.name(), code_name(code)))
    }
}

/// A read that storage answers later, with what counting it needs.
pub(super) struct Pending<T> {
    op: Op<T>,
    rpc: Rpc,
    caller: Caller,
    started: Instant,
    span: tracing::Span,
}

/// Who sent a request: what the access-control layer resolved, and the
/// rest of the request's extensions, where its peer's address is.
pub(super) struct Caller {
    access: Granted,
    peer: Peer,
}

/// What the access-control layer granted: a unary call's own, moved out
/// of its request, or a stream's, shared by every request on it.
enum Granted {
    Nothing,
    Own(Access),
    Shared(Arc<Access>),
}

/// Where the peer's address is found.
enum Peer {
    /// Searched only when a request names an unknown session: a Get that
    /// finds its session does not pay for the lookup.
    Extensions(Extensions),
    /// Looked up once for a whole stream.
    Known(Option<IpAddr>),
}

impl Caller {
    /// Splits a request into its caller and its message. Takes what the
    /// access-control layer put in the request: the handler is its last
    /// reader, so it is moved out, not cloned.
    pub(super) fn of<T>(request: Request<T>) -> (Self, T) {
        let (_metadata, mut extensions, message) = request.into_parts();
        let access = match extensions.remove::<Access>() {
            Some(access) => Granted::Own(access),
            None => Granted::Nothing,
        };
        let peer = Peer::Extensions(extensions);
        (Caller { access, peer }, message)
    }

    /// A caller for one request of a stream whose credential was checked
    /// when it opened.
    pub(super) fn on_stream(access: &Arc<Access>, peer: Option<IpAddr>) -> Self {
        Caller {
            access: Granted::Shared(access.clone()),
            peer: Peer::Known(peer),
        }
    }

    /// What the caller may do; `None` if no credential check saw it.
    pub(super) fn access(&self) -> Option<&Access> {
        match &self.access {
            Granted::Nothing => None,
            Granted::Own(access) => Some(access),
            Granted::Shared(access) => Some(access),
        }
    }

    /// The caller's access, to be shared by the requests of a stream.
    pub(super) fn shared_access(&self) -> Option<Arc<Access>> {
        match &self.access {
            Granted::Nothing => None,
            Granted::Own(access) => Some(Arc::new(access.clone())),
            Granted::Shared(access) => Some(access.clone()),
        }
    }

    /// The peer's address, as tonic finds it in a request's extensions.
    pub(super) fn peer(self) -> Option<IpAddr> {
        match self.peer {
            Peer::Known(peer) => peer,
            Peer::Extensions(extensions) => {
                let request = Request::from_parts(MetadataMap::new(), extensions, ());
                request.remote_addr().map(|a| a.ip())
            }
        }
    }
}

/// Parses a session id at the edge and names it in the request's span, as a
/// short digest prefix only. The span is DEBUG: below that level it is
/// disabled and finding the current one is skipped, which a Get would
/// otherwise pay for on every call.
fn parse_id(raw: String) -> Result<SessionId, Status> {
    let id = SessionId::parse_owned(raw)?;
    name_in_span(&id);
    Ok(id)
}

/// Names `id` in the request's span by its short digest (see [`parse_id`]).
fn name_in_span(id: &SessionId) {
    if tracing::level_filters::LevelFilter::current() >= tracing::Level::DEBUG {
        tracing::Span::current().record("session", tracing::field::display(id.digest().short()));
    }
}

#[tonic::async_trait]
impl session_service_server::SessionService for SessionService {
    type PipelineStream = Replies;
    type WatchStream = Events;

    async fn watch(&self, request: Request<pb::WatchRequest>) -> Result<Response<Events>, Status> {
        self.open_watch(request)
    }

    async fn pipeline(
        &self,
        request: Request<tonic::Streaming<pb::PipelineRequest>>,
    ) -> Result<Response<Replies>, Status> {
        self.open_pipeline(request)
    }

    async fn create(
        &self,
        request: Request<pb::CreateRequest>,
    ) -> Result<Response<pb::CreateResponse>, Status> {
        let (caller, req) = Caller::of(request);
        self.change(Rpc::Create, caller, |store, ns| {
            let idle = idle_timeout(req.idle_timeout)?;
            let created = match req.user.map(binding).transpose()? {
                None => store.create(ns, req.data, idle),
                Some(user) => store.create_bound(ns, req.data, idle, user),
            };
            Ok(created.map(|info| {
                tracing::info!(rpc = "Create", session = %info.id.digest().short(), "created");
                pb::CreateResponse {
                    session: Some(info.into()),
                }
            }))
        })
        .await
    }

    async fn get(&self, request: Request<GetQuery>) -> Result<Response<GetReply>, Status> {
        let (caller, GetQuery(req)) = Caller::of(request);
        let answer = self.read(Rpc::Get, caller, |store, ns| self.get_op(store, ns, req));
        match answer {
            Ok(answered) => answered,
            Err(pending) => self.read_later(pending).await,
        }
    }

    async fn set(
        &self,
        request: Request<pb::SetRequest>,
    ) -> Result<Response<pb::SetResponse>, Status> {
        let (caller, req) = Caller::of(request);
        self.change(Rpc::Set, caller, |store, ns| self.set_op(store, ns, req))
            .await
    }

    async fn flush(
        &self,
        request: Request<pb::FlushRequest>,
    ) -> Result<Response<pb::FlushResponse>, Status> {
        let (caller, req) = Caller::of(request);
        self.change(Rpc::Flush, caller, |store, ns| {
            self.flush_op(store, ns, req)
        })
        .await
    }

    async fn rotate(
        &self,
        request: Request<pb::RotateRequest>,
    ) -> Result<Response<pb::RotateResponse>, Status> {
        let (caller, req) = Caller::of(request);
        self.change(Rpc::Rotate, caller, |store, ns| {
            let id = self.parse_id(ns, req.id)?;
            let old = id.digest().short();
            Ok(store.rotate(ns, &id).map(move |info| {
                tracing::info!(
                    rpc = "Rotate",
                    session = %old,
                    new_session = %info.id.digest().short(),
                    "rotated"
                );
                pb::RotateResponse {
                    session: Some(info.into()),
                }
            }))
        })
        .await
    }

    async fn touch(
        &self,
        request: Request<pb::TouchRequest>,
    ) -> Result<Response<pb::TouchResponse>, Status> {
        let (caller, req) = Caller::of(request);
        self.change(Rpc::Touch, caller, |store, ns| {
            self.touch_op(store, ns, req)
        })
        .await
    }

    async fn count_sessions(
        &self,
        request: Request<pb::CountSessionsRequest>,
    ) -> Result<Response<pb::CountSessionsResponse>, Status> {
        let (caller, _) = Caller::of(request);
        let answer = self.read(Rpc::CountSessions, caller, |store, ns| {
            Ok(store
                .count(ns)
                .map(|count| pb::CountSessionsResponse { count }))
        });
        match answer {
            Ok(answered) => answered,
            Err(pending) => self.read_later(pending).await,
        }
    }

    async fn clear_sessions(
        &self,
        request: Request<pb::ClearSessionsRequest>,
    ) -> Result<Response<pb::ClearSessionsResponse>, Status> {
        let (caller, _) = Caller::of(request);
        self.change(Rpc::ClearSessions, caller, |store, ns| {
            Ok(store.clear(ns).map(|cleared| {
                tracing::info!(rpc = "ClearSessions", cleared, "namespace cleared");
                pb::ClearSessionsResponse { cleared }
            }))
        })
        .await
    }

    async fn bind_user(
        &self,
        request: Request<pb::BindUserRequest>,
    ) -> Result<Response<pb::BindUserResponse>, Status> {
        self.bind_user_rpc(request).await
    }

    async fn list_user_sessions(
        &self,
        request: Request<pb::ListUserSessionsRequest>,
    ) -> Result<Response<pb::ListUserSessionsResponse>, Status> {
        self.list_user_sessions_rpc(request).await
    }

    async fn revoke_session(
        &self,
        request: Request<pb::RevokeSessionRequest>,
    ) -> Result<Response<pb::RevokeSessionResponse>, Status> {
        self.revoke_session_rpc(request).await
    }

    async fn revoke_user_sessions(
        &self,
        request: Request<pb::RevokeUserSessionsRequest>,
    ) -> Result<Response<pb::RevokeUserSessionsResponse>, Status> {
        self.revoke_user_sessions_rpc(request).await
    }
}

/// Get, Set, Touch and Flush, each once: the unary RPCs and the requests
/// of a Pipeline both call these, so the two cannot drift.
impl SessionService {
    pub(super) fn get_op(
        &self,
        store: &Storage,
        ns: &Namespace,
        req: pb::GetRequest,
    ) -> Result<Op<GetReply>, Status> {
        let id = self.parse_id(ns, req.id)?;
        Ok(store
            .read_owned(ns, id, req.keys, !req.no_touch)
            .map(GetReply::new))
    }

    pub(super) fn set_op(
        &self,
        store: &Storage,
        ns: &Namespace,
        req: pb::SetRequest,
    ) -> Result<Op<pb::SetResponse>, Status> {
        let id = self.parse_id(ns, req.id)?;
        // Elsewhere the flag changes nothing: an unknown id stays
        // NOT_FOUND (strict mode).
        let mode = SetMode {
            replace_all: req.replace_all,
            create_if_missing: req.create_if_missing && self.chooses_ids(ns),
            idle_timeout: idle_timeout(req.idle_timeout)?,
        };
        let update = Update {
            upsert: req.upsert,
            remove: req.remove,
            expected_version: req.expected_version,
        };
        Ok(store
            .set_with(ns, &id, update, mode)
            .map(|info| pb::SetResponse {
                session: Some(info.into()),
            }))
    }

    pub(super) fn touch_op(
        &self,
        store: &Storage,
        ns: &Namespace,
        req: pb::TouchRequest,
    ) -> Result<Op<pb::TouchResponse>, Status> {
        let id = self.parse_id(ns, req.id)?;
        let idle = idle_timeout(req.idle_timeout)?;
        Ok(store.touch(ns, &id, idle).map(|info| pb::TouchResponse {
            session: Some(info.into()),
        }))
    }

    pub(super) fn flush_op(
        &self,
        store: &Storage,
        ns: &Namespace,
        req: pb::FlushRequest,
    ) -> Result<Op<pb::FlushResponse>, Status> {
        let id = self.parse_id(ns, req.id)?;
        Ok(store
            .flush(ns, &id)
            .map(|existed| pb::FlushResponse { existed }))
    }
}

impl SessionService {
    pub(super) async fn bind_user_rpc(
        &self,
        request: Request<pb::BindUserRequest>,
    ) -> Result<Response<pb::BindUserResponse>, Status> {
        let (caller, req) = Caller::of(request);
        self.change(Rpc::BindUser, caller, |store, ns| {
            let id = self.parse_id(ns, req.id)?;
            let user = req.user.map(binding).transpose()?;
            Ok(store
                .bind_user(ns, &id, user)
                .map(|info| pb::BindUserResponse {
                    session: Some(info.into()),
                }))
        })
        .await
    }

    pub(super) async fn list_user_sessions_rpc(
        &self,
        request: Request<pb::ListUserSessionsRequest>,
    ) -> Result<Response<pb::ListUserSessionsResponse>, Status> {
        let (caller, req) = Caller::of(request);
        let answer = self.read(Rpc::ListUserSessions, caller, |store, ns| {
            let user = user_id(req.user_id)?;
            let current = optional_id(req.current_id)?;
            Ok(store
                .list_user_sessions(ns, &user, current.as_ref())
                .map(|sessions| pb::ListUserSessionsResponse {
                    sessions: sessions.into_iter().map(Into::into).collect(),
                }))
        });
        match answer {
            Ok(answered) => answered,
            Err(pending) => self.read_later(pending).await,
        }
    }

    pub(super) async fn revoke_session_rpc(
        &self,
        request: Request<pb::RevokeSessionRequest>,
    ) -> Result<Response<pb::RevokeSessionResponse>, Status> {
        let (caller, req) = Caller::of(request);
        self.change(Rpc::RevokeSession, caller, |store, ns| {
            let handle = Handle::parse(&req.handle)?;
            let user = match req.user_id.is_empty() {
                true => None,
                false => Some(user_id(req.user_id)?),
            };
            Ok(store
                .revoke_session(ns, &handle, user.as_ref())
                .map(move |existed| {
                    tracing::info!(rpc = "RevokeSession", session = %handle.0.short(), existed, "revoked");
                    pb::RevokeSessionResponse { existed }
                }))
        })
        .await
    }

    pub(super) async fn revoke_user_sessions_rpc(
        &self,
        request: Request<pb::RevokeUserSessionsRequest>,
    ) -> Result<Response<pb::RevokeUserSessionsResponse>, Status> {
        let (caller, req) = Caller::of(request);
        self.change(Rpc::RevokeUserSessions, caller, |store, ns| {
            let user = user_id(req.user_id)?;
            let except = optional_id(req.except_id)?;
            Ok(store
                .revoke_user_sessions(ns, &user, except.as_ref())
                .map(|revoked| {
                    tracing::info!(
                        rpc = "RevokeUserSessions",
                        revoked,
                        "revoked a user's sessions"
                    );
                    pb::RevokeUserSessionsResponse { revoked }
                }))
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Clock;
    use crate::session::{Limits, Timeouts};
    use crate::storage::memory::Memory;
    use session_service_server::SessionService as _;

    fn service() -> (SessionService, Lifecycle, Metrics) {
        let store = Storage::new(Memory::new(
            Limits::default(),
            Timeouts::default(),
            Clock::manual(0),
        ));
        let (lifecycle, metrics) = (Lifecycle::default(), Metrics::new());
        let service = SessionService::new(store, lifecycle.clone(), metrics.clone());
        (service, lifecycle, metrics)
    }

    /// A request as the access-control layer passes it on.
    fn checked<T>(message: T, access: Access) -> Request<T> {
        let mut request = Request::new(message);
        request.extensions_mut().insert(access);
        request
    }

    fn create() -> Request<pb::CreateRequest> {
        checked(
            pb::CreateRequest {
                data: Default::default(),
                idle_timeout: None,
                user: None,
            },
            Access::open(),
        )
    }

    #[tokio::test]
    async fn a_request_that_no_credential_check_saw_is_refused() {
        let (service, _, _) = service();
        let unchecked = Request::new(pb::CreateRequest {
            data: Default::default(),
            idle_timeout: None,
            user: None,
        });
        let refused = service.create(unchecked).await.unwrap_err();
        assert_eq!(refused.code(), Code::Unauthenticated);
    }

    #[tokio::test]
    async fn a_read_only_caller_may_get_but_not_change() {
        let (service, _, _) = service();
        let id = service
            .create(create())
            .await
            .unwrap()
            .into_inner()
            .session
            .unwrap()
            .id;
        let reader = Access {
            read_only: true,
            ..Access::open()
        };
        let get = GetQuery(pb::GetRequest {
            id: id.clone(),
            keys: vec![],
            no_touch: false,
        });
        assert!(service.get(checked(get, reader.clone())).await.is_ok());
        let flush = pb::FlushRequest { id };
        let refused = service.flush(checked(flush, reader)).await.unwrap_err();
        assert_eq!(refused.code(), Code::PermissionDenied);
        assert!(refused.message().contains("read-only"));
    }

    #[tokio::test]
    async fn a_read_only_caller_may_list_a_users_sessions_but_not_revoke_them() {
        let (service, _, _) = service();
        let reader = Access {
            read_only: true,
            ..Access::open()
        };
        let list = pb::ListUserSessionsRequest {
            user_id: "alice".into(),
            current_id: String::new(),
        };
        assert!(service
            .list_user_sessions(checked(list, reader.clone()))
            .await
            .is_ok());
        let revoke = pb::RevokeUserSessionsRequest {
            user_id: "alice".into(),
            except_id: String::new(),
        };
        let refused = service
            .revoke_user_sessions(checked(revoke, reader.clone()))
            .await
            .unwrap_err();
        assert_eq!(refused.code(), Code::PermissionDenied);
        let one = pb::RevokeSessionRequest {
            handle: "0".repeat(32),
            user_id: String::new(),
        };
        let refused = service
            .revoke_session(checked(one, reader))
            .await
            .unwrap_err();
        assert_eq!(refused.code(), Code::PermissionDenied);
    }

    #[tokio::test]
    async fn requests_are_served_during_the_drain_delay_and_refused_once_stopping() {
        let (service, lifecycle, metrics) = service();
        lifecycle.set_serving();
        lifecycle.start_draining();
        assert!(service.create(create()).await.is_ok());

        lifecycle.stop_accepting();
        let refused = service.create(create()).await.unwrap_err();
        assert_eq!(refused.code(), Code::Unavailable);
        assert!(refused.message().contains("shutting down"));

        let text = metrics.render(Default::default(), 1);
        for series in [
            r#"sessiond_requests_total{api="grpc",method="Create",outcome="OK"} 1"#,
            r#"sessiond_requests_total{api="grpc",method="Create",outcome="UNAVAILABLE"} 1"#,
        ] {
            assert!(text.lines().any(|l| l == series), "{series} in {text}");
        }
    }

    #[tokio::test]
    async fn a_malformed_request_is_counted_with_its_status() {
        let (service, _, metrics) = service();
        let request = checked(pb::FlushRequest { id: "short".into() }, Access::open());
        let refused = service.flush(request).await.unwrap_err();
        assert_eq!(refused.code(), Code::InvalidArgument);
        let text = metrics.render(Default::default(), 1);
        let series =
            r#"sessiond_requests_total{api="grpc",method="Flush",outcome="INVALID_ARGUMENT"} 1"#;
        assert!(text.lines().any(|l| l == series), "{text}");
    }
}
