//! The application: binds listeners, wires store and transports together,
//! and runs until a shutdown signal, then drains gracefully.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tonic::transport::server::TcpIncoming;
use tonic::transport::Server;

use crate::admin::{self, Admin};
use crate::clock::Clock;
use crate::config::Config;
use crate::gateway::{self, Gateway};
use crate::grpc::{health_service, reflection_service, SessionService};
use crate::lifecycle::Lifecycle;
use crate::metrics::Metrics;
use crate::persist::Persistence;
use crate::store::{spawn_reaper, Store};

/// How often recorded latencies are folded into their histogram buckets
/// when nobody scrapes, which bounds the memory they take.
const METRICS_UPKEEP: Duration = Duration::from_secs(5);

/// A bound, not yet running sessiond. Tests build it on port 0 and ask for
/// the ports it got.
pub struct Application {
    config: Config,
    store: Store,
    lifecycle: Lifecycle,
    metrics: Metrics,
    grpc_listener: TcpListener,
    grpc_addr: SocketAddr,
    admin_listener: TcpListener,
    admin_addr: SocketAddr,
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
        let admin_listener = bind(config.admin_addr, "admin").await?;
        let admin_addr = admin_listener.local_addr()?;
        let http_listener = bind(config.http_addr, "HTTP").await?;
        let http_addr = http_listener.local_addr()?;
        Ok(Application {
            config,
            store,
            lifecycle: Lifecycle::default(),
            metrics: Metrics::new(),
            grpc_listener,
            grpc_addr,
            admin_listener,
            admin_addr,
            http_listener,
            http_addr,
        })
    }

    /// The address the gRPC listener actually got.
    pub fn grpc_addr(&self) -> SocketAddr {
        self.grpc_addr
    }

    /// The address the admin listener (health, readiness, metrics) got.
    pub fn admin_addr(&self) -> SocketAddr {
        self.admin_addr
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

    /// A handle on the metrics the transports record into.
    pub fn metrics(&self) -> Metrics {
        self.metrics.clone()
    }

    /// Serves until `shutdown` completes, then drains in two steps:
    ///
    /// 1. readiness (`/readyz`) and gRPC health go false, while requests are
    ///    still served normally for `--drain-delay`, so load balancers that
    ///    poll readiness stop sending before anything is refused;
    /// 2. listeners stop accepting, requests still arriving on open
    ///    connections get `UNAVAILABLE`, and in-flight ones get
    ///    `--shutdown-grace` to finish.
    pub async fn run_until_stopped(self, shutdown: impl Future<Output = ()>) -> io::Result<()> {
        let Application {
            config,
            store,
            lifecycle,
            metrics,
            grpc_listener,
            grpc_addr,
            admin_listener,
            admin_addr,
            http_listener,
            http_addr,
        } = self;
        let (stop, stopped) = watch::channel(false);
        let _upkeep = AbortOnDrop(tokio::spawn(upkeep(metrics.clone())));
        // The admin listener answers first, so probes see "not ready" while
        // sessions are recovered from disk.
        let recovered = Arc::new(OnceLock::new());
        let admin = Admin {
            lifecycle: lifecycle.clone(),
            metrics: metrics.clone(),
            store: store.clone(),
            persistence: recovered.clone(),
        };
        let mut admin = tokio::spawn(admin::serve(
            admin_listener,
            admin,
            wait_for(stopped.clone()),
        ));

        // Recover before serving: until then the gRPC listener only queues
        // connections.
        let persistence = match config.persistence() {
            Some(persist) => {
                let store = store.clone();
                let opened =
                    tokio::task::spawn_blocking(move || Persistence::open(&store, persist))
                        .await
                        .map_err(io::Error::other)?
                        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
                let _ = recovered.set(opened.clone());
                Some(opened)
            }
            None => None,
        };
        let _snapshots = persistence
            .clone()
            .map(|p| AbortOnDrop(tokio::spawn(p.run_snapshots())));
        let _reaper = spawn_reaper(&store);

        let reflection = if config.grpc_reflection {
            Some(reflection_service().map_err(io::Error::other)?)
        } else {
            None
        };
        let incoming = grpc_incoming(grpc_listener);
        let service = SessionService::new(store.clone(), lifecycle.clone(), metrics.clone());
        let grpc = grpc_server()
            .add_service(health_service(&lifecycle))
            .add_optional_service(reflection)
            .add_service(service.into_server())
            .serve_with_incoming_shutdown(incoming, wait_for(stopped.clone()));
        let mut grpc = tokio::spawn(async move { grpc.await.map_err(io::Error::other) });
        let gateway = Gateway::new(store.clone(), lifecycle.clone(), metrics.clone(), &config);
        let mut http = tokio::spawn(gateway::serve(http_listener, gateway, wait_for(stopped)));

        lifecycle.set_serving();
        tracing::info!(%grpc_addr, %http_addr, %admin_addr, "sessiond serving");

        tokio::select! {
            () = shutdown => {}
            ended = &mut grpc => return ended_early("gRPC", ended),
            ended = &mut http => return ended_early("HTTP", ended),
            ended = &mut admin => return ended_early("admin", ended),
        }

        lifecycle.start_draining();
        tracing::info!(
            drain_delay = ?config.drain_delay,
            "draining: not ready any more; still serving until the drain delay ends"
        );
        tokio::time::sleep(config.drain_delay).await;

        tracing::info!(grace = ?config.shutdown_grace, "closing listeners; in-flight requests may finish");
        lifecycle.stop_accepting();
        let _ = stop.send(true);
        let finished = tokio::time::timeout(config.shutdown_grace, async {
            let grpc = (&mut grpc).await;
            let http = (&mut http).await;
            let admin = (&mut admin).await;
            (grpc, http, admin)
        })
        .await;
        match finished {
            Ok((grpc, http, admin)) => {
                grpc.map_err(io::Error::other)??;
                http.map_err(io::Error::other)??;
                admin.map_err(io::Error::other)??;
            }
            Err(_) => {
                tracing::warn!("grace period over; closing the connections still open");
                grpc.abort();
                http.abort();
                admin.abort();
            }
        }
        if let Some(persistence) = persistence {
            tokio::task::spawn_blocking(move || persistence.close())
                .await
                .map_err(io::Error::other)??;
        }
        tracing::info!("sessiond stopped");
        Ok(())
    }
}

