//! The near cache: whole sessions kept in this process, so that a Get of a
//! session read before costs no RPC, and kept valid by one namespace-wide
//! `Watch` whose events evict what changed or ended anywhere.
//!
//! Correctness rests on three rules, each enforced under one lock:
//! - nothing is cached unless the Watch is live (its `resync` seen), and a
//!   resync or the stream ending drops everything (events may have been
//!   missed);
//! - a read that was in flight when an event about its session arrived, or
//!   that began before the Watch's latest (re)start, is answered but not
//!   cached: its reply may predate the change;
//! - a write through this cache (Set, Touch, Flush) drops the session once
//!   the server has answered, and discards reads then in flight, so this
//!   process reads its own writes without waiting for their event.

use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use lru::LruCache;
use sha2::{Digest, Sha256};
use tokio::sync::watch;
use tokio::task::AbortHandle;
use tonic::{Code, Status};

use crate::pb;
use crate::pb::watch_event::Event as Kind;
use crate::{Client, Pipeline};

/// How big a near cache may grow, and how often a hit slides the deadline.
#[derive(Debug, Clone)]
pub struct NearCacheConfig {
    /// Most sessions held; the least recently read goes first.
    pub max_entries: usize,
    /// Most bytes of keys and values held.
    pub max_bytes: usize,
    /// How long after a session's deadline last slid a hit slides it again
    /// (a background Touch). `None`: 1/64 of its idle timeout, at least
    /// one second, the granule the Redis backend slides by.
    pub slide_interval: Option<Duration>,
}

impl Default for NearCacheConfig {
    fn default() -> Self {
        NearCacheConfig {
            max_entries: 10_000,
            max_bytes: 64 << 20,
            slide_interval: None,
        }
    }
}

/// What a near cache has done since it was opened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NearCacheStats {
    /// Gets answered from the cache.
    pub hits: u64,
    /// Gets sent to the server.
    pub misses: u64,
    /// Watch events received (resyncs included).
    pub events: u64,
    /// Sessions dropped by an event, a write, or for room.
    pub evictions: u64,
}

/// A cloneable handle on one near cache; clones share it, and the Watch
/// behind it stops when the last clone is dropped.
#[derive(Clone)]
pub struct NearCache {
    shared: Arc<Shared>,
}

/// A handle: the first 16 bytes of the session's digest in its namespace,
/// as a namespace Watch names it (hex on the wire).
type Handle = [u8; 16];

struct Shared {
    client: Client,
    config: NearCacheConfig,
    pipeline: Mutex<Pipeline>,
    /// Held while a closed Pipeline is being replaced, so one call opens it.
    reopening: tokio::sync::Mutex<()>,
    state: Mutex<State>,
    /// Whether the Watch is live; `Err` once the server refused Watch for
    /// good (UNIMPLEMENTED: the Redis backend).
    live: watch::Sender<Result<bool, Status>>,
    watcher: Mutex<Option<AbortHandle>>,
    hits: AtomicU64,
    misses: AtomicU64,
    events: AtomicU64,
    /// Sessions dropped so far; a change wakes [`NearCache::evicted`].
    evictions: watch::Sender<u64>,
}

impl Drop for Shared {
    fn drop(&mut self) {
        if let Some(watcher) = self.watcher.get_mut().unwrap_or_else(|e| e.into_inner()) {
            watcher.abort();
        }
    }
}

struct State {
    /// The caller's namespace while the Watch is live.
    namespace: Option<String>,
    /// Grows whenever events may have been missed (a resync, the stream
    /// ending): reads begun before are not cached.
    generation: u64,
    entries: LruCache<Handle, Cached>,
    bytes: usize,
    /// Reads in flight, by session.
    pending: HashMap<Handle, Pending>,
}

struct Cached {
    reply: Arc<pb::GetResponse>,
    version: u64,
    bytes: usize,
    idle: Duration,
    /// When the deadline last slid (a Get or Touch was sent).
    slid_at: Instant,
}

#[derive(Default)]
struct Pending {
    readers: usize,
    /// An event or write about the session came while they were in flight.
    invalidated: bool,
}

