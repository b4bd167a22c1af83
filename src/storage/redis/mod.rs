//! The Redis / Valkey backend: sessions held by a standalone server or a
//! Cluster, so that any number of sessiond replicas share them.
//!
//! Layout: one hash per session at `sessiond:{<digest>}`, the digest
//! sessiond keys by in memory (hex of [`SessionId::digest_in`] its
//! namespace, never the id itself) inside a hash tag, so one session is one
//! Cluster slot. Metadata fields (version, created, deadlines, idle
//! timeout, sizes, the namespace's name) start with a NUL byte, which no
//! data key can contain.
//! Redis's own expiry (`PEXPIRE`) is kept at the session's deadline and
//! re-armed by activity; every operation also checks the deadline itself,
//! so a session is gone the instant it passes.
//!
//! Every compound operation is one Lua script ([`scripts`]), atomic on the
//! server. Rotate moves a session to another slot, which no one script can
//! do in a Cluster; it takes three steps, each atomic (`rotate.rs`).
//!
//! Counting sessions across replicas cannot be kept exact without making
//! every Create meet in one slot, so `--max-sessions` and
//! `--max-sessions-per-namespace` are refused at start-up with this backend
//! (bound Redis with `maxmemory` instead).

mod backend;
mod connection;
mod merge;
mod read;
mod rotate;
mod scripts;
mod users;
mod write;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod user_tests;

/// A real `redis-server` (standalone or Cluster) per test, shared with the
/// integration tests.
#[cfg(test)]
#[path = "../../../tests/common/redis_server.rs"]
pub(crate) mod test_server;

use std::collections::HashMap;
use std::fmt::Write as _;
use std::future::Future;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use redis::{RedisError, Value};

use crate::clock::{Clock, Millis};
use crate::metrics::{BackendSeries, Metrics};
use crate::session::{
    validate_key, validate_value, Binding, Digest, Limit, Limits, Namespace, SessionError,
    SessionId, Timeouts,
};
use crate::session::{DataView, FieldsBuf, SessionInfo, SessionRead, Update};
use crate::storage::StoreStats;
use read::Plain;
use scripts::{Malformed, Meta};

pub use connection::{redact, ConnectError, Connection, RedisConfig, Target};

/// Every key this backend writes starts with this, so a Redis shared with
/// other applications keeps sessiond's keys apart (and `SCAN sessiond:*`
/// finds them).
pub const KEY_PREFIX: &str = "sessiond:";

/// Tries at a fresh id when the one drawn is taken (never seen in practice:
/// ids carry ~165 random bits).
const ID_TRIES: usize = 4;

/// A session as a read found it: its info and the data asked for.
#[derive(Debug)]
pub struct Found {
    pub info: SessionInfo,
    pub fields: Vec<(String, String)>,
}

/// Handle on the Redis backend; cheap to clone (one pointer), so that an
/// operation's future can own one.
#[derive(Clone)]
pub struct Redis(Arc<Inner>);

pub struct Inner {
    connection: Connection,
    clock: Clock,
    limits: Limits,
    timeouts: Timeouts,
    /// Bound on one call to Redis.
    timeout: Duration,
    /// Keys in Redis at the last [`Redis::ping`] (DBSIZE): the sessions
    /// gauge, when the database holds only sessiond's keys.
    keys: AtomicUsize,
    /// Counted by this replica only: others count their own.
    created: AtomicU64,
    flushed: AtomicU64,
    rotated: AtomicU64,
    /// Bindings refused by `--per-user-limit-policy refuse`.
    refused: AtomicU64,
    /// Call counts and latency per operation, for `/metrics`.
    series: Series,
}

/// The metrics series of each operation.
struct Series {
    create: BackendSeries,
    read: BackendSeries,
    set: BackendSeries,
    flush: BackendSeries,
    touch: BackendSeries,
    rotate: BackendSeries,
    ping: BackendSeries,
    /// A Set with a mode (`write.lua`), and the walks of CountSessions and
    /// ClearSessions.
    write: BackendSeries,
    namespace: BackendSeries,
    /// BindUser, the walks of a user's index, and their index steps.
    users: BackendSeries,
}

impl Series {
    fn new(metrics: &Metrics) -> Self {
        let s = |op| metrics.backend_series("redis", op);
        Series {
            create: s("create"),
            read: s("read"),
            set: s("set"),
            flush: s("flush"),
            touch: s("touch"),
            rotate: s("rotate"),
            ping: s("ping"),
            write: s("write"),
            namespace: s("namespace"),
            users: s("users"),
        }
    }
}

