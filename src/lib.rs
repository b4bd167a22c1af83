//! sessiond: a standalone session server.
//!
//! - [`session`]: the domain — ids, keys, JSON values, limits, errors.
//! - [`store`]: the sharded in-memory map with TTL eviction.
//! - [`auth`]: access control: tokens, client certificates, namespaces.
//! - [`clock`]: the one source of time, simulated in tests.
//! - [`grpc`]: the tonic `SessionService` over the store.
//! - [`admin`]: the admin listener — health, readiness, Prometheus metrics.
//! - [`metrics`]: request, store and process metrics, lock-free to record.
//! - [`lifecycle`]: starting, serving, draining, stopping.
//! - [`gateway`]: the HTTP gateway: browser cookies in, sessions out.
//! - [`config`]: every setting, as a flag and a `SESSIOND_*` variable.
//! - [`cli`]: the command line: serve, or `healthcheck`.
//! - [`healthcheck`]: probes a running server's readiness.
//! - [`app`]: binds listeners, wires the parts, shuts down gracefully.
//! - [`telemetry`]: tracing subscriber setup.

pub mod admin;
pub mod alloc;
pub mod app;
pub mod auth;
pub mod cli;
pub mod clock;
pub mod config;
pub mod gateway;
pub mod grpc;
pub mod healthcheck;
pub mod lifecycle;
pub mod metrics;
pub mod persist;
pub mod session;
pub mod store;
pub mod telemetry;
