//! The gRPC handlers fed with arbitrary requests: a sequence of calls of
//! Create, Get, Set, Flush, Rotate, Touch and BindUser, whose messages are
//! any bytes (often with the id of
//! a session an earlier call created, flushed or rotated away, appended as
//! the last `id` field, which prost lets win), made by one of three callers
//! (two namespaces, one read-only token) or with a bad token, with the
//! clock moved between calls and the server sometimes stopping. Each call
//! goes through the service as tonic serves it, in process, on a memory
//! store: the access-control layer, tonic's prost codec (sessiond's own
//! `GetQuery` decoder and `GetReply` encoder included) and the handler.
//!
//! Checked for every call: no panic; the status is one DESIGN.md lists for
//! what was sent (INTERNAL exactly when prost refuses the message, as
//! tonic's codec answers it; UNAUTHENTICATED only for the bad token,
//! PERMISSION_DENIED only for a change by the read-only one, UNAVAILABLE
//! only once stopping), with a message; an answer decodes as the
//! contract's response (`GetResponse` for Get) and holds a well-formed
//! session; and the rules a model of the issued ids can tell: a fresh id
//! per Create, no session reached from another namespace, a flushed or
//! rotated-away id never found again, a live session found until its
//! reported deadline and gone after it, versions that never go back (and
//! grow with an upsert, and stay with an empty Set), and
//! compare-and-set that succeeds only on the version last seen, BindUser
//! that keeps the version. Users' limit refuses rather than evicts here, so
//! that no call ends a session the model did not end; the handle-named
//! RPCs (ListUserSessions, RevokeSession, RevokeUserSessions) are not
//! called, as the model does not know handles.
#![no_main]

use std::collections::HashMap;
use std::sync::OnceLock;
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use http_body_util::{BodyExt, Full};
use libfuzzer_sys::fuzz_target;
use prost::Message;
use sessiond::auth::{hash_token_line, Tokens};
use sessiond::clock::Clock;
use sessiond::grpc::{pb, Authenticate, SessionService};
use sessiond::lifecycle::Lifecycle;
use sessiond::metrics::Metrics;
use sessiond::session::{validate_value, Limits, Namespace, PerUserPolicy, Timeouts};
use sessiond::storage::memory::Memory;
use sessiond::storage::Storage;
use tonic::Code;
use tower::{Service, ServiceExt};

/// Small limits, so that every RESOURCE_EXHAUSTED is within reach.
fn limits() -> Limits {
    Limits {
        max_key_bytes: 16,
        max_value_bytes: 64,
        max_session_bytes: 256,
        max_keys: 4,
        max_sessions: 24,
        max_sessions_per_namespace: 16,
        max_sessions_per_user: 2,
        per_user_policy: PerUserPolicy::Refuse,
    }
}

fn timeouts() -> Timeouts {
    Timeouts {
        default_idle: Duration::from_secs(600),
        min_idle: Duration::from_secs(1),
        max_idle: Duration::from_secs(3600),
        absolute: Some(Duration::from_secs(7200)),
    }
}

/// The callers: a bearer token each, and the namespace it names.
const CALLERS: [(&str, &str, bool); 3] = [
    ("token-shop", "shop", false),
    ("token-other", "other", false),
    ("token-reader", "shop", true),
];

/// The callers' tokens, from a file written once per process.
fn tokens() -> &'static Tokens {
    static TOKENS: OnceLock<Tokens> = OnceLock::new();
    TOKENS.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("sessiond-fuzz-grpc-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let lines: String = CALLERS
            .iter()
            .map(|(token, ns, ro)| {
                hash_token_line(&Namespace::parse(ns).unwrap(), token, *ro) + "\n"
            })
            .collect();
        let path = dir.join("tokens");
        std::fs::write(&path, lines).unwrap();
        Tokens::load(&path).unwrap()
    })
}

/// One registry for the process, as a server has, folded after each input
/// as the server's upkeep task does: a registry per input would stay in
/// the metrics' per-thread cache, and unfolded histogram samples pile up
/// (1.6 GB after 600,000 inputs).
fn metrics() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(Metrics::new)
}

