//! The domain: session ids and namespaces, keys and JSON values, limits
//! and errors, and the types every backend answers with and every
//! transport sends (`SessionInfo`, `Update`, `SessionRead`), and a
//! session's user (`UserId`, `Binding`, `Handle`).
//! Knows nothing of tonic or hyper, nor of any backend.

mod data;
mod error;
mod fields;
mod id;
mod info;
mod limits;
mod merge_patch;
mod namespace;
mod read;
mod user;

pub use data::{validate_key, validate_value};
pub use error::{Limit, SessionError};
pub(crate) use fields::{put as put_str, take as take_str};
pub use fields::{Fields, FieldsBuf};
pub use id::{
    BuildDigestHasher, Digest, DigestHasher, SessionId, ID_LEN, MAX_CHOSEN_ID_LEN,
    MIN_CHOSEN_ID_LEN,
};
pub use info::{SessionInfo, SetMode, Update};
pub use limits::{Limits, Timeouts};
pub use merge_patch::{merge, InvalidPatch, MergePatch};
pub use namespace::{Namespace, MAX_NAMESPACE_BYTES};
pub use read::{DataView, HeldFields, SessionRead};
pub use user::{
    Binding, Handle, PerUserPolicy, UserId, UserSession, MAX_USER_AGENT_BYTES, MAX_USER_ID_BYTES,
};
