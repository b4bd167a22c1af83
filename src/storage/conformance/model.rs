//! Randomized model test: random sequences of operations and clock advances
//! against a backend, through the storage boundary, and a plain `BTreeMap`
//! model must agree on every result, every version, every deadline, and on
//! what is reclaimed. Run against every backend, like the cases.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use proptest::prelude::*;

use super::{durable_at, memory_at, redis_at, Subject};
use crate::clock::{Clock, Millis};
use crate::session::{Limit, Limits, Namespace, SessionError, SessionId, Timeouts, Update};
use crate::storage::durable::FsyncPolicy;
use crate::storage::Op as Answer;

/// The model is about one namespace; namespaces have their own tests.
const NS: Namespace = Namespace::DEFAULT;
const KEYS: [&str; 4] = ["a", "bb", "c", "dd"];
const VALUES: [&str; 4] = ["1", "\"yuan\"", "null", "{\"k\":[1,2]}"];
const DEFAULT_IDLE: u64 = 600_000;
const MIN_IDLE: u64 = 1_000;
const MAX_IDLE: u64 = 900_000;
const ABSOLUTE: u64 = 2_000_000;
const MAX_KEYS: usize = 3;
const MAX_SESSION_BYTES: usize = 24;
const MAX_SESSIONS: usize = 4;

#[derive(Debug, Clone)]
enum Op {
    Create {
        pairs: Vec<(usize, usize)>,
        idle_s: Option<u64>,
    },
    Get {
        s: usize,
        keys: Vec<usize>,
        touch: bool,
    },
    Set {
        s: usize,
        upsert: Vec<(usize, usize)>,
        remove: Vec<usize>,
        stale: Option<bool>,
    },
    Flush {
        s: usize,
    },
    Rotate {
        s: usize,
    },
    Touch {
        s: usize,
        idle_s: Option<u64>,
    },
    Advance {
        ms: u64,
    },
    Purge,
}

fn op() -> impl Strategy<Value = Op> {
    let pairs = prop::collection::vec((0..KEYS.len(), 0..VALUES.len()), 0..4);
    let keys = prop::collection::vec(0..KEYS.len(), 0..3);
    let idle = prop::option::of(0u64..1000);
    prop_oneof![
        2 => (pairs.clone(), idle.clone()).prop_map(|(pairs, idle_s)| Op::Create { pairs, idle_s }),
        3 => (any::<usize>(), keys.clone(), any::<bool>())
            .prop_map(|(s, keys, touch)| Op::Get { s, keys, touch }),
        4 => (any::<usize>(), pairs, keys, prop::option::of(any::<bool>()))
            .prop_map(|(s, upsert, remove, stale)| Op::Set { s, upsert, remove, stale }),
        1 => any::<usize>().prop_map(|s| Op::Flush { s }),
        1 => any::<usize>().prop_map(|s| Op::Rotate { s }),
        2 => (any::<usize>(), idle).prop_map(|(s, idle_s)| Op::Touch { s, idle_s }),
        3 => (0u64..700_000).prop_map(|ms| Op::Advance { ms }),
        1 => Just(Op::Purge),
    ]
}

#[derive(Debug, Clone)]
struct Model {
    data: BTreeMap<String, String>,
    version: u64,
    created: Millis,
    idle: u64,
    idle_deadline: Millis,
    absolute: Millis,
}

impl Model {
    fn deadline(&self) -> Millis {
        self.idle_deadline.min(self.absolute)
    }
    fn bytes(data: &BTreeMap<String, String>) -> usize {
        data.iter().map(|(k, v)| k.len() + v.len()).sum()
    }
}

/// Makes the backend a world runs against.
type Make = fn(Limits, Timeouts, Clock) -> Subject;

struct World {
    store: Subject,
    /// Drives each operation's answer to the end.
    runtime: tokio::runtime::Runtime,
    clock: Clock,
    now: Millis,
    model: HashMap<String, Model>,
    /// Every id ever issued, live or not, so ops also hit dead ids.
    ids: Vec<SessionId>,
}