impl std::ops::Deref for Redis {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl Redis {
    /// The backend over `config`'s server or Cluster; the scripts are loaded
    /// on first use (and again after a server restart). Calls are counted
    /// in `metrics`.
    pub async fn connect(
        config: &RedisConfig,
        limits: Limits,
        timeouts: Timeouts,
        clock: Clock,
        metrics: &Metrics,
    ) -> Result<Self, ConnectError> {
        let connection = Connection::open(config).await?;
        Ok(Self::over(
            connection, config, limits, timeouts, clock, metrics,
        ))
    }

    /// [`Self::connect`] to a standalone server, which connects on first
    /// use: for callers with no runtime to wait in yet.
    pub fn standalone(
        config: &RedisConfig,
        limits: Limits,
        timeouts: Timeouts,
        clock: Clock,
        metrics: &Metrics,
    ) -> Result<Self, ConnectError> {
        let connection = Connection::standalone(config)?;
        Ok(Self::over(
            connection, config, limits, timeouts, clock, metrics,
        ))
    }

    fn over(
        connection: Connection,
        config: &RedisConfig,
        limits: Limits,
        timeouts: Timeouts,
        clock: Clock,
        metrics: &Metrics,
    ) -> Self {
        Redis(Arc::new(Inner {
            connection,
            clock,
            limits,
            timeouts,
            timeout: config.timeout,
            keys: AtomicUsize::new(0),
            created: AtomicU64::new(0),
            flushed: AtomicU64::new(0),
            rotated: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            series: Series::new(metrics),
        }))
    }

    /// What this replica counted, and the keys Redis held at the last ping.
    pub fn stats(&self) -> StoreStats {
        StoreStats {
            sessions: self.keys.load(Ordering::Relaxed),
            created: self.created.load(Ordering::Relaxed),
            flushed: self.flushed.load(Ordering::Relaxed),
            rotated: self.rotated.load(Ordering::Relaxed),
            refused: self.refused.load(Ordering::Relaxed),
            ..StoreStats::default()
        }
    }

    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    pub fn timeouts(&self) -> &Timeouts {
        &self.timeouts
    }

    /// How long a Rotate holds a session while it moves it: longer than its
    /// three steps can take (each bounded by the call timeout), short enough
    /// that a sessiond that died half-way locks the user out only briefly.
    pub fn rotation_hold(&self) -> Duration {
        self.timeout * 4 + Duration::from_secs(1)
    }

    /// Whether Redis answers within the call timeout (every master, in a
    /// Cluster). Asks DBSIZE, which also refreshes the sessions gauge.
    pub async fn ping(&self) -> Result<(), SessionError> {
        let dbsize = redis::cmd("DBSIZE");
        let answer = self
            .call(&self.series.ping, self.connection.command(&dbsize))
            .await?;
        let keys = scripts::int(&answer).map_err(malformed)?;
        self.keys
            .store(usize::try_from(keys).unwrap_or(0), Ordering::Relaxed);
        Ok(())
    }

    /// Loads every script now, so the first requests after start do not each
    /// pay a NOSCRIPT round trip.
    pub async fn load_scripts(&self) -> Result<(), SessionError> {
        for script in scripts::all() {
            let load = script.prepare_invoke();
            match &self.connection {
                Connection::Standalone(c) => {
                    let mut c = c.clone();
                    let loaded = tokio::time::timeout(self.timeout, load.load_async(&mut c));
                    flatten(loaded.await)?;
                }
                Connection::Cluster(_) => {
                    // Loaded per node on first use (NOSCRIPT), which follows
                    // the slot to whichever node holds it.
                }
            }
        }
        Ok(())
    }

    /// A new session in `ns` holding `data`, under a fresh id.
    pub async fn create(
        &self,
        ns: &Namespace,
        data: HashMap<String, String>,
        idle_timeout: Option<Duration>,
    ) -> Result<SessionInfo, SessionError> {
        self.create_with(ns, data, idle_timeout, None).await
    }

