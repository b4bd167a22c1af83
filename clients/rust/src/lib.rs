//! A Rust client of sessiond's gRPC API (`sessiond.v1`).
//!
//! - [`Client`]: one connection (a tonic `Channel`), the bearer token sent
//!   with every call, and every unary RPC through [`Client::raw`].
//! - [`Pipeline`]: a cheap `Clone` handle that sends Get / Set / Touch /
//!   Flush from any number of tasks over one `Pipeline` stream, matching
//!   each reply to its caller by tag: concurrent calls share HTTP/2 frames
//!   and writes instead of paying a stream each (BENCHMARKS.md, rows
//!   4c–4e). A failed request fails its own call with its status; the
//!   stream ending fails the calls waiting on it, and later calls, with
//!   the status it ended with: open another with [`Client::pipeline`].
//! - [`Client::watch`]: the stream of change and end events.
//! - [`NearCache`] ([`Client::near_cache`]): whole sessions kept in this
//!   process, so that a Get of a session read before costs no RPC, kept
//!   valid by a namespace-wide Watch: a change, flush, rotate or revoke
//!   made anywhere evicts the session within one event, and this process
//!   reads its own writes at once.
//!
//! ```no_run
//! # async fn demo() -> Result<(), tonic::Status> {
//! let client = sessiond_client::Client::connect("http://127.0.0.1:50051")
//!     .await?
//!     .with_token("my-token")?;
//! let pipeline = client.pipeline().await?;
//! let session = pipeline.get("k3v…".into(), vec![]).await?;
//! # Ok(()) }
//! ```

mod near_cache;
mod pipeline;

use tonic::metadata::{Ascii, MetadataValue};
use tonic::transport::{Channel, Endpoint};
use tonic::{Request, Status};

pub use near_cache::{NearCache, NearCacheConfig, NearCacheStats};
pub use pipeline::{Pipeline, DEFAULT_MAX_IN_FLIGHT};

/// Code generated from `proto/sessiond/v1/sessiond.proto`.
pub mod pb {
    tonic::include_proto!("sessiond.v1");
}

use pb::session_service_client::SessionServiceClient;

/// A connection to sessiond, with the credential its calls carry.
#[derive(Clone)]
pub struct Client {
    channel: Channel,
    /// `Bearer <token>`, sent as `authorization` metadata when set.
    authorization: Option<MetadataValue<Ascii>>,
    /// Requests a Pipeline stream has waiting for replies at most.
    max_in_flight: usize,
}

impl Client {
    /// Connects to `endpoint` (`http://host:port`, or `https://` with
    /// tonic's TLS configured on an [`Endpoint`] passed to
    /// [`Client::from_channel`]).
    pub async fn connect(endpoint: impl Into<String>) -> Result<Self, Status> {
        let endpoint = Endpoint::from_shared(endpoint.into())
            .map_err(|e| Status::invalid_argument(format!("not an endpoint: {e}")))?;
        let channel = endpoint
            .connect()
            .await
            .map_err(|e| Status::unavailable(format!("cannot connect to sessiond: {e}")))?;
        Ok(Client::from_channel(channel))
    }

    /// A client over a channel the caller built (TLS, timeouts, load
    /// balancing: tonic's `Endpoint` settings).
    pub fn from_channel(channel: Channel) -> Self {
        Client {
            channel,
            authorization: None,
            max_in_flight: pipeline::DEFAULT_MAX_IN_FLIGHT,
        }
    }

    /// Sends `token` (`--tokens-file`) with every call and stream.
    pub fn with_token(mut self, token: &str) -> Result<Self, Status> {
        let value = format!("Bearer {token}")
            .parse()
            .map_err(|_| Status::invalid_argument("a token is printable ASCII"))?;
        self.authorization = Some(value);
        Ok(self)
    }

    /// Lets each Pipeline stream opened after this have at most `n`
    /// requests waiting for replies (default [`DEFAULT_MAX_IN_FLIGHT`]);
    /// set it to the server's `--max-pipeline-in-flight` when that is
    /// lower, or calls past it are refused RESOURCE_EXHAUSTED.
    pub fn with_max_in_flight(mut self, n: usize) -> Self {
        self.max_in_flight = n.max(1);
        self
    }

    /// The generated client, for every unary RPC; wrap each message in
    /// [`Client::request`] so it carries the token.
    pub fn raw(&self) -> SessionServiceClient<Channel> {
        SessionServiceClient::new(self.channel.clone())
    }

    /// `message` as a request carrying this client's credential.
    pub fn request<T>(&self, message: T) -> Request<T> {
        let mut request = Request::new(message);
        if let Some(value) = &self.authorization {
            request
                .metadata_mut()
                .insert("authorization", value.clone());
        }
        request
    }

    /// Opens a Watch: events about the sessions `ids` names (each event
    /// names one by its position in `ids`), or, with `None`, about every
    /// session of the token's namespace (named by handle, never by id).
    /// The first event is `resync`: revalidate what you hold. The stream
    /// ends RESOURCE_EXHAUSTED if it is read too slowly.
    pub async fn watch(
        &self,
        ids: Option<Vec<String>>,
    ) -> Result<tonic::Streaming<pb::WatchEvent>, Status> {
        let request = pb::WatchRequest {
            namespace: ids.is_none(),
            ids: ids.unwrap_or_default(),
        };
        Ok(self.raw().watch(self.request(request)).await?.into_inner())
    }

    /// Opens a Pipeline stream: a handle that any number of tasks may
    /// clone and call at once.
    pub async fn pipeline(&self) -> Result<Pipeline, Status> {
        Pipeline::open(self).await
    }
}
