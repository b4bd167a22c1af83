//! `SessionService`: each RPC parses its input at the edge, calls the store,
//! and converts the result back.

use std::time::Instant;

use tonic::{Code, Request, Response, Status};
use tracing::Instrument;

use super::convert::idle_timeout;
use super::pb;
use super::pb::session_service_server::SessionServiceServer;
use super::status::code_name;
use crate::lifecycle::Lifecycle;
use crate::metrics::{Api, Metrics};
use crate::session::SessionId;
use crate::store::{Store, Update};

/// The tonic service: a store handle, the process lifecycle (so requests
/// arriving once listeners close get `UNAVAILABLE`) and the metrics every
/// request is counted in.
#[derive(Clone)]
pub struct SessionService {
    store: Store,
    lifecycle: Lifecycle,
    metrics: Metrics,
}

impl SessionService {
    pub fn new(store: Store, lifecycle: Lifecycle, metrics: Metrics) -> Self {
        SessionService {
            store,
            lifecycle,
            metrics,
        }
    }

    /// The service wrapped for tonic's router, with message limits that
    /// follow the store's: a request can carry at most a full session.
    pub fn into_server(self) -> SessionServiceServer<Self> {
        let limit = (self.store.limits().max_session_bytes * 2 + 64 * 1024).max(4 << 20);
        SessionServiceServer::new(self)
            .max_decoding_message_size(limit)
            .max_encoding_message_size(limit)
    }

    /// Runs `op` (which parses the request and calls the store) inside the
    /// request's span, after the shutdown check, and counts the request
    /// with its outcome and latency. Every RPC goes through here, so every
    /// request is counted, malformed ones included. A change is
    /// acknowledged only once it is as durable as `--fsync` says.
    async fn call<T>(
        &self,
        rpc: &'static str,
        op: impl FnOnce(&Store) -> Result<T, Status>,
    ) -> Result<Response<T>, Status> {
        let changes = rpc != "Get";
        // DEBUG, as tower-http's TraceLayer makes its spans: at the default
        // `info` filter an enabled span costs ~10% of a Get's server CPU
        // (the fmt layer formats its fields per request; BENCHMARKS.md),
        // and the INFO events below name their session themselves.
        let span = tracing::debug_span!("grpc", rpc, session = tracing::field::Empty);
        async {
            let started = Instant::now();
            let result = if self.lifecycle.is_stopping() {
                Err(Status::unavailable(
                    "sessiond is shutting down; retry on another instance",
                ))
            } else {
                op(&self.store)
            };
            let result = match result {
                Ok(reply) if changes => self
                    .store
                    .durable()
                    .await
                    .map(|()| reply)
                    .map_err(Status::from),
                other => other,
            };
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
            self.metrics
                .record(Api::Grpc, rpc, code_name(code), started.elapsed());
            result.map(Response::new)
        }
        .instrument(span)
        .await
    }
}

/// Parses a session id at the edge and names it in the request's span, as a
/// short digest prefix only.
fn parse_id(raw: &str) -> Result<SessionId, Status> {
    let id = SessionId::parse(raw)?;
    tracing::Span::current().record("session", tracing::field::display(id.digest().short()));
    Ok(id)
}

#[tonic::async_trait]
impl pb::session_service_server::SessionService for SessionService {
    async fn create(
        &self,
        request: Request<pb::CreateRequest>,
    ) -> Result<Response<pb::CreateResponse>, Status> {
        let req = request.into_inner();
        self.call("Create", |store| {
            let idle = idle_timeout(req.idle_timeout)?;
            let info = store.create(req.data, idle)?;
            tracing::info!(rpc = "Create", session = %info.id.digest().short(), "created");
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
        self.call("Get", |store| {
            let id = parse_id(&req.id)?;
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
        self.call("Set", |store| {
            let id = parse_id(&req.id)?;
            let update = Update {
                upsert: req.upsert,
                remove: req.remove,
                expected_version: req.expected_version,
            };
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
        self.call("Flush", |store| {
            let id = parse_id(&request.get_ref().id)?;
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
        self.call("Rotate", |store| {
            let id = parse_id(&request.get_ref().id)?;
            let info = store.rotate(&id)?;
            tracing::info!(
                rpc = "Rotate",
                session = %id.digest().short(),
                new_session = %info.id.digest().short(),
                "rotated"
            );
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
        self.call("Touch", |store| {
            let id = parse_id(&req.id)?;
            let idle = idle_timeout(req.idle_timeout)?;
            Ok(pb::TouchResponse {
                session: Some(store.touch(&id, idle)?.into()),
            })
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Clock;
    use crate::session::{Limits, Timeouts};
    use pb::session_service_server::SessionService as _;

    fn service() -> (SessionService, Lifecycle, Metrics) {
        let store = Store::new(Limits::default(), Timeouts::default(), Clock::manual(0));
        let (lifecycle, metrics) = (Lifecycle::default(), Metrics::new());
        let service = SessionService::new(store, lifecycle.clone(), metrics.clone());
        (service, lifecycle, metrics)
    }

    fn create() -> Request<pb::CreateRequest> {
        Request::new(pb::CreateRequest {
            data: Default::default(),
            idle_timeout: None,
        })
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
        let request = Request::new(pb::FlushRequest { id: "short".into() });
        let refused = service.flush(request).await.unwrap_err();
        assert_eq!(refused.code(), Code::InvalidArgument);
        let text = metrics.render(Default::default(), 1);
        let series =
            r#"sessiond_requests_total{api="grpc",method="Flush",outcome="INVALID_ARGUMENT"} 1"#;
        assert!(text.lines().any(|l| l == series), "{text}");
    }
}
