//! TLS material from PEM files, and the namespace a client certificate
//! names.
//!
//! mTLS subject mapping: a client certificate's namespace is the first
//! common name (CN, OID 2.5.4.3) of its subject, which must be a valid
//! namespace name (`[A-Za-z0-9._-]`, at most 64 bytes). A certificate
//! without one is refused. Only certificates signed by `--tls-client-ca`
//! get this far: the TLS handshake has already verified the chain.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls;

use crate::session::Namespace;

/// The PEM files of `--tls-cert`, `--tls-key` and `--tls-client-ca`, read
/// and checked at start-up.
#[derive(Clone)]
pub struct TlsFiles {
    pub cert_pem: Vec<u8>,
    pub key_pem: Vec<u8>,
    /// PEM CA certificates client certificates must chain to (mTLS).
    pub client_ca_pem: Option<Vec<u8>>,
}

impl TlsFiles {
    /// Reads and parses the files, so that a bad one stops start-up with
    /// its path named rather than failing the first handshake.
    pub fn read(cert: &Path, key: &Path, client_ca: Option<&Path>) -> Result<Self, String> {
        let files = TlsFiles {
            cert_pem: read(cert)?,
            key_pem: read(key)?,
            client_ca_pem: client_ca.map(read).transpose()?,
        };
        certificates(&files.cert_pem).map_err(|e| format!("--tls-cert {}: {e}", cert.display()))?;
        PrivateKeyDer::from_pem_slice(&files.key_pem)
            .map_err(|e| format!("--tls-key {}: no PEM private key ({e})", key.display()))?;
        if let (Some(pem), Some(path)) = (&files.client_ca_pem, client_ca) {
            certificates(pem).map_err(|e| format!("--tls-client-ca {}: {e}", path.display()))?;
        }
        Ok(files)
    }

    /// The rustls configuration of the HTTP gateway: server authentication
    /// only (browsers present no certificates), HTTP/2 or HTTP/1.1 by ALPN.
    pub fn gateway_config(&self) -> Result<Arc<rustls::ServerConfig>, String> {
        let certs = certificates(&self.cert_pem)?;
        let key = PrivateKeyDer::from_pem_slice(&self.key_pem).map_err(|e| e.to_string())?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .map_err(|e| format!("--tls-cert/--tls-key: {e}"))?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", PathBuf::from(path).display()))
}

fn certificates(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("not PEM certificates ({e})"))?;
    if certs.is_empty() {
        return Err("no PEM certificate in the file".into());
    }
    Ok(certs)
}

/// The namespace a verified client certificate names: its subject's CN.
pub fn namespace_of(cert_der: &[u8]) -> Result<Namespace, String> {
    let (_, cert) = x509_parser::parse_x509_certificate(cert_der)
        .map_err(|_| "the client certificate cannot be parsed".to_string())?;
    let cn =
        cert.subject().iter_common_name().next().ok_or(
            "the client certificate's subject has no common name (CN) to name a namespace",
        )?;
    let cn = cn
        .as_str()
        .map_err(|_| "the client certificate's common name is not a string".to_string())?;
    Namespace::parse(cn).map_err(|e| format!("the client certificate's common name: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cert_with(subject: &[(rcgen::DnType, &str)]) -> Vec<u8> {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name = rcgen::DistinguishedName::new();
        for (kind, value) in subject {
            params.distinguished_name.push(kind.clone(), *value);
        }
        params.self_signed(&key).unwrap().der().to_vec()
    }

    #[test]
    fn the_namespace_is_the_subjects_common_name() {
        let der = cert_with(&[
            (rcgen::DnType::OrganizationName, "Example"),
            (rcgen::DnType::CommonName, "shop"),
        ]);
        assert_eq!(namespace_of(&der).unwrap().as_str(), "shop");
    }

    #[test]
    fn a_certificate_without_a_usable_common_name_names_no_namespace() {
        let none = cert_with(&[(rcgen::DnType::OrganizationName, "Example")]);
        assert!(namespace_of(&none).unwrap_err().contains("no common name"));
        let bad = cert_with(&[(rcgen::DnType::CommonName, "not a namespace")]);
        assert!(namespace_of(&bad).is_err());
        assert!(namespace_of(b"junk").is_err());
    }
}
