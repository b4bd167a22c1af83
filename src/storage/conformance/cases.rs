//! The cases of the conformance suite: each an `async fn` over a fresh
//! backend from `new`, so `mod.rs` runs every one against every backend.
//! What they check is behaviour at the boundary only: results, versions,
//! deadlines, limits, namespaces, counts.

use std::collections::HashMap;
use std::time::Duration;

use super::{data, ns, upsert, New, IDLE, NS, T0};
use crate::session::{Limit, Limits, MergePatch, SessionError, Update};

pub async fn a_created_session_reads_back_exactly_as_stored(new: New) {
    let store = new(Limits::default(), None);
    let info = store
        .create(
            &NS,
            data(&[("username", "\"yuan\""), ("cart", "{\"items\": [1, 2]}")]),
            None,
        )
        .await
        .unwrap();
    assert_eq!(info.version, 1);
    assert_eq!(info.created_ms, T0);
    assert_eq!(info.expires_ms, T0 + IDLE.as_millis() as u64);

    let (got, values) = store.get(&NS, &info.id, &[], true).await.unwrap();
    assert_eq!(got.version, 1);
    assert_eq!(values["cart"], "{\"items\": [1, 2]}");
    assert_eq!(values.len(), 2);

    let (_, one) = store
        .get(&NS, &info.id, &["username".into(), "absent".into()], true)
        .await
        .unwrap();
    assert_eq!(one, data(&[("username", "\"yuan\"")]));
}

pub async fn an_expired_session_is_not_found_before_it_is_reclaimed(new: New) {
    let store = new(Limits::default(), None);
    let id = store.create(&NS, data(&[]), None).await.unwrap().id;
    store.clock().advance(IDLE);
    assert_eq!(
        store.get(&NS, &id, &[], true).await,
        Err(SessionError::NotFound)
    );
    assert_eq!(
        store.set(&NS, &id, upsert(&[("a", "1")])).await,
        Err(SessionError::NotFound)
    );
    assert_eq!(
        store.touch(&NS, &id, None).await,
        Err(SessionError::NotFound)
    );
    assert_eq!(store.rotate(&NS, &id).await, Err(SessionError::NotFound));
    if store.counts {
        assert_eq!(store.len(), 1, "not reclaimed yet, but invisible");
    }
    assert!(
        !store.flush(&NS, &id).await.unwrap(),
        "an expired session did not exist"
    );
    if store.counts {
        assert_eq!(store.len(), 0);
    }
}

pub async fn reads_slide_the_idle_deadline_unless_asked_not_to(new: New) {
    let store = new(Limits::default(), None);
    let id = store.create(&NS, data(&[]), None).await.unwrap().id;
    store.clock().advance(Duration::from_secs(500));
    let (info, _) = store.get(&NS, &id, &[], false).await.unwrap();
    assert_eq!(info.expires_ms, T0 + 600_000, "no_touch does not slide");
    let (info, _) = store.get(&NS, &id, &[], true).await.unwrap();
    assert_eq!(info.expires_ms, T0 + 1_100_000);
    store.clock().advance(Duration::from_secs(500));
    assert!(
        store.get(&NS, &id, &[], true).await.is_ok(),
        "alive thanks to the slide"
    );
}

pub async fn the_absolute_timeout_caps_sliding(new: New) {
    let store = new(Limits::default(), Some(Duration::from_secs(900)));
    let id = store.create(&NS, data(&[]), None).await.unwrap().id;
    for _ in 0..3 {
        store.clock().advance(Duration::from_secs(299));
        store.touch(&NS, &id, None).await.unwrap();
    }
    let (info, _) = store.get(&NS, &id, &[], true).await.unwrap();
    assert_eq!(info.expires_ms, T0 + 900_000);
    store.clock().advance(Duration::from_secs(3));
    assert_eq!(
        store.get(&NS, &id, &[], true).await,
        Err(SessionError::NotFound)
    );
}