impl Client {
    /// Opens a near cache over this client: one Pipeline stream for its
    /// reads and writes, one namespace-wide Watch to keep it valid. Until
    /// the Watch is live (see [`NearCache::ready`]) every Get goes to the
    /// server.
    pub async fn near_cache(&self, config: NearCacheConfig) -> Result<NearCache, Status> {
        let pipeline = self.pipeline().await?;
        let shared = Arc::new(Shared {
            client: self.clone(),
            pipeline: Mutex::new(pipeline),
            reopening: tokio::sync::Mutex::new(()),
            state: Mutex::new(State::new(config.max_entries)),
            config,
            live: watch::Sender::new(Ok(false)),
            watcher: Mutex::new(None),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            events: AtomicU64::new(0),
            evictions: watch::Sender::new(0),
        });
        let task = tokio::spawn(keep_watching(self.clone(), Arc::downgrade(&shared)));
        *shared.watcher.lock().unwrap_or_else(|e| e.into_inner()) = Some(task.abort_handle());
        Ok(NearCache { shared })
    }
}

impl NearCache {
    /// Resolves once the Watch is live, so that Gets may be cached; fails
    /// if the server does not offer Watch (`--backend redis`), in which
    /// case the cache passes every call through. Waits through a server
    /// that is down: bound it with a timeout.
    pub async fn ready(&self) -> Result<(), Status> {
        let mut live = self.shared.live.subscribe();
        let seen = live
            .wait_for(|l| !matches!(l, Ok(false)))
            .await
            .map_err(|_| Status::cancelled("the near cache was dropped"))?;
        match &*seen {
            Err(status) => Err(status.clone()),
            Ok(_) => Ok(()),
        }
    }

    /// The whole session (every key): from the cache when it holds it,
    /// otherwise from the server, then cached if nothing changed it
    /// meanwhile. Counts as activity either way: a hit slides the deadline
    /// in the background once per slide interval.
    pub async fn get(&self, id: &str) -> Result<Arc<pb::GetResponse>, Status> {
        let (hit, read) = {
            let mut state = self.shared.lock();
            match state.namespace.as_deref().map(|ns| handle_of(ns, id)) {
                None => (None, None),
                Some(handle) => match self.hit(&mut state, handle, id) {
                    Some(hit) => (Some(hit), None),
                    None => {
                        let generation = state.begin_read(handle);
                        let read = PendingRead {
                            shared: &self.shared,
                            handle,
                            generation,
                        };
                        (None, Some(read))
                    }
                },
            }
        };
        if let Some(hit) = hit {
            // A hit never waits: spend the task's cooperative budget as
            // Tokio's own resources do, so that a loop of hits lets the
            // runtime's other tasks run.
            tokio::task::coop::consume_budget().await;
            return Ok(hit);
        }
        self.shared.misses.fetch_add(1, Ordering::Relaxed);
        let sent_at = Instant::now();
        let reply = self.pipeline().await?.get(id.to_owned(), vec![]).await;
        let reply = Arc::new(reply?);
        if let Some(read) = read {
            read.finish(reply.clone(), sent_at);
        }
        Ok(reply)
    }

    /// Set through the cache's Pipeline; the session is dropped from the
    /// cache once the server has answered, so the next Get reads the write.
    pub async fn set(&self, request: pb::SetRequest) -> Result<pb::SetResponse, Status> {
        let id = request.id.clone();
        let answer = self.pipeline().await?.set(request).await;
        self.invalidate(&id);
        answer
    }

    /// Touch through the cache's Pipeline (a new idle timeout, say); the
    /// session is dropped from the cache once answered.
    pub async fn touch(&self, request: pb::TouchRequest) -> Result<pb::TouchResponse, Status> {
        let id = request.id.clone();
        let answer = self.pipeline().await?.touch(request).await;
        self.invalidate(&id);
        answer
    }

    /// Flush through the cache's Pipeline: whether a live session was
    /// deleted; dropped from the cache once answered.
    pub async fn flush(&self, id: &str) -> Result<bool, Status> {
        let answer = self.pipeline().await?.flush(id.to_owned()).await;
        self.invalidate(id);
        answer
    }

    /// Drops `id` from the cache and keeps reads in flight out of it: for
    /// a change made another way than through this cache (a unary Rotate
    /// or BindUser, say), before its Watch event arrives.
    pub fn invalidate(&self, id: &str) {
        let mut state = self.shared.lock();
        if let Some(handle) = state.namespace.as_deref().map(|ns| handle_of(ns, id)) {
            let dropped = state.forget(&handle, None);
            self.shared.evicted(dropped);
        }
    }

