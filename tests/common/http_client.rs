//! A real HTTP client for the gateway tests. Cookies are never kept by the
//! client: each test sets the `Cookie` header itself.

use std::net::SocketAddr;

use bytes::Bytes;
use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

/// `Content-Type: application/json`, which every state change needs.
pub const JSON: (&str, &str) = ("content-type", "application/json");

/// A client bound to one gateway.
#[derive(Clone)]
pub struct Http {
    client: Client<HttpConnector, Full<Bytes>>,
    addr: SocketAddr,
}

/// A response read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Http {
    /// HTTP/1.1 with keep-alive.
    pub fn new(addr: SocketAddr) -> Self {
        let client = Client::builder(TokioExecutor::new()).build_http();
        Http { client, addr }
    }

    /// HTTP/2 over cleartext, with prior knowledge (h2c).
    pub fn h2c(addr: SocketAddr) -> Self {
        let client = Client::builder(TokioExecutor::new())
            .http2_only(true)
            .build_http();
        Http { client, addr }
    }

    /// The gateway's own origin, as a browser on its site would send it.
    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Reply {
        let mut request = Request::builder()
            .method(method)
            .uri(format!("http://{}{}", self.addr, path));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request
            .body(Full::new(Bytes::from(body.to_owned())))
            .expect("a valid request");
        let response = self
            .client
            .request(request)
            .await
            .expect("the gateway answers");
        let (parts, body) = response.into_parts();
        let body = body.collect().await.expect("a whole body").to_bytes();
        Reply {
            status: parts.status,
            headers: parts.headers,
            body,
        }
    }

    pub async fn get(&self, path: &str, headers: &[(&str, &str)]) -> Reply {
        self.send(Method::GET, path, headers, "").await
    }
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {:?}", self.body))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The `error` code of a JSON error body.
    pub fn error(&self) -> String {
        self.json()["error"]
            .as_str()
            .expect("an error code")
            .to_owned()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(name)
            .map(|v| v.to_str().expect("ASCII header"))
    }

    /// The `Set-Cookie` header, whole.
    pub fn set_cookie(&self) -> Option<&str> {
        self.header("set-cookie")
    }

    /// The id the response's `Set-Cookie` issues under `name`; `None` when it
    /// sets none or expires the cookie.
    pub fn issued(&self, name: &str) -> Option<String> {
        let set = self.set_cookie()?;
        let value = set.strip_prefix(&format!("{name}="))?.split(';').next()?;
        (!value.is_empty()).then(|| value.to_owned())
    }

    /// Whether the response deletes the cookie.
    pub fn expires_cookie(&self) -> bool {
        self.set_cookie().is_some_and(|c| c.contains("Max-Age=0"))
    }

    pub fn etag(&self) -> Option<&str> {
        self.header("etag")
    }
}

/// The `Cookie` header value naming session `id` (default cookie name).
pub fn cookie(id: &str) -> String {
    format!("sessionid={id}")
}

/// `POST /session` with `data`; returns the issued id.
pub async fn create(http: &Http, data: &str) -> String {
    let reply = http.send(Method::POST, "/session", &[JSON], data).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
    reply.issued("sessionid").expect("a session cookie")
}

/// `GET /session` with the cookie naming `id`.
pub async fn get_session(http: &Http, id: &str) -> Reply {
    http.get("/session", &[("cookie", &cookie(id))]).await
}
