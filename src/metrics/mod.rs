//! Prometheus metrics: request counts and latencies recorded by the
//! transports, store and process figures read at scrape time, rendered in
//! the Prometheus text format (0.0.4) for the admin endpoint.
//!
//! The exposition is `metrics-exporter-prometheus`: it writes the classic
//! text format that `/metrics` promises (prometheus-client writes
//! OpenMetrics), and its storage records without locks: counters are one
//! atomic add, and a histogram sample is pushed onto an `AtomicBucket`, a
//! lock-free append-only list that is folded into the buckets only when
//! rendering (or by [`Metrics::run_upkeep`]), never on the request path.

mod process;
mod unknown_ids;

use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use metrics::{Counter, Gauge, Histogram, Key, Label, Metadata, Recorder, Unit};
use metrics_exporter_prometheus::{
    Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};

use crate::storage::durable::PersistStats;
use crate::storage::StoreStats;

/// The content type of [`Metrics::render`]'s output.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Which API served a request: the `api` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Api {
    Grpc,
    Http,
}

impl Api {
    pub fn as_str(self) -> &'static str {
        match self {
            Api::Grpc => "grpc",
            Api::Http => "http",
        }
    }
}

const REQUESTS: &str = "sessiond_requests_total";
const REQUEST_DURATION: &str = "sessiond_request_duration_seconds";
const UNKNOWN_IDS: &str = "sessiond_unknown_session_lookups_total";
const BACKEND_CALLS: &str = "sessiond_backend_calls_total";
const BACKEND_DURATION: &str = "sessiond_backend_duration_seconds";

/// Latency buckets, in seconds: store operations take microseconds, so the
/// low end is fine-grained; the top catches stalls.
const LATENCY_BUCKETS: &[f64] = &[
    0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1,
    0.25, 0.5, 1.0,
];

/// A cheap `Clone` handle on one registry of sessiond's metrics.
#[derive(Clone)]
pub struct Metrics(Arc<Inner>);

struct Inner {
    /// Tells this registry's entries apart in the per-thread handle caches
    /// (tests run several servers in one process).
    id: u64,
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
    scraped: Scraped,
    /// Lookups of unknown session ids, per peer (brute-force detection).
    unknown_ids: unknown_ids::UnknownIds,
    unknown_total: [Counter; 2],
}

/// Figures that are not counted as they happen but read when scraped.
struct Scraped {
    sessions: Gauge,
    data_bytes: Gauge,
    max_sessions: Gauge,
    created: Counter,
    expired: Counter,
    flushed: Counter,
    rotated: Counter,
    refused: Counter,
    persist: PersistGauges,
    process: process::Gauges,
}

/// Durability figures (`--data-dir`); they stay 0 without it.
struct PersistGauges {
    snapshot_time: Gauge,
    snapshot_duration: Gauge,
    snapshot_sessions: Gauge,
    journal_bytes: Gauge,
    replayed: Gauge,
}

/// The handles one (api, method, outcome) records into.
#[derive(Clone)]
struct RequestHandles {
    requests: Counter,
    duration: Histogram,
}

/// The call counts and latency of one operation of a storage backend: see
/// [`Metrics::backend_series`].
#[derive(Clone)]
pub struct BackendSeries {
    ok: Counter,
    error: Counter,
    duration: Histogram,
}

impl BackendSeries {
    /// Counts one call, its outcome and its latency.
    pub fn record(&self, elapsed: Duration, ok: bool) {
        match ok {
            true => self.ok.increment(1),
            false => self.error.increment(1),
        }
        self.duration.record(elapsed.as_secs_f64());
    }
}

/// The request count and latency histogram of one (api, method, outcome):
/// see [`Metrics::series`].
#[derive(Clone)]
pub struct Series(RequestHandles);

impl Series {
    /// Counts one request and its latency, as [`Metrics::record`] does.
    pub fn record(&self, elapsed: Duration) {
        self.0.requests.increment(1);
        self.0.duration.record(elapsed.as_secs_f64());
    }
}

/// Which (registry, api, method, outcome) a cached handle pair is for. The
/// strings are `'static`, so their address and length identify them without
/// hashing their text; two copies of one name at different addresses just
/// get two entries for the same series.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct HandleKey {
    registry: u64,
    api: Api,
    method: (usize, usize),
    outcome: (usize, usize),
}

fn str_key(s: &'static str) -> (usize, usize) {
    (s.as_ptr() as usize, s.len())
}

/// Hashes a [`HandleKey`] with one multiply per word (FxHash's mix)
/// instead of SipHash: the keys are registry numbers and the addresses of
/// `'static` names, never chosen by a client, so there is no flooding to
/// resist, and SipHash stood out in the profile of a Get (BENCHMARKS.md).
#[derive(Default, Clone, Copy)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }

    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
}

