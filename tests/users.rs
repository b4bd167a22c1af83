//! A user's sessions over the public APIs: binding at Create and by
//! BindUser, listings by handle, revocation, and the handle presented as a
//! credential everywhere (NOT_FOUND each time).

mod common;

use common::spawn_app;
use sessiond::grpc::pb;
use tonic::Code;

fn alice(user_agent: &str) -> Option<pb::UserBinding> {
    Some(pb::UserBinding {
        user_id: "alice".into(),
        user_agent: user_agent.into(),
        ip: String::new(),
    })
}

async fn create_for(
    client: &mut pb::session_service_client::SessionServiceClient<tonic::transport::Channel>,
    user: Option<pb::UserBinding>,
) -> String {
    let request = pb::CreateRequest {
        data: Default::default(),
        idle_timeout: None,
        user,
    };
    client
        .create(request)
        .await
        .unwrap()
        .into_inner()
        .session
        .unwrap()
        .id
}

fn list(user_id: &str, current_id: &str) -> pb::ListUserSessionsRequest {
    pb::ListUserSessionsRequest {
        user_id: user_id.into(),
        current_id: current_id.into(),
    }
}

#[tokio::test]
async fn a_user_logs_in_twice_lists_both_and_logs_out_everywhere_else() {
    let mut app = spawn_app().await;
    let phone = create_for(&mut app.client, alice("Phone")).await;
    let laptop = create_for(&mut app.client, None).await;
    app.client
        .bind_user(pb::BindUserRequest {
            id: laptop.clone(),
            user: alice("Laptop"),
        })
        .await
        .unwrap();

    let sessions = app
        .client
        .list_user_sessions(list("alice", &laptop))
        .await
        .unwrap()
        .into_inner()
        .sessions;
    assert_eq!(sessions.len(), 2);
    let current: Vec<_> = sessions.iter().filter(|s| s.current).collect();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0].user_agent, "Laptop");
    for s in &sessions {
        assert_eq!(s.handle.len(), 32);
        assert_ne!(s.handle, phone);
        assert_ne!(s.handle, laptop);
        assert!(s.created_at.is_some() && s.last_seen.is_some() && s.expires_at.is_some());
    }

    let revoked = app
        .client
        .revoke_user_sessions(pb::RevokeUserSessionsRequest {
            user_id: "alice".into(),
            except_id: laptop.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .revoked;
    assert_eq!(revoked, 1);
    let gone = app
        .client
        .get(pb::GetRequest {
            id: phone,
            keys: vec![],
            no_touch: false,
        })
        .await
        .unwrap_err();
    assert_eq!(gone.code(), Code::NotFound);
    let left = app
        .client
        .list_user_sessions(list("alice", ""))
        .await
        .unwrap()
        .into_inner()
        .sessions;
    assert_eq!(left.len(), 1);
    let handle = left[0].handle.clone();
    let existed = app
        .client
        .revoke_session(pb::RevokeSessionRequest {
            handle,
            user_id: "alice".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .existed;
    assert!(existed);
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_handle_is_not_found_as_an_id_by_every_rpc() {
    let mut app = spawn_app().await;
    let id = create_for(&mut app.client, alice("")).await;
    let handle = app
        .client
        .list_user_sessions(list("alice", ""))
        .await
        .unwrap()
        .into_inner()
        .sessions[0]
        .handle
        .clone();
    let c = &mut app.client;
    let codes = [
        c.get(pb::GetRequest {
            id: handle.clone(),
            keys: vec![],
            no_touch: false,
        })
        .await
        .map(|_| ()),
        c.set(pb::SetRequest {
            id: handle.clone(),
            upsert: [("k".to_string(), "1".to_string())].into(),
            remove: vec![],
            expected_version: None,
        })
        .await
        .map(|_| ()),
        c.rotate(pb::RotateRequest { id: handle.clone() })
            .await
            .map(|_| ()),
        c.touch(pb::TouchRequest {
            id: handle.clone(),
            idle_timeout: None,
        })
        .await
        .map(|_| ()),
        c.bind_user(pb::BindUserRequest {
            id: handle.clone(),
            user: alice(""),
        })
        .await
        .map(|_| ()),
    ];
    for (i, answer) in codes.into_iter().enumerate() {
        assert_eq!(answer.unwrap_err().code(), Code::NotFound, "rpc {i}");
    }
    let flushed = c
        .flush(pb::FlushRequest { id: handle.clone() })
        .await
        .unwrap()
        .into_inner();
    assert!(!flushed.existed, "Flush names no session either");
    let as_current = c
        .revoke_user_sessions(pb::RevokeUserSessionsRequest {
            user_id: "alice".into(),
            except_id: handle.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        as_current.revoked, 1,
        "a handle does not keep a session as its id would"
    );
    let gone = c
        .get(pb::GetRequest {
            id,
            keys: vec![],
            no_touch: false,
        })
        .await
        .unwrap_err();
    assert_eq!(gone.code(), Code::NotFound);
    app.stop().await.unwrap();
}

#[tokio::test]
async fn malformed_users_and_handles_are_invalid_arguments() {
    let mut app = spawn_app().await;
    let bad_user = app
        .client
        .list_user_sessions(list("", ""))
        .await
        .unwrap_err();
    assert_eq!(bad_user.code(), Code::InvalidArgument);
    assert!(
        bad_user.message().contains("user id"),
        "{}",
        bad_user.message()
    );
    let bad_handle = app
        .client
        .revoke_session(pb::RevokeSessionRequest {
            handle: "nope".into(),
            user_id: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(bad_handle.code(), Code::InvalidArgument);
    let long_agent = pb::CreateRequest {
        data: Default::default(),
        idle_timeout: None,
        user: alice(&"x".repeat(300)),
    };
    let refused = app.client.create(long_agent).await.unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    app.stop().await.unwrap();
}