/// `GRPC_FUZZ_TRACE=1` prints each call and its status, to read a crash.
fn tracing() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("GRPC_FUZZ_TRACE").is_some())
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    })
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Rpc {
    Create,
    Get,
    Set,
    Flush,
    Rotate,
    Touch,
    BindUser,
}

impl Rpc {
    fn path(self) -> &'static str {
        match self {
            Rpc::Create => "/sessiond.v1.SessionService/Create",
            Rpc::Get => "/sessiond.v1.SessionService/Get",
            Rpc::Set => "/sessiond.v1.SessionService/Set",
            Rpc::Flush => "/sessiond.v1.SessionService/Flush",
            Rpc::Rotate => "/sessiond.v1.SessionService/Rotate",
            Rpc::Touch => "/sessiond.v1.SessionService/Touch",
            Rpc::BindUser => "/sessiond.v1.SessionService/BindUser",
        }
    }

    fn changes(self) -> bool {
        self != Rpc::Get
    }

    /// Whether prost reads `bytes` as this RPC's request (the contract's
    /// type: for Get, `GetRequest`, not the server's own decoder).
    fn decodes(self, bytes: &[u8]) -> bool {
        match self {
            Rpc::Create => pb::CreateRequest::decode(bytes).is_ok(),
            Rpc::Get => pb::GetRequest::decode(bytes).is_ok(),
            Rpc::Set => pb::SetRequest::decode(bytes).is_ok(),
            Rpc::Flush => pb::FlushRequest::decode(bytes).is_ok(),
            Rpc::Rotate => pb::RotateRequest::decode(bytes).is_ok(),
            Rpc::Touch => pb::TouchRequest::decode(bytes).is_ok(),
            Rpc::BindUser => pb::BindUserRequest::decode(bytes).is_ok(),
        }
    }
}

/// The namespace-wide and per-user calls, fed after the modelled ones
/// (they end sessions the model cannot name, so they come last).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Wide {
    List,
    Revoke,
    RevokeUser,
    Count,
    Clear,
}

impl Wide {
    fn of(op: u8) -> Self {
        [
            Wide::List,
            Wide::Revoke,
            Wide::RevokeUser,
            Wide::Count,
            Wide::Clear,
        ][usize::from(op % 5)]
    }

    fn path(self) -> &'static str {
        match self {
            Wide::List => "/sessiond.v1.SessionService/ListUserSessions",
            Wide::Revoke => "/sessiond.v1.SessionService/RevokeSession",
            Wide::RevokeUser => "/sessiond.v1.SessionService/RevokeUserSessions",
            Wide::Count => "/sessiond.v1.SessionService/CountSessions",
            Wide::Clear => "/sessiond.v1.SessionService/ClearSessions",
        }
    }

    fn changes(self) -> bool {
        !matches!(self, Wide::List | Wide::Count)
    }

    fn decodes(self, bytes: &[u8]) -> bool {
        match self {
            Wide::List => pb::ListUserSessionsRequest::decode(bytes).is_ok(),
            Wide::Revoke => pb::RevokeSessionRequest::decode(bytes).is_ok(),
            Wide::RevokeUser => pb::RevokeUserSessionsRequest::decode(bytes).is_ok(),
            Wide::Count => pb::CountSessionsRequest::decode(bytes).is_ok(),
            Wide::Clear => pb::ClearSessionsRequest::decode(bytes).is_ok(),
        }
    }
}

/// What the model knows of an id it saw issued.
#[derive(Debug)]
struct Issued {
    id: String,
    /// The namespace of the caller that created it.
    namespace: &'static str,
    /// `None` once flushed or rotated away: never found again.
    live: Option<Live>,
}

impl Issued {
    fn live(id: String, namespace: &'static str, version: u64, expires_ms: u64) -> Self {
        let live = Some(Live {
            version,
            expires_ms,
        });
        Issued {
            id,
            namespace,
            live,
        }
    }
}

#[derive(Debug)]
struct Live {
    version: u64,
    /// The deadline the last answer reported, in the clock's ms.
    expires_ms: u64,
}

/// The bytes of the fuzzer's input, read front to back; zeros past the end.
struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }

    fn bytes(&mut self, n: usize) -> &[u8] {
        let (taken, rest) = self.0.split_at(n.min(self.0.len()));
        self.0 = rest;
        taken
    }
}

