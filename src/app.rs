//! The application: binds listeners, picks the storage backend, wires it
//! and the transports together, and runs until a shutdown signal, then
//! drains gracefully.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tonic::transport::server::TcpIncoming;
use tonic::transport::{Certificate, Identity, Server, ServerTlsConfig};

use crate::admin::{self, Admin};
use crate::auth::tls::TlsFiles;
use crate::auth::Tokens;
use crate::clock::Clock;
use crate::config::Config;
use crate::gateway::{self, Gateway};
use crate::grpc::{health_service, reflection_services, Authenticate, SessionService};
use crate::lifecycle::Lifecycle;
use crate::metrics::Metrics;
use crate::storage::durable::Durable;
use crate::storage::memory::{spawn_reaper, Memory};
use crate::storage::redis::Redis;
use crate::storage::Storage;

/// How often recorded latencies are folded into their histogram buckets
/// when nobody scrapes, which bounds the memory they take.
const METRICS_UPKEEP: Duration = Duration::from_secs(5);

/// How often a backend across the network (Redis) is asked whether it
/// answers; health and readiness follow within about this long.
const BACKEND_CHECK: Duration = Duration::from_secs(1);

/// A bound, not yet running sessiond. Tests build it on port 0 and ask for
/// the ports it got.
pub struct Application {
    config: Config,
    /// What the transports call.
    store: Storage,
    /// The map underneath, which the reaper sweeps; `None` with Redis.
    memory: Option<Memory>,
    /// Set with `--backend redis`: where the sessions are, for the log
    /// (password redacted); health follows whether it answers.
    redis_target: Option<String>,
    /// Set with `--data-dir`: the backend that journals `memory`, to be
    /// recovered before serving.
    durable: Option<Durable>,
    lifecycle: Lifecycle,
    metrics: Metrics,
    grpc_listener: TcpListener,
    grpc_addr: SocketAddr,
    admin_listener: TcpListener,
    admin_addr: SocketAddr,
    http_listener: TcpListener,
    http_addr: SocketAddr,
    /// Bearer tokens (`--tokens-file`), reloaded on SIGHUP.
    tokens: Option<Tokens>,
    /// Certificate, key and client CA (`--tls-*`), read at start.
    tls: Option<TlsFiles>,
}

impl Application {
    /// Binds every listener of `config` on the real clock.
    pub async fn build(config: Config) -> io::Result<Self> {
        Self::build_with_clock(config, Clock::system()).await
    }

    /// Reads the credentials files and binds every listener of `config`;
    /// sessions live on `clock`.
    pub async fn build_with_clock(config: Config, clock: Clock) -> io::Result<Self> {
        let invalid = |e: String| io::Error::new(io::ErrorKind::InvalidInput, e);
        let tokens = config
            .access
            .tokens_file
            .as_deref()
            .map(Tokens::load)
            .transpose()
            .map_err(invalid)?;
        let tls = match (&config.access.tls_cert, &config.access.tls_key) {
            (Some(cert), Some(key)) => Some(
                TlsFiles::read(cert, key, config.access.tls_client_ca.as_deref())
                    .map_err(invalid)?,
            ),
            _ => None,
        };
        // The backend: Redis, or memory wrapped in the journal when there
        // is a data dir. Nothing past this block names which.
        let metrics = Metrics::new();
        let (store, memory, durable, redis_target) =
            match config.storage.redis().map_err(invalid)? {
                Some(redis) => {
                    let backend = Redis::connect(
                        &redis,
                        config.sessions.limits(),
                        config.sessions.timeouts(),
                        clock,
                        &metrics,
                    )
                    .await
                    .map_err(|e| invalid(e.to_string()))?;
                    let target = redis.target.to_string();
                    (Storage::new(backend), None, None, Some(target))
                }
                None => {
                    let memory =
                        Memory::new(config.sessions.limits(), config.sessions.timeouts(), clock);
                    let durable = config
                        .durability
                        .persistence()
                        .map(|_| Durable::new(memory.clone()));
                    let store = match &durable {
                        Some(durable) => Storage::new(durable.clone()),
                        None => Storage::new(memory.clone()),
                    };
                    (store, Some(memory), durable, None)
                }
            };
        let grpc_listener = bind(config.listeners.grpc_addr, "gRPC").await?;
        let grpc_addr = grpc_listener.local_addr()?;
        let admin_listener = bind(config.listeners.admin_addr, "admin").await?;
        let admin_addr = admin_listener.local_addr()?;
        let http_listener = bind(config.listeners.http_addr, "HTTP").await?;
        let http_addr = http_listener.local_addr()?;
        Ok(Application {
            config,
            store,
            memory,
            redis_target,
            durable,
            lifecycle: Lifecycle::default(),
            metrics,
            grpc_listener,
            grpc_addr,
            admin_listener,
            admin_addr,
            http_listener,
            http_addr,
            tokens,
            tls,
        })
    }

