//! What a read found: the session's info and a view of its data that any
//! backend can fill, either with bytes it shares out of its own allocation
//! (memory: a counted handle, nothing copied) or with bytes it decoded
//! (a backend across the network).

use std::collections::HashMap;
use std::fmt;

use super::{Fields, FieldsBuf, SessionInfo};

/// What a read found: the session's info, and its data as stored.
#[derive(Debug)]
pub struct SessionRead {
    pub info: SessionInfo,
    pub data: DataView,
}

/// Encoded fields a backend keeps alive for a reader: the memory backend
/// hands out a counted handle on the session's allocation, which stays
/// whole if a Set replaces the session meanwhile.
pub trait HeldFields: Send + Sync + 'static {
    fn fields(&self) -> Fields<'_>;
}

/// The keys a read asked for, borrowed from what the backend holds: a reply
/// is written straight from the stored bytes.
///
/// One box whatever the backend: the reply that carries this is moved a
/// dozen times by tonic and h2, so it is kept to a pointer pair and the
/// keys.
pub struct DataView {
    held: Box<dyn HeldFields>,
    /// The keys asked for; empty for all of them.
    keys: Vec<String>,
}

impl HeldFields for FieldsBuf {
    fn fields(&self) -> Fields<'_> {
        FieldsBuf::fields(self)
    }
}

impl DataView {
    /// A view of `held`, limited to `keys` (all when empty).
    pub fn shared(held: Box<dyn HeldFields>, keys: Vec<String>) -> Self {
        DataView { held, keys }
    }

    /// A view of fields decoded for this read, limited to `keys`.
    pub fn owned(fields: FieldsBuf, keys: Vec<String>) -> Self {
        DataView::shared(Box::new(fields), keys)
    }

    fn fields(&self) -> Fields<'_> {
        self.held.fields()
    }

    /// Every (key, JSON value) read, each key once, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> + Clone {
        let data = self.fields().iter();
        data.filter(|(k, _)| self.asked(k.as_bytes()))
    }

    /// [`Self::iter`] as UTF-8 bytes, not checked again on the way out: what
    /// a wire encoding copies.
    pub fn iter_bytes(&self) -> impl Iterator<Item = (&[u8], &[u8])> + Clone {
        let data = self.fields().iter_bytes();
        data.filter(|(k, _)| self.asked(k))
    }

    /// The JSON value of `key`, if it was read.
    pub fn get(&self, key: &str) -> Option<&str> {
        let asked = self.asked(key.as_bytes());
        self.fields().get(key).filter(|_| asked)
    }

    fn asked(&self, key: &[u8]) -> bool {
        self.keys.is_empty() || self.keys.iter().any(|k| k.as_bytes() == key)
    }

    /// The pairs, copied out.
    pub fn to_map(&self) -> HashMap<String, String> {
        self.iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    }
}

impl fmt::Debug for DataView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Keys only: values never reach a log.
        let keys: Vec<&str> = self.iter().map(|(k, _)| k).collect();
        f.debug_struct("DataView").field("keys", &keys).finish()
    }
}