fn ms(t: &prost_types::Timestamp) -> u64 {
    assert!((0..1_000_000_000).contains(&t.nanos), "{t:?}");
    t.seconds as u64 * 1000 + t.nanos as u64 / 1_000_000
}

/// A session as an answer carries it: well-formed, and still live.
fn check_info(info: &Option<pb::SessionInfo>, now: u64) -> (String, u64, u64) {
    let info = info.as_ref().expect("an answer names its session");
    assert_eq!(info.id.len(), 32, "{info:?}");
    assert!(info
        .id
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()));
    assert!(info.version >= 1, "{info:?}");
    let created = ms(info.created_at.as_ref().expect("created_at"));
    let expires = ms(info.expires_at.as_ref().expect("expires_at"));
    assert!(created <= now && now < expires, "{info:?} at {now}");
    assert!(
        expires <= created + 7_200_000,
        "past the absolute timeout: {info:?}"
    );
    let idle = info.idle_timeout.as_ref().expect("idle_timeout");
    assert!((1..=3600).contains(&idle.seconds), "{info:?}");
    (info.id.clone(), info.version, expires)
}

/// The answer to one call: its status, message and body.
struct Answer {
    code: Code,
    message: String,
    body: Bytes,
}

fn grpc_status(headers: &http::HeaderMap) -> Option<(Code, String)> {
    let code = headers
        .get("grpc-status")?
        .to_str()
        .unwrap()
        .parse::<i32>()
        .unwrap();
    let message = headers
        .get("grpc-message")
        .map(|m| m.to_str().unwrap().to_owned())
        .unwrap_or_default();
    Some((Code::from_i32(code), message))
}

async fn call<S>(service: &mut S, path: &str, token: Option<&str>, message: &[u8]) -> Answer
where
    S: Service<http::Request<tonic::body::Body>, Response = http::Response<tonic::body::Body>>,
    S::Error: std::fmt::Debug,
{
    let mut framed = BytesMut::with_capacity(5 + message.len());
    framed.put_u8(0);
    framed.put_u32(message.len() as u32);
    framed.put_slice(message);
    let mut request = http::Request::builder()
        .method("POST")
        .uri(path)
        .header("content-type", "application/grpc")
        .header("te", "trailers");
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let request = request
        .body(tonic::body::Body::new(Full::new(framed.freeze())))
        .unwrap();
    let response = service.ready().await.unwrap().call(request).await.unwrap();
    assert_eq!(
        response.status(),
        http::StatusCode::OK,
        "gRPC answers in trailers"
    );
    let early = grpc_status(response.headers());
    let collected = response.into_body().collect().await.expect("a whole body");
    let trailers = collected.trailers().cloned();
    let body = collected.to_bytes();
    let (code, message) = early
        .or_else(|| trailers.as_ref().and_then(grpc_status))
        .expect("a grpc-status");
    Answer {
        code,
        message,
        body,
    }
}

/// What a call was, for the status rules every call meets.
struct Sent {
    bad_token: bool,
    /// Whether prost reads the message as the RPC's request type.
    decodes: bool,
    stopping: bool,
    /// A change asked by the read-only token.
    read_only_change: bool,
}

/// The rules every RPC's status meets: a message with every failure,
/// UNAUTHENTICATED exactly for the bad token, INTERNAL exactly when prost
/// refuses the message, UNAVAILABLE once stopping, PERMISSION_DENIED for a
/// change by the read-only token. Whether the call got past them all to
/// its handler, whose codes each caller checks.
fn reached_handler(answer: &Answer, sent: &Sent, rpc: &dyn std::fmt::Debug) -> bool {
    let code = answer.code;
    if code != Code::Ok {
        assert!(!answer.message.is_empty(), "{code:?} with no message");
    }
    if sent.bad_token {
        assert_eq!(code, Code::Unauthenticated, "{}", answer.message);
        return false;
    }
    assert_eq!(
        code == Code::Internal,
        !sent.decodes,
        "{rpc:?}: {code:?} {}",
        answer.message
    );
    if !sent.decodes {
        return false;
    }
    if sent.stopping {
        assert_eq!(code, Code::Unavailable, "{}", answer.message);
        return false;
    }
    if sent.read_only_change {
        assert_eq!(code, Code::PermissionDenied, "{}", answer.message);
        return false;
    }
    true
}