pub async fn a_set_that_crosses_a_limit_changes_nothing(new: New) {
    let limits = Limits {
        max_keys: 3,
        max_session_bytes: 40,
        ..Limits::default()
    };
    let store = new(limits, None);
    let id = store
        .create(&NS, data(&[("a", "1"), ("b", "2")]), None)
        .await
        .unwrap()
        .id;

    let too_many = upsert(&[("c", "3"), ("d", "4")]);
    let err = store.set(&NS, &id, too_many).await.unwrap_err();
    assert!(
        matches!(
            err,
            SessionError::LimitExceeded {
                limit: Limit::Keys,
                ..
            }
        ),
        "{err}"
    );

    let too_big = Update {
        upsert: data(&[("c", "\"0123456789012345678901234567890123456789\"")]),
        remove: vec!["a".into()],
        expected_version: None,
    };
    let err = store.set(&NS, &id, too_big).await.unwrap_err();
    assert!(matches!(
        err,
        SessionError::LimitExceeded {
            limit: Limit::SessionBytes,
            ..
        }
    ));

    let bad_json = upsert(&[("c", "3"), ("d", "nope")]);
    assert!(matches!(
        store.set(&NS, &id, bad_json).await,
        Err(SessionError::InvalidJson { .. })
    ));

    let (info, values) = store.get(&NS, &id, &[], true).await.unwrap();
    assert_eq!(values, data(&[("a", "1"), ("b", "2")]));
    assert_eq!(info.version, 1);
    if store.counts {
        assert_eq!(store.stats().data_bytes, 4);
    }
}

pub async fn replacing_and_removing_keys_keeps_the_size_accounting_exact(new: New) {
    let limits = Limits {
        max_keys: 2,
        ..Limits::default()
    };
    let store = new(limits, None);
    let id = store
        .create(&NS, data(&[("a", "1"), ("b", "2")]), None)
        .await
        .unwrap()
        .id;
    // At the key limit, overwriting and swapping keys still fits.
    let swap = Update {
        upsert: data(&[("a", "11"), ("c", "3")]),
        remove: vec!["b".into(), "zz".into()],
        expected_version: None,
    };
    let info = store.set(&NS, &id, swap).await.unwrap();
    assert_eq!(info.version, 2);
    assert_eq!(
        store.get(&NS, &id, &[], true).await.unwrap().1,
        data(&[("a", "11"), ("c", "3")])
    );
    if store.counts {
        assert_eq!(store.stats().data_bytes, "a11c3".len());
    }
}

pub async fn compare_and_set_refuses_a_stale_version(new: New) {
    let store = new(Limits::default(), None);
    let id = store.create(&NS, data(&[]), None).await.unwrap().id;
    let mut first = upsert(&[("n", "1")]);
    first.expected_version = Some(1);
    assert_eq!(store.set(&NS, &id, first).await.unwrap().version, 2);
    let mut stale = upsert(&[("n", "2")]);
    stale.expected_version = Some(1);
    assert_eq!(
        store.set(&NS, &id, stale).await,
        Err(SessionError::VersionMismatch {
            expected: 1,
            actual: 2
        })
    );
    assert_eq!(store.get(&NS, &id, &[], true).await.unwrap().1["n"], "1");
}

pub async fn a_key_both_upserted_and_removed_is_refused(new: New) {
    let store = new(Limits::default(), None);
    let id = store.create(&NS, data(&[]), None).await.unwrap().id;
    let both = Update {
        upsert: data(&[("k", "1")]),
        remove: vec!["k".into()],
        expected_version: None,
    };
    assert!(matches!(
        store.set(&NS, &id, both).await,
        Err(SessionError::InvalidKey(_))
    ));
}

pub async fn rotate_moves_the_data_to_a_new_id_and_kills_the_old_one(new: New) {
    let store = new(Limits::default(), Some(Duration::from_secs(3600)));
    let old = store
        .create(&NS, data(&[("user", "\"yuan\"")]), None)
        .await
        .unwrap();
    store.clock().advance(Duration::from_secs(60));
    let new = store.rotate(&NS, &old.id).await.unwrap();
    assert_ne!(new.id, old.id);
    assert_eq!(new.version, 2);
    assert_eq!(
        new.created_ms, old.created_ms,
        "the absolute cap still counts from creation"
    );
    assert_eq!(
        store.get(&NS, &old.id, &[], true).await,
        Err(SessionError::NotFound)
    );
    assert_eq!(
        store.get(&NS, &new.id, &[], true).await.unwrap().1["user"],
        "\"yuan\""
    );
    assert!(!store.flush(&NS, &old.id).await.unwrap());
    if store.counts {
        assert_eq!(store.len(), 1);
    }
    assert_eq!(store.stats().rotated, 1);
}

