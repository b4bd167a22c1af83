//! `SessionService`: each RPC parses its input at the edge, calls the store,
//! and converts the result back.

use tonic::{Request, Response, Status};
use tracing::Instrument;

use super::convert::idle_timeout;
use super::pb;
use super::pb::session_service_server::SessionServiceServer;
use crate::lifecycle::Lifecycle;
use crate::session::SessionId;
use crate::store::{Store, Update};

/// The tonic service: a store handle plus the process lifecycle, so requests
/// arriving while shutting down get `UNAVAILABLE`.
#[derive(Clone)]
pub struct SessionService {
    store: Store,
    lifecycle: Lifecycle,
}

impl SessionService {
    pub fn new(store: Store, lifecycle: Lifecycle) -> Self {
        SessionService { store, lifecycle }
    }

    /// The service wrapped for tonic's router, with message limits that
    /// follow the store's: a request can carry at most a full session.
    pub fn into_server(self) -> SessionServiceServer<Self> {
        let limit = (self.store.limits().max_session_bytes * 2 + 64 * 1024).max(4 << 20);
        SessionServiceServer::new(self)
            .max_decoding_message_size(limit)
            .max_encoding_message_size(limit)
    }

    /// Runs `op` inside the request's span, after the shutdown check; a
    /// change is acknowledged only once it is as durable as `--fsync` says.
    /// Session ids appear in the span only as a short digest prefix.
    async fn call<T>(
        &self,
        rpc: &'static str,
        id: Option<&SessionId>,
        op: impl FnOnce(&Store) -> Result<T, Status>,
    ) -> Result<Response<T>, Status> {
        let changes = rpc != "Get";
        let session = id.map(|id| id.digest().short()).unwrap_or_default();
        let span = tracing::info_span!("grpc", rpc, session = %session);
        async {
            if self.lifecycle.is_draining() {
                return Err(Status::unavailable(
                    "sessiond is shutting down; retry on another instance",
                ));
            }
            let mut result = op(&self.store);
            if changes && result.is_ok() {
                if let Err(e) = self.store.durable().await {
                    result = Err(e.into());
                }
            }
            match &result {
                Ok(_) => tracing::debug!("ok"),
                Err(status) => tracing::debug!(code = ?status.code(), "refused"),
            }
            result.map(Response::new)
        }
        .instrument(span)
        .await
    }
}

#[tonic::async_trait]
impl pb::session_service_server::SessionService for SessionService {
    async fn create(
        &self,
        request: Request<pb::CreateRequest>,
    ) -> Result<Response<pb::CreateResponse>, Status> {
        let req = request.into_inner();
        let idle = idle_timeout(req.idle_timeout)?;
        self.call("Create", None, |store| {
            let info = store.create(req.data, idle)?;
            tracing::info!(session = %info.id.digest().short(), "created");
            Ok(pb::CreateResponse {
                session: Some(info.into()),
            })
        })
        .await
    }

    async fn get(
        &self,
        request: Request<pb::GetRequest>,
    ) -> Result<Response<pb::GetResponse>, Status> {
        let req = request.into_inner();
        let id = SessionId::parse(&req.id)?;
        self.call("Get", Some(&id), |store| {
            let (info, data) = store.get(&id, &req.keys, !req.no_touch)?;
            Ok(pb::GetResponse {
                session: Some(info.into()),
                data,
            })
        })
        .await
    }

    async fn set(
        &self,
        request: Request<pb::SetRequest>,
    ) -> Result<Response<pb::SetResponse>, Status> {
        let req = request.into_inner();
        let id = SessionId::parse(&req.id)?;
        let update = Update {
            upsert: req.upsert,
            remove: req.remove,
            expected_version: req.expected_version,
        };
        self.call("Set", Some(&id), |store| {
            Ok(pb::SetResponse {
                session: Some(store.set(&id, update)?.into()),
            })
        })
        .await
    }

    async fn flush(
        &self,
        request: Request<pb::FlushRequest>,
    ) -> Result<Response<pb::FlushResponse>, Status> {
        let id = SessionId::parse(&request.get_ref().id)?;
        self.call("Flush", Some(&id), |store| {
            Ok(pb::FlushResponse {
                existed: store.flush(&id)?,
            })
        })
        .await
    }

    async fn rotate(
        &self,
        request: Request<pb::RotateRequest>,
    ) -> Result<Response<pb::RotateResponse>, Status> {
        let id = SessionId::parse(&request.get_ref().id)?;
        self.call("Rotate", Some(&id), |store| {
            let info = store.rotate(&id)?;
            tracing::info!(new_session = %info.id.digest().short(), "rotated");
            Ok(pb::RotateResponse {
                session: Some(info.into()),
            })
        })
        .await
    }

    async fn touch(
        &self,
        request: Request<pb::TouchRequest>,
    ) -> Result<Response<pb::TouchResponse>, Status> {
        let req = request.into_inner();
        let id = SessionId::parse(&req.id)?;
        let idle = idle_timeout(req.idle_timeout)?;
        self.call("Touch", Some(&id), |store| {
            Ok(pb::TouchResponse {
                session: Some(store.touch(&id, idle)?.into()),
            })
        })
        .await
    }
}
