//! The behaviour every storage backend must show, run against each one.
//!
//! The cases (`cases.rs`) and the randomized model (`model.rs`) speak only
//! through [`Storage`], on a fresh backend that a [`New`] makes on a manual
//! clock. `backends!` runs every case against memory, durable (fsync
//! `everysec`: changes answer at once) and durable with fsync `always`
//! (changes answer once fsynced, through the boxed path of `Op`); a new
//! backend adds one line there.

mod cases;
mod model;
mod users;
mod whole;

use std::collections::HashMap;
use std::ops::Deref;
use std::time::Duration;

use super::durable::{Durable, FsyncPolicy, PersistConfig};
use super::memory::Memory;
use super::redis::test_server::RedisServer;
use super::redis::{Redis, RedisConfig, Target};
use super::Storage;
use crate::clock::{Clock, Millis};
use crate::metrics::Metrics;
use crate::session::{Limits, Namespace, Timeouts, Update};

pub(crate) const IDLE: Duration = Duration::from_secs(600);
pub(crate) const T0: Millis = 1_700_000_000_000;
/// The namespace of cases that are not about namespaces.
pub(crate) const NS: Namespace = Namespace::DEFAULT;

/// A fresh backend with these limits, the cases' timeouts and this
/// absolute timeout, on a manual clock at [`T0`].
pub(crate) type New = fn(Limits, Option<Duration>) -> Subject;

/// A backend under test, behind the boundary.
pub(crate) struct Subject {
    pub storage: Storage,
    /// Reclaims every expired session now, as the backend's own expiry
    /// would in time (the model checks counts after it).
    reclaim: Box<dyn Fn() + Send + Sync>,
    /// What must live as long as the backend (its data dir and journal, its
    /// redis-server).
    _keep: Option<Box<dyn std::any::Any + Send + Sync>>,
    /// Whether the backend counts what it holds exactly (`len`,
    /// `namespace_len`, `data_bytes`) and so enforces `max_sessions`: the
    /// memory map does; Redis, shared by replicas, refuses those limits at
    /// start-up, and the cases skip those figures for it.
    pub counts: bool,
    /// Whether a read slides the idle deadline only in granules
    /// ([`read_granule`]), as the Redis backend does to spare a write per
    /// read, rather than exactly, as memory does.
    pub reads_slide_in_granules: bool,
}

/// The granule of a Redis read's slide (`slide_read` in
/// `redis/lua/common.lua`): 1/64 of the idle timeout, between 1 s and 1 h.
pub(crate) fn read_granule(idle_ms: u64) -> u64 {
    (idle_ms / 64).clamp(1000, 3_600_000)
}

impl Subject {
    pub fn reclaim(&self) {
        (self.reclaim)()
    }
}

impl Deref for Subject {
    type Target = Storage;

    fn deref(&self) -> &Storage {
        &self.storage
    }
}

pub(crate) fn timeouts(absolute: Option<Duration>) -> Timeouts {
    Timeouts {
        default_idle: IDLE,
        min_idle: Duration::from_secs(1),
        max_idle: Duration::from_secs(30 * 24 * 3600),
        absolute,
    }
}

fn memory_with(
    limits: Limits,
    timeouts: Timeouts,
    clock: Clock,
) -> (Memory, Box<dyn Fn() + Send + Sync>) {
    let memory = Memory::new(limits, timeouts, clock);
    let reaped = memory.clone();
    (
        memory,
        Box::new(move || while reaped.purge_expired().more {}),
    )
}

/// Today's in-memory map.
pub(crate) fn memory(limits: Limits, absolute: Option<Duration>) -> Subject {
    memory_at(limits, timeouts(absolute), Clock::manual(T0))
}

pub(crate) fn memory_at(limits: Limits, timeouts: Timeouts, clock: Clock) -> Subject {
    let (memory, reclaim) = memory_with(limits, timeouts, clock);
    Subject {
        storage: Storage::new(memory),
        reclaim,
        _keep: None,
        counts: true,
        reads_slide_in_granules: false,
    }
}

