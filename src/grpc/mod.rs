//! The gRPC transport: `sessiond.v1.SessionService` over the store.
//! Every `SessionService` request passes [`Authenticate`] first.
//! Proto types stop here; they are converted to and from the domain in
//! [`convert`], and domain errors become `Status` in [`status`].
//! The two streams: `Pipeline` (many tagged requests on one stream, each
//! run through the unary call's own op) and `Watch` (change and end
//! events the storage layer tells as it makes them).

mod auth;
mod convert;
mod get_reply;
mod get_request;
mod health;
mod pipeline;
mod pipeline_reply;
mod service;
mod status;
mod watch;

pub use auth::Authenticate;
pub use get_reply::GetReply;
pub use get_request::GetQuery;
pub use health::{health_service, reflection_services};
pub use pipeline_reply::PipelineReply;
pub use service::SessionService;

/// Code generated from `proto/sessiond/v1/sessiond.proto`.
pub mod pb {
    tonic::include_proto!("sessiond.v1");

    /// Descriptors of the service, for server reflection.
    pub const FILE_DESCRIPTOR_SET: &[u8] =
        tonic::include_file_descriptor_set!("sessiond_descriptor");
}

/// The server side of `SessionService`, generated apart from [`pb`]: its
/// Get takes a [`GetQuery`] and answers with a [`GetReply`] (build.rs).
mod server_pb {
    include!(concat!(env!("OUT_DIR"), "/server/sessiond.v1.rs"));
}