    /// [`Self::create`], bound to `binding`'s user when there is one: the
    /// session joins the user's index first, so it is findable the moment
    /// it exists.
    async fn create_with(
        &self,
        ns: &Namespace,
        data: HashMap<String, String>,
        idle_timeout: Option<Duration>,
        binding: Option<&Binding>,
    ) -> Result<SessionInfo, SessionError> {
        let idle = self.checked_idle(idle_timeout)?;
        for (key, value) in &data {
            validate_key(key, &self.limits)?;
            validate_value(key, value, &self.limits)?;
        }
        if data.len() > self.limits.max_keys {
            return Err(SessionError::limit(
                Limit::Keys,
                format!("{} keys", data.len()),
                self.limits.max_keys,
            ));
        }
        let bytes: usize = data.iter().map(|(k, v)| k.len() + v.len()).sum();
        self.check_session_bytes(bytes)?;

        let now = self.clock.now_ms();
        let idle_ms = millis(idle);
        let absolute = self
            .timeouts
            .absolute
            .map(|a| now.saturating_add(millis(a)));
        let deadline = now
            .saturating_add(idle_ms)
            .min(absolute.unwrap_or(Millis::MAX));
        for _ in 0..ID_TRIES {
            let id = SessionId::generate();
            let digest = id.digest_in(ns);
            let joined = match binding {
                Some(b) => Some((
                    b,
                    self.join_index(ns, &b.user, digest, now, absolute).await?,
                )),
                None => None,
            };
            let mut call = scripts::CREATE.key(key(&digest));
            call.arg(now)
                .arg(idle_ms)
                .arg(absolute.map(|a| a.to_string()).unwrap_or_default())
                .arg(bytes)
                .arg(data.len())
                .arg(ns.as_str());
            match &joined {
                Some((b, j)) => call
                    .arg(b.user.as_str())
                    .arg(j.epoch())
                    .arg(&b.user_agent)
                    .arg(&b.ip),
                None => call.arg("").arg("").arg("").arg(""),
            };
            for (k, v) in &data {
                call.arg(k).arg(v);
            }
            let created = self
                .call(&self.series.create, self.connection.invoke(&call))
                .await?;
            if scripts::int(&created).map_err(malformed)? != 1 {
                // The id was taken: the member names another session.
                if let Some((_, j)) = &joined {
                    self.leave_index(j).await;
                }
                continue;
            }
            self.created.fetch_add(1, Ordering::Relaxed);
            return Ok(SessionInfo {
                id,
                version: 1,
                created_ms: now,
                expires_ms: deadline,
                idle_timeout: idle,
            });
        }
        Err(backend("found no free id", "every id drawn was taken"))
    }

    /// Reads the named keys (all when `keys` is empty); slides the idle
    /// deadline when `touch`. A plain HGETALL / HMGET answers it when it
    /// shows the read script would write nothing (`read.rs`); the script
    /// runs only for a slide that is due or a deadline that has passed.
    pub async fn read(
        &self,
        ns: &Namespace,
        id: SessionId,
        keys: Vec<String>,
        touch: bool,
    ) -> Result<Found, SessionError> {
        let mut keys = keys;
        for k in &keys {
            validate_key(k, &self.limits)?;
        }
        // A key asked twice is answered once, as memory's view does.
        keys.sort_unstable();
        keys.dedup();
        let now = self.clock.now_ms();
        let session_key = key(&id.digest_in(ns));
        let mut plain = match keys.is_empty() {
            true => redis::cmd("HGETALL"),
            false => redis::cmd("HMGET"),
        };
        plain.arg(&session_key);
        if !keys.is_empty() {
            plain.arg(&read::META_FIELDS[..]).arg(&keys);
        }
        let answer = self
            .call(&self.series.read, self.connection.command(&plain))
            .await?;
        let (decided, fields) = match keys.is_empty() {
            true => read::decide_all(answer, now, touch),
            false => read::decide_named(answer, &keys, now, touch),
        }
        .map_err(malformed)?;
        match decided {
            Plain::Absent => return Err(SessionError::NotFound),
            Plain::Live(meta) => {
                return Ok(Found {
                    info: info(id, meta),
                    fields,
                })
            }
            Plain::Script => {}
        }
        let mut call = scripts::READ.key(session_key);
        call.arg(now).arg(if touch { "1" } else { "0" });
        for k in &keys {
            call.arg(k);
        }
        let answer = self
            .call(&self.series.read, self.connection.invoke(&call))
            .await?;
        let mut items = scripts::array(answer).map_err(malformed)?;
        let meta = found(&items)?;
        let data = items.pop().ok_or(Malformed).map_err(malformed)?;
        let fields = match keys.is_empty() {
            true => scripts::data_fields(data),
            false => scripts::named_fields(data, &keys),
        }
        .map_err(malformed)?;
        Ok(Found {
            info: info(id, meta),
            fields,
        })
    }

