//! `Pipeline` over real sockets: tagged Get / Set / Touch / Flush on one
//! stream, per-request failures that leave the stream open, the unary
//! calls' access control and metrics, a malformed message that ends only
//! its own stream, shutdown, and the per-connection cap on streams.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::{http_get, spawn_app, spawn_app_with, spawn_app_with_tokens, TestApp};
use sessiond::grpc::pb;
use sessiond::grpc::pb::pipeline_request::Op;
use sessiond::grpc::pb::pipeline_response::Result as Outcome;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Code, Request, Streaming};

/// An open Pipeline stream: requests go in `send`, replies come out of
/// `replies`.
struct Stream {
    send: mpsc::Sender<pb::PipelineRequest>,
    replies: Streaming<pb::PipelineResponse>,
}

impl Stream {
    async fn open(app: &TestApp, token: Option<&str>) -> Result<Self, tonic::Status> {
        let (send, requests) = mpsc::channel(64);
        let mut request = Request::new(ReceiverStream::new(requests));
        if let Some(token) = token {
            let value = format!("Bearer {token}").parse().unwrap();
            request.metadata_mut().insert("authorization", value);
        }
        let replies = app.client.clone().pipeline(request).await?.into_inner();
        Ok(Stream { send, replies })
    }

    /// Sends `op` tagged `tag` and waits for the next reply.
    async fn call(&mut self, tag: u64, op: Op) -> pb::PipelineResponse {
        let request = pb::PipelineRequest { tag, op: Some(op) };
        self.send.send(request).await.unwrap();
        self.next().await
    }

    async fn next(&mut self) -> pb::PipelineResponse {
        self.replies
            .message()
            .await
            .expect("the stream goes on")
            .expect("a reply")
    }
}

fn get(id: &str) -> Op {
    Op::Get(pb::GetRequest {
        id: id.into(),
        keys: vec![],
        no_touch: false,
    })
}

fn set(id: &str, key: &str, value: &str) -> Op {
    Op::Set(pb::SetRequest {
        id: id.into(),
        upsert: HashMap::from([(key.into(), value.into())]),
        ..Default::default()
    })
}

fn touch(id: &str, idle: Option<u64>) -> Op {
    Op::Touch(pb::TouchRequest {
        id: id.into(),
        idle_timeout: idle.map(|s| prost_types::Duration {
            seconds: s as i64,
            nanos: 0,
        }),
    })
}

fn flush(id: &str) -> Op {
    Op::Flush(pb::FlushRequest { id: id.into() })
}

/// The status code a reply carries (OK for an answer).
fn code(reply: &pb::PipelineResponse) -> Code {
    match &reply.result {
        Some(Outcome::Error(e)) => Code::from(e.code),
        _ => Code::Ok,
    }
}

async fn create(app: &TestApp, token: Option<&str>) -> String {
    let mut request = Request::new(pb::CreateRequest {
        data: HashMap::from([("user".into(), "\"yuan\"".into())]),
        idle_timeout: None,
        user: None,
    });
    if let Some(token) = token {
        let value = format!("Bearer {token}").parse().unwrap();
        request.metadata_mut().insert("authorization", value);
    }
    let created = app.client.clone().create(request).await.unwrap();
    created.into_inner().session.unwrap().id
}

