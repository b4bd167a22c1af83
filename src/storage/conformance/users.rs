//! The conformance cases of a user's sessions: binding, listing by handle,
//! revoking, the per-user limit, and the index's consistency with
//! expiry, flush and rotation. Run against every backend by `mod.rs`.

use std::time::Duration;

use super::{data, ns, New, IDLE, NS, T0};
use crate::session::{
    Binding, Handle, Limit, Limits, PerUserPolicy, SessionError, SessionId, UserId,
};
use crate::storage::Storage;

fn user(name: &str) -> UserId {
    UserId::parse(name).unwrap()
}

fn bound(name: &str) -> Binding {
    Binding::to(user(name))
}

async fn handles(store: &Storage, name: &str) -> Vec<Handle> {
    let mut out: Vec<Handle> = store
        .list_user_sessions(&NS, &user(name), None)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.handle)
        .collect();
    out.sort_by_key(|h| h.0);
    out
}

fn handle_of(id: &SessionId) -> Handle {
    Handle(id.digest_in(&NS))
}

pub async fn a_bound_session_is_listed_by_handle_with_its_metadata(new: New) {
    let store = new(Limits::default(), None);
    let meta = Binding::new(user("alice"), "Firefox/130".into(), "192.0.2.7".into()).unwrap();
    let phone = store
        .create_bound(&NS, data(&[("k", "1")]), None, meta)
        .await
        .unwrap();
    let laptop = store.create(&NS, data(&[]), None).await.unwrap();
    store
        .bind_user(&NS, &laptop.id, Some(bound("alice")))
        .await
        .unwrap();
    store.create(&NS, data(&[]), None).await.unwrap();
    store
        .create_bound(&NS, data(&[]), None, bound("bob"))
        .await
        .unwrap();

    let listed = store
        .list_user_sessions(&NS, &user("alice"), Some(&laptop.id))
        .await
        .unwrap();
    assert_eq!(listed.len(), 2);
    let of_phone = listed
        .iter()
        .find(|s| s.handle == handle_of(&phone.id))
        .unwrap();
    assert_eq!(of_phone.user_agent, "Firefox/130");
    assert_eq!(of_phone.ip, "192.0.2.7");
    assert_eq!(of_phone.created_ms, T0);
    assert_eq!(of_phone.last_seen_ms, T0);
    assert_eq!(of_phone.expires_ms, T0 + IDLE.as_millis() as u64);
    assert!(!of_phone.current);
    let of_laptop = listed
        .iter()
        .find(|s| s.handle == handle_of(&laptop.id))
        .unwrap();
    assert!(of_laptop.current);
    for s in &listed {
        assert_ne!(s.handle.to_string(), phone.id.expose());
        assert_ne!(s.handle.to_string(), laptop.id.expose());
    }
    assert_eq!(
        store.bound_user(&NS, &phone.id).await.unwrap(),
        Some(user("alice"))
    );
    let (_, values) = store.get(&NS, &phone.id, &[], true).await.unwrap();
    assert_eq!(values, data(&[("k", "1")]), "the binding is not data");
    assert!(handles(&store, "carol").await.is_empty());
}

pub async fn last_seen_follows_activity(new: New) {
    let store = new(Limits::default(), None);
    let info = store
        .create_bound(&NS, data(&[]), None, bound("alice"))
        .await
        .unwrap();
    store.clock().advance(Duration::from_secs(30));
    store.get(&NS, &info.id, &[], true).await.unwrap();
    let listed = store
        .list_user_sessions(&NS, &user("alice"), None)
        .await
        .unwrap();
    assert_eq!(listed[0].last_seen_ms, T0 + 30_000);
    assert_eq!(listed[0].created_ms, T0);
}

pub async fn rebinding_moves_a_session_and_unbinding_unlists_it(new: New) {
    let store = new(Limits::default(), None);
    let info = store
        .create_bound(&NS, data(&[]), None, bound("alice"))
        .await
        .unwrap();
    let rebound = store
        .bind_user(&NS, &info.id, Some(bound("bob")))
        .await
        .unwrap();
    assert_eq!(rebound.version, info.version, "a binding is not data");
    assert!(handles(&store, "alice").await.is_empty());
    assert_eq!(handles(&store, "bob").await, vec![handle_of(&info.id)]);
    store.bind_user(&NS, &info.id, None).await.unwrap();
    assert!(handles(&store, "bob").await.is_empty());
    assert_eq!(store.bound_user(&NS, &info.id).await.unwrap(), None);
    assert_eq!(
        store
            .bind_user(&NS, &SessionId::generate(), Some(bound("bob")))
            .await,
        Err(SessionError::NotFound)
    );
}

