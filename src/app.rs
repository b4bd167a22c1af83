//! The application: binds listeners, wires store and transports together,
//! and runs until a shutdown signal, then drains gracefully.

use std::future::Future;
use std::io;
use std::net::SocketAddr;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tonic::transport::server::TcpIncoming;
use tonic::transport::Server;

use crate::clock::Clock;
use crate::config::Config;
use crate::gateway::{self, Gateway};
use crate::grpc::{health_service, reflection_service, SessionService};
use crate::lifecycle::Lifecycle;
use crate::store::{spawn_reaper, Store};

/// A bound, not yet running sessiond. Tests build it on port 0 and ask for
/// the port it got.
pub struct Application {
    config: Config,
    store: Store,
    lifecycle: Lifecycle,
    grpc_listener: TcpListener,
    grpc_addr: SocketAddr,
    http_listener: TcpListener,
    http_addr: SocketAddr,
}

impl Application {
    /// Binds every listener of `config` on the real clock.
    pub async fn build(config: Config) -> io::Result<Self> {
        Self::build_with_clock(config, Clock::system()).await
    }

    /// Binds every listener of `config`; sessions live on `clock`.
    pub async fn build_with_clock(config: Config, clock: Clock) -> io::Result<Self> {
        let store = Store::new(config.limits(), config.timeouts(), clock);
        let grpc_listener = bind(config.grpc_addr, "gRPC").await?;
        let grpc_addr = grpc_listener.local_addr()?;
        let http_listener = bind(config.http_addr, "HTTP").await?;
        let http_addr = http_listener.local_addr()?;
        Ok(Application {
            config,
            store,
            lifecycle: Lifecycle::default(),
            grpc_listener,
            grpc_addr,
            http_listener,
            http_addr,
        })
    }

    /// The address the gRPC listener actually got.
    pub fn grpc_addr(&self) -> SocketAddr {
        self.grpc_addr
    }

    /// The address the HTTP gateway listener actually got.
    pub fn http_addr(&self) -> SocketAddr {
        self.http_addr
    }

    /// A handle on the store this application serves.
    pub fn store(&self) -> Store {
        self.store.clone()
    }

    /// A handle on the lifecycle (readiness, draining).
    pub fn lifecycle(&self) -> Lifecycle {
        self.lifecycle.clone()
    }

    /// Serves until `shutdown` completes, then: readiness and health go
    /// false, listeners stop accepting, new requests get `UNAVAILABLE`
    /// (gRPC) or 503 (HTTP), and in-flight requests of both get
    /// `--shutdown-grace`, together, to finish.
    pub async fn run_until_stopped(self, shutdown: impl Future<Output = ()>) -> io::Result<()> {
        let Application {
            config,
            store,
            lifecycle,
            grpc_listener,
            grpc_addr,
            http_listener,
            http_addr,
        } = self;
        let _reaper = spawn_reaper(&store);

        let reflection = reflection_service().map_err(io::Error::other)?;
        let (stop, stopped) = watch::channel(false);
        let incoming = TcpIncoming::from(grpc_listener).with_nodelay(Some(true));
        let grpc = Server::builder()
            .add_service(health_service(&lifecycle))
            .add_service(reflection)
            .add_service(SessionService::new(store.clone(), lifecycle.clone()).into_server())
            .serve_with_incoming_shutdown(incoming, wait_for(stopped.clone()));
        let mut grpc = tokio::spawn(grpc);
        let gateway = Gateway::new(store.clone(), lifecycle.clone(), &config);
        let mut http = tokio::spawn(gateway::serve(http_listener, gateway, wait_for(stopped)));

        lifecycle.set_serving();
        tracing::info!(%grpc_addr, %http_addr, "sessiond serving");

        tokio::select! {
            () = shutdown => {}
            ended = &mut grpc => {
                http.abort();
                return ended.map_err(io::Error::other)?.map_err(io::Error::other);
            }
            ended = &mut http => {
                grpc.abort();
                return ended.map_err(io::Error::other)?;
            }
        }

        tracing::info!(grace = ?config.shutdown_grace, "shutting down: draining in-flight requests");
        lifecycle.start_draining();
        let _ = stop.send(true);
        let drained = tokio::time::timeout(config.shutdown_grace, async {
            let grpc_ended = (&mut grpc).await;
            let http_ended = (&mut http).await;
            (grpc_ended, http_ended)
        })
        .await;
        match drained {
            Ok((grpc_ended, http_ended)) => {
                grpc_ended
                    .map_err(io::Error::other)?
                    .map_err(io::Error::other)?;
                http_ended.map_err(io::Error::other)??;
            }
            Err(_) => {
                tracing::warn!("grace period over; closing the connections still open");
                grpc.abort();
                http.abort();
            }
        }
        tracing::info!("sessiond stopped");
        Ok(())
    }
}

async fn bind(addr: SocketAddr, what: &str) -> io::Result<TcpListener> {
    TcpListener::bind(addr).await.map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("cannot bind the {what} listener to {addr}: {e}"),
        )
    })
}

async fn wait_for(mut stopped: watch::Receiver<bool>) {
    let _ = stopped.wait_for(|&s| s).await;
}

/// Completes on the first SIGTERM or SIGINT.
pub async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate = match tokio::signal::unix::signal(
            tokio::signal::unix::SignalKind::terminate(),
        ) {
            Ok(signal) => signal,
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM; only SIGINT stops sessiond");
                let _ = interrupt.await;
                return;
            }
        };
        tokio::select! {
            _ = interrupt => tracing::info!("SIGINT received"),
            _ = terminate.recv() => tracing::info!("SIGTERM received"),
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}