#[tokio::test]
async fn each_op_is_answered_under_its_tag_as_the_unary_call_answers_it() {
    let app = spawn_app().await;
    let id = create(&app, None).await;
    let mut stream = Stream::open(&app, None).await.unwrap();

    let got = stream.call(10, get(&id)).await;
    assert_eq!(got.tag, 10);
    let Some(Outcome::Get(read)) = got.result else {
        panic!("{got:?}")
    };
    assert_eq!(read.data["user"], "\"yuan\"");
    assert_eq!(read.session.as_ref().unwrap().version, 1);

    let set = stream.call(11, set(&id, "cart", "[1,2]")).await;
    assert_eq!(set.tag, 11);
    let Some(Outcome::Set(changed)) = set.result else {
        panic!("{set:?}")
    };
    assert_eq!(changed.session.unwrap().version, 2);

    let touched = stream.call(12, touch(&id, Some(600))).await;
    let Some(Outcome::Touch(touched)) = touched.result else {
        panic!("{touched:?}")
    };
    assert_eq!(touched.session.unwrap().idle_timeout.unwrap().seconds, 600);

    // The unary Get sees what the stream set: one store, one implementation.
    let unary = app
        .client
        .clone()
        .get(pb::GetRequest {
            id: id.clone(),
            keys: vec!["cart".into()],
            no_touch: true,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(unary.data["cart"], "[1,2]");

    let flushed = stream.call(13, flush(&id)).await;
    assert_eq!(
        flushed.result,
        Some(Outcome::Flush(pb::FlushResponse { existed: true }))
    );
    let again = stream.call(14, flush(&id)).await;
    assert_eq!(
        again.result,
        Some(Outcome::Flush(pb::FlushResponse { existed: false }))
    );
}

#[tokio::test]
async fn a_failed_request_is_answered_with_its_status_and_the_stream_goes_on() {
    let app = spawn_app().await;
    let id = create(&app, None).await;
    let mut stream = Stream::open(&app, None).await.unwrap();

    let unknown = stream.call(1, get(&"a".repeat(32))).await;
    assert_eq!((unknown.tag, code(&unknown)), (1, Code::NotFound));
    let malformed = stream.call(2, get("short")).await;
    assert_eq!(
        (malformed.tag, code(&malformed)),
        (2, Code::InvalidArgument)
    );
    let bad_json = stream.call(3, set(&id, "k", "{not json")).await;
    assert_eq!(code(&bad_json), Code::InvalidArgument);
    let Some(Outcome::Error(error)) = &bad_json.result else {
        panic!("{bad_json:?}")
    };
    assert!(!error.message.is_empty());

    stream
        .send
        .send(pb::PipelineRequest { tag: 4, op: None })
        .await
        .unwrap();
    let empty = stream.next().await;
    assert_eq!((empty.tag, code(&empty)), (4, Code::InvalidArgument));

    let fine = stream.call(5, get(&id)).await;
    assert_eq!((fine.tag, code(&fine)), (5, Code::Ok));
}

#[tokio::test]
async fn requests_are_counted_per_op_with_their_outcome() {
    let app = spawn_app().await;
    let id = create(&app, None).await;
    let mut stream = Stream::open(&app, None).await.unwrap();
    stream.call(1, get(&id)).await;
    stream.call(2, get(&id)).await;
    stream.call(3, set(&id, "a", "1")).await;
    stream.call(4, touch(&"b".repeat(32), None)).await;
    stream.call(5, flush(&id)).await;

    let metrics = http_get(app.admin_addr, "/metrics").await.unwrap().body;
    for series in [
        r#"sessiond_requests_total{api="grpc",method="Pipeline/Get",outcome="OK"} 2"#,
        r#"sessiond_requests_total{api="grpc",method="Pipeline/Set",outcome="OK"} 1"#,
        r#"sessiond_requests_total{api="grpc",method="Pipeline/Touch",outcome="NOT_FOUND"} 1"#,
        r#"sessiond_requests_total{api="grpc",method="Pipeline/Flush",outcome="OK"} 1"#,
    ] {
        assert!(
            metrics.lines().any(|l| l == series),
            "{series} in {metrics}"
        );
    }
}

const SHOP: &str = "shop-token";
const SHOP_RO: &str = "shop-reader";
const BLOG: &str = "blog-token";

async fn app_with_tokens() -> (TestApp, tempfile::TempDir) {
    spawn_app_with_tokens(&[
        ("shop", SHOP, false),
        ("shop", SHOP_RO, true),
        ("blog", BLOG, false),
    ])
    .await
}

#[tokio::test]
async fn a_stream_takes_the_credential_namespace_and_permissions_of_its_token() {
    let (app, _dir) = app_with_tokens().await;
    let id = create(&app, Some(SHOP)).await;

    let refused = Stream::open(&app, Some("wrong")).await.err().unwrap();
    assert_eq!(refused.code(), Code::Unauthenticated);
    let refused = Stream::open(&app, None).await.err().unwrap();
    assert_eq!(refused.code(), Code::Unauthenticated);

    let mut reader = Stream::open(&app, Some(SHOP_RO)).await.unwrap();
    assert_eq!(code(&reader.call(1, get(&id)).await), Code::Ok);
    for (tag, op) in [
        (2, set(&id, "a", "1")),
        (3, touch(&id, None)),
        (4, flush(&id)),
    ] {
        let refused = reader.call(tag, op).await;
        assert_eq!(code(&refused), Code::PermissionDenied, "{refused:?}");
    }

    let mut blog = Stream::open(&app, Some(BLOG)).await.unwrap();
    assert_eq!(code(&blog.call(5, get(&id)).await), Code::NotFound);
    let flushed = blog.call(6, flush(&id)).await;
    assert_eq!(
        flushed.result,
        Some(Outcome::Flush(pb::FlushResponse { existed: false }))
    );

    let mut shop = Stream::open(&app, Some(SHOP)).await.unwrap();
    assert_eq!(code(&shop.call(7, set(&id, "a", "1")).await), Code::Ok);
}

/// Sends raw bytes as Pipeline messages: what a client that does not
/// follow the contract puts on the wire.
#[derive(Clone, Default)]
struct RawCodec;

struct RawEncoder;
struct ReplyDecoder;

impl tonic::codec::Codec for RawCodec {
    type Encode = Vec<u8>;
    type Decode = pb::PipelineResponse;
    type Encoder = RawEncoder;
    type Decoder = ReplyDecoder;

    fn encoder(&mut self) -> RawEncoder {
        RawEncoder
    }

    fn decoder(&mut self) -> ReplyDecoder {
        ReplyDecoder
    }
}

impl tonic::codec::Encoder for RawEncoder {
    type Item = Vec<u8>;
    type Error = tonic::Status;

    fn encode(
        &mut self,
        item: Vec<u8>,
        dst: &mut tonic::codec::EncodeBuf<'_>,
    ) -> Result<(), tonic::Status> {
        use bytes::BufMut;
        dst.put_slice(&item);
        Ok(())
    }
}

impl tonic::codec::Decoder for ReplyDecoder {
    type Item = pb::PipelineResponse;
    type Error = tonic::Status;

    fn decode(
        &mut self,
        src: &mut tonic::codec::DecodeBuf<'_>,
    ) -> Result<Option<pb::PipelineResponse>, tonic::Status> {
        use prost::Message;
        pb::PipelineResponse::decode(src)
            .map(Some)
            .map_err(|e| tonic::Status::internal(e.to_string()))
    }
}

#[tokio::test]
async fn a_message_that_does_not_decode_ends_its_own_stream_only() {
    use prost::Message;
    let app = spawn_app().await;
    let id = create(&app, None).await;
    // Two streams on one connection.
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{}", app.grpc_addr))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut other = pb::session_service_client::SessionServiceClient::new(channel.clone());
    let (other_send, other_requests) = mpsc::channel(4);
    let mut other_replies = other
        .pipeline(ReceiverStream::new(other_requests))
        .await
        .unwrap()
        .into_inner();

    let mut raw = tonic::client::Grpc::new(channel);
    raw.ready().await.unwrap();
    let (send, requests) = mpsc::channel::<Vec<u8>>(4);
    let path = http::uri::PathAndQuery::from_static("/sessiond.v1.SessionService/Pipeline");
    let mut replies = raw
        .streaming(Request::new(ReceiverStream::new(requests)), path, RawCodec)
        .await
        .unwrap()
        .into_inner();
    // A well-formed request first, then a field of wire type 7, which
    // does not exist.
    let fine = pb::PipelineRequest {
        tag: 1,
        op: Some(get(&id)),
    };
    send.send(fine.encode_to_vec()).await.unwrap();
    send.send(vec![0x0f, 0x01]).await.unwrap();
    let answered = replies.message().await.unwrap().unwrap();
    assert_eq!((answered.tag, code(&answered)), (1, Code::Ok));
    let ended = replies.message().await.unwrap_err();
    assert_eq!(ended.code(), Code::Internal);
    assert!(ended.message().contains("decode"), "{}", ended.message());

    // The other stream on the same connection goes on.
    other_send
        .send(pb::PipelineRequest {
            tag: 2,
            op: Some(get(&id)),
        })
        .await
        .unwrap();
    let reply = other_replies.message().await.unwrap().unwrap();
    assert_eq!((reply.tag, code(&reply)), (2, Code::Ok));
}

#[tokio::test]
async fn open_streams_end_unavailable_once_the_server_stops_accepting() {
    let app = spawn_app().await;
    let id = create(&app, None).await;
    let mut stream = Stream::open(&app, None).await.unwrap();
    assert_eq!(code(&stream.call(1, get(&id)).await), Code::Ok);
    app.lifecycle.stop_accepting();
    let ended = stream.replies.message().await.unwrap_err();
    assert_eq!(ended.code(), Code::Unavailable);
    assert!(ended.message().contains("shutting down"));
    let refused = Stream::open(&app, None).await.err().unwrap();
    assert_eq!(refused.code(), Code::Unavailable);
}

/// HTTP/2 frames, written by hand so the client can open more streams than
/// the server allows (a well-behaved client library would wait instead).
mod frames {
    pub const HEADERS: u8 = 0x1;
    pub const RST_STREAM: u8 = 0x3;
    pub const SETTINGS: u8 = 0x4;
    pub const GOAWAY: u8 = 0x7;
    pub const END_HEADERS: u8 = 0x4;
    pub const ACK: u8 = 0x1;
    /// RFC 9113 §7.
    pub const REFUSED_STREAM: u32 = 0x7;

    pub fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
        let len = payload.len() as u32;
        let mut out = len.to_be_bytes()[1..].to_vec();
        out.extend([kind, flags]);
        out.extend(stream.to_be_bytes());
        out.extend(payload);
        out
    }

    /// A header block of literal fields, never indexed (HPACK §6.2.2).
    pub fn header_block(fields: &[(&str, &str)]) -> Vec<u8> {
        let mut out = Vec::new();
        for (name, value) in fields {
            out.push(0x10);
            for s in [name, value] {
                assert!(s.len() < 127);
                out.push(s.len() as u8);
                out.extend(s.as_bytes());
            }
        }
        out
    }
}

#[tokio::test]
async fn a_connection_that_opens_more_streams_than_the_cap_has_the_extra_ones_refused() {
    use frames::*;
    const CAP: u32 = 4;
    const OPENED: u32 = 40;
    let app = spawn_app_with(|config| config.listeners.max_streams_per_connection = CAP).await;
    let mut tcp = tokio::net::TcpStream::connect(app.grpc_addr).await.unwrap();
    let mut out = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
    out.extend(frame(SETTINGS, 0, 0, &[]));
    let block = header_block(&[
        (":method", "POST"),
        (":scheme", "http"),
        (":path", "/sessiond.v1.SessionService/Pipeline"),
        (":authority", "localhost"),
        ("content-type", "application/grpc"),
        ("te", "trailers"),
    ]);
    for n in 0..OPENED {
        out.extend(frame(HEADERS, END_HEADERS, 2 * n + 1, &block));
    }
    tcp.write_all(&out).await.unwrap();

    // Every stream past the cap is refused; none of the first CAP is.
    let exchange = async {
        let (mut answered, mut refused) = (Vec::new(), Vec::new());
        while answered.len() + refused.len() < OPENED as usize {
            let mut head = [0u8; 9];
            tcp.read_exact(&mut head).await.unwrap();
            let len = u32::from_be_bytes([0, head[0], head[1], head[2]]) as usize;
            let (kind, flags) = (head[3], head[4]);
            let stream = u32::from_be_bytes([head[5], head[6], head[7], head[8]]) & 0x7fff_ffff;
            let mut payload = vec![0u8; len];
            tcp.read_exact(&mut payload).await.unwrap();
            match kind {
                SETTINGS if flags & ACK == 0 => {
                    tcp.write_all(&frame(SETTINGS, ACK, 0, &[])).await.unwrap();
                }
                HEADERS => answered.push(stream),
                RST_STREAM => {
                    let reason = u32::from_be_bytes(payload[..4].try_into().unwrap());
                    assert_eq!(reason, REFUSED_STREAM, "stream {stream}");
                    refused.push(stream);
                }
                GOAWAY => panic!("the connection was closed, not the extra streams"),
                _ => {}
            }
        }
        (answered, refused)
    };
    let (answered, refused) = tokio::time::timeout(Duration::from_secs(30), exchange)
        .await
        .expect("the server answers every stream opened");
    let first: Vec<u32> = (0..CAP).map(|n| 2 * n + 1).collect();
    let mut answered = answered;
    answered.sort();
    assert_eq!(answered, first);
    assert_eq!(refused.len(), (OPENED - CAP) as usize);
    assert!(refused.iter().all(|s| *s > 2 * CAP));
}