pub async fn the_binding_survives_rotate_and_the_old_id_is_never_listed(new: New) {
    let store = new(Limits::default(), None);
    let old = store
        .create_bound(&NS, data(&[("k", "1")]), None, bound("alice"))
        .await
        .unwrap();
    let new_info = store.rotate(&NS, &old.id).await.unwrap();
    assert_eq!(
        handles(&store, "alice").await,
        vec![handle_of(&new_info.id)]
    );
    assert_eq!(
        store.bound_user(&NS, &new_info.id).await.unwrap(),
        Some(user("alice"))
    );
    let (_, values) = store.get(&NS, &new_info.id, &[], true).await.unwrap();
    assert_eq!(values, data(&[("k", "1")]));
    let revoked = store
        .revoke_session(&NS, &handle_of(&old.id), None)
        .await
        .unwrap();
    assert!(!revoked, "the rotated-away handle names nothing");
}

pub async fn flushed_and_expired_sessions_are_never_listed(new: New) {
    let store = new(Limits::default(), None);
    let short = Duration::from_secs(60);
    let mut ids = Vec::new();
    for _ in 0..50 {
        let info = store
            .create_bound(&NS, data(&[]), Some(short), bound("alice"))
            .await
            .unwrap();
        ids.push(info.id);
    }
    let kept = store
        .create_bound(&NS, data(&[]), None, bound("alice"))
        .await
        .unwrap();
    store.flush(&NS, &ids[0]).await.unwrap();
    assert_eq!(handles(&store, "alice").await.len(), 50);

    store.clock().advance(short);
    // Expired, not yet reclaimed: already unlisted.
    assert_eq!(handles(&store, "alice").await, vec![handle_of(&kept.id)]);
    store.reclaim();
    assert_eq!(handles(&store, "alice").await, vec![handle_of(&kept.id)]);
    assert_eq!(
        store
            .revoke_user_sessions(&NS, &user("alice"), None)
            .await
            .unwrap(),
        1,
        "only the live session is counted"
    );
}

pub async fn revoking_a_handle_ends_that_session_only_and_only_for_its_user(new: New) {
    let store = new(Limits::default(), None);
    let a = store
        .create_bound(&NS, data(&[]), None, bound("alice"))
        .await
        .unwrap();
    let b = store
        .create_bound(&NS, data(&[]), None, bound("alice"))
        .await
        .unwrap();
    let h = handle_of(&a.id);
    assert!(!store
        .revoke_session(&NS, &h, Some(&user("mallory")))
        .await
        .unwrap());
    assert!(store.get(&NS, &a.id, &[], true).await.is_ok());
    assert!(store
        .revoke_session(&NS, &h, Some(&user("alice")))
        .await
        .unwrap());
    assert_eq!(
        store.get(&NS, &a.id, &[], true).await,
        Err(SessionError::NotFound)
    );
    assert!(
        !store.revoke_session(&NS, &h, None).await.unwrap(),
        "idempotent"
    );
    assert_eq!(handles(&store, "alice").await, vec![handle_of(&b.id)]);
}

pub async fn revoking_a_user_ends_every_session_but_the_one_kept(new: New) {
    let store = new(Limits::default(), None);
    let mut ids = Vec::new();
    for _ in 0..20 {
        let info = store
            .create_bound(&NS, data(&[]), None, bound("alice"))
            .await
            .unwrap();
        ids.push(info.id);
    }
    let bob = store
        .create_bound(&NS, data(&[]), None, bound("bob"))
        .await
        .unwrap();
    let ended = store
        .revoke_user_sessions(&NS, &user("alice"), Some(&ids[3]))
        .await
        .unwrap();
    assert_eq!(ended, 19);
    for (i, id) in ids.iter().enumerate() {
        let found = store.get(&NS, id, &[], true).await;
        assert_eq!(found.is_ok(), i == 3, "session {i}");
    }
    assert_eq!(handles(&store, "alice").await, vec![handle_of(&ids[3])]);
    assert!(store.get(&NS, &bob.id, &[], true).await.is_ok());
    let all = store
        .revoke_user_sessions(&NS, &user("alice"), None)
        .await
        .unwrap();
    assert_eq!(all, 1);
    assert!(handles(&store, "alice").await.is_empty());
}

