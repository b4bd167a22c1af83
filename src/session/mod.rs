//! The domain: session ids and namespaces, keys and JSON values, limits
//! and errors.
//! Knows nothing of tonic or hyper.

mod data;
mod error;
mod id;
mod limits;
mod namespace;

pub use data::{validate_key, validate_value};
pub use error::{Limit, SessionError};
pub use id::{BuildDigestHasher, Digest, DigestHasher, SessionId, ID_LEN};
pub use limits::{Limits, Timeouts};
pub use namespace::{Namespace, MAX_NAMESPACE_BYTES};