/// Memory with a journal in a fresh data dir, fsynced by `fsync`.
pub(crate) fn durable_at(
    limits: Limits,
    timeouts: Timeouts,
    clock: Clock,
    fsync: FsyncPolicy,
) -> Subject {
    let (memory, reclaim) = memory_with(limits, timeouts, clock);
    let dir = tempfile::tempdir().unwrap();
    let durable = Durable::new(memory);
    let persistence = durable
        .open(PersistConfig {
            dir: dir.path().to_path_buf(),
            fsync,
            snapshot_interval: Duration::from_secs(3600),
            snapshot_log_bytes: u64::MAX,
            accept_data_loss: false,
        })
        .unwrap();
    Subject {
        storage: Storage::new(durable),
        reclaim,
        _keep: Some(Box::new((dir, persistence))),
        counts: true,
        reads_slide_in_granules: false,
    }
}

pub(crate) fn durable(limits: Limits, absolute: Option<Duration>) -> Subject {
    let clock = Clock::manual(T0);
    durable_at(limits, timeouts(absolute), clock, FsyncPolicy::Everysec)
}

pub(crate) fn durable_always(limits: Limits, absolute: Option<Duration>) -> Subject {
    let clock = Clock::manual(T0);
    durable_at(limits, timeouts(absolute), clock, FsyncPolicy::Always)
}

/// Redis: a fresh `redis-server` on a free loopback port for each case.
/// Its deadlines follow the manual clock (every script is given sessiond's
/// "now"); Redis's own expiry only reclaims, in real time.
pub(crate) fn redis(limits: Limits, absolute: Option<Duration>) -> Subject {
    redis_at(limits, timeouts(absolute), Clock::manual(T0))
}

pub(crate) fn redis_at(limits: Limits, timeouts: Timeouts, clock: Clock) -> Subject {
    let server = RedisServer::start();
    redis_on(server, limits, timeouts, clock)
}

/// The Redis backend on `server`, which lives as long as it.
pub(crate) fn redis_on(
    server: RedisServer,
    limits: Limits,
    timeouts: Timeouts,
    clock: Clock,
) -> Subject {
    let config = RedisConfig {
        target: Target::Standalone(server.url()),
        password: None,
        timeout: Duration::from_secs(2),
        ca: None,
    };
    let redis = Redis::standalone(&config, limits, timeouts, clock, &Metrics::new())
        .expect("a standalone redis backend");
    Subject {
        storage: Storage::new(redis),
        reclaim: Box::new(|| {}),
        _keep: Some(Box::new(server)),
        counts: false,
        reads_slide_in_granules: true,
    }
}

/// The seeds of the Cluster that [`redis_cluster`] subjects use: set by
/// the one test that starts it and runs every case on it in turn.
static CLUSTER_SEEDS: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

/// Redis Cluster (three masters on loopback, see `cluster` below): a
/// backend on the Cluster the running test started. Sessions of different
/// cases never meet (their ids are random), so the cases share it.
pub(crate) fn redis_cluster(limits: Limits, absolute: Option<Duration>) -> Subject {
    let seeds = CLUSTER_SEEDS.lock().unwrap().clone();
    assert!(!seeds.is_empty(), "no cluster started");
    let config = RedisConfig {
        target: Target::Cluster(seeds),
        password: None,
        timeout: Duration::from_secs(2),
        ca: None,
    };
    let clock = Clock::manual(T0);
    let metrics = Metrics::new();
    let connect = Redis::connect(&config, limits, timeouts(absolute), clock, &metrics);
    let redis = tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(connect))
        .expect("connected to the cluster");
    Subject {
        storage: Storage::new(redis),
        reclaim: Box::new(|| {}),
        _keep: None,
        counts: false,
        reads_slide_in_granules: true,
    }
}

pub(crate) fn data(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

pub(crate) fn upsert(pairs: &[(&str, &str)]) -> Update {
    Update {
        upsert: data(pairs),
        ..Update::default()
    }
}

pub(crate) fn ns(name: &str) -> Namespace {
    Namespace::parse(name).unwrap()
}

/// One module per backend, one test per case in each.
macro_rules! backends {
    ($($backend:ident),+; $cases:tt) => {
        $(backends!(@one $backend cases $cases);)+
    };
    ($module:ident: $($backend:ident),+; $cases:tt) => {
        $(backends!(@one $backend $module $cases);)+
    };
    (@one $backend:ident $module:ident [$($case:ident),+ $(,)?]) => {
        mod $backend {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::$module::$case(super::$backend).await
                }
            )+
        }
    };
}

