//! sessiond: a standalone session server.
//!
//! - [`session`]: the domain — ids, keys, JSON values, limits, errors.
//! - [`store`]: the sharded in-memory map with TTL eviction.
//! - [`clock`]: the one source of time, simulated in tests.
//! - [`grpc`]: the tonic `SessionService` over the store.
//! - [`gateway`]: the HTTP gateway: browser cookies in, sessions out.
//! - [`config`]: every setting, as a flag and a `SESSIOND_*` variable.
//! - [`app`]: binds listeners, wires the parts, shuts down gracefully.
//! - [`telemetry`]: tracing subscriber setup.

pub mod app;
pub mod clock;
pub mod config;
pub mod gateway;
pub mod grpc;
pub mod lifecycle;
pub mod session;
pub mod store;
pub mod telemetry;
