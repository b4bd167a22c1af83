//! The HTTP side: HTTP/1.1 keep-alive connections, one request in flight
//! each (as browsers and reverse proxies send them), carrying the session
//! cookie; also the small GET used to read the admin `/metrics`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http::{header, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::task::JoinHandle;

use crate::load::XorShift;
use crate::report::{Control, Recorder};

pub type Conn = SendRequest<Full<Bytes>>;

pub async fn connect(addr: SocketAddr) -> std::io::Result<Conn> {
    let stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (send, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(std::io::Error::other)?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(send)
}

/// Sends one request and reads the whole answer.
pub async fn exchange(
    conn: &mut Conn,
    request: Request<Full<Bytes>>,
) -> Result<(http::response::Parts, Bytes), String> {
    crate::load::bounded(async {
        conn.ready().await?;
        let response = conn.send_request(request).await?;
        let (parts, body) = response.into_parts();
        let body = body.collect().await?.to_bytes();
        Ok::<_, hyper::Error>((parts, body))
    })
    .await
}

/// Creates `n` sessions with `POST /session` and returns their cookie
/// values. A server that sets no cookie (the hello-world baseline) gets
/// well-formed random ids instead, so both are sent the same requests.
pub async fn create_sessions(
    addr: SocketAddr,
    cookie_name: &str,
    n: usize,
    value_size: usize,
) -> Result<Vec<String>, String> {
    let mut conn = connect(addr).await.map_err(|e| e.to_string())?;
    let data = crate::grpc::session_data(value_size, 7);
    let body = serde_json::to_string(
        &data
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::from_str(v).expect("valid JSON")))
            .collect::<serde_json::Map<String, serde_json::Value>>(),
    )
    .expect("serializable");
    let mut rng = XorShift::new(42);
    let mut ids = Vec::with_capacity(n);
    for _ in 0..n {
        let request = Request::builder()
            .method(Method::POST)
            .uri("/session")
            .header(header::HOST, addr.to_string())
            .header(header::CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(body.clone())))
            .expect("valid request");
        let (parts, _) = exchange(&mut conn, request).await?;
        let prefix = format!("{cookie_name}=");
        let issued = parts
            .headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| v.strip_prefix(&prefix))
            .and_then(|v| v.split(';').next())
            .map(str::to_owned);
        ids.push(issued.unwrap_or_else(|| {
            (0..32)
                .map(|_| char::from(b"abcdefghijklmnopqrstuvwxyz0123456789"[rng.below(36)]))
                .collect()
        }));
    }
    Ok(ids)
}

/// One worker per connection: `GET {path}` with a random session's cookie.
pub fn spawn_workers(
    conns: Vec<Conn>,
    addr: SocketAddr,
    path: &str,
    cookie_name: &str,
    ids: Arc<Vec<String>>,
    control: &Arc<Control>,
) -> Vec<JoinHandle<Recorder>> {
    let host = addr.to_string();
    conns
        .into_iter()
        .enumerate()
        .map(|(i, mut conn)| {
            let mut recorder = Recorder::new(control.clone(), 1, 1);
            let (ids, host, path) = (ids.clone(), host.clone(), path.to_owned());
            let cookies: Vec<String> = ids.iter().map(|id| format!("{cookie_name}={id}")).collect();
            tokio::spawn(async move {
                let mut rng = XorShift::new(i as u64 + 1);
                while recorder.running() {
                    let cookie = &cookies[rng.below(cookies.len())];
                    let request = Request::builder()
                        .uri(path.as_str())
                        .header(header::HOST, host.as_str())
                        .header(header::COOKIE, cookie.as_str())
                        .body(Full::new(Bytes::new()))
                        .expect("valid request");
                    let started = Instant::now();
                    let outcome = match exchange(&mut conn, request).await {
                        Ok((parts, _)) if parts.status == StatusCode::OK => Ok(()),
                        Ok((parts, _)) => Err(format!("status {}", parts.status)),
                        Err(e) => Err(e),
                    };
                    let broken = matches!(&outcome, Err(e) if !e.starts_with("status"));
                    recorder.record(0, started, outcome);
                    if broken {
                        break;
                    }
                }
                recorder
            })
        })
        .collect()
}

/// Reads one gauge from a Prometheus text page at `GET http://{addr}/metrics`.
pub async fn scrape_gauge(conn: &mut Conn, addr: SocketAddr, name: &str) -> Option<f64> {
    let request = Request::builder()
        .uri("/metrics")
        .header(header::HOST, addr.to_string())
        .body(Full::new(Bytes::new()))
        .ok()?;
    let (_, body) = exchange(conn, request).await.ok()?;
    let text = std::str::from_utf8(&body).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
}
