//! Access control, independent of any transport: who a caller is (a bearer
//! token from the tokens file, or a client certificate's subject), and
//! therefore which namespace it works in and whether it may write.
//!
//! - [`tokens`]: the tokens file, its hashes, constant-time checks, reload.
//! - [`tls`]: certificates and keys from PEM files, and the namespace a
//!   client certificate names.

pub mod tls;
pub mod tokens;

use crate::session::Namespace;

pub use tokens::{hash_token_line, Tokens};

/// What a caller may do: resolved once per request, before any handler,
/// and handed to it (in gRPC, through the request's extensions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    /// Every session the caller creates or names lives in this namespace.
    pub namespace: Namespace,
    /// Reads only: Create, Set, Flush, Rotate and Touch are refused.
    pub read_only: bool,
}

impl Access {
    /// Full access to the default namespace: what every caller gets when no
    /// access control is configured (loopback only, or --insecure-no-auth).
    pub fn open() -> Self {
        Access {
            namespace: Namespace::DEFAULT,
            read_only: false,
        }
    }
}