/// The tonic server with sessiond's transport settings. sessiond-bench
/// serves its empty-RPC baseline with this too, so the two differ only in
/// what the RPC does.
pub fn grpc_server() -> Server {
    Server::builder()
}

/// Connections accepted on `listener` the way the gRPC API accepts them:
/// with TCP_NODELAY, since every reply is one small write.
pub fn grpc_incoming(listener: TcpListener) -> TcpIncoming {
    TcpIncoming::from(listener).with_nodelay(Some(true))
}

/// A server task that ended before shutdown was asked for: its error, or one
/// saying it stopped.
fn ended_early(
    what: &str,
    ended: Result<io::Result<()>, tokio::task::JoinError>,
) -> io::Result<()> {
    ended.map_err(io::Error::other)??;
    Err(io::Error::other(format!(
        "the {what} server stopped unexpectedly"
    )))
}

async fn upkeep(metrics: Metrics) {
    let mut every = tokio::time::interval(METRICS_UPKEEP);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        metrics.run_upkeep();
    }
}

/// Stops a background task when the server stops, however it stops.
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
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

/// Starts listening for SIGTERM and SIGINT now, and returns a future that
/// completes on the first of them. Call it before the server announces that
/// it is serving: until a handler is installed, SIGTERM's default action
/// kills the process without draining.
pub fn shutdown_signal() -> io::Result<impl Future<Output = ()>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut terminate = signal(SignalKind::terminate())?;
        let mut interrupt = signal(SignalKind::interrupt())?;
        Ok(async move {
            tokio::select! {
                _ = terminate.recv() => tracing::info!("SIGTERM received"),
                _ = interrupt.recv() => tracing::info!("SIGINT received"),
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
            tracing::info!("Ctrl-C received");
        })
    }
}