/// The cases of a user's sessions, named once: `$callback` gets them as a
/// bracketed list after `$pre`.
macro_rules! with_user_cases {
    ($callback:ident! { $($pre:tt)* }) => {
        $callback! { $($pre)* [
            a_bound_session_is_listed_by_handle_with_its_metadata,
            last_seen_follows_activity,
            rebinding_moves_a_session_and_unbinding_unlists_it,
            the_binding_survives_rotate_and_the_old_id_is_never_listed,
            flushed_and_expired_sessions_are_never_listed,
            revoking_a_handle_ends_that_session_only_and_only_for_its_user,
            revoking_a_user_ends_every_session_but_the_one_kept,
            a_handle_is_not_a_session_id_anywhere,
            users_and_handles_are_apart_by_namespace,
            the_per_user_limit_refuses_when_so_configured,
            the_per_user_limit_evicts_the_oldest_by_default,
        ] }
    };
}

/// The cases of a user's sessions, on every backend, in a module per
/// backend beside the others' (`user_cases::memory::...`).
mod user_cases {
    use super::*;

    with_user_cases!(backends! { users: memory, durable, durable_always, redis; });
}

backends!(memory, durable, durable_always; [
    a_created_session_reads_back_exactly_as_stored,
    an_expired_session_is_not_found_before_it_is_reclaimed,
    reads_slide_the_idle_deadline_unless_asked_not_to,
    the_absolute_timeout_caps_sliding,
    a_set_that_crosses_a_limit_changes_nothing,
    replacing_and_removing_keys_keeps_the_size_accounting_exact,
    compare_and_set_refuses_a_stale_version,
    a_key_both_upserted_and_removed_is_refused,
    rotate_moves_the_data_to_a_new_id_and_kills_the_old_one,
    flush_is_idempotent,
    idle_timeouts_outside_the_bounds_are_refused,
    a_full_store_reclaims_expired_sessions_before_refusing,
    a_session_is_found_only_in_its_own_namespace_by_every_operation,
    each_namespace_has_its_own_limit_within_the_total,
    a_read_keeps_the_data_it_found_after_a_set_replaces_the_session,
    concurrent_sets_of_different_keys_lose_nothing,
    a_merge_replaces_values_merges_objects_and_removes_nulls,
    a_merge_checks_the_versions_it_is_given,
    concurrent_merges_into_one_object_lose_nothing,
    a_merge_that_crosses_a_limit_changes_nothing,
    touch_can_change_the_idle_timeout,
    every_change_of_a_session_in_another_namespace_is_refused,
    a_set_may_create_a_session_under_the_callers_id,
    without_create_if_missing_an_unknown_id_is_not_found,
    replace_all_removes_every_key_not_written,
    a_whole_object_write_is_held_to_every_limit,
    a_set_may_change_the_idle_timeout_and_a_create_takes_it,
    an_expired_session_is_created_afresh_under_its_id,
    a_chosen_id_is_found_only_in_its_own_namespace,
    count_and_clear_see_only_live_sessions_of_their_namespace,
]);

// Redis refuses --max-sessions and --max-sessions-per-namespace at start-up
// (it cannot count sessions across replicas exactly), so the two cases of
// those limits do not apply to it.
backends!(redis; [
    a_created_session_reads_back_exactly_as_stored,
    an_expired_session_is_not_found_before_it_is_reclaimed,
    reads_slide_the_idle_deadline_unless_asked_not_to,
    the_absolute_timeout_caps_sliding,
    a_set_that_crosses_a_limit_changes_nothing,
    replacing_and_removing_keys_keeps_the_size_accounting_exact,
    compare_and_set_refuses_a_stale_version,
    a_key_both_upserted_and_removed_is_refused,
    rotate_moves_the_data_to_a_new_id_and_kills_the_old_one,
    flush_is_idempotent,
    idle_timeouts_outside_the_bounds_are_refused,
    a_session_is_found_only_in_its_own_namespace_by_every_operation,
    a_read_keeps_the_data_it_found_after_a_set_replaces_the_session,
    concurrent_sets_of_different_keys_lose_nothing,
    a_merge_replaces_values_merges_objects_and_removes_nulls,
    a_merge_checks_the_versions_it_is_given,
    concurrent_merges_into_one_object_lose_nothing,
    a_merge_that_crosses_a_limit_changes_nothing,
    touch_can_change_the_idle_timeout,
    every_change_of_a_session_in_another_namespace_is_refused,
    a_set_may_create_a_session_under_the_callers_id,
    without_create_if_missing_an_unknown_id_is_not_found,
    replace_all_removes_every_key_not_written,
    a_whole_object_write_is_held_to_every_limit,
    a_set_may_change_the_idle_timeout_and_a_create_takes_it,
    an_expired_session_is_created_afresh_under_its_id,
    a_chosen_id_is_found_only_in_its_own_namespace,
    count_and_clear_see_only_live_sessions_of_their_namespace,
]);

