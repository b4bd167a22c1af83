# syntax=docker/dockerfile:1
# sessiond: a multi-stage build. The builder compiles the dependencies in a
# layer of their own (cargo-chef), so editing src/ rebuilds only sessiond
# itself; the runtime is distroless `cc` (glibc and libgcc, no shell, no
# package manager) running as a non-root user.

FROM rust:1-bookworm AS chef
# cargo-chef, compiled from crates.io: it turns the manifests into a recipe
# of the dependencies alone, whatever targets (benches, tests) they declare.
RUN cargo install cargo-chef --locked
WORKDIR /src

FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

FROM chef AS builder
# The release profile keeps line tables for profiling; the image does not
# need them.
ENV CARGO_PROFILE_RELEASE_STRIP=debuginfo
# 1. Dependencies only: this layer is cached until the recipe changes
#    (Cargo.toml, Cargo.lock). protoc is vendored; proto/ is there in case
#    the build script runs.
COPY --from=planner /src/recipe.json recipe.json
COPY proto proto
RUN cargo chef cook --release --locked --recipe-path recipe.json
# 2. sessiond itself.
COPY . .
RUN cargo build --release --locked --bin sessiond
# An empty data directory for the runtime image, which has no shell to make one.
RUN mkdir -p /empty-data

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=builder /src/target/release/sessiond /usr/local/bin/sessiond
# Sessions persist here (journal + snapshots), so a restart or a redeploy
# does not log everyone out; mount a volume on it. 65532 is distroless's
# nonroot user.
COPY --from=builder --chown=65532:65532 /empty-data /var/lib/sessiond
VOLUME /var/lib/sessiond

# Every setting is a SESSIOND_* variable (see `sessiond --help`); inside the
# container the listeners bind all interfaces, and the ports are published
# (or not) by whoever runs it. Keep 9090 (admin) off the public network.
# SESSIOND_HTTP_ADDR is the HTTP cookie gateway's listener.
# Access control: gRPC callers need a bearer token whose hash is in the
# tokens file, mounted here as a secret (lines from `sessiond hash-token`).
# Without the file sessiond refuses to start on 0.0.0.0 (protected mode).
ENV SESSIOND_GRPC_ADDR=0.0.0.0:50051 \
    SESSIOND_HTTP_ADDR=0.0.0.0:8080 \
    SESSIOND_ADMIN_ADDR=0.0.0.0:9090 \
    SESSIOND_DATA_DIR=/var/lib/sessiond \
    SESSIOND_TOKENS_FILE=/run/secrets/sessiond_tokens \
    SESSIOND_LOG_FORMAT=json

USER nonroot:nonroot
EXPOSE 50051 8080 9090

# On SIGTERM sessiond reports not-ready for SESSIOND_DRAIN_DELAY (default
# 5s), then closes its listeners and lets in-flight requests finish within
# SESSIOND_SHUTDOWN_GRACE (default 30s): give `docker stop` (-t) or the
# orchestrator's grace period at least the sum.
STOPSIGNAL SIGTERM

# `sessiond healthcheck` GETs /readyz on SESSIOND_ADMIN_ADDR (0.0.0.0 is
# probed through 127.0.0.1): no curl needed.
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
    CMD ["/usr/local/bin/sessiond", "healthcheck"]

ENTRYPOINT ["/usr/local/bin/sessiond"]