    /// Applies every upsert and removal of `update` atomically, or nothing.
    /// `versions` (the update's expected version, or a merge's accepted
    /// ones) refuses unless the session is at one of them. With
    /// `with_data`, answers the whole session as it is after.
    pub async fn set(
        &self,
        ns: &Namespace,
        id: &SessionId,
        mut update: Update,
        versions: &[u64],
        with_data: bool,
    ) -> Result<(SessionInfo, Vec<(String, String)>), SessionError> {
        self.checked_update(&mut update)?;
        let now = self.clock.now_ms();
        let mut call = scripts::SET.key(key(&id.digest_in(ns)));
        call.arg(now)
            .arg(self.limits.max_keys)
            .arg(self.limits.max_session_bytes)
            .arg(if with_data { "1" } else { "0" });
        let versions: Vec<u64> = update
            .expected_version
            .into_iter()
            .chain(versions.iter().copied())
            .collect();
        call.arg(versions.len());
        for v in &versions {
            call.arg(*v);
        }
        call.arg(update.upsert.len());
        for (k, v) in &update.upsert {
            call.arg(k).arg(v);
        }
        for k in &update.remove {
            call.arg(k);
        }
        let answer = self
            .call(&self.series.set, self.connection.invoke(&call))
            .await?;
        let mut items = scripts::array(answer).map_err(malformed)?;
        self.refusal(
            &items,
            update.expected_version.or(versions.first().copied()),
        )?;
        let meta = scripts::meta(&items).map_err(malformed)?;
        let fields = match with_data {
            true => {
                let data = items.pop().ok_or(Malformed).map_err(malformed)?;
                scripts::data_fields(data).map_err(malformed)?
            }
            false => Vec::new(),
        };
        Ok((info(id.clone(), meta), fields))
    }

    /// Deletes the session. Idempotent: `false` when there was no live one.
    pub async fn flush(&self, ns: &Namespace, id: &SessionId) -> Result<bool, SessionError> {
        let now = self.clock.now_ms();
        let mut call = scripts::FLUSH.key(key(&id.digest_in(ns)));
        call.arg(now);
        let answer = self
            .call(&self.series.flush, self.connection.invoke(&call))
            .await?;
        let items = scripts::array(answer).map_err(malformed)?;
        let existed = scripts::status(&items).map_err(malformed)? == 1;
        if existed {
            self.flushed.fetch_add(1, Ordering::Relaxed);
            let binding = users::binding_at(&items, 1);
            self.unindex(ns, id.digest_in(ns), binding).await;
        }
        Ok(existed)
    }

    /// Slides the idle deadline; with `idle_timeout`, first changes the
    /// session's idle timeout.
    pub async fn touch(
        &self,
        ns: &Namespace,
        id: &SessionId,
        idle_timeout: Option<Duration>,
    ) -> Result<SessionInfo, SessionError> {
        let idle = match idle_timeout {
            Some(idle) => millis(self.checked_idle(Some(idle))?).to_string(),
            None => String::new(),
        };
        let now = self.clock.now_ms();
        let mut call = scripts::TOUCH.key(key(&id.digest_in(ns)));
        call.arg(now).arg(idle);
        let answer = self
            .call(&self.series.touch, self.connection.invoke(&call))
            .await?;
        let items = scripts::array(answer).map_err(malformed)?;
        Ok(info(id.clone(), found(&items)?))
    }

    /// One call to Redis, bounded by the call timeout: an outage answers
    /// [`SessionError`] at once rather than hang.
    async fn call(
        &self,
        series: &BackendSeries,
        call: impl Future<Output = Result<Value, RedisError>>,
    ) -> Result<Value, SessionError> {
        let started = std::time::Instant::now();
        let result = flatten(tokio::time::timeout(self.timeout, call).await);
        series.record(started.elapsed(), result.is_ok());
        result
    }

    /// The refusal a Set-like script answered (`{2, version}`, `{3, keys}`,
    /// `{4, bytes}`, `{0}`), or nothing for `{1, ...}`.
    fn refusal(&self, items: &[Value], expected: Option<u64>) -> Result<(), SessionError> {
        match scripts::status(items).map_err(malformed)? {
            1 => Ok(()),
            2 => {
                let actual = items
                    .get(1)
                    .map(scripts::int)
                    .transpose()
                    .map_err(malformed)?;
                Err(SessionError::VersionMismatch {
                    expected: expected.unwrap_or(0),
                    actual: actual.unwrap_or(0) as u64,
                })
            }
            3 => {
                let keys = figure(items)?;
                Err(SessionError::limit(
                    Limit::Keys,
                    format!("{keys} keys"),
                    self.limits.max_keys,
                ))
            }
            4 => {
                let bytes = figure(items)?;
                Err(SessionError::limit(
                    Limit::SessionBytes,
                    format!("session of {bytes} bytes"),
                    self.limits.max_session_bytes,
                ))
            }
            _ => Err(SessionError::NotFound),
        }
    }