pub async fn flush_is_idempotent(new: New) {
    let store = new(Limits::default(), None);
    let id = store
        .create(&NS, data(&[("a", "1")]), None)
        .await
        .unwrap()
        .id;
    assert!(store.flush(&NS, &id).await.unwrap());
    assert!(!store.flush(&NS, &id).await.unwrap());
    assert_eq!(
        store.get(&NS, &id, &[], true).await,
        Err(SessionError::NotFound)
    );
    assert_eq!(store.stats().flushed, 1);
    if store.counts {
        assert_eq!(store.stats().data_bytes, 0);
    }
}

pub async fn idle_timeouts_outside_the_bounds_are_refused(new: New) {
    let store = new(Limits::default(), None);
    let too_long = Duration::from_secs(31 * 24 * 3600);
    assert!(matches!(
        store.create(&NS, data(&[]), Some(too_long)).await,
        Err(SessionError::IdleTimeoutOutOfBounds { .. })
    ));
    let id = store.create(&NS, data(&[]), None).await.unwrap().id;
    assert!(matches!(
        store.touch(&NS, &id, Some(Duration::from_millis(10))).await,
        Err(SessionError::IdleTimeoutOutOfBounds { .. })
    ));
}

pub async fn a_full_store_reclaims_expired_sessions_before_refusing(new: New) {
    let limits = Limits {
        max_sessions: 3,
        ..Limits::default()
    };
    let store = new(limits, None);
    for _ in 0..3 {
        store
            .create(&NS, data(&[]), Some(Duration::from_secs(10)))
            .await
            .unwrap();
    }
    let err = store.create(&NS, data(&[]), None).await.unwrap_err();
    assert!(matches!(
        err,
        SessionError::LimitExceeded {
            limit: Limit::Sessions,
            ..
        }
    ));
    assert!(err.to_string().contains("max-sessions"));
    assert_eq!(store.stats().refused, 1);
    store.clock().advance(Duration::from_secs(10));
    store.create(&NS, data(&[]), None).await.unwrap();
    assert_eq!(store.len(), 1);
    assert_eq!(store.stats().refused, 1);
}

pub async fn a_session_is_found_only_in_its_own_namespace_by_every_operation(new: New) {
    let store = new(Limits::default(), None);
    let (shop, blog) = (ns("shop"), ns("blog"));
    let id = store
        .create(&shop, data(&[("a", "1")]), None)
        .await
        .unwrap()
        .id;
    for other in [&blog, &NS] {
        assert_eq!(
            store.get(other, &id, &[], true).await.unwrap_err(),
            SessionError::NotFound
        );
        assert_eq!(
            store
                .set(other, &id, upsert(&[("a", "2")]))
                .await
                .unwrap_err(),
            SessionError::NotFound
        );
        assert_eq!(
            store.touch(other, &id, None).await.unwrap_err(),
            SessionError::NotFound
        );
        assert_eq!(
            store.rotate(other, &id).await.unwrap_err(),
            SessionError::NotFound
        );
        assert_eq!(store.flush(other, &id).await, Ok(false));
    }
    assert_eq!(store.get(&shop, &id, &[], true).await.unwrap().1["a"], "1");
}

