//! TLS and mTLS with certificates made inside the test (rcgen): gRPC and
//! the gateway over TLS, client certificates naming namespaces, and a
//! client without a certificate refused.

mod common;

use std::path::PathBuf;
use std::sync::Arc;

use common::{spawn_app_with, TestApp};
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
use sessiond::grpc::pb;
use sessiond::grpc::pb::session_service_client::SessionServiceClient;
use sessiond::session::{Namespace, SessionId};
use tokio_rustls::rustls;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity};

/// A CA, a server certificate for `localhost` it signed, and the files.
struct Pki {
    dir: tempfile::TempDir,
    ca: rcgen::Certificate,
    ca_key: KeyPair,
}

impl Pki {
    fn new() -> Self {
        let ca_key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "sessiond test CA");
        let ca = params.self_signed(&ca_key).unwrap();
        let pki = Pki {
            dir: tempfile::tempdir().unwrap(),
            ca,
            ca_key,
        };
        let (cert, key) = pki.issue(vec!["localhost".into()], None);
        std::fs::write(pki.path("server.pem"), cert).unwrap();
        std::fs::write(pki.path("server.key"), key).unwrap();
        std::fs::write(pki.path("ca.pem"), pki.ca.pem()).unwrap();
        pki
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A certificate (PEM) and its key (PEM), signed by the CA.
    fn issue(&self, names: Vec<String>, common_name: Option<&str>) -> (String, String) {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(names).unwrap();
        if let Some(cn) = common_name {
            params.distinguished_name.push(DnType::CommonName, cn);
        }
        let cert = params.signed_by(&key, &self.ca, &self.ca_key).unwrap();
        (cert.pem(), key.serialize_pem())
    }

    async fn spawn(&self, mtls: bool) -> TestApp {
        spawn_app_with(|config| {
            config.access.tls_cert = Some(self.path("server.pem"));
            config.access.tls_key = Some(self.path("server.key"));
            config.access.tls_client_ca = mtls.then(|| self.path("ca.pem"));
        })
        .await
    }

    /// A gRPC client that trusts the CA, with `identity` if given.
    async fn client(
        &self,
        app: &TestApp,
        identity: Option<(String, String)>,
    ) -> Result<SessionServiceClient<Channel>, tonic::transport::Error> {
        let mut tls = ClientTlsConfig::new()
            .ca_certificate(Certificate::from_pem(self.ca.pem()))
            .domain_name("localhost");
        if let Some((cert, key)) = identity {
            tls = tls.identity(Identity::from_pem(cert, key));
        }
        let channel = Channel::from_shared(format!("https://{}", app.grpc_addr))
            .unwrap()
            .tls_config(tls)?
            .connect()
            .await?;
        Ok(SessionServiceClient::new(channel))
    }
}

fn create() -> pb::CreateRequest {
    pb::CreateRequest {
        data: Default::default(),
        idle_timeout: None,
        user: None,
    }
}

#[tokio::test]
async fn grpc_is_served_over_tls_and_not_in_the_clear() {
    let pki = Pki::new();
    let app = pki.spawn(false).await;
    let mut client = pki.client(&app, None).await.unwrap();
    let created = client.create(create()).await.unwrap().into_inner();
    assert_eq!(created.session.unwrap().version, 1);

    let mut plain = SessionServiceClient::connect(format!("http://{}", app.grpc_addr))
        .await
        .unwrap();
    assert!(plain.create(create()).await.is_err(), "cleartext refused");
}

#[tokio::test]
async fn a_client_certificate_names_the_namespace_its_sessions_live_in() {
    let pki = Pki::new();
    let app = pki.spawn(true).await;
    let identity = pki.issue(vec![], Some("shop"));
    let mut client = pki.client(&app, Some(identity)).await.unwrap();
    let id = client
        .create(create())
        .await
        .unwrap()
        .into_inner()
        .session
        .unwrap()
        .id;
    let id = SessionId::parse(&id).unwrap();
    let shop = Namespace::parse("shop").unwrap();
    assert!(app.store.get(&shop, &id, &[], false).await.is_ok());
    assert!(app
        .store
        .get(&Namespace::DEFAULT, &id, &[], false)
        .await
        .is_err());

    // Another application's certificate does not find it.
    let mut blog = pki
        .client(&app, Some(pki.issue(vec![], Some("blog"))))
        .await
        .unwrap();
    let get = pb::GetRequest {
        id: id.expose().into(),
        keys: vec![],
        no_touch: false,
    };
    let missing = blog.get(get).await.unwrap_err();
    assert_eq!(missing.code(), tonic::Code::NotFound);
}

#[tokio::test]
async fn a_client_without_a_certificate_is_refused_under_mtls() {
    let pki = Pki::new();
    let app = pki.spawn(true).await;
    let refused = async {
        let mut client = pki.client(&app, None).await.map_err(|e| e.to_string())?;
        client.create(create()).await.map_err(|e| e.to_string())
    }
    .await;
    assert!(refused.is_err(), "served without a client certificate");
    assert_eq!(app.store.len(), 0);

    // A certificate from another CA is refused too.
    let stranger = Pki::new().issue(vec![], Some("shop"));
    let refused = async {
        let mut client = pki
            .client(&app, Some(stranger))
            .await
            .map_err(|e| e.to_string())?;
        client.create(create()).await.map_err(|e| e.to_string())
    }
    .await;
    assert!(refused.is_err(), "served a certificate the CA did not sign");
    assert_eq!(app.store.len(), 0);
}

#[tokio::test]
async fn the_gateway_is_served_over_tls() {
    let pki = Pki::new();
    let app = pki.spawn(false).await;
    let mut roots = rustls::RootCertStore::empty();
    roots.add(app_ca_der(&pki)).unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let tcp = tokio::net::TcpStream::connect(app.http_addr).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .expect("TLS handshake with the gateway");
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
        .await
        .unwrap();
    tokio::spawn(connection);
    let request = hyper::Request::get("/session")
        .header("host", "localhost")
        .body(Empty::<Bytes>::new())
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    assert_eq!(response.status(), 404, "no cookie, no session");
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert!(String::from_utf8_lossy(&body).contains("session_not_found"));

    // In the clear, the gateway answers nothing useful.
    let plain = common::http_get(app.http_addr, "/session").await;
    assert!(plain.is_err() || plain.unwrap().status != 404);
}

fn app_ca_der(pki: &Pki) -> rustls::pki_types::CertificateDer<'static> {
    pki.ca.der().clone()
}