    /// Whether `id` is cached now (a Get of it would cost no RPC).
    pub fn is_cached(&self, id: &str) -> bool {
        let state = self.shared.lock();
        state
            .namespace
            .as_deref()
            .is_some_and(|ns| state.entries.contains(&handle_of(ns, id)))
    }

    /// Resolves once `id` is not cached (at once if it is not): to wait for
    /// a change made elsewhere to reach this cache, without polling.
    pub async fn evicted(&self, id: &str) {
        let mut evictions = self.shared.evictions.subscribe();
        // Subscribed first, so an eviction between the check and the wait
        // still wakes it; the sender lives as long as `self`.
        while self.is_cached(id) {
            if evictions.changed().await.is_err() {
                return;
            }
        }
    }

    /// Sessions held now.
    pub fn len(&self) -> usize {
        self.shared.lock().entries.len()
    }

    /// Whether no session is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn stats(&self) -> NearCacheStats {
        let s = &self.shared;
        NearCacheStats {
            hits: s.hits.load(Ordering::Relaxed),
            misses: s.misses.load(Ordering::Relaxed),
            events: s.events.load(Ordering::Relaxed),
            evictions: *s.evictions.borrow(),
        }
    }

    /// A cached session's reply, sliding its deadline if it is due. An
    /// entry past its idle deadline as measured here is dropped instead
    /// (the server has ended it, or is about to).
    fn hit(&self, state: &mut State, handle: Handle, id: &str) -> Option<Arc<pb::GetResponse>> {
        let now = Instant::now();
        let interval = self.shared.config.slide_interval;
        let cached = state.entries.get_mut(&handle)?;
        if now >= cached.slid_at + cached.idle {
            let dropped = state.forget(&handle, None);
            self.shared.evicted(dropped);
            return None;
        }
        let reply = cached.reply.clone();
        if slide_due(cached.slid_at, now, cached.idle, interval) {
            cached.slid_at = now;
            self.slide(id.to_owned());
        }
        self.shared.hits.fetch_add(1, Ordering::Relaxed);
        Some(reply)
    }

    /// Touches `id` in the background; a session the server no longer has
    /// is dropped.
    fn slide(&self, id: String) {
        let cache = self.clone();
        tokio::spawn(async move {
            let touch = pb::TouchRequest {
                id: id.clone(),
                idle_timeout: None,
            };
            let touched = match cache.pipeline().await {
                Ok(pipeline) => pipeline.touch(touch).await,
                Err(status) => Err(status),
            };
            if touched.is_err_and(|s| s.code() == Code::NotFound) {
                cache.invalidate(&id);
            }
        });
    }

    /// The Pipeline, opened anew if the last one ended.
    async fn pipeline(&self) -> Result<Pipeline, Status> {
        let current = self.shared.current_pipeline();
        if !current.is_closed() {
            return Ok(current);
        }
        let _one = self.shared.reopening.lock().await;
        let current = self.shared.current_pipeline();
        if !current.is_closed() {
            return Ok(current);
        }
        let fresh = self.shared.client.pipeline().await?;
        *self
            .shared
            .pipeline
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = fresh.clone();
        Ok(fresh)
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn current_pipeline(&self) -> Pipeline {
        self.pipeline
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Counts `n` sessions dropped.
    fn evicted(&self, n: u64) {
        if n > 0 {
            self.evictions.send_modify(|count| *count += n);
        }
    }

    /// Drops everything: events may have been missed.
    fn restart(&self, namespace: Option<String>) {
        let dropped = self.lock().restart(namespace);
        self.evicted(dropped);
    }

    /// Applies one Watch event.
    fn apply(&self, event: pb::WatchEvent) {
        self.events.fetch_add(1, Ordering::Relaxed);
        match event.event {
            Some(Kind::Resync(resync)) => {
                self.restart(Some(resync.namespace));
                self.live.send_modify(|l| *l = Ok(true));
            }
            Some(Kind::Changed(changed)) => {
                if let Some(handle) = parse_handle(&event.handle) {
                    let dropped = self.lock().forget(&handle, Some(changed.version));
                    self.evicted(dropped);
                }
            }
            Some(Kind::Ended(_)) => {
                if let Some(handle) = parse_handle(&event.handle) {
                    let dropped = self.lock().forget(&handle, None);
                    self.evicted(dropped);
                }
            }
            None => {}
        }
    }
}

/// A read in flight, counted in [`State::pending`] until it finishes or is
/// dropped (a cancelled call), so that events can mark it stale.
struct PendingRead<'a> {
    shared: &'a Shared,
    handle: Handle,
    generation: u64,
}

