//! The cases of whole-object writes and namespace-wide operations
//! ([`SetMode`], count, clear): what express-session's store needs, on
//! every backend, under the same rules as the other cases.

use std::time::Duration;

use super::{data, ns, upsert, New, IDLE, NS, T0};
use crate::session::{Limit, Limits, SessionError, SessionId, SetMode, Update};

/// An id of express-session's shape: 24 random bytes in base64url.
fn chosen() -> SessionId {
    let raw = SessionId::generate().expose()[..24].to_uppercase() + "-_a1b2c3";
    SessionId::parse_chosen(raw).unwrap()
}

const CREATE: SetMode = SetMode {
    replace_all: true,
    create_if_missing: true,
    idle_timeout: None,
};

pub async fn a_set_may_create_a_session_under_the_callers_id(new: New) {
    let store = new(Limits::default(), None);
    let id = chosen();
    let created = store
        .set_with(&NS, &id, upsert(&[("user", "\"yuan\"")]), CREATE)
        .await
        .unwrap();
    assert_eq!(created.id, id);
    assert_eq!(created.version, 1);
    assert_eq!(created.created_ms, T0);
    assert_eq!(created.expires_ms, T0 + IDLE.as_millis() as u64);
    let (info, values) = store.get(&NS, &id, &[], true).await.unwrap();
    assert_eq!(info.version, 1);
    assert_eq!(values, data(&[("user", "\"yuan\"")]));

    // Once it exists, the same call is a write to it.
    let again = store
        .set_with(&NS, &id, upsert(&[("user", "\"lin\"")]), CREATE)
        .await
        .unwrap();
    assert_eq!(again.version, 2);
    assert_eq!(again.created_ms, T0);
    if store.counts {
        assert_eq!(store.namespace_len(&NS), 1);
        assert_eq!(store.stats().created, 1);
    }
}

pub async fn without_create_if_missing_an_unknown_id_is_not_found(new: New) {
    let store = new(Limits::default(), None);
    let id = chosen();
    let plain = SetMode {
        replace_all: true,
        ..SetMode::default()
    };
    for mode in [SetMode::default(), plain] {
        let refused = store.set_with(&NS, &id, upsert(&[("a", "1")]), mode).await;
        assert_eq!(refused.unwrap_err(), SessionError::NotFound);
    }
    // Compare-and-set on a session that is not there creates nothing.
    let versioned = Update {
        expected_version: Some(1),
        ..upsert(&[("a", "1")])
    };
    let refused = store.set_with(&NS, &id, versioned, CREATE).await;
    assert_eq!(refused.unwrap_err(), SessionError::NotFound);
    assert_eq!(
        store.get(&NS, &id, &[], false).await.unwrap_err(),
        SessionError::NotFound
    );
}

pub async fn replace_all_removes_every_key_not_written(new: New) {
    let store = new(Limits::default(), None);
    let id = store
        .create(&NS, data(&[("a", "1"), ("b", "2"), ("c", "3")]), None)
        .await
        .unwrap()
        .id;
    let mode = SetMode {
        replace_all: true,
        ..SetMode::default()
    };
    let info = store
        .set_with(&NS, &id, upsert(&[("b", "20"), ("d", "4")]), mode)
        .await
        .unwrap();
    assert_eq!(info.version, 2);
    let (_, values) = store.get(&NS, &id, &[], true).await.unwrap();
    assert_eq!(values, data(&[("b", "20"), ("d", "4")]));
    if store.counts {
        assert_eq!(store.stats().data_bytes, "b20d4".len());
    }

    // Replacing with nothing empties the session; it lives on.
    let info = store.set_with(&NS, &id, Update::default(), mode).await;
    assert_eq!(info.unwrap().version, 3);
    let (_, values) = store.get(&NS, &id, &[], true).await.unwrap();
    assert!(values.is_empty());
}

pub async fn a_whole_object_write_is_held_to_every_limit(new: New) {
    let limits = Limits {
        max_keys: 2,
        max_session_bytes: 20,
        max_sessions: 1,
        ..Limits::default()
    };
    let store = new(limits, None);
    let id = chosen();
    let three = upsert(&[("a", "1"), ("b", "2"), ("c", "3")]);
    let refused = store.set_with(&NS, &id, three, CREATE).await.unwrap_err();
    assert!(matches!(
        refused,
        SessionError::LimitExceeded {
            limit: Limit::Keys,
            ..
        }
    ));
    let big = upsert(&[("a", &format!("\"{}\"", "x".repeat(30)))]);
    let refused = store.set_with(&NS, &id, big, CREATE).await.unwrap_err();
    assert!(
        refused.to_string().contains("max-session-bytes"),
        "{refused}"
    );
    let bad = upsert(&[("a", "{not json")]);
    let refused = store.set_with(&NS, &id, bad, CREATE).await.unwrap_err();
    assert!(matches!(refused, SessionError::InvalidJson { .. }));
    assert_eq!(
        store.get(&NS, &id, &[], false).await.unwrap_err(),
        SessionError::NotFound
    );

    // What a Create may not do, a created Set may not either.
    let short = SetMode {
        idle_timeout: Some(Duration::from_millis(10)),
        ..CREATE
    };
    let refused = store.set_with(&NS, &id, upsert(&[]), short).await;
    assert!(matches!(
        refused.unwrap_err(),
        SessionError::IdleTimeoutOutOfBounds { .. }
    ));
    if store.counts {
        store.set_with(&NS, &id, upsert(&[]), CREATE).await.unwrap();
        let other = chosen();
        let refused = store.set_with(&NS, &other, upsert(&[]), CREATE).await;
        assert!(matches!(
            refused.unwrap_err(),
            SessionError::LimitExceeded {
                limit: Limit::Sessions,
                ..
            }
        ));
    }
}