pub async fn a_handle_is_not_a_session_id_anywhere(new: New) {
    let store = new(Limits::default(), None);
    let info = store
        .create_bound(&NS, data(&[("k", "1")]), None, bound("alice"))
        .await
        .unwrap();
    let text = handle_of(&info.id).to_string();
    let as_id = SessionId::parse(&text).expect("a handle has the shape of an id");
    let nf = Err(SessionError::NotFound);
    assert_eq!(store.get(&NS, &as_id, &[], true).await.map(|_| ()), nf);
    let update = super::upsert(&[("k", "2")]);
    assert_eq!(store.set(&NS, &as_id, update).await.map(|_| ()), nf);
    assert_eq!(store.rotate(&NS, &as_id).await.map(|_| ()), nf);
    assert_eq!(store.touch(&NS, &as_id, None).await.map(|_| ()), nf);
    assert_eq!(
        store
            .bind_user(&NS, &as_id, Some(bound("mallory")))
            .await
            .map(|_| ()),
        nf
    );
    assert_eq!(store.bound_user(&NS, &as_id).await.map(|_| ()), nf);
    assert_eq!(store.flush(&NS, &as_id).await, Ok(false));
    let (_, values) = store.get(&NS, &info.id, &[], true).await.unwrap();
    assert_eq!(values, data(&[("k", "1")]), "the session is untouched");
}

pub async fn users_and_handles_are_apart_by_namespace(new: New) {
    let store = new(Limits::default(), None);
    let shop = ns("shop");
    let in_shop = store
        .create_bound(&shop, data(&[]), None, bound("alice"))
        .await
        .unwrap();
    assert!(handles(&store, "alice").await.is_empty());
    let listed = store
        .list_user_sessions(&shop, &user("alice"), None)
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    let handle = listed[0].handle;
    assert!(!store.revoke_session(&NS, &handle, None).await.unwrap());
    assert_eq!(
        store
            .revoke_user_sessions(&NS, &user("alice"), None)
            .await
            .unwrap(),
        0
    );
    assert!(store.get(&shop, &in_shop.id, &[], true).await.is_ok());
    assert!(store.revoke_session(&shop, &handle, None).await.unwrap());
}

fn per_user(max: usize, policy: PerUserPolicy) -> Limits {
    Limits {
        max_sessions_per_user: max,
        per_user_policy: policy,
        ..Limits::default()
    }
}

pub async fn the_per_user_limit_refuses_when_so_configured(new: New) {
    let store = new(per_user(2, PerUserPolicy::Refuse), None);
    for _ in 0..2 {
        store
            .create_bound(&NS, data(&[]), None, bound("alice"))
            .await
            .unwrap();
    }
    let refused = store
        .create_bound(&NS, data(&[]), None, bound("alice"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            refused,
            SessionError::LimitExceeded {
                limit: Limit::UserSessions,
                max: 2,
                ..
            }
        ),
        "{refused:?}"
    );
    assert!(refused.to_string().contains("max-sessions-per-user"));
    let other = store.create(&NS, data(&[]), None).await.unwrap();
    assert!(store
        .bind_user(&NS, &other.id, Some(bound("alice")))
        .await
        .is_err());
    assert!(store
        .create_bound(&NS, data(&[]), None, bound("bob"))
        .await
        .is_ok());
    // An expired session does not hold a place.
    store.clock().advance(IDLE);
    store
        .create_bound(&NS, data(&[]), None, bound("alice"))
        .await
        .unwrap();
}

pub async fn the_per_user_limit_evicts_the_oldest_by_default(new: New) {
    let store = new(per_user(3, PerUserPolicy::EvictOldest), None);
    let mut ids = Vec::new();
    for _ in 0..3 {
        let info = store
            .create_bound(&NS, data(&[]), None, bound("alice"))
            .await
            .unwrap();
        ids.push(info.id);
        store.clock().advance(Duration::from_secs(1));
    }
    let newest = store
        .create_bound(&NS, data(&[]), None, bound("alice"))
        .await
        .unwrap();
    assert_eq!(
        store.get(&NS, &ids[0], &[], true).await.map(|_| ()),
        Err(SessionError::NotFound),
        "the oldest made room"
    );
    let mut expected = vec![
        handle_of(&ids[1]),
        handle_of(&ids[2]),
        handle_of(&newest.id),
    ];
    expected.sort_by_key(|h| h.0);
    assert_eq!(handles(&store, "alice").await, expected);
    // Rebinding a session already the user's takes no room.
    store
        .bind_user(&NS, &ids[1], Some(bound("alice")))
        .await
        .unwrap();
    assert_eq!(handles(&store, "alice").await, expected);
}