impl PendingRead<'_> {
    /// Caches the reply if no event, write or restart came since the read
    /// began.
    fn finish(self, reply: Arc<pb::GetResponse>, sent_at: Instant) {
        let max_bytes = self.shared.config.max_bytes;
        let dropped = self.shared.lock().cache_if_fresh(
            self.handle,
            self.generation,
            reply,
            sent_at,
            max_bytes,
        );
        self.shared.evicted(dropped);
        // Dropping `self` ends the count.
    }
}

impl Drop for PendingRead<'_> {
    fn drop(&mut self) {
        self.shared.lock().end_read(&self.handle);
    }
}

impl State {
    fn new(max_entries: usize) -> Self {
        State {
            namespace: None,
            generation: 0,
            entries: LruCache::new(NonZeroUsize::new(max_entries).unwrap_or(NonZeroUsize::MIN)),
            bytes: 0,
            pending: HashMap::new(),
        }
    }

    /// Counts a read of `handle` in flight; the generation it began in.
    fn begin_read(&mut self, handle: Handle) -> u64 {
        self.pending.entry(handle).or_default().readers += 1;
        self.generation
    }

    /// Ends the count [`State::begin_read`] began.
    fn end_read(&mut self, handle: &Handle) {
        if let Some(pending) = self.pending.get_mut(handle) {
            pending.readers -= 1;
            if pending.readers == 0 {
                self.pending.remove(handle);
            }
        }
    }

    /// Caches the reply of a read begun in `generation` if no event, write
    /// or restart came since; how many sessions were dropped for room.
    fn cache_if_fresh(
        &mut self,
        handle: Handle,
        generation: u64,
        reply: Arc<pb::GetResponse>,
        sent_at: Instant,
        max_bytes: usize,
    ) -> u64 {
        let fresh = self.generation == generation
            && self.pending.get(&handle).is_some_and(|p| !p.invalidated);
        if fresh {
            self.insert(handle, reply, sent_at, max_bytes)
        } else {
            0
        }
    }

    /// Drops `handle`'s entry, unless it is at `version` or later already,
    /// and keeps reads of it in flight out of the cache; how many were
    /// dropped.
    fn forget(&mut self, handle: &Handle, version: Option<u64>) -> u64 {
        if let Some(pending) = self.pending.get_mut(handle) {
            pending.invalidated = true;
        }
        // An entry already at the changed version (a read that raced
        // ahead of the event) stays.
        let current = self.entries.peek(handle).map(|c| c.version);
        if current.is_none_or(|v| version.is_some_and(|changed| v >= changed)) {
            return 0;
        }
        match self.entries.pop(handle) {
            Some(gone) => {
                self.bytes -= gone.bytes;
                1
            }
            None => 0,
        }
    }

    /// Drops everything and starts a new generation, so that no read
    /// begun before is cached; `namespace` is the live Watch's, or `None`
    /// while there is none. How many were dropped.
    fn restart(&mut self, namespace: Option<String>) -> u64 {
        let dropped = self.entries.len() as u64;
        self.entries.clear();
        self.bytes = 0;
        self.generation += 1;
        self.namespace = namespace;
        dropped
    }

    /// Caches `reply`, making room by dropping the least recently read;
    /// how many were dropped. A session bigger than `max_bytes` is not
    /// cached.
    fn insert(
        &mut self,
        handle: Handle,
        reply: Arc<pb::GetResponse>,
        sent_at: Instant,
        max_bytes: usize,
    ) -> u64 {
        let Some(info) = reply.session.as_ref() else {
            return 0;
        };
        let bytes = reply
            .data
            .iter()
            .map(|(k, v)| k.len() + v.len())
            .sum::<usize>()
            + std::mem::size_of::<Cached>();
        if bytes > max_bytes {
            return 0;
        }
        let idle = info
            .idle_timeout
            .and_then(|d| Duration::try_from(d).ok())
            .unwrap_or_default();
        let cached = Cached {
            version: info.version,
            reply,
            bytes,
            idle,
            slid_at: sent_at,
        };
        let mut dropped = 0;
        if let Some((key, replaced)) = self.entries.push(handle, cached) {
            self.bytes -= replaced.bytes;
            if key != handle {
                dropped += 1;
            }
        }
        self.bytes += bytes;
        while self.bytes > max_bytes {
            match self.entries.pop_lru() {
                Some((_, gone)) => {
                    self.bytes -= gone.bytes;
                    dropped += 1;
                }
                None => break,
            }
        }
        dropped
    }
}