type Handles = HashMap<HandleKey, RequestHandles, BuildHasherDefault<KeyHasher>>;

thread_local! {
    /// Each thread resolves a label set to its handles once; after that a
    /// request finds them here, touching no state shared with other threads
    /// but the atomics it records into. Registries are made once per server
    /// (a handful in a test run), so stale entries are bounded.
    static HANDLES: RefCell<Handles> = RefCell::new(Handles::default());
}

static NEXT_REGISTRY: AtomicU64 = AtomicU64::new(0);

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A fresh registry with every metric described and the scrape-time
    /// series registered.
    pub fn new() -> Self {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(REQUEST_DURATION.into()), LATENCY_BUCKETS)
            .expect("latency buckets are not empty")
            .set_buckets_for_metric(Matcher::Full(BACKEND_DURATION.into()), LATENCY_BUCKETS)
            .expect("latency buckets are not empty")
            .build_recorder();
        let describe_counter = |name: &'static str, help: &'static str| {
            recorder.describe_counter(name.into(), None, help.into());
        };
        let describe_gauge = |name: &'static str, unit: Option<Unit>, help: &'static str| {
            recorder.describe_gauge(name.into(), unit, help.into());
        };
        describe_counter(
            REQUESTS,
            "Requests handled, by API (grpc, http), method and outcome (gRPC status code name or HTTP status).",
        );
        recorder.describe_histogram(
            REQUEST_DURATION.into(),
            Some(Unit::Seconds),
            "Time to handle a request inside sessiond, by API and method.".into(),
        );
        describe_gauge(
            "sessiond_sessions",
            None,
            "Sessions held: live ones plus expired ones not yet reclaimed (never readable).",
        );
        describe_gauge(
            "sessiond_session_data_bytes",
            Some(Unit::Bytes),
            "Approximate bytes held: keys and values of all sessions, without per-entry overhead.",
        );
        describe_gauge(
            "sessiond_max_sessions",
            None,
            "The --max-sessions limit: creations beyond it are refused.",
        );
        describe_counter("sessiond_sessions_created_total", "Sessions created.");
        describe_counter(
            "sessiond_sessions_expired_total",
            "Sessions that expired and were reclaimed.",
        );
        describe_counter(
            "sessiond_sessions_flushed_total",
            "Sessions deleted by Flush (logout).",
        );
        describe_counter(
            "sessiond_sessions_rotated_total",
            "Sessions given a new id by Rotate.",
        );
        describe_counter(
            "sessiond_sessions_refused_total",
            "Creations refused because the store held --max-sessions sessions. sessiond never evicts a live session to make room.",
        );
        describe_gauge(
            "sessiond_snapshot_last_timestamp_seconds",
            Some(Unit::Seconds),
            "When the last snapshot finished (Unix time; 0: none yet or no --data-dir).",
        );
        describe_gauge(
            "sessiond_snapshot_last_duration_seconds",
            Some(Unit::Seconds),
            "How long the last snapshot took.",
        );
        describe_gauge(
            "sessiond_snapshot_last_sessions",
            None,
            "Sessions written by the last snapshot.",
        );
        describe_gauge(
            "sessiond_journal_bytes",
            Some(Unit::Bytes),
            "Size of the current journal file; a snapshot truncates the journal.",
        );
        describe_gauge(
            "sessiond_journal_records_replayed",
            None,
            "Records replayed from the snapshot and journal at start-up.",
        );
        describe_counter(
            BACKEND_CALLS,
            "Calls from sessiond to a storage backend across the network (redis), by operation and outcome (ok, error: unreachable, timed out or refused).",
        );
        recorder.describe_histogram(
            BACKEND_DURATION.into(),
            Some(Unit::Seconds),
            "Time of one call to a storage backend across the network, by operation, failures included.".into(),
        );
        process::describe(&recorder);
        describe_counter(
            UNKNOWN_IDS,
            "Lookups of session ids that name no live session, by API (many from one peer suggest brute force; see sessiond_unknown_session_lookups_by_peer).",
        );
        let unknown_total = [Api::Grpc, Api::Http].map(|api| {
            recorder.register_counter(
                &Key::from_parts(
                    UNKNOWN_IDS,
                    vec![Label::from_static_parts("api", api.as_str())],
                ),
                &metadata(),
            )
        });

        let gauge =
            |name: &'static str| recorder.register_gauge(&Key::from_static_name(name), &metadata());
        let counter = |name: &'static str| {
            recorder.register_counter(&Key::from_static_name(name), &metadata())
        };
        let scraped = Scraped {
            sessions: gauge("sessiond_sessions"),
            data_bytes: gauge("sessiond_session_data_bytes"),
            max_sessions: gauge("sessiond_max_sessions"),
            created: counter("sessiond_sessions_created_total"),
            expired: counter("sessiond_sessions_expired_total"),
            flushed: counter("sessiond_sessions_flushed_total"),
            rotated: counter("sessiond_sessions_rotated_total"),
            refused: counter("sessiond_sessions_refused_total"),
            persist: PersistGauges {
                snapshot_time: gauge("sessiond_snapshot_last_timestamp_seconds"),
                snapshot_duration: gauge("sessiond_snapshot_last_duration_seconds"),
                snapshot_sessions: gauge("sessiond_snapshot_last_sessions"),
                journal_bytes: gauge("sessiond_journal_bytes"),
                replayed: gauge("sessiond_journal_records_replayed"),
            },
            process: process::Gauges::register(&recorder),
        };
        let handle = recorder.handle();
        Metrics(Arc::new(Inner {
            id: NEXT_REGISTRY.fetch_add(1, Ordering::Relaxed),
            recorder,
            handle,
            scraped,
            unknown_ids: unknown_ids::UnknownIds::default(),
            unknown_total,
        }))
    }

    /// Counts one request and its latency. `method` is the RPC or route
    /// name, `outcome` the gRPC status code name (`OK`, `NOT_FOUND`, ...) or
    /// the HTTP status (`200`, `404`, ...). After the first call with a
    /// given label set on a thread, this is a thread-local lookup and a few
    /// atomic operations.
    pub fn record(&self, api: Api, method: &'static str, outcome: &'static str, elapsed: Duration) {
        let key = HandleKey {
            registry: self.0.id,
            api,
            method: str_key(method),
            outcome: str_key(outcome),
        };
        HANDLES.with(|cache| {
            let mut cache = cache.borrow_mut();
            let handles = cache
                .entry(key)
                .or_insert_with(|| self.register(api, method, outcome));
            handles.requests.increment(1);
            handles.duration.record(elapsed.as_secs_f64());
        });
    }

    /// The series of one (api, method, outcome), for a transport that keeps
    /// the series it counts requests in: recording into it skips even the
    /// thread-local lookup of [`Metrics::record`]. Registering is idempotent:
    /// every handle of a series counts into the same figures.
    pub fn series(&self, api: Api, method: &'static str, outcome: &'static str) -> Series {
        Series(self.register(api, method, outcome))
    }

    fn register(&self, api: Api, method: &'static str, outcome: &'static str) -> RequestHandles {
        let recorder = &self.0.recorder;
        let requests = Key::from_parts(
            REQUESTS,
            vec![
                Label::from_static_parts("api", api.as_str()),
                Label::from_static_parts("method", method),
                Label::from_static_parts("outcome", outcome),
            ],
        );
        let duration = Key::from_parts(
            REQUEST_DURATION,
            vec![
                Label::from_static_parts("api", api.as_str()),
                Label::from_static_parts("method", method),
            ],
        );
        RequestHandles {
            requests: recorder.register_counter(&requests, &metadata()),
            duration: recorder.register_histogram(&duration, &metadata()),
        }
    }

    /// The series a storage backend across the network counts its calls of
    /// one operation in (`backend` and `op` are labels: `redis`, `read`).
    pub fn backend_series(&self, backend: &'static str, op: &'static str) -> BackendSeries {
        let recorder = &self.0.recorder;
        let labels = |outcome: Option<&'static str>| {
            let mut labels = vec![
                Label::from_static_parts("backend", backend),
                Label::from_static_parts("op", op),
            ];
            labels.extend(outcome.map(|o| Label::from_static_parts("outcome", o)));
            labels
        };
        let calls = |outcome| {
            let key = Key::from_parts(BACKEND_CALLS, labels(Some(outcome)));
            recorder.register_counter(&key, &metadata())
        };
        let duration = Key::from_parts(BACKEND_DURATION, labels(None));
        BackendSeries {
            ok: calls("ok"),
            error: calls("error"),
            duration: recorder.register_histogram(&duration, &metadata()),
        }
    }

    /// Reads the store and process figures, then renders every metric in the
    /// Prometheus text format ([`CONTENT_TYPE`]).
    pub fn render(&self, store: StoreStats, max_sessions: usize) -> String {
        let s = &self.0.scraped;
        s.sessions.set(store.sessions as f64);
        s.data_bytes.set(store.data_bytes as f64);
        s.max_sessions.set(max_sessions as f64);
        s.created.absolute(store.created);
        s.expired.absolute(store.expired);
        s.flushed.absolute(store.flushed);
        s.rotated.absolute(store.rotated);
        s.refused.absolute(store.refused);
        s.process.update();
        let mut text = self.0.handle.render();
        self.0.unknown_ids.render(&mut text);
        text
    }

    /// Counts a lookup of a session id that names no live session, and
    /// from which peer (brute-force detection). Never given the id.
    pub fn unknown_session(&self, api: Api, peer: Option<IpAddr>) {
        let i = match api {
            Api::Grpc => 0,
            Api::Http => 1,
        };
        self.0.unknown_total[i].increment(1);
        if let Some(peer) = peer {
            self.0.unknown_ids.record(api.as_str(), peer);
        }
    }

    /// Sets the durability figures; call before [`Metrics::render`] when
    /// persistence is on.
    pub fn set_persistence(&self, stats: PersistStats) {
        let p = &self.0.scraped.persist;
        p.snapshot_time.set(stats.last_snapshot_ms as f64 / 1000.0);
        p.snapshot_duration
            .set(stats.last_snapshot_duration.as_secs_f64());
        p.snapshot_sessions.set(stats.last_snapshot_sessions as f64);
        p.journal_bytes.set(stats.log_bytes as f64);
        p.replayed.set(stats.records_replayed as f64);
    }

    /// Folds recorded latency samples into their buckets, so memory stays
    /// bounded when nobody scrapes. Run every few seconds.
    pub fn run_upkeep(&self) {
        self.0.handle.run_upkeep();
    }
}