    /// The tokens in force, when `--tokens-file` is set: what SIGHUP
    /// reloads.
    pub fn tokens(&self) -> Option<Tokens> {
        self.tokens.clone()
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

    /// A handle on the storage this application serves.
    pub fn store(&self) -> Storage {
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
            memory,
            redis_target,
            durable,
            lifecycle,
            metrics,
            grpc_listener,
            grpc_addr,
            admin_listener,
            admin_addr,
            http_listener,
            http_addr,
            tokens,
            tls,
        } = self;
        // Installed before serving: SIGHUP's default action ends the process.
        let _reload = AbortOnDrop(tokio::spawn(reload_on_sighup(sighup()?, tokens.clone())));
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
        let persistence = match (durable, config.durability.persistence()) {
            (Some(durable), Some(persist)) => {
                let opened = tokio::task::spawn_blocking(move || durable.open(persist))
                    .await
                    .map_err(io::Error::other)?
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
                let _ = recovered.set(opened.clone());
                Some(opened)
            }
            _ if redis_target.is_some() => None,
            _ => {
                tracing::info!(
                    "no --data-dir: sessions live in memory only, and a restart forgets them"
                );
                None
            }
        };
        let _snapshots = persistence
            .clone()
            .map(|p| AbortOnDrop(tokio::spawn(p.run_snapshots())));
        let _reaper = memory.as_ref().map(spawn_reaper);
        // Not ready until Redis has answered once, and not while it does not.
        let _backend_check = redis_target.as_ref().map(|target| {
            tracing::info!(redis = %target, "sessions live in redis, shared by every replica");
            lifecycle.set_backend_reachable(false);
            AbortOnDrop(tokio::spawn(check_backend(
                store.clone(),
                lifecycle.clone(),
            )))
        });

        let (reflection, reflection_v1alpha) = if config.listeners.grpc_reflection {
            let (v1, v1alpha) = reflection_services().map_err(io::Error::other)?;
            (Some(v1), Some(v1alpha))
        } else {
            (None, None)
        };
        let incoming = grpc_incoming(grpc_listener);
        let client_ids = config.access.client_id_namespaces();
        if !client_ids.is_empty() {
            let names: Vec<String> = client_ids.iter().map(ToString::to_string).collect();
            tracing::info!(
                client_id_namespaces = %names.join(","),
                "these namespaces may create sessions under client-chosen ids (gRPC Set with create_if_missing); the gateway stays strict"
            );
        }
        let service = SessionService::new(store.clone(), lifecycle.clone(), metrics.clone())
            .with_client_id_namespaces(client_ids)
            .with_pipeline_in_flight(config.listeners.max_pipeline_in_flight)
            .with_watch_buffer(config.listeners.watch_buffer);
        let authenticate = Authenticate::new(
            tokens.clone(),
            config.access.tls_client_ca.is_some(),
            metrics.clone(),
        );
        // Every stream holds server state while it lasts: a connection gets
        // a bounded number (tonic sets none by default).
        let mut server =
            grpc_server().max_concurrent_streams(config.listeners.max_streams_per_connection);
        if let Some(tls) = &tls {
            server = server
                .tls_config(grpc_tls(tls, tokens.is_some()))
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        }
        let grpc = server
            .add_service(health_service(&lifecycle))
            .add_optional_service(reflection)
            .add_optional_service(reflection_v1alpha)
            .add_service(service.into_server(authenticate))
            .serve_with_incoming_shutdown(incoming, wait_for(stopped.clone()));
        let mut grpc = tokio::spawn(async move { grpc.await.map_err(io::Error::other) });
        let gateway = Gateway::new(store.clone(), lifecycle.clone(), metrics.clone(), &config);
        let gateway_tls = match &tls {
            Some(tls) => Some(tokio_rustls::TlsAcceptor::from(
                tls.gateway_config()
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?,
            )),
            None => None,
        };
        let mut http = tokio::spawn(gateway::serve(
            http_listener,
            gateway,
            gateway_tls,
            wait_for(stopped),
        ));

        lifecycle.set_serving();
        log_access_control(&config, tokens.as_ref(), tls.is_some());
        tracing::info!(%grpc_addr, %http_addr, %admin_addr, tls = tls.is_some(), "sessiond serving");

        tokio::select! {
            () = shutdown => {}
            ended = &mut grpc => return ended_early("gRPC", ended),
            ended = &mut http => return ended_early("HTTP", ended),
            ended = &mut admin => return ended_early("admin", ended),
        }

        lifecycle.start_draining();
        tracing::info!(
            drain_delay = ?config.listeners.drain_delay,
            "draining: not ready any more; still serving until the drain delay ends"
        );
        tokio::time::sleep(config.listeners.drain_delay).await;

        tracing::info!(grace = ?config.listeners.shutdown_grace, "closing listeners; in-flight requests may finish");
        lifecycle.stop_accepting();
        let _ = stop.send(true);
        let finished = tokio::time::timeout(config.listeners.shutdown_grace, async {
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

/// Asks the backend whether it answers every [`BACKEND_CHECK`], and moves
/// readiness and health with the answer.
async fn check_backend(store: Storage, lifecycle: Lifecycle) {
    loop {
        let answered = store.ping().await;
        if lifecycle.set_backend_reachable(answered.is_ok()) {
            match answered {
                Ok(()) => tracing::info!("the session storage answers: serving"),
                Err(e) => {
                    tracing::warn!(error = %e, "the session storage does not answer: not serving until it does")
                }
            }
        }
        tokio::time::sleep(BACKEND_CHECK).await;
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

/// tonic's TLS settings: our certificate, and with `--tls-client-ca` the
/// CA client certificates must chain to. Clients must present one unless
/// tokens are an alternative.
fn grpc_tls(tls: &TlsFiles, tokens_too: bool) -> ServerTlsConfig {
    let config = ServerTlsConfig::new().identity(Identity::from_pem(&tls.cert_pem, &tls.key_pem));
    match &tls.client_ca_pem {
        Some(ca) => config
            .client_ca_root(Certificate::from_pem(ca))
            .client_auth_optional(tokens_too),
        None => config,
    }
}

/// Says at start-up how callers are checked, and warns when they are not.
fn log_access_control(config: &Config, tokens: Option<&Tokens>, tls: bool) {
    if config.access.access_control() {
        tracing::info!(
            tokens = tokens.map_or(0, Tokens::len),
            mtls = config.access.tls_client_ca.is_some(),
            tls,
            http_namespace = %config.gateway.http_namespace(),
            "access control on: gRPC callers need a bearer token or a client certificate"
        );
    } else if config.access.insecure_no_auth {
        tracing::warn!(
            "access control is OFF and --insecure-no-auth allows public listeners: anyone who reaches the gRPC port can read and change every session"
        );
    } else {
        tracing::warn!(
            "protected mode: no --tokens-file or --tls-client-ca, so no access control; listening on loopback only"
        );
    }
}

/// Reloads the tokens file on every SIGHUP; a bad file keeps the tokens in
/// force (see [`Tokens::reload_and_log`]).
async fn reload_on_sighup(mut hangups: Hangups, tokens: Option<Tokens>) {
    while hangups.recv().await.is_some() {
        match &tokens {
            Some(tokens) => tokens.reload_and_log(),
            None => tracing::info!("SIGHUP received; there is no --tokens-file to reload"),
        }
    }
}

#[cfg(unix)]
type Hangups = tokio::signal::unix::Signal;

#[cfg(unix)]
fn sighup() -> io::Result<Hangups> {
    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
}

/// No SIGHUP off Unix: a stream that never yields.
#[cfg(not(unix))]
struct Hangups;

#[cfg(not(unix))]
impl Hangups {
    async fn recv(&mut self) -> Option<()> {
        std::future::pending().await
    }
}

#[cfg(not(unix))]
fn sighup() -> io::Result<Hangups> {
    Ok(Hangups)
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
