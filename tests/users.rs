//! A user's sessions over the public APIs: binding at Create and by
//! BindUser, listings by handle, revocation, and the handle presented as a
//! credential everywhere (NOT_FOUND each time).

mod common;

use common::http_client::{cookie, get_session, JSON};
use common::redis_server::RedisServer;
use common::{spawn_app, spawn_app_on_redis, TestApp};
use http::{Method, StatusCode};
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
    logs_in_twice_and_out_everywhere_else(spawn_app().await).await;
}

#[tokio::test]
async fn on_redis_a_user_logs_in_twice_lists_both_and_logs_out_everywhere_else() {
    let redis = RedisServer::start();
    logs_in_twice_and_out_everywhere_else(spawn_app_on_redis(redis.url(), |_| {}).await).await;
}

async fn logs_in_twice_and_out_everywhere_else(mut app: TestApp) {
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
    a_handle_is_not_an_id(spawn_app().await).await;
}

#[tokio::test]
async fn on_redis_a_handle_is_not_found_as_an_id_by_every_rpc() {
    let redis = RedisServer::start();
    a_handle_is_not_an_id(spawn_app_on_redis(redis.url(), |_| {}).await).await;
}

async fn a_handle_is_not_an_id(mut app: TestApp) {
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
            ..Default::default()
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

#[tokio::test]
async fn the_gateway_lists_a_users_sessions_and_revokes_one_or_the_others() {
    gateway_lists_and_revokes(spawn_app().await).await;
}

#[tokio::test]
async fn on_redis_the_gateway_lists_a_users_sessions_and_revokes_one_or_the_others() {
    let redis = RedisServer::start();
    gateway_lists_and_revokes(spawn_app_on_redis(redis.url(), |_| {}).await).await;
}

async fn gateway_lists_and_revokes(mut app: TestApp) {
    let http = app.http();
    let here = create_for(&mut app.client, alice("Here")).await;
    let phone = create_for(&mut app.client, alice("Phone")).await;
    let tablet = create_for(&mut app.client, alice("Tablet")).await;
    let jar = cookie(&here);

    let listed = http.get("/sessions", &[("cookie", &jar)]).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text());
    let body = listed.json();
    let sessions = body["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 3);
    let text = listed.text();
    for id in [&here, &phone, &tablet] {
        assert!(!text.contains(id.as_str()), "a listing never shows an id");
    }
    let current: Vec<_> = sessions.iter().filter(|s| s["current"] == true).collect();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0]["user_agent"], "Here");
    let phone_handle = sessions
        .iter()
        .find(|s| s["user_agent"] == "Phone")
        .unwrap()["handle"]
        .as_str()
        .unwrap()
        .to_owned();

    // The handle as a cookie opens nothing, and is expired.
    let as_cookie = get_session(&http, &phone_handle).await;
    assert_eq!(as_cookie.status, StatusCode::NOT_FOUND);
    assert!(as_cookie.expires_cookie());
    let as_cookie = http
        .get("/sessions", &[("cookie", &cookie(&phone_handle))])
        .await;
    assert_eq!(as_cookie.status, StatusCode::NOT_FOUND);

    // Writes follow the CSRF rules of every other write.
    let path = format!("/sessions/{phone_handle}");
    let no_json = http
        .send(Method::DELETE, &path, &[("cookie", &jar)], "")
        .await;
    assert_eq!(no_json.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let cross_site = http
        .send(
            Method::DELETE,
            &path,
            &[("cookie", &jar), JSON, ("origin", "https://evil.example")],
            "",
        )
        .await;
    assert_eq!(cross_site.status, StatusCode::FORBIDDEN);

    let revoked = http
        .send(Method::DELETE, &path, &[("cookie", &jar), JSON], "")
        .await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT, "{}", revoked.text());
    assert!(!revoked.expires_cookie());
    assert_eq!(
        get_session(&http, &phone).await.status,
        StatusCode::NOT_FOUND
    );
    let again = http
        .send(Method::DELETE, &path, &[("cookie", &jar), JSON], "")
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    assert_eq!(again.error(), "handle_not_found");
    assert!(!again.expires_cookie(), "the caller stays logged in");

    let others = http
        .send(
            Method::POST,
            "/sessions/revoke-others",
            &[("cookie", &jar), JSON],
            "",
        )
        .await;
    assert_eq!(others.status, StatusCode::OK, "{}", others.text());
    assert_eq!(others.json()["revoked"], 1);
    assert_eq!(
        get_session(&http, &tablet).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(get_session(&http, &here).await.status, StatusCode::OK);

    // Bob cannot end Alice's session by its handle.
    let bob = create_for(
        &mut app.client,
        Some(pb::UserBinding {
            user_id: "bob".into(),
            ..Default::default()
        }),
    )
    .await;
    let here_handle = http.get("/sessions", &[("cookie", &jar)]).await.json()["sessions"][0]
        ["handle"]
        .as_str()
        .unwrap()
        .to_owned();
    let by_bob = http
        .send(
            Method::DELETE,
            &format!("/sessions/{here_handle}"),
            &[("cookie", &cookie(&bob)), JSON],
            "",
        )
        .await;
    assert_eq!(by_bob.status, StatusCode::NOT_FOUND);
    assert_eq!(get_session(&http, &here).await.status, StatusCode::OK);

    // Ending one's own session is a logout.
    let own = http
        .send(
            Method::DELETE,
            &format!("/sessions/{here_handle}"),
            &[("cookie", &jar), JSON],
            "",
        )
        .await;
    assert_eq!(own.status, StatusCode::NO_CONTENT);
    assert!(own.expires_cookie());
    app.stop().await.unwrap();
}

#[tokio::test]
async fn an_unbound_session_lists_nothing_and_a_missing_one_is_not_found() {
    let mut app = spawn_app().await;
    let http = app.http();
    let id = create_for(&mut app.client, None).await;
    let listed = http.get("/sessions", &[("cookie", &cookie(&id))]).await;
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(listed.json()["sessions"], serde_json::json!([]));
    assert_eq!(
        http.get("/sessions", &[]).await.status,
        StatusCode::NOT_FOUND
    );
    let bad = http
        .send(
            Method::DELETE,
            "/sessions/not-a-handle",
            &[("cookie", &cookie(&id)), JSON],
            "",
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let wrong_method = http
        .send(
            Method::POST,
            "/sessions",
            &[("cookie", &cookie(&id)), JSON],
            "",
        )
        .await;
    assert_eq!(wrong_method.status, StatusCode::METHOD_NOT_ALLOWED);
    app.stop().await.unwrap();
}