/// Keeps a namespace Watch open for the cache behind `shared`, reopening
/// it (with backoff) whenever it ends, until the cache is dropped or the
/// server says it offers no Watch.
async fn keep_watching(client: Client, shared: Weak<Shared>) {
    const FIRST_BACKOFF: Duration = Duration::from_millis(50);
    const MAX_BACKOFF: Duration = Duration::from_secs(5);
    let mut backoff = FIRST_BACKOFF;
    loop {
        match client.watch(None).await {
            Ok(mut events) => {
                // Ends with the stream, an error or not.
                while let Ok(Some(event)) = events.message().await {
                    let Some(shared) = shared.upgrade() else {
                        return;
                    };
                    shared.apply(event);
                    backoff = FIRST_BACKOFF;
                }
            }
            Err(status) if status.code() == Code::Unimplemented => {
                if let Some(shared) = shared.upgrade() {
                    shared.live.send_modify(|l| *l = Err(status));
                }
                return;
            }
            Err(_) => {}
        }
        let Some(lost) = shared.upgrade() else {
            return;
        };
        lost.restart(None);
        lost.live.send_modify(|l| *l = Ok(false));
        drop(lost);
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// Whether a hit at `now` should slide a deadline that last slid at
/// `slid_at`.
fn slide_due(slid_at: Instant, now: Instant, idle: Duration, interval: Option<Duration>) -> bool {
    let interval = interval.unwrap_or_else(|| (idle / 64).max(Duration::from_secs(1)));
    now.duration_since(slid_at) >= interval
}

/// The handle a namespace Watch names `id` by in `namespace`: the first 16
/// bytes of SHA-256(namespace || 0x00 || id), or of SHA-256(id) in the
/// default namespace.
fn handle_of(namespace: &str, id: &str) -> Handle {
    let mut hash = Sha256::new();
    if !namespace.is_empty() {
        hash.update(namespace.as_bytes());
        hash.update([0u8]);
    }
    hash.update(id.as_bytes());
    let digest = hash.finalize();
    let mut handle = [0u8; 16];
    handle.copy_from_slice(&digest[..16]);
    handle
}

/// A handle from its 32 lowercase hex digits.
fn parse_handle(hex: &str) -> Option<Handle> {
    if hex.len() != 32 {
        return None;
    }
    let mut handle = [0u8; 16];
    for (byte, pair) in handle.iter_mut().zip(hex.as_bytes().chunks_exact(2)) {
        let pair = std::str::from_utf8(pair).ok()?;
        *byte = u8::from_str_radix(pair, 16).ok()?;
    }
    Some(handle)
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: Handle = [1; 16];
    const B: Handle = [2; 16];

    fn reply(version: u64, value: &str) -> Arc<pb::GetResponse> {
        Arc::new(pb::GetResponse {
            session: Some(pb::SessionInfo {
                version,
                idle_timeout: Some(prost_types::Duration {
                    seconds: 60,
                    nanos: 0,
                }),
                ..Default::default()
            }),
            data: HashMap::from([("k".to_string(), value.to_string())]),
        })
    }

    fn live() -> State {
        let mut state = State::new(100);
        state.restart(Some("shop".into()));
        state
    }

    fn cached(state: &State, handle: &Handle) -> Option<u64> {
        state.entries.peek(handle).map(|c| c.version)
    }

    #[test]
    fn a_read_with_no_event_in_flight_is_cached() {
        let mut state = live();
        let generation = state.begin_read(A);
        state.cache_if_fresh(A, generation, reply(3, "1"), Instant::now(), 1 << 20);
        state.end_read(&A);
        assert_eq!(cached(&state, &A), Some(3));
        assert!(state.pending.is_empty());
    }

    #[test]
    fn an_event_or_write_while_a_read_is_in_flight_keeps_its_reply_out() {
        for version in [Some(4), None] {
            let mut state = live();
            let generation = state.begin_read(A);
            state.forget(&A, version);
            state.cache_if_fresh(A, generation, reply(3, "old"), Instant::now(), 1 << 20);
            state.end_read(&A);
            assert_eq!(cached(&state, &A), None, "after {version:?}");
            // The next read, begun after the event, is cached.
            let generation = state.begin_read(A);
            state.cache_if_fresh(A, generation, reply(4, "new"), Instant::now(), 1 << 20);
            state.end_read(&A);
            assert_eq!(cached(&state, &A), Some(4));
        }
    }

    #[test]
    fn an_event_about_another_session_does_not_keep_a_read_out() {
        let mut state = live();
        let generation = state.begin_read(A);
        state.forget(&B, None);
        state.cache_if_fresh(A, generation, reply(3, "1"), Instant::now(), 1 << 20);
        assert_eq!(cached(&state, &A), Some(3));
    }

    #[test]
    fn a_restart_drops_everything_and_every_read_begun_before_it() {
        let mut state = live();
        let generation = state.begin_read(A);
        state.cache_if_fresh(A, generation, reply(3, "1"), Instant::now(), 1 << 20);
        let before = state.begin_read(B);
        assert_eq!(state.restart(None), 1);
        assert_eq!(state.namespace, None);
        state.restart(Some("shop".into()));
        state.cache_if_fresh(B, before, reply(7, "1"), Instant::now(), 1 << 20);
        assert!(state.entries.is_empty());
        assert_eq!(state.bytes, 0);
    }

    #[test]
    fn a_change_event_drops_only_an_entry_older_than_its_version() {
        let mut state = live();
        state.insert(A, reply(5, "1"), Instant::now(), 1 << 20);
        // The event of the change this entry already holds (a read raced
        // ahead of it) leaves it.
        assert_eq!(state.forget(&A, Some(5)), 0);
        assert_eq!(cached(&state, &A), Some(5));
        assert_eq!(state.forget(&A, Some(6)), 1);
        assert_eq!(cached(&state, &A), None);
        state.insert(A, reply(9, "1"), Instant::now(), 1 << 20);
        // An end drops it whatever its version.
        assert_eq!(state.forget(&A, None), 1);
    }

    #[test]
    fn the_byte_bound_drops_the_least_recently_read_and_refuses_a_session_too_big() {
        let one = std::mem::size_of::<Cached>() + 1 + 100;
        let mut state = live();
        let value = "x".repeat(100);
        state.insert(A, reply(1, &value), Instant::now(), 2 * one);
        state.insert(B, reply(1, &value), Instant::now(), 2 * one);
        assert_eq!(state.bytes, 2 * one);
        state.entries.get(&A);
        let c = [3; 16];
        assert_eq!(
            state.insert(c, reply(1, &value), Instant::now(), 2 * one),
            1
        );
        assert_eq!((cached(&state, &A), cached(&state, &B)), (Some(1), None));
        assert_eq!(state.bytes, 2 * one);
        let big = "x".repeat(3 * one);
        assert_eq!(state.insert(B, reply(1, &big), Instant::now(), 2 * one), 0);
        assert_eq!(cached(&state, &B), None);
    }

    #[test]
    fn a_replaced_entry_keeps_the_byte_count_exact() {
        let mut state = live();
        state.insert(A, reply(1, "1"), Instant::now(), 1 << 20);
        state.insert(A, reply(2, "22"), Instant::now(), 1 << 20);
        assert_eq!(state.entries.len(), 1);
        assert_eq!(state.bytes, std::mem::size_of::<Cached>() + 1 + 2);
    }

    #[test]
    fn a_hit_slides_once_per_64th_of_the_idle_timeout_and_at_most_once_a_second() {
        let t = Instant::now();
        let hour = Duration::from_secs(3600);
        let granule = hour / 64;
        assert!(!slide_due(
            t,
            t + granule - Duration::from_millis(1),
            hour,
            None
        ));
        assert!(slide_due(t, t + granule, hour, None));
        let minute = Duration::from_secs(60);
        assert!(!slide_due(t, t + Duration::from_millis(999), minute, None));
        assert!(slide_due(t, t + Duration::from_secs(1), minute, None));
        assert!(slide_due(t, t, minute, Some(Duration::ZERO)));
    }

    #[test]
    fn handles_are_the_digest_of_the_namespace_and_id_and_parse_from_hex() {
        // SHA-256("abc"), the FIPS 180-2 test vector, cut to 16 bytes.
        let abc = parse_handle("ba7816bf8f01cfea414140de5dae2223").unwrap();
        assert_eq!(handle_of("", "abc"), abc);
        assert_ne!(handle_of("shop", "abc"), abc);
        assert_eq!(parse_handle("BA7816BF"), None);
        assert_eq!(parse_handle(&"g".repeat(32)), None);
    }
}
