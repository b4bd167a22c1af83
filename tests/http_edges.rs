//! The HTTP gateway's edges over a real socket: cookies, CSRF, routing
//! errors, limits, forward-auth, h2c, draining, shutdown and slow clients.

mod common;

use std::time::Duration;

use common::http_client::{cookie, create, get_session, Http, JSON};
use common::{spawn_app, spawn_app_with, TestApp};
use http::{Method, StatusCode};
use sessiond::session::Namespace;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[tokio::test]
async fn unknown_and_malformed_cookies_are_no_session_and_get_expired() {
    let app = spawn_app().await;
    let http = app.http();
    let none = http.get("/session", &[]).await;
    assert_eq!(none.status, StatusCode::NOT_FOUND);
    assert!(none.set_cookie().is_none(), "no cookie sent, none expired");

    for value in [
        "sessionid=abcdefghijklmnopqrstuvwxyz012345",
        "sessionid=NOT-AN-ID",
        "sessionid=",
        "sessionid=\"unterminated",
        "a=1; sessionid=../../etc/passwd; b=2",
    ] {
        let reply = http.get("/session", &[("cookie", value)]).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{value}");
        assert!(reply.expires_cookie(), "{value}");
    }
    app.stop().await.unwrap();
}

#[tokio::test]
async fn among_duplicated_cookies_the_first_live_session_wins() {
    let app = spawn_app().await;
    let http = app.http();
    let live = create(&http, r#"{"who": "live"}"#).await;
    let dead = "abcdefghijklmnopqrstuvwxyz012345";
    let headers = [(
        "cookie",
        format!("theme=dark; sessionid={dead}; sessionid=\"{live}\"; x=\"y\""),
    )];
    let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let reply = http.get("/session", &headers).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json()["data"]["who"], "live");
    assert!(!reply.expires_cookie());

    // Split across two Cookie headers (as HTTP/2 may send them).
    let reply = http
        .get(
            "/session",
            &[("cookie", &cookie(dead)), ("cookie", &cookie(&live))],
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    app.stop().await.unwrap();
}

#[tokio::test]
async fn state_changes_need_json_and_an_allowed_origin() {
    let app =
        spawn_app_with(|c| c.gateway.allowed_origins = vec!["https://app.example.com".into()])
            .await;
    let http = app.http();
    for ct in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ] {
        let forged = http
            .send(Method::POST, "/session", &[("content-type", ct)], "a=1")
            .await;
        assert_eq!(forged.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{ct}");
        assert_eq!(forged.error(), "unsupported_media_type");
    }
    let id = create(&http, "{}").await;
    let c = cookie(&id);
    for (method, path) in [
        (Method::DELETE, "/session"),
        (Method::POST, "/session/rotate"),
        (Method::DELETE, "/session/keys/a"),
    ] {
        let bare = http.send(method, path, &[("cookie", &c)], "").await;
        assert_eq!(bare.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{path}");
    }
    let evil = http
        .send(
            Method::PATCH,
            "/session",
            &[JSON, ("cookie", &c), ("origin", "https://evil.example")],
            "{}",
        )
        .await;
    assert_eq!(evil.status, StatusCode::FORBIDDEN);
    assert_eq!(evil.error(), "forbidden_origin");
    let null = http
        .send(Method::POST, "/session", &[JSON, ("origin", "null")], "")
        .await;
    assert_eq!(null.status, StatusCode::FORBIDDEN);
    let own = http
        .send(
            Method::PATCH,
            "/session",
            &[JSON, ("cookie", &c), ("origin", &http.origin())],
            "{}",
        )
        .await;
    assert_eq!(own.status, StatusCode::OK);
    let listed = http
        .send(
            Method::PATCH,
            "/session",
            &[JSON, ("cookie", &c), ("origin", "https://app.example.com")],
            "{}",
        )
        .await;
    assert_eq!(listed.status, StatusCode::OK);
    let read = http
        .get(
            "/session",
            &[("cookie", &c), ("origin", "https://evil.example")],
        )
        .await;
    assert_eq!(read.status, StatusCode::OK, "reads are not state changes");
    assert_eq!(app.store.len(), 1, "no refused request created a session");
    app.stop().await.unwrap();
}

#[tokio::test]
async fn unknown_routes_are_404_and_wrong_methods_405_with_allow() {
    let app = spawn_app().await;
    let http = app.http();
    // `/sessions` is a route since issue 16; one level too deep is not.
    for path in [
        "/",
        "/session/",
        "/sessions/a/b",
        "/session/keys/a/b",
        "/admin",
    ] {
        let reply = http.get(path, &[]).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(reply.error(), "not_found");
    }
    let put = http.send(Method::PUT, "/session", &[JSON], "{}").await;
    assert_eq!(put.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(put.header("allow"), Some("GET, POST, PATCH, DELETE"));
    let get = http.get("/session/rotate", &[]).await;
    assert_eq!(get.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(get.header("allow"), Some("POST"));
    let options = http.send(Method::OPTIONS, "/session", &[], "").await;
    assert_eq!(
        options.status,
        StatusCode::METHOD_NOT_ALLOWED,
        "no CORS preflight is granted"
    );
    assert!(options.header("access-control-allow-origin").is_none());
    app.stop().await.unwrap();
}

#[tokio::test]
async fn limits_map_to_413_429_and_431() {
    let app = spawn_app_with(|c| {
        c.gateway.max_body_bytes = 2048;
        c.sessions.max_value_bytes = 100;
        c.sessions.max_session_bytes = 300;
        c.sessions.max_sessions = 2;
    })
    .await;
    let http = app.http();
    let big_body = format!(r#"{{"a": "{}"}}"#, "x".repeat(4096));
    let reply = http
        .send(Method::POST, "/session", &[JSON], &big_body)
        .await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(reply.error(), "body_too_large");

    let id = create(&http, "{}").await;
    let big_value = format!(r#""{}""#, "x".repeat(200));
    let reply = http
        .send(
            Method::PUT,
            "/session/keys/v",
            &[JSON, ("cookie", &cookie(&id))],
            &big_value,
        )
        .await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(reply.error(), "too_large");
    assert!(reply.json()["message"]
        .as_str()
        .unwrap()
        .contains("max-value-bytes"));
    let many = (0..5)
        .map(|i| format!(r#""k{i}": "{}""#, "y".repeat(80)))
        .collect::<Vec<_>>();
    let reply = http
        .send(
            Method::PATCH,
            "/session",
            &[JSON, ("cookie", &cookie(&id))],
            &format!("{{{}}}", many.join(",")),
        )
        .await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(reply.json()["message"]
        .as_str()
        .unwrap()
        .contains("max-session-bytes"));

    create(&http, "{}").await;
    let full = http.send(Method::POST, "/session", &[JSON], "").await;
    assert_eq!(full.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(full.error(), "too_many_sessions");

    let huge = "h".repeat(40 * 1024);
    let reply = http.get("/session", &[("x-padding", &huge)]).await;
    assert_eq!(reply.status, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
    let still = get_session(&http, &id).await;
    assert_eq!(still.status, StatusCode::OK, "the server still serves");

    // At most 100 header fields (hyper's bound), however small; the
    // client adds `host` to these.
    let names: Vec<String> = (0..100).map(|i| format!("x-h{i}")).collect();
    let session = cookie(&id);
    let mut headers: Vec<(&str, &str)> = vec![("cookie", &session)];
    headers.extend(names[..90].iter().map(|n| (n.as_str(), "1")));
    let reply = http.get("/session", &headers).await;
    assert_eq!(reply.status, StatusCode::OK, "92 header fields are fine");
    headers.extend(names[90..].iter().map(|n| (n.as_str(), "1")));
    let reply = http.get("/session", &headers).await;
    assert_eq!(reply.status, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
    app.stop().await.unwrap();
}

#[tokio::test]
async fn forward_auth_can_require_a_logged_in_session() {
    let app = spawn_app_with(|c| {
        c.gateway.auth_require = vec!["is_login".into()];
        c.gateway.auth_headers = vec!["username".into()];
    })
    .await;
    let http = app.http();
    let anonymous = create(&http, r#"{"cart": [1]}"#).await;
    let logged_out = create(&http, r#"{"is_login": false, "username": "yuan"}"#).await;
    let logged_in = create(&http, r#"{"is_login": true, "username": "yuan"}"#).await;
    for id in [&anonymous, &logged_out] {
        let reply = http.get("/auth", &[("cookie", &cookie(id))]).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    }
    let reply = http.get("/auth", &[("cookie", &cookie(&logged_in))]).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header("x-session-username"), Some("yuan"));
    assert!(
        reply.header("x-session-is-login").is_none(),
        "required is not exported"
    );
    app.stop().await.unwrap();
}

#[tokio::test]
async fn forward_auth_answers_nginx_with_session_headers_or_401() {
    let app = spawn_app_with(|c| {
        c.gateway.auth_headers = vec![
            "username".into(),
            "is_login".into(),
            "bio".into(),
            "role".into(),
        ];
    })
    .await;
    let http = app.http();
    let id = create(
        &http,
        r#"{"username": "yuan", "is_login": true, "bio": "line\r\nX-Admin: 1", "secret": "s"}"#,
    )
    .await;
    // What nginx's auth_request sends: a GET with the original cookies.
    let nginx = [
        ("cookie", cookie(&id)),
        ("x-original-uri", "/admin/".to_string()),
        ("x-original-method", "POST".to_string()),
    ];
    let nginx: Vec<(&str, &str)> = nginx.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let ok = http.get("/auth", &nginx).await;
    assert_eq!(ok.status, StatusCode::OK);
    assert_eq!(ok.header("x-session-username"), Some("yuan"));
    assert_eq!(ok.header("x-session-is-login"), Some("true"));
    assert!(
        ok.header("x-session-bio").is_none(),
        "unsafe values are not exported"
    );
    assert!(ok.header("x-admin").is_none());
    assert!(
        ok.header("x-session-secret").is_none(),
        "only configured keys"
    );
    assert!(
        ok.header("x-session-role").is_none(),
        "absent keys are absent"
    );
    assert!(ok.body.is_empty());

    // Traefik forwards the original method; no CSRF applies to /auth.
    let post = http.send(Method::POST, "/auth", &nginx, "").await;
    assert_eq!(post.status, StatusCode::OK);

    let anonymous = http.get("/auth", &[]).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert_eq!(anonymous.error(), "unauthorized");
    let stale = http
        .get(
            "/auth",
            &[("cookie", "sessionid=abcdefghijklmnopqrstuvwxyz012345")],
        )
        .await;
    assert_eq!(stale.status, StatusCode::UNAUTHORIZED);
    app.stop().await.unwrap();
}

#[tokio::test]
async fn host_prefixed_and_browser_session_cookies_work() {
    let app = spawn_app_with(|c| {
        c.gateway.cookie_name = "__Host-sid".into();
        c.gateway.cookie_browser_session = true;
    })
    .await;
    let http = app.http();
    let created = http
        .send(Method::POST, "/session", &[JSON], r#"{"a": 1}"#)
        .await;
    let set = created.set_cookie().unwrap();
    assert!(set.starts_with("__Host-sid="));
    assert!(set.contains("Secure") && set.contains("Path=/") && !set.contains("Domain"));
    assert!(!set.contains("Max-Age"), "{set}");
    let id = created.issued("__Host-sid").unwrap();
    let read = http
        .get("/session", &[("cookie", &format!("__Host-sid={id}"))])
        .await;
    assert_eq!(read.status, StatusCode::OK);
    assert!(
        read.set_cookie().is_none(),
        "browser-session cookies need no rolling"
    );
    let other = http.get("/session", &[("cookie", &cookie(&id))]).await;
    assert_eq!(
        other.status,
        StatusCode::NOT_FOUND,
        "only the configured name counts"
    );
    app.stop().await.unwrap();
}

#[tokio::test]
async fn h2c_clients_are_served_the_same_routes() {
    let app = spawn_app().await;
    let h2 = Http::h2c(app.http_addr);
    let created = h2
        .send(Method::POST, "/session", &[JSON], r#"{"a": 1}"#)
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let id = created.issued("sessionid").unwrap();
    let read = h2.get("/session", &[("cookie", &cookie(&id))]).await;
    assert_eq!(read.json()["data"]["a"], 1);
    let own = h2
        .send(
            Method::PATCH,
            "/session",
            &[JSON, ("cookie", &cookie(&id)), ("origin", &h2.origin())],
            "{}",
        )
        .await;
    assert_eq!(
        own.status,
        StatusCode::OK,
        "the own origin is known over HTTP/2 too"
    );
    app.stop().await.unwrap();
}

#[tokio::test]
async fn requests_are_served_during_the_drain_delay_and_get_503_once_listeners_close() {
    let app = spawn_app().await;
    app.lifecycle.start_draining();
    let reply = app.http().get("/session", &[]).await;
    assert_eq!(
        reply.status,
        StatusCode::NOT_FOUND,
        "still served while draining"
    );
    app.lifecycle.stop_accepting();
    let reply = app.http().get("/session", &[]).await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(reply.error(), "unavailable");
    app.stop().await.unwrap();
}

/// Writes `head` and `part` of a body on a raw connection.
async fn raw_start(app: &TestApp, head: &str, part: &[u8]) -> TcpStream {
    let mut stream = TcpStream::connect(app.http_addr).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(part).await.unwrap();
    stream
}

#[tokio::test]
async fn shutdown_lets_an_in_flight_request_finish_then_stops_accepting() {
    let app = spawn_app().await;
    let id = create(&app.http(), "{}").await;
    let head = format!(
        "PUT /session/keys/k HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n\
         cookie: sessionid={id}\r\ncontent-length: 8\r\n\r\n"
    );
    let mut stream = raw_start(&app, &head, b"\"hal").await;
    // The request is in its handler, waiting for the rest of its body.
    let store = app.store.clone();
    let lifecycle = app.lifecycle.clone();
    let addr = app.http_addr;
    let stopping = tokio::spawn(app.stop());
    tokio::time::timeout(Duration::from_secs(5), async {
        while !lifecycle.is_stopping() {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("draining starts");
    stream.write_all(b"ves\"").await.unwrap();
    let mut response = String::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_string(&mut response))
        .await
        .expect("the in-flight request finishes")
        .unwrap();
    assert!(response.starts_with("HTTP/1.1 204"), "{response}");
    stopping.await.unwrap().unwrap();
    assert_eq!(
        store
            .get(
                &Namespace::DEFAULT,
                &sessiond::session::SessionId::parse(&id).unwrap(),
                &["k".into()],
                false
            )
            .await
            .unwrap()
            .1["k"],
        "\"halves\""
    );
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "no longer accepting"
    );
}

#[tokio::test]
async fn a_silent_or_slow_client_is_cut_off_after_the_read_timeout() {
    let app = spawn_app_with(|c| c.gateway.http_read_timeout = Duration::from_millis(200)).await;
    // Connects and says nothing.
    let mut silent = TcpStream::connect(app.http_addr).await.unwrap();
    let mut buf = Vec::new();
    let n = tokio::time::timeout(Duration::from_secs(5), silent.read_to_end(&mut buf))
        .await
        .expect("the server closes a silent connection");
    assert_eq!(n.unwrap_or(0), 0);

    // Sends half a body and stalls: 408.
    let head = "POST /session HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n";
    let mut slow = raw_start(&app, head, b"{\"a\":").await;
    let mut response = String::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), slow.read_to_string(&mut response))
        .await
        .expect("the server answers a stalled body");
    assert!(response.starts_with("HTTP/1.1 408"), "{response}");
    assert!(app.store.is_empty());
    app.stop().await.unwrap();
}

#[test]
fn the_binary_reads_gateway_settings_from_flags_and_environment() {
    let bin = env!("CARGO_BIN_EXE_sessiond");
    let help = std::process::Command::new(bin)
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    for name in [
        "--http-addr",
        "SESSIOND_HTTP_ADDR",
        "--cookie-name",
        "--cookie-secure",
        "SESSIOND_COOKIE_DOMAIN",
        "--cookie-browser-session",
        "--allowed-origins",
        "--auth-headers",
        "--max-body-bytes",
    ] {
        assert!(help.contains(name), "{name} missing from --help");
    }
    // SESSIOND_COOKIE_SECURE=false is read: a __Host- name then is refused.
    let refused = std::process::Command::new(bin)
        .env("SESSIOND_COOKIE_SECURE", "false")
        .args([
            "--cookie-name",
            "__Host-sid",
            "--grpc-addr",
            "127.0.0.1:0",
            "--http-addr",
            "127.0.0.1:0",
        ])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("__Host-") && stderr.lines().count() == 1,
        "{stderr}"
    );
}