pub async fn a_set_may_change_the_idle_timeout_and_a_create_takes_it(new: New) {
    let store = new(Limits::default(), None);
    let id = chosen();
    let hour = SetMode {
        idle_timeout: Some(Duration::from_secs(3600)),
        ..CREATE
    };
    let info = store.set_with(&NS, &id, upsert(&[]), hour).await.unwrap();
    assert_eq!(info.idle_timeout, Duration::from_secs(3600));
    assert_eq!(info.expires_ms, T0 + 3_600_000);

    // A shorter one takes effect at once: the session expires by it.
    store.clock().advance(Duration::from_secs(5));
    let minute = SetMode {
        idle_timeout: Some(Duration::from_secs(60)),
        ..SetMode::default()
    };
    let info = store
        .set_with(&NS, &id, upsert(&[("a", "1")]), minute)
        .await
        .unwrap();
    assert_eq!(info.idle_timeout, Duration::from_secs(60));
    assert_eq!(info.expires_ms, T0 + 65_000);
    store.clock().advance(Duration::from_secs(60));
    assert_eq!(
        store.get(&NS, &id, &[], false).await.unwrap_err(),
        SessionError::NotFound
    );
}

pub async fn an_expired_session_is_created_afresh_under_its_id(new: New) {
    let store = new(Limits::default(), None);
    let id = chosen();
    store
        .set_with(&NS, &id, upsert(&[("old", "1")]), CREATE)
        .await
        .unwrap();
    store.clock().advance(IDLE);
    let info = store
        .set_with(&NS, &id, upsert(&[("new", "2")]), CREATE)
        .await
        .unwrap();
    assert_eq!(info.version, 1);
    assert_eq!(info.created_ms, T0 + IDLE.as_millis() as u64);
    let (_, values) = store.get(&NS, &id, &[], true).await.unwrap();
    assert_eq!(values, data(&[("new", "2")]));
    if store.counts {
        assert_eq!(store.len(), 1);
    }
}

pub async fn a_chosen_id_is_found_only_in_its_own_namespace(new: New) {
    let store = new(Limits::default(), None);
    let (shop, blog) = (ns("shop"), ns("blog"));
    let id = chosen();
    store
        .set_with(&shop, &id, upsert(&[("a", "1")]), CREATE)
        .await
        .unwrap();
    store
        .set_with(&blog, &id, upsert(&[("a", "2")]), CREATE)
        .await
        .unwrap();
    assert_eq!(store.get(&shop, &id, &[], true).await.unwrap().1["a"], "1");
    assert_eq!(store.get(&blog, &id, &[], true).await.unwrap().1["a"], "2");
    assert_eq!(
        store.get(&NS, &id, &[], true).await.unwrap_err(),
        SessionError::NotFound
    );
}

pub async fn count_and_clear_see_only_live_sessions_of_their_namespace(new: New) {
    let store = new(Limits::default(), None);
    // Names no other case uses: the Cluster runs every case on one Cluster.
    let (shop, blog) = (ns("tally-shop"), ns("tally-blog"));
    for _ in 0..3 {
        store
            .create(&shop, data(&[("a", "1")]), None)
            .await
            .unwrap();
    }
    let short = store
        .create(&shop, data(&[]), Some(Duration::from_secs(10)))
        .await
        .unwrap()
        .id;
    let kept = store.create(&blog, data(&[]), None).await.unwrap().id;
    assert_eq!(store.count(&shop).await.unwrap(), 4);
    assert_eq!(store.count(&ns("never-used")).await.unwrap(), 0);

    // Expired but not yet reclaimed: gone to the count as to a read.
    store.clock().advance(Duration::from_secs(10));
    assert_eq!(store.count(&shop).await.unwrap(), 3);
    assert_eq!(store.count(&blog).await.unwrap(), 1);

    assert_eq!(store.clear(&shop).await.unwrap(), 3);
    assert_eq!(store.count(&shop).await.unwrap(), 0);
    assert_eq!(
        store.get(&shop, &short, &[], false).await.unwrap_err(),
        SessionError::NotFound
    );
    assert_eq!(store.clear(&shop).await.unwrap(), 0);
    assert!(store.get(&blog, &kept, &[], false).await.is_ok());
    assert_eq!(store.count(&blog).await.unwrap(), 1);
    if store.counts {
        assert_eq!(store.namespace_len(&shop), 0);
        assert_eq!(store.len(), 1);
        assert_eq!(store.stats().flushed, 3);
    }
}