/// Every Redis case on a 3-master Cluster, one after another on one
/// Cluster (starting one per case would take most of the run). Sessions
/// land in every slot range, so each operation follows its slot, and
/// Rotate moves sessions between nodes.
mod cluster {
    use super::{cases, redis_cluster, users, CLUSTER_SEEDS};
    use crate::storage::redis::test_server::RedisCluster;

    macro_rules! in_turn {
        ($module:ident, $cluster:ident; [$($case:ident),+ $(,)?]) => {
            $(
                for node in &$cluster.nodes {
                    node.cli(&["flushall"]);
                }
                eprintln!("cluster case {}", stringify!($case));
                $module::$case(redis_cluster).await;
            )+
        };
        ($($case:ident),+ $(,)?) => {
            $(
                eprintln!("cluster case {}", stringify!($case));
                cases::$case(redis_cluster).await;
            )+
        };
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_redis_case_passes_on_a_three_master_cluster() {
        let cluster = RedisCluster::start();
        *CLUSTER_SEEDS.lock().unwrap() = cluster.seeds();
        in_turn!(
            a_created_session_reads_back_exactly_as_stored,
            an_expired_session_is_not_found_before_it_is_reclaimed,
            reads_slide_the_idle_deadline_unless_asked_not_to,
            the_absolute_timeout_caps_sliding,
            a_set_that_crosses_a_limit_changes_nothing,
            replacing_and_removing_keys_keeps_the_size_accounting_exact,
            compare_and_set_refuses_a_stale_version,
            a_key_both_upserted_and_removed_is_refused,
            rotate_moves_the_data_to_a_new_id_and_kills_the_old_one,
            flush_is_idempotent,
            idle_timeouts_outside_the_bounds_are_refused,
            a_session_is_found_only_in_its_own_namespace_by_every_operation,
            a_read_keeps_the_data_it_found_after_a_set_replaces_the_session,
            concurrent_sets_of_different_keys_lose_nothing,
            a_merge_replaces_values_merges_objects_and_removes_nulls,
            a_merge_checks_the_versions_it_is_given,
            concurrent_merges_into_one_object_lose_nothing,
            a_merge_that_crosses_a_limit_changes_nothing,
            touch_can_change_the_idle_timeout,
            every_change_of_a_session_in_another_namespace_is_refused,
            a_set_may_create_a_session_under_the_callers_id,
            without_create_if_missing_an_unknown_id_is_not_found,
            replace_all_removes_every_key_not_written,
            a_whole_object_write_is_held_to_every_limit,
            a_set_may_change_the_idle_timeout_and_a_create_takes_it,
            an_expired_session_is_created_afresh_under_its_id,
            a_chosen_id_is_found_only_in_its_own_namespace,
            count_and_clear_see_only_live_sessions_of_their_namespace,
        );
        // The sessions the cases left are spread over every master: the
        // cases ran against all three.
        let per_node: Vec<usize> = cluster
            .nodes
            .iter()
            .map(|n| n.cli(&["dbsize"]).trim().parse().unwrap())
            .collect();
        assert!(per_node.iter().all(|&n| n > 0), "{per_node:?}");

        // A user's index is in another slot than most of its sessions:
        // every step between them crosses nodes. The cases name the same
        // users, so each starts on an empty Cluster.
        with_user_cases!(in_turn! { users, cluster; });
    }
}