pub async fn each_namespace_has_its_own_limit_within_the_total(new: New) {
    let limits = Limits {
        max_sessions: 5,
        max_sessions_per_namespace: 2,
        ..Limits::default()
    };
    let store = new(limits, None);
    let (shop, blog) = (ns("shop"), ns("blog"));
    let first = store.create(&shop, data(&[]), None).await.unwrap().id;
    store.create(&shop, data(&[]), None).await.unwrap();
    let err = store.create(&shop, data(&[]), None).await.unwrap_err();
    assert!(
        matches!(err, SessionError::LimitExceeded { limit: Limit::NamespaceSessions, max: 2, ref what } if what.contains("shop")),
        "{err:?}"
    );
    // The other namespace is not locked out, and a refusal counts nothing.
    store.create(&blog, data(&[]), None).await.unwrap();
    assert_eq!((store.len(), store.namespace_len(&shop)), (3, 2));

    // Flush and rotate keep the namespace's count right.
    let rotated = store.rotate(&shop, &first).await.unwrap().id;
    assert_eq!(store.namespace_len(&shop), 2);
    assert!(store.flush(&shop, &rotated).await.unwrap());
    assert_eq!(store.namespace_len(&shop), 1);
    store.create(&shop, data(&[]), None).await.unwrap();
}

pub async fn a_read_keeps_the_data_it_found_after_a_set_replaces_the_session(new: New) {
    let store = new(Limits::default(), None);
    let id = store
        .create(&NS, data(&[("a", "1"), ("b", "\"two\"")]), None)
        .await
        .unwrap()
        .id;
    let all = store.read(&NS, &id, Vec::new(), true).await.unwrap();
    let asked = vec!["b".into(), "b".into(), "absent".into()];
    let some = store.read(&NS, &id, asked, false).await.unwrap();
    store
        .set(&NS, &id, upsert(&[("a", "10"), ("c", "3")]))
        .await
        .unwrap();

    assert_eq!(all.info.version, 1);
    assert_eq!(all.data.to_map(), data(&[("a", "1"), ("b", "\"two\"")]));
    assert_eq!(some.data.iter().collect::<Vec<_>>(), [("b", "\"two\"")]);
    assert_eq!(some.data.get("b"), Some("\"two\""));
    assert_eq!(some.data.get("a"), None, "a key not asked for is not read");
    let now = store.read(&NS, &id, Vec::new(), false).await.unwrap();
    assert_eq!((now.info.version, now.data.get("a")), (2, Some("10")));
}

pub async fn concurrent_sets_of_different_keys_lose_nothing(new: New) {
    let store = new(Limits::default(), None);
    let id = store.create(&NS, data(&[]), None).await.unwrap().id;
    let writers: Vec<_> = (0..8)
        .map(|t| {
            let (store, id) = (store.storage.clone(), id.clone());
            tokio::spawn(async move {
                for i in 0..50 {
                    let key = format!("t{t}-k{i}");
                    let update = upsert(&[(&key, &i.to_string())]);
                    store.set(&NS, &id, update).await.unwrap();
                }
            })
        })
        .collect();
    for writer in writers {
        writer.await.unwrap();
    }
    let (info, values) = store.get(&NS, &id, &[], true).await.unwrap();
    assert_eq!(values.len(), 8 * 50);
    assert_eq!(info.version, 1 + 8 * 50);
}

fn patch(json: &str) -> MergePatch {
    MergePatch::parse(json.as_bytes()).unwrap()
}

