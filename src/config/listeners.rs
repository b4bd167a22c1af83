//! Where sessiond listens, and how it stops: the three listeners'
//! addresses, reflection, and the drain on SIGTERM.

use std::net::SocketAddr;
use std::time::Duration;

use clap::builder::BoolishValueParser;
use clap::ArgAction;

use super::parse_duration;

#[derive(Debug, Clone, clap::Args)]
pub struct Listeners {
    /// Address of the gRPC API.
    #[arg(long, env = "SESSIOND_GRPC_ADDR", default_value = "127.0.0.1:50051")]
    pub grpc_addr: SocketAddr,

    /// Address of the admin listener: /healthz, /readyz and /metrics. Keep it
    /// off the public network. `sessiond healthcheck` probes it too.
    #[arg(
        long,
        env = "SESSIOND_ADMIN_ADDR",
        default_value = "127.0.0.1:9090",
        global = true
    )]
    pub admin_addr: SocketAddr,

    /// Serve gRPC server reflection, v1 and v1alpha (for grpcurl, Postman,
    /// Evans, grpcio-reflection and similar tools).
    #[arg(
        long,
        env = "SESSIOND_GRPC_REFLECTION",
        default_value_t = true,
        action = ArgAction::Set,
        value_parser = BoolishValueParser::new(),
        value_name = "BOOL"
    )]
    pub grpc_reflection: bool,

    /// Concurrent HTTP/2 streams per gRPC connection (each unary call, each
    /// Pipeline or Watch stream takes one while it lasts). A client that
    /// opens more is refused the extra streams (REFUSED_STREAM), so one
    /// connection cannot hold unbounded server state.
    #[arg(
        long,
        env = "SESSIOND_MAX_STREAMS_PER_CONNECTION",
        default_value_t = 256
    )]
    pub max_streams_per_connection: u32,

    /// Requests of one Pipeline stream waiting for storage at once (a change
    /// waiting for its fsync, a Redis round trip). Past it a request is
    /// answered RESOURCE_EXHAUSTED without running; the memory backend
    /// answers at once, so there it is never reached.
    #[arg(long, env = "SESSIOND_MAX_PIPELINE_IN_FLIGHT", default_value_t = 1024)]
    pub max_pipeline_in_flight: usize,

    /// Events a Watch subscriber may leave unread before it is dropped
    /// (RESOURCE_EXHAUSTED "subscriber too slow"): a slow subscriber costs
    /// at most this much memory, never more.
    #[arg(long, env = "SESSIOND_WATCH_BUFFER", default_value_t = 1024)]
    pub watch_buffer: usize,

    /// Address of the HTTP gateway (browser cookies in, sessions out).
    #[arg(long, env = "SESSIOND_HTTP_ADDR", default_value = "127.0.0.1:8080")]
    pub http_addr: SocketAddr,

    /// After SIGTERM/SIGINT, how long readiness reports "draining" while
    /// requests are still served, so load balancers stop sending before the
    /// listeners close.
    #[arg(long, env = "SESSIOND_DRAIN_DELAY", default_value = "5s", value_parser = parse_duration)]
    pub drain_delay: Duration,

    /// How long in-flight requests may take to finish once the listeners
    /// close (after the drain delay).
    #[arg(long, env = "SESSIOND_SHUTDOWN_GRACE", default_value = "30s", value_parser = parse_duration)]
    pub shutdown_grace: Duration,
}

impl Listeners {
    pub(super) fn validate(&self) -> Result<(), String> {
        if self.max_pipeline_in_flight == 0 {
            return Err("--max-pipeline-in-flight must be at least 1".into());
        }
        if self.watch_buffer == 0 {
            return Err("--watch-buffer must be at least 1".into());
        }
        if self.max_streams_per_connection == 0 {
            return Err("--max-streams-per-connection must be at least 1".into());
        }
        Ok(())
    }
}