fn metadata() -> Metadata<'static> {
    Metadata::new(module_path!(), metrics::Level::INFO, Some(module_path!()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
        text.lines().find(|l| l.starts_with(prefix))
    }

    #[test]
    fn a_recorded_request_is_counted_and_timed() {
        let metrics = Metrics::new();
        metrics.record(Api::Grpc, "Get", "OK", Duration::from_micros(30));
        metrics.record(Api::Grpc, "Get", "OK", Duration::from_micros(30));
        metrics.record(Api::Grpc, "Get", "NOT_FOUND", Duration::from_millis(2));
        let text = metrics.render(StoreStats::default(), 10);
        assert_eq!(
            line(
                &text,
                r#"sessiond_requests_total{api="grpc",method="Get",outcome="OK"}"#
            ),
            Some(r#"sessiond_requests_total{api="grpc",method="Get",outcome="OK"} 2"#)
        );
        assert!(line(
            &text,
            r#"sessiond_request_duration_seconds_count{api="grpc",method="Get"} 3"#
        )
        .is_some());
        assert!(line(&text, r#"sessiond_request_duration_seconds_bucket{api="grpc",method="Get",le="0.00005"} 2"#).is_some(), "{text}");
    }

    #[test]
    fn a_kept_series_counts_into_the_same_figures_as_record() {
        let metrics = Metrics::new();
        let series = metrics.series(Api::Grpc, "Get", "OK");
        series.record(Duration::from_micros(30));
        metrics.record(Api::Grpc, "Get", "OK", Duration::from_micros(30));
        metrics
            .series(Api::Grpc, "Get", "OK")
            .record(Duration::from_millis(2));
        let text = metrics.render(StoreStats::default(), 10);
        assert_eq!(
            line(
                &text,
                r#"sessiond_requests_total{api="grpc",method="Get",outcome="OK"}"#
            ),
            Some(r#"sessiond_requests_total{api="grpc",method="Get",outcome="OK"} 3"#)
        );
        assert!(line(
            &text,
            r#"sessiond_request_duration_seconds_count{api="grpc",method="Get"} 3"#
        )
        .is_some());
    }

    #[test]
    fn two_registries_do_not_share_counts() {
        let (a, b) = (Metrics::new(), Metrics::new());
        a.record(Api::Http, "GET /session", "200", Duration::ZERO);
        let text = b.render(StoreStats::default(), 10);
        assert!(!text.contains("GET /session"), "{text}");
    }

    #[test]
    fn store_figures_are_read_at_scrape_time() {
        let metrics = Metrics::new();
        let stats = StoreStats {
            sessions: 3,
            data_bytes: 120,
            created: 5,
            expired: 1,
            flushed: 1,
            rotated: 2,
            refused: 4,
        };
        let text = metrics.render(stats, 100);
        for expected in [
            "sessiond_sessions 3",
            "sessiond_session_data_bytes 120",
            "sessiond_max_sessions 100",
            "sessiond_sessions_created_total 5",
            "sessiond_sessions_expired_total 1",
            "sessiond_sessions_flushed_total 1",
            "sessiond_sessions_rotated_total 2",
            "sessiond_sessions_refused_total 4",
        ] {
            assert!(text.lines().any(|l| l == expected), "{expected} in {text}");
        }
    }
}