/// The one message of an OK answer's body.
fn message<M: Message + Default>(body: &Bytes) -> M {
    assert!(body.len() >= 5, "an OK answer carries its message");
    assert_eq!(body[0], 0, "not compressed");
    let len = u32::from_be_bytes(body[1..5].try_into().unwrap()) as usize;
    assert_eq!(body.len(), 5 + len, "exactly one message");
    M::decode(&body[5..]).expect("the answer decodes as the contract's response")
}

fuzz_target!(|data: &[u8]| {
    let clock = Clock::manual(1_000_000);
    let store = Storage::new(Memory::new(limits(), timeouts(), clock.clone()));
    let lifecycle = Lifecycle::default();
    let metrics = metrics();
    let tokens = tokens().clone();
    let authenticate = Authenticate::new(Some(tokens), false, metrics.clone());
    let mut service =
        SessionService::new(store, lifecycle.clone(), metrics.clone()).into_server(authenticate);
    let mut issued: Vec<Issued> = Vec::new();
    let mut stopping = false;
    let mut input = Input(data);

    runtime().block_on(async {
        for _ in 0..64 {
            if input.0.is_empty() {
                break;
            }
            let op = input.byte();
            let rpc = match op & 7 {
                0 => Rpc::Create,
                1 => Rpc::Get,
                2 => Rpc::Set,
                3 => Rpc::Flush,
                4 => Rpc::Rotate,
                5 => Rpc::Touch,
                6 => {
                    // Time passes: up to ~2 h, in odd milliseconds so
                    // that a deadline is seldom met exactly.
                    let by = u64::from(input.byte()) * 29_000 + 7;
                    clock.advance(Duration::from_millis(by));
                    continue;
                }
                _ if op == 0xff => {
                    if !stopping {
                        lifecycle.stop_accepting();
                        stopping = true;
                    }
                    continue;
                }
                _ => Rpc::BindUser,
            };
            // Who calls: bits 3-4 pick a token (two in shop, as the writer
            // is the common case), bit 5 with both others a bad token.
            let bad_token = op >> 5 == 7;
            let caller = match (op >> 3) & 3 {
                0 | 1 => 0,
                2 => 1,
                _ => 2,
            };
            let (token, namespace, read_only) = CALLERS[caller];
            let reference = input.byte();
            let len = usize::from(input.byte());
            let mut bytes = input.bytes(len).to_vec();
            // The id of an issued session, as the last `id` field.
            let target = match (rpc, issued.is_empty()) {
                (Rpc::Create, _) | (_, true) => None,
                _ if reference >= 0x80 => None,
                _ => Some(usize::from(reference) % issued.len()),
            };
            if let Some(i) = target {
                bytes.push(0x0a);
                bytes.push(32);
                bytes.extend_from_slice(issued[i].id.as_bytes());
            }
            let now = clock.now_ms();
            let token = if bad_token { "not-a-token" } else { token };
            let answer = call(&mut service, rpc.path(), Some(token), &bytes).await;
            let code = answer.code;
            if tracing() {
                eprintln!(
                    "{rpc:?} as {caller} at {now}: {bytes:?} -> {code:?} {}",
                    answer.message
                );
            }

            // The status is one the contract has for what was sent.
            let sent = Sent {
                bad_token,
                decodes: rpc.decodes(&bytes),
                stopping,
                read_only_change: read_only && rpc.changes(),
            };
            if !reached_handler(&answer, &sent, &rpc) {
                continue;
            }
            assert!(
                matches!(
                    code,
                    Code::Ok
                        | Code::InvalidArgument
                        | Code::NotFound
                        | Code::Aborted
                        | Code::ResourceExhausted
                ),
                "{rpc:?}: {code:?} {}",
                answer.message
            );
            if code == Code::Aborted {
                assert_eq!(rpc, Rpc::Set, "only a compare-and-set aborts");
            }

            // What the model of issued ids tells. The request as served:
            // the last id field wins, as the server reads it.
            let sent_id = match rpc {
                Rpc::Create => None,
                Rpc::Get => Some(pb::GetRequest::decode(&bytes[..]).unwrap().id),
                Rpc::Set => Some(pb::SetRequest::decode(&bytes[..]).unwrap().id),
                Rpc::Flush => Some(pb::FlushRequest::decode(&bytes[..]).unwrap().id),
                Rpc::Rotate => Some(pb::RotateRequest::decode(&bytes[..]).unwrap().id),
                Rpc::Touch => Some(pb::TouchRequest::decode(&bytes[..]).unwrap().id),
                Rpc::BindUser => Some(pb::BindUserRequest::decode(&bytes[..]).unwrap().id),
            };
            let known = sent_id
                .as_ref()
                .and_then(|id| issued.iter().position(|s| &s.id == id));
            if let Some(i) = known {
                let session = &issued[i];
                let foreign = session.namespace != namespace;
                match &session.live {
                    _ if foreign => assert!(
                        !matches!(code, Code::Ok | Code::Aborted) || rpc == Rpc::Flush,
                        "{rpc:?} reached another namespace's session: {code:?}"
                    ),
                    None => assert!(
                        !matches!(code, Code::Ok | Code::Aborted) || rpc == Rpc::Flush,
                        "{rpc:?} found a flushed or rotated-away id: {code:?}"
                    ),
                    Some(live) if now > live.expires_ms => assert!(
                        !matches!(code, Code::Ok | Code::Aborted) || rpc == Rpc::Flush,
                        "{rpc:?} found a session past its deadline: {code:?}"
                    ),
                    Some(live) if now < live.expires_ms => assert_ne!(
                        code,
                        Code::NotFound,
                        "{rpc:?} lost a live session ({} ms before its deadline)",
                        live.expires_ms - now
                    ),
                    Some(_) => {}
                }
            }
            if code != Code::Ok {
                continue;
            }
            let live_here =
                known.filter(|&i| issued[i].namespace == namespace && issued[i].live.is_some());
            match rpc {
                Rpc::Create => {
                    let reply: pb::CreateResponse = message(&answer.body);
                    let (id, version, expires_ms) = check_info(&reply.session, now);
                    assert!(issued.iter().all(|s| s.id != id), "an id issued twice");
                    issued.push(Issued::live(id, namespace, version, expires_ms));
                }
                Rpc::Flush => {
                    let reply: pb::FlushResponse = message(&answer.body);
                    if let Some(i) = known {
                        let deadline = issued[i].live.as_ref().map(|l| l.expires_ms);
                        match deadline {
                            _ if live_here.is_none() => assert!(
                                !reply.existed,
                                "Flush found a flushed, rotated-away or foreign id"
                            ),
                            Some(deadline) if now < deadline => {
                                assert!(reply.existed, "a live session flushed did not exist")
                            }
                            Some(deadline) if now > deadline => {
                                assert!(!reply.existed, "Flush found an expired session")
                            }
                            _ => {}
                        }
                        if issued[i].namespace == namespace {
                            issued[i].live = None;
                        }
                    }
                }
                Rpc::Get | Rpc::Set | Rpc::Touch | Rpc::Rotate | Rpc::BindUser => {
                    let (info, data) = match rpc {
                        Rpc::Get => {
                            let reply: pb::GetResponse = message(&answer.body);
                            (reply.session, Some(reply.data))
                        }
                        Rpc::Set => (message::<pb::SetResponse>(&answer.body).session, None),
                        Rpc::Touch => (message::<pb::TouchResponse>(&answer.body).session, None),
                        Rpc::BindUser => {
                            (message::<pb::BindUserResponse>(&answer.body).session, None)
                        }
                        _ => (message::<pb::RotateResponse>(&answer.body).session, None),
                    };
                    let (id, version, expires_ms) = check_info(&info, now);
                    if let Some(data) = data {
                        check_data(&bytes, &data);
                    }
                    let Some(i) = live_here else {
                        continue;
                    };
                    let previous = issued[i].live.as_ref().unwrap().version;
                    assert!(
                        version >= previous,
                        "{rpc:?}: version {previous} -> {version}"
                    );
                    if rpc == Rpc::Set {
                        let request = pb::SetRequest::decode(&bytes[..]).unwrap();
                        if let Some(expected) = request.expected_version {
                            assert_eq!(expected, previous, "compare-and-set on another version");
                        }
                        // The version grows with a change of data: any
                        // upsert, or the removal of a key the session has
                        // (which the model does not track: removing an
                        // absent key, or replacing all of no data, changes
                        // nothing). Nothing asked, nothing changes.
                        if !request.upsert.is_empty() {
                            assert!(version > previous, "an upsert kept version {previous}");
                        } else if request.remove.is_empty() && !request.replace_all {
                            assert_eq!(version, previous, "an empty Set changed the version");
                        }
                    }
                    if rpc == Rpc::BindUser {
                        assert_eq!(version, previous, "BindUser changed the version");
                    }
                    if rpc == Rpc::Rotate {
                        assert_ne!(id, issued[i].id, "Rotate kept the id");
                        assert!(version > previous, "Rotate kept version {previous}");
                        assert!(issued.iter().all(|s| s.id != id), "an id issued twice");
                        issued[i].live = None;
                        issued.push(Issued::live(id, namespace, version, expires_ms));
                    } else {
                        assert_eq!(id, issued[i].id);
                        issued[i].live = Some(Live {
                            version,
                            expires_ms,
                        });
                    }
                }
            }
        }

        // Then the namespace-wide and per-user calls, on what is left of
        // the input: the status rules above, handles well-formed, and a
        // cleared namespace counting nothing.
        let mut cleared: Vec<&str> = Vec::new();
        for _ in 0..32 {
            if input.0.is_empty() {
                break;
            }
            let op = input.byte();
            let wide = Wide::of(op);
            let bad_token = op >> 5 == 7;
            let (token, namespace, read_only) = CALLERS[usize::from((op >> 3) & 3) % 3];
            let len = usize::from(input.byte());
            let bytes = input.bytes(len).to_vec();
            let token = if bad_token { "not-a-token" } else { token };
            let answer = call(&mut service, wide.path(), Some(token), &bytes).await;
            let code = answer.code;
            if tracing() {
                eprintln!(
                    "{wide:?} as {token}: {bytes:?} -> {code:?} {}",
                    answer.message
                );
            }
            let sent = Sent {
                bad_token,
                decodes: wide.decodes(&bytes),
                stopping,
                read_only_change: read_only && wide.changes(),
            };
            if !reached_handler(&answer, &sent, &wide) {
                continue;
            }
            assert!(
                matches!(code, Code::Ok | Code::InvalidArgument | Code::NotFound),
                "{wide:?}: {code:?} {}",
                answer.message
            );
            if code != Code::Ok {
                continue;
            }
            match wide {
                Wide::List => {
                    let reply: pb::ListUserSessionsResponse = message(&answer.body);
                    for listed in &reply.sessions {
                        assert_eq!(listed.handle.len(), 32, "{listed:?}");
                        assert!(listed
                            .handle
                            .bytes()
                            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
                    }
                    assert!(reply.sessions.len() <= limits().max_sessions_per_user);
                }
                Wide::Count => {
                    let reply: pb::CountSessionsResponse = message(&answer.body);
                    assert!(reply.count <= limits().max_sessions_per_namespace as u64);
                    if cleared.contains(&namespace) {
                        assert_eq!(reply.count, 0, "a cleared namespace counts sessions");
                    }
                }
                Wide::Clear => {
                    let _: pb::ClearSessionsResponse = message(&answer.body);
                    cleared.push(namespace);
                }
                Wide::Revoke => {
                    let _: pb::RevokeSessionResponse = message(&answer.body);
                }
                Wide::RevokeUser => {
                    let _: pb::RevokeUserSessionsResponse = message(&answer.body);
                }
            }
        }
    });
    metrics.run_upkeep();
});

/// A Get's data: only keys asked for (all when none is), values valid JSON.
fn check_data(request: &[u8], data: &HashMap<String, String>) {
    let request = pb::GetRequest::decode(request).unwrap();
    let limits = limits();
    for (key, value) in data {
        assert!(
            request.keys.is_empty() || request.keys.contains(key),
            "{key} not asked for"
        );
        assert!(
            validate_value(key, value, &limits).is_ok(),
            "{key}: {value:?}"
        );
    }
    assert!(data.len() <= limits.max_keys);
}
