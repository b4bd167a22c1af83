//! sessiond: a standalone session server.
//!
//! - [`session`]: the domain — ids, keys, JSON values, limits, errors, and
//!   the types every backend answers with (`SessionInfo`, `SessionRead`).
//! - [`storage`]: the boundary the transports call (`Storage`, `Backend`),
//!   and its backends: `storage::memory` (the sharded in-memory map with TTL
//!   eviction), `storage::durable` (journal and snapshots over memory) and
//!   `storage::redis` (Redis / Valkey, shared by replicas).
//! - [`auth`]: access control: tokens, client certificates, namespaces.
//! - [`clock`]: the one source of time, simulated in tests.
//! - [`grpc`]: the tonic `SessionService` over the storage boundary.
//! - [`admin`]: the admin listener — health, readiness, Prometheus metrics.
//! - [`metrics`]: request, store and process metrics, lock-free to record.
//! - [`lifecycle`]: starting, serving, draining, stopping.
//! - [`gateway`]: the HTTP gateway: browser cookies in, sessions out, over
//!   the same boundary.
//! - [`config`]: every setting, as a flag and a `SESSIOND_*` variable.
//! - [`cli`]: the command line: serve, or `healthcheck`.
//! - [`healthcheck`]: probes a running server's readiness.
//! - [`app`]: binds listeners, picks the backend, wires the parts, shuts
//!   down gracefully.
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
pub mod session;
pub mod storage;
pub mod telemetry;