impl World {
    fn new(make: Make) -> Self {
        // Where the clock starts matters to no backend: Redis's own expiry
        // is armed relative to it.
        let clock = Clock::manual(1_000_000);
        let limits = Limits {
            max_keys: MAX_KEYS,
            max_session_bytes: MAX_SESSION_BYTES,
            max_sessions: MAX_SESSIONS,
            ..Limits::default()
        };
        let timeouts = Timeouts {
            default_idle: Duration::from_millis(DEFAULT_IDLE),
            min_idle: Duration::from_millis(MIN_IDLE),
            max_idle: Duration::from_millis(MAX_IDLE),
            absolute: Some(Duration::from_millis(ABSOLUTE)),
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        // A backend across the network sets its connection up in the
        // runtime that drives it.
        let store = {
            let _in = runtime.enter();
            make(limits, timeouts, clock.clone())
        };
        World {
            store,
            runtime,
            now: clock.now_ms(),
            clock,
            model: HashMap::new(),
            ids: Vec::new(),
        }
    }

    fn answer<T>(&self, op: Answer<T>) -> Result<T, SessionError> {
        self.runtime.block_on(op)
    }

    fn live(&self, id: &SessionId) -> Option<&Model> {
        self.model
            .get(id.expose())
            .filter(|m| self.now < m.deadline())
    }

    fn pick(&self, s: usize) -> Option<SessionId> {
        (!self.ids.is_empty()).then(|| self.ids[s % self.ids.len()].clone())
    }

    fn idle(&self, idle_s: Option<u64>) -> Result<u64, SessionError> {
        match idle_s.map(|s| s * 1000) {
            None => Ok(DEFAULT_IDLE),
            Some(ms) if (MIN_IDLE..=MAX_IDLE).contains(&ms) => Ok(ms),
            Some(ms) => Err(SessionError::IdleTimeoutOutOfBounds {
                requested: Duration::from_millis(ms),
                min: Duration::from_millis(MIN_IDLE),
                max: Duration::from_millis(MAX_IDLE),
            }),
        }
    }

    fn check_info(&self, info: &crate::session::SessionInfo) {
        let m = &self.model[info.id.expose()];
        assert_eq!(info.version, m.version);
        assert_eq!(info.created_ms, m.created);
        assert_eq!(info.expires_ms, m.deadline());
        assert_eq!(info.idle_timeout, Duration::from_millis(m.idle));
    }

    fn apply(&mut self, op: Op) {
        match op {
            Op::Create { pairs, idle_s } => {
                let data: BTreeMap<String, String> = pairs
                    .iter()
                    .map(|&(k, v)| (KEYS[k].to_string(), VALUES[v].to_string()))
                    .collect();
                let real = self.answer(self.store.create(
                    &NS,
                    data.clone().into_iter().collect(),
                    idle_s.map(Duration::from_secs),
                ));
                let live = self
                    .model
                    .values()
                    .filter(|m| self.now < m.deadline())
                    .count();
                let expected = self.idle(idle_s).and_then(|idle| {
                    if data.len() > MAX_KEYS {
                        Err(Limit::Keys)
                    } else if Model::bytes(&data) > MAX_SESSION_BYTES {
                        Err(Limit::SessionBytes)
                    } else if self.store.counts && live >= MAX_SESSIONS {
                        Err(Limit::Sessions)
                    } else {
                        Ok(idle)
                    }
                    .map_err(limit_error)
                });
                match (real, expected) {
                    (Ok(info), Ok(idle)) => {
                        self.model.insert(
                            info.id.expose().to_string(),
                            Model {
                                data,
                                version: 1,
                                created: self.now,
                                idle,
                                idle_deadline: self.now + idle,
                                absolute: self.now + ABSOLUTE,
                            },
                        );
                        self.check_info(&info);
                        self.ids.push(info.id);
                    }
                    (Err(real), Err(expected)) => assert_same_kind(&real, &expected),
                    (real, expected) => panic!("create: {real:?} vs model {expected:?}"),
                }
            }
            Op::Get { s, keys, touch } => {
                let Some(id) = self.pick(s) else { return };
                let keys: Vec<String> = keys.iter().map(|&k| KEYS[k].to_string()).collect();
                let real = self.answer(self.store.get(&NS, &id, &keys, touch));
                let now = self.now;
                match (real, self.live(&id).is_some()) {
                    (Ok((info, data)), true) => {
                        let granules = self.store.reads_slide_in_granules;
                        let m = self.model.get_mut(id.expose()).unwrap();
                        let slid = now + m.idle;
                        if touch && !granules {
                            m.idle_deadline = m.idle_deadline.max(slid);
                        } else if touch && slid >= m.idle_deadline + super::read_granule(m.idle) {
                            m.idle_deadline = slid;
                        }
                        let expected: HashMap<String, String> = m
                            .data
                            .iter()
                            .filter(|(k, _)| keys.is_empty() || keys.contains(k))
                            .map(|(k, v)| (k.clone(), v.clone()))
                            .collect();
                        assert_eq!(data, expected);
                        self.check_info(&info);
                    }
                    (Err(SessionError::NotFound), false) => {}
                    (real, live) => panic!("get: {real:?}, model live: {live}"),
                }
            }
            Op::Set {
                s,
                upsert,
                remove,
                stale,
            } => {
                let Some(id) = self.pick(s) else { return };
                let upsert: BTreeMap<String, String> = upsert
                    .iter()
                    .map(|&(k, v)| (KEYS[k].to_string(), VALUES[v].to_string()))
                    .collect();
                let remove: Vec<String> = remove.iter().map(|&k| KEYS[k].to_string()).collect();
                let current = self.live(&id).map(|m| m.version);
                let expected_version = stale.map(|stale| current.unwrap_or(1) + u64::from(stale));
                let real = self.answer(self.store.set(
                    &NS,
                    &id,
                    Update {
                        upsert: upsert.clone().into_iter().collect(),
                        remove: remove.clone(),
                        expected_version,
                    },
                ));
                let now = self.now;
                if remove.iter().any(|k| upsert.contains_key(k)) {
                    assert!(matches!(real, Err(SessionError::InvalidKey(_))), "{real:?}");
                    return;
                }
                let Some(version) = current else {
                    assert_eq!(real.unwrap_err(), SessionError::NotFound);
                    return;
                };
                if let Some(expected) = expected_version.filter(|&e| e != version) {
                    let err = SessionError::VersionMismatch {
                        expected,
                        actual: version,
                    };
                    assert_eq!(real.unwrap_err(), err);
                    return;
                }
                let m = self.model.get_mut(id.expose()).unwrap();
                let mut data = m.data.clone();
                let mut changed = !upsert.is_empty();
                for k in &remove {
                    changed |= data.remove(k).is_some();
                }
                data.extend(upsert);
                if data.len() > MAX_KEYS {
                    assert_same_kind(&real.unwrap_err(), &limit_error(Limit::Keys));
                } else if Model::bytes(&data) > MAX_SESSION_BYTES {
                    assert_same_kind(&real.unwrap_err(), &limit_error(Limit::SessionBytes));
                } else {
                    m.data = data;
                    m.version += u64::from(changed);
                    m.idle_deadline = m.idle_deadline.max(now + m.idle);
                    self.check_info(&real.unwrap());
                }
            }
            Op::Flush { s } => {
                let Some(id) = self.pick(s) else { return };
                let live = self.live(&id).is_some();
                assert_eq!(self.answer(self.store.flush(&NS, &id)).unwrap(), live);
                self.model.remove(id.expose());
            }
            Op::Rotate { s } => {
                let Some(id) = self.pick(s) else { return };
                let real = self.answer(self.store.rotate(&NS, &id));
                let now = self.now;
                match (real, self.live(&id).is_some()) {
                    (Ok(info), true) => {
                        let mut m = self.model.remove(id.expose()).unwrap();
                        m.version += 1;
                        m.idle_deadline = m.idle_deadline.max(now + m.idle);
                        self.model.insert(info.id.expose().to_string(), m);
                        self.check_info(&info);
                        self.ids.push(info.id);
                    }
                    (Err(SessionError::NotFound), false) => {}
                    (real, live) => panic!("rotate: {real:?}, model live: {live}"),
                }
            }
            Op::Touch { s, idle_s } => {
                let Some(id) = self.pick(s) else { return };
                let real = self.answer(self.store.touch(&NS, &id, idle_s.map(Duration::from_secs)));
                let now = self.now;
                let idle = match (idle_s, self.idle(idle_s)) {
                    (_, Err(e)) => {
                        assert_eq!(real.unwrap_err(), e);
                        return;
                    }
                    (None, _) => None,
                    (Some(_), Ok(ms)) => Some(ms),
                };
                if self.live(&id).is_none() {
                    assert_eq!(real.unwrap_err(), SessionError::NotFound);
                    return;
                }
                let m = self.model.get_mut(id.expose()).unwrap();
                match idle {
                    Some(ms) => {
                        m.idle = ms;
                        m.idle_deadline = now + ms;
                    }
                    None => m.idle_deadline = m.idle_deadline.max(now + m.idle),
                }
                self.check_info(&real.unwrap());
            }
            Op::Advance { ms } => {
                self.clock.advance(Duration::from_millis(ms));
                self.now += ms;
            }
            Op::Purge if !self.store.counts => {}
            Op::Purge => {
                self.store.reclaim();
                let now = self.now;
                // The reaper visits an expired session by the end of its
                // deadline's second (`visit_at`), so one whose deadline
                // passed within that second may still be held (every read
                // already finds it gone); every other expired one must be
                // reclaimed. The model keeps such sessions until their
                // second is over.
                self.model
                    .retain(|_, m| now < m.deadline().div_ceil(1000).saturating_mul(1000));
                let (live, lingering): (Vec<&Model>, Vec<&Model>) =
                    self.model.values().partition(|m| now < m.deadline());
                let bytes = |ms: &[&Model]| ms.iter().map(|m| Model::bytes(&m.data)).sum::<usize>();
                let held = self.store.len();
                assert!(
                    live.len() <= held && held <= live.len() + lingering.len(),
                    "reclaimed exactly the expired: {held} held, {} live, {} expired within \
                     their deadline's second",
                    live.len(),
                    lingering.len()
                );
                let data_bytes = self.store.stats().data_bytes;
                if held == live.len() {
                    assert_eq!(data_bytes, bytes(&live));
                } else {
                    let most = bytes(&live) + bytes(&lingering);
                    assert!(
                        (bytes(&live)..=most).contains(&data_bytes),
                        "held sessions' bytes"
                    );
                }
            }
        }
        let live = self
            .model
            .values()
            .filter(|m| self.now < m.deadline())
            .count();
        if self.store.counts {
            assert!(self.store.len() >= live, "a live session went missing");
        }
    }
}

fn limit_error(limit: Limit) -> SessionError {
    SessionError::LimitExceeded {
        limit,
        what: String::new(),
        max: 0,
    }
}

/// Errors agree when they are the same variant (and the same limit);
/// messages are checked by the unit and API tests.
fn assert_same_kind(real: &SessionError, expected: &SessionError) {
    match (real, expected) {
        (
            SessionError::LimitExceeded { limit: a, .. },
            SessionError::LimitExceeded { limit: b, .. },
        ) => assert_eq!(a, b),
        _ => assert_eq!(real, expected),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn memory_agrees_with_a_simple_model(ops in prop::collection::vec(op(), 1..60)) {
        prop_assert_eq!(run(memory_at, ops), 0);
    }

    #[test]
    fn durable_agrees_with_a_simple_model(ops in prop::collection::vec(op(), 1..60)) {
        prop_assert_eq!(run(durable_everysec, ops), 0);
    }
}

proptest! {
    // Each case is a round trip per operation to a real redis-server.
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn redis_agrees_with_a_simple_model(ops in prop::collection::vec(op(), 1..60)) {
        prop_assert_eq!(run(redis_at, ops), 0);
    }
}

fn durable_everysec(limits: Limits, timeouts: Timeouts, clock: Clock) -> Subject {
    durable_at(limits, timeouts, clock, FsyncPolicy::Everysec)
}

/// Applies `ops` to a fresh world, then lets everything expire: the
/// sessions left, which must be none.
fn run(make: Make, ops: Vec<Op>) -> usize {
    let mut world = World::new(make);
    for op in ops {
        world.apply(op);
    }
    world.apply(Op::Advance { ms: 3_000_000 });
    world.apply(Op::Purge);
    if !world.store.counts {
        // A backend that does not count: every id ever issued must now
        // read as gone.
        let ids = world.ids.clone();
        return ids
            .iter()
            .filter(|id| world.answer(world.store.get(&NS, id, &[], false)).is_ok())
            .count();
    }
    world.store.len()
}
