//! The gRPC side of access control: an interceptor that resolves each
//! `SessionService` request's credential to an [`Access`] before any
//! handler runs, and puts it in the request's extensions for the handler;
//! a request without a valid credential gets `UNAUTHENTICATED` and reaches
//! no handler. Health and reflection stay open: they hold no sessions.

use std::time::Duration;

use tonic::service::Interceptor;
use tonic::{Request, Status};

use crate::auth::{tls, Access, Tokens};
use crate::metrics::{Api, Metrics};

/// How callers prove who they are, fixed at start (the tokens themselves
/// reload on SIGHUP).
#[derive(Clone)]
pub struct Authenticate {
    /// Bearer tokens, when `--tokens-file` is set.
    tokens: Option<Tokens>,
    /// Whether client certificates name namespaces (`--tls-client-ca`).
    mtls: bool,
    /// Refusals are counted with the other requests.
    metrics: Metrics,
}

impl Authenticate {
    pub fn new(tokens: Option<Tokens>, mtls: bool, metrics: Metrics) -> Self {
        Authenticate {
            tokens,
            mtls,
            metrics,
        }
    }

    /// Whose request this is. A bearer token, when sent, decides (a wrong
    /// one is refused even if a certificate would do); else the client
    /// certificate; else, only when no access control is configured at all,
    /// full access to the default namespace.
    fn resolve<T>(&self, request: &Request<T>) -> Result<Access, Status> {
        if let Some(value) = request.metadata().get("authorization") {
            let Some(tokens) = &self.tokens else {
                return Err(Status::unauthenticated(
                    "this server takes no bearer tokens (it has no --tokens-file)",
                ));
            };
            let token = value
                .to_str()
                .ok()
                .and_then(|v| v.strip_prefix("Bearer "))
                .ok_or_else(|| {
                    Status::unauthenticated("the authorization metadata must be `Bearer <token>`")
                })?;
            return tokens
                .check(token.trim())
                .ok_or_else(|| Status::unauthenticated("unknown bearer token"));
        }
        if self.mtls {
            if let Some(leaf) = request
                .peer_certs()
                .as_ref()
                .and_then(|c| c.first().cloned())
            {
                return tls::namespace_of(&leaf)
                    .map(|namespace| Access {
                        namespace,
                        read_only: false,
                    })
                    .map_err(Status::unauthenticated);
            }
        }
        if self.tokens.is_none() && !self.mtls {
            return Ok(Access::open());
        }
        Err(Status::unauthenticated(
            "missing credential: send `authorization: Bearer <token>` metadata (or a client certificate, where mTLS is on)",
        ))
    }
}

impl Interceptor for Authenticate {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        match self.resolve(&request) {
            Ok(access) => {
                request.extensions_mut().insert(access);
                Ok(request)
            }
            Err(status) => {
                tracing::debug!(
                    reason = status.message(),
                    "gRPC request refused: unauthenticated"
                );
                // The interceptor does not see which RPC was called.
                self.metrics
                    .record(Api::Grpc, "Authenticate", "UNAUTHENTICATED", Duration::ZERO);
                Err(status)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::hash_token_line;
    use crate::session::Namespace;
    use tonic::Code;

    fn tokens() -> (Tokens, tempfile::NamedTempFile) {
        let f = tempfile::NamedTempFile::new().unwrap();
        let shop = Namespace::parse("shop").unwrap();
        std::fs::write(f.path(), hash_token_line(&shop, "t0ken", false)).unwrap();
        (Tokens::load(f.path()).unwrap(), f)
    }

    fn with_auth(value: &str) -> Request<()> {
        let mut request = Request::new(());
        request
            .metadata_mut()
            .insert("authorization", value.parse().unwrap());
        request
    }

    #[test]
    fn a_valid_token_puts_its_namespace_in_the_extensions() {
        let (tokens, _f) = tokens();
        let mut auth = Authenticate::new(Some(tokens), false, Metrics::new());
        let request = auth.call(with_auth("Bearer t0ken")).unwrap();
        let access = request.extensions().get::<Access>().unwrap();
        assert_eq!(access.namespace.as_str(), "shop");
        assert!(!access.read_only);
    }

    #[test]
    fn missing_malformed_and_unknown_tokens_are_unauthenticated() {
        let (tokens, _f) = tokens();
        let mut auth = Authenticate::new(Some(tokens), false, Metrics::new());
        for request in [
            Request::new(()),
            with_auth("t0ken"),
            with_auth("Basic t0ken"),
            with_auth("Bearer wrong"),
        ] {
            assert_eq!(
                auth.call(request).unwrap_err().code(),
                Code::Unauthenticated
            );
        }
    }

    #[test]
    fn with_no_access_control_every_caller_gets_the_default_namespace() {
        let mut auth = Authenticate::new(None, false, Metrics::new());
        let request = auth.call(Request::new(())).unwrap();
        assert_eq!(request.extensions().get::<Access>(), Some(&Access::open()));
        let refused = auth.call(with_auth("Bearer x")).unwrap_err();
        assert_eq!(refused.code(), Code::Unauthenticated);
    }
}