    /// Validates every key and value of `update`, and sorts and dedups its
    /// removals, as memory does.
    fn checked_update(&self, update: &mut Update) -> Result<(), SessionError> {
        update.remove.sort_unstable();
        update.remove.dedup();
        for (k, v) in &update.upsert {
            validate_key(k, &self.limits)?;
            validate_value(k, v, &self.limits)?;
        }
        for k in &update.remove {
            validate_key(k, &self.limits)?;
            if update.upsert.contains_key(k) {
                return Err(SessionError::InvalidKey(format!(
                    "key {k:?} is both upserted and removed in one request"
                )));
            }
        }
        Ok(())
    }

    fn checked_idle(&self, requested: Option<Duration>) -> Result<Duration, SessionError> {
        let t = &self.timeouts;
        match requested {
            None => Ok(t.default_idle),
            Some(d) if d >= t.min_idle && d <= t.max_idle => Ok(d),
            Some(d) => Err(SessionError::IdleTimeoutOutOfBounds {
                requested: d,
                min: t.min_idle,
                max: t.max_idle,
            }),
        }
    }

    fn check_session_bytes(&self, bytes: usize) -> Result<(), SessionError> {
        let max = self.limits.max_session_bytes;
        if bytes > max {
            return Err(SessionError::limit(
                Limit::SessionBytes,
                format!("session of {bytes} bytes"),
                max,
            ));
        }
        Ok(())
    }
}

/// The Redis key of the session `digest` names: the digest in hex inside a
/// hash tag, so every field of one session is in one slot.
pub fn key(digest: &Digest) -> String {
    let mut key = String::with_capacity(KEY_PREFIX.len() + 34);
    key.push_str(KEY_PREFIX);
    key.push('{');
    for b in digest.0 {
        let _ = write!(key, "{b:02x}");
    }
    key.push('}');
    key
}

fn millis(d: Duration) -> Millis {
    u64::try_from(d.as_millis()).unwrap_or(Millis::MAX)
}

/// A read's answer at the boundary: `fields` are exactly the keys read
/// (each once), so the view filters nothing.
fn whole(info: SessionInfo, fields: Vec<(String, String)>) -> SessionRead {
    let held = FieldsBuf::from_pairs(fields.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    SessionRead {
        info,
        data: DataView::owned(held, Vec::new()),
    }
}

fn info(id: SessionId, meta: Meta) -> SessionInfo {
    SessionInfo {
        id,
        version: meta.version,
        created_ms: meta.created_ms,
        expires_ms: meta.expires_ms,
        idle_timeout: meta.idle,
    }
}

/// The info of an answer that is `{1, ...}`, or NotFound for `{0}`.
fn found(items: &[Value]) -> Result<Meta, SessionError> {
    match scripts::status(items).map_err(malformed)? {
        1 => scripts::meta(items).map_err(malformed),
        _ => Err(SessionError::NotFound),
    }
}

/// The figure of a refusal `{status, figure}`.
fn figure(items: &[Value]) -> Result<i64, SessionError> {
    let n = items.get(1).ok_or(Malformed).map_err(malformed)?;
    scripts::int(n).map_err(malformed)
}

fn flatten<T>(
    result: Result<Result<T, RedisError>, tokio::time::error::Elapsed>,
) -> Result<T, SessionError> {
    match result {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => {
            let what = if e.is_timeout() {
                "timed out"
            } else if e.is_io_error() || e.is_connection_dropped() || e.is_connection_refusal() {
                "unreachable"
            } else {
                "refused the call"
            };
            Err(backend(what, &connection::scrub(&e.to_string())))
        }
        Err(_) => Err(backend("timed out", "no answer within the call timeout")),
    }
}

fn malformed(_: Malformed) -> SessionError {
    backend(
        "answered in an unexpected shape",
        "a script's answer did not parse",
    )
}

/// A failure of Redis, not of the request: UNAVAILABLE, retryable. The
/// client learns `what` (a few words); the detail is logged once here,
/// never with a session id or value.
fn backend(what: &'static str, detail: &str) -> SessionError {
    tracing::warn!(detail, "redis backend call failed: {what}");
    SessionError::Backend(format!("redis {what}"))
}