pub async fn a_merge_replaces_values_merges_objects_and_removes_nulls(new: New) {
    let store = new(Limits::default(), None);
    let initial = data(&[
        ("user", "\"yuan\""),
        ("cart", r#"{"coupon":"X","items":[1]}"#),
        ("old", "1"),
    ]);
    let id = store.create(&NS, initial, None).await.unwrap().id;
    let merged = store
        .merge(
            &NS,
            &id,
            &patch(r#"{"user":"hal","cart":{"items":[2],"coupon":null},"old":null,"n":1.50}"#),
            None,
        )
        .await
        .unwrap();
    assert_eq!(merged.info.version, 2);
    let after = merged.data.to_map();
    assert_eq!(after["user"], "\"hal\"");
    assert_eq!(after["n"], "1.50", "replaced values stay exactly as sent");
    assert_eq!(after["cart"], r#"{"items":[2]}"#);
    assert!(!after.contains_key("old"));
    assert_eq!(store.get(&NS, &id, &[], false).await.unwrap().1, after);
}

pub async fn a_merge_checks_the_versions_it_is_given(new: New) {
    let store = new(Limits::default(), None);
    let id = store.create(&NS, data(&[]), None).await.unwrap().id;
    let once = patch(r#"{"a":1}"#);
    let refused = store.merge(&NS, &id, &once, Some(&[7])).await;
    assert_eq!(
        refused.unwrap_err(),
        SessionError::VersionMismatch {
            expected: 7,
            actual: 1
        }
    );
    let merged = store.merge(&NS, &id, &once, Some(&[3, 1])).await.unwrap();
    assert_eq!(merged.info.version, 2);
    let gone = store.merge(&NS, &crate::session::SessionId::generate(), &once, None);
    assert_eq!(gone.await.unwrap_err(), SessionError::NotFound);
}

pub async fn concurrent_merges_into_one_object_lose_nothing(new: New) {
    let store = new(Limits::default(), None);
    let id = store
        .create(&NS, data(&[("cart", "{}")]), None)
        .await
        .unwrap()
        .id;
    let writers: Vec<_> = (0..8)
        .map(|t| {
            let (store, id) = (store.storage.clone(), id.clone());
            tokio::spawn(async move {
                for i in 0..25 {
                    let one = patch(&format!(r#"{{"cart":{{"t{t}-{i}":{i}}}}}"#));
                    store.merge(&NS, &id, &one, None).await.unwrap();
                }
            })
        })
        .collect();
    for writer in writers {
        writer.await.unwrap();
    }
    let (info, values) = store.get(&NS, &id, &[], false).await.unwrap();
    let cart: HashMap<String, u32> = serde_json::from_str(&values["cart"]).unwrap();
    assert_eq!(cart.len(), 8 * 25, "every merge read the one before it");
    assert_eq!(info.version, 1 + 8 * 25);
}

pub async fn a_merge_that_crosses_a_limit_changes_nothing(new: New) {
    let limits = Limits {
        max_keys: 2,
        ..Limits::default()
    };
    let store = new(limits, None);
    let id = store
        .create(&NS, data(&[("a", "1")]), None)
        .await
        .unwrap()
        .id;
    let err = store
        .merge(&NS, &id, &patch(r#"{"b":2,"c":3}"#), None)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            SessionError::LimitExceeded {
                limit: Limit::Keys,
                ..
            }
        ),
        "{err}"
    );
    let (info, values) = store.get(&NS, &id, &[], false).await.unwrap();
    assert_eq!((info.version, values), (1, data(&[("a", "1")])));
}

pub async fn touch_can_change_the_idle_timeout(new: New) {
    let store = new(Limits::default(), None);
    let id = store.create(&NS, data(&[]), None).await.unwrap().id;
    store.clock().advance(Duration::from_secs(10));
    let info = store
        .touch(&NS, &id, Some(Duration::from_secs(5)))
        .await
        .unwrap();
    assert_eq!(info.idle_timeout, Duration::from_secs(5));
    assert_eq!(info.expires_ms, T0 + 15_000, "shortened from now");
    store.clock().advance(Duration::from_secs(5));
    assert_eq!(
        store.touch(&NS, &id, None).await.unwrap_err(),
        SessionError::NotFound
    );
}

pub async fn every_change_of_a_session_in_another_namespace_is_refused(new: New) {
    let store = new(Limits::default(), None);
    let id = store
        .create(&ns("shop"), data(&[("a", "1")]), None)
        .await
        .unwrap()
        .id;
    let refused = store.merge(&ns("blog"), &id, &patch(r#"{"a":2}"#), None);
    assert_eq!(refused.await.unwrap_err(), SessionError::NotFound);
    let both = Update {
        upsert: data(&[("a", "3")]),
        ..Update::default()
    };
    assert_eq!(
        store.set(&NS, &id, both).await.unwrap_err(),
        SessionError::NotFound
    );
    let (_, values) = store.get(&ns("shop"), &id, &[], false).await.unwrap();
    assert_eq!(values["a"], "1");
}

// The whole-object cases live in `whole.rs`; `backends!` finds every case
// here.
pub use super::whole::*;
