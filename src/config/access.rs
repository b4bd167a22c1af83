//! Who may call: bearer tokens, TLS and mTLS, and the loopback rule when
//! there is neither.

use std::path::PathBuf;

use clap::builder::BoolishValueParser;

use super::Config;
use crate::session::Namespace;

#[derive(Debug, Clone, clap::Args)]
pub struct Access {
    /// File of gRPC bearer tokens, one per line: `NAMESPACE:SHA256_HEX[:ro]`
    /// (`sessiond hash-token` prints such a line; `#` starts a comment).
    /// Re-read on SIGHUP. Unset (and no --tls-client-ca): no access control,
    /// and every listener must be on loopback.
    #[arg(long, env = "SESSIOND_TOKENS_FILE")]
    pub tokens_file: Option<PathBuf>,

    /// Allow listeners on non-loopback addresses with no access control
    /// (no --tokens-file, no --tls-client-ca). Anyone who reaches the port
    /// can then read and change every session.
    #[arg(long, env = "SESSIOND_INSECURE_NO_AUTH", default_value_t = false,
          num_args = 0..=1, default_missing_value = "true",
          value_parser = BoolishValueParser::new())]
    pub insecure_no_auth: bool,

    /// PEM certificate chain: serve gRPC and the HTTP gateway over TLS
    /// (with --tls-key).
    #[arg(long, env = "SESSIOND_TLS_CERT")]
    pub tls_cert: Option<PathBuf>,

    /// PEM private key of --tls-cert.
    #[arg(long, env = "SESSIOND_TLS_KEY")]
    pub tls_key: Option<PathBuf>,

    /// PEM CA certificate(s): gRPC clients must present a certificate it
    /// signed (mTLS), and its subject's common name (CN) is their
    /// namespace. With --tokens-file as well, a client may use either.
    #[arg(long, env = "SESSIOND_TLS_CLIENT_CA")]
    pub tls_client_ca: Option<PathBuf>,

    /// Namespaces (comma-separated; `(default)` names the default one)
    /// whose gRPC callers may create a session under an id they chose, by
    /// `Set` with `create_if_missing`, as express-session needs: ids of at
    /// least 128 bits (22 to 256 characters of [A-Za-z0-9_-]). Every other
    /// namespace, and the HTTP gateway, stay strict.
    #[arg(long, env = "SESSIOND_CLIENT_ID_NAMESPACES", value_delimiter = ',')]
    pub client_id_namespaces: Vec<String>,
}

impl Access {
    /// Whether gRPC callers must present a credential (a token or a client
    /// certificate).
    pub fn access_control(&self) -> bool {
        self.tokens_file.is_some() || self.tls_client_ca.is_some()
    }

    /// The namespaces whose callers may choose session ids (validated).
    pub fn client_id_namespaces(&self) -> Vec<Namespace> {
        self.parsed_client_id_namespaces().unwrap_or_default()
    }

    fn parsed_client_id_namespaces(&self) -> Result<Vec<Namespace>, String> {
        self.client_id_namespaces
            .iter()
            .map(|name| match name.trim() {
                "(default)" => Ok(Namespace::DEFAULT),
                "" => Err("--client-id-namespaces: an empty name; write (default) for the default namespace".to_string()),
                name => Namespace::parse(name).map_err(|e| format!("--client-id-namespaces: {e}")),
            })
            .collect()
    }
}

impl Config {
    /// TLS files come in pairs, and without access control every listener
    /// stays on loopback (Redis's protected mode) unless explicitly opened.
    pub(super) fn validate_access(&self) -> Result<(), String> {
        let access = &self.access;
        access.parsed_client_id_namespaces()?;
        if access.tls_cert.is_some() != access.tls_key.is_some() {
            return Err("--tls-cert and --tls-key go together: give both or neither".into());
        }
        if access.tls_client_ca.is_some() && access.tls_cert.is_none() {
            return Err("--tls-client-ca needs --tls-cert and --tls-key (mTLS is TLS)".into());
        }
        if access.access_control() || access.insecure_no_auth {
            return Ok(());
        }
        let listeners = &self.listeners;
        let public = [
            ("--grpc-addr", listeners.grpc_addr),
            ("--http-addr", listeners.http_addr),
            ("--admin-addr", listeners.admin_addr),
        ]
        .into_iter()
        .find(|(_, addr)| !addr.ip().is_loopback());
        match public {
            Some((flag, addr)) => Err(format!(
                "{flag} {addr} is not a loopback address and no access control is configured: \
                 give --tokens-file (or --tls-client-ca), or --insecure-no-auth to serve it open"
            )),
            None => Ok(()),
        }
    }
}
