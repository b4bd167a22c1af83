//! The Get reply, encoded straight from the stored session: the wire bytes
//! of `sessiond.v1.GetResponse` written from a [`SessionRead`], without
//! copying the data into a map of owned strings that prost would encode and
//! the call would then drop (BENCHMARKS.md, row 1). The server's generated
//! code sends this type where the contract says `GetResponse` (build.rs);
//! clients, tests and benches decode the generated [`pb::GetResponse`].

use bytes::{Buf, BufMut};
use prost::encoding::{encoded_len_varint, key_len, DecodeContext, WireType};
use prost::{DecodeError, Message};

use super::convert::{duration, timestamp};
use super::pb;
use crate::session::ID_LEN;
use crate::session::{DataView, SessionInfo, SessionRead};

/// `GetResponse`'s field numbers (proto/sessiond/v1/sessiond.proto).
const SESSION: u32 = 1;
const DATA: u32 = 2;
/// A map is a repeated message of these two fields.
const KEY: u32 = 1;
const VALUE: u32 = 2;
/// `SessionInfo`'s: id, version, created_at, expires_at, idle_timeout.
const INFO: [u32; 5] = [1, 2, 3, 4, 5];
/// `google.protobuf.Timestamp`'s and `Duration`'s: seconds, nanos.
const SECONDS: u32 = 1;
const NANOS: u32 = 2;

/// `sessiond.v1.GetResponse`, as the server sends it.
///
/// Kept small, because tonic and h2 move the reply a dozen times a call: the
/// `SessionInfo` is encoded on the stack only when the reply is written, and
/// a decoded message (which the server never makes) is boxed.
pub enum GetReply {
    /// What a Get found, encoded from the stored session when written.
    Read {
        /// Field 1 (see [`Staged`]).
        info: SessionInfo,
        /// Field 2: the pairs read, encoded from the session's allocation.
        data: DataView,
    },
    /// A reply decoded from bytes: prost's own message.
    Decoded(Box<pb::GetResponse>),
}

impl GetReply {
    /// The answer to a Get that found `read`.
    pub fn new(read: SessionRead) -> Self {
        GetReply::Read {
            info: read.info,
            data: read.data,
        }
    }
}

impl Default for GetReply {
    fn default() -> Self {
        GetReply::Decoded(Box::default())
    }
}

impl Message for GetReply {
    fn encode_raw(&self, buf: &mut impl BufMut) {
        let (info, data) = match self {
            GetReply::Read { info, data } => (info, data),
            GetReply::Decoded(message) => return message.encode_raw(buf),
        };
        buf.put_slice(Staged::session_info(info).bytes());
        for (key, value) in data.iter_bytes() {
            let mut head = Staged::<HEAD_BYTES>::default();
            head.key(DATA);
            head.varint(entry_len(key, value) as u64);
            head.string_head(KEY, key);
            buf.put_slice(head.bytes());
            buf.put_slice(key);
            let mut head = Staged::<HEAD_BYTES>::default();
            head.string_head(VALUE, value);
            buf.put_slice(head.bytes());
            buf.put_slice(value);
        }
    }

    fn encoded_len(&self) -> usize {
        let (info, data) = match self {
            GetReply::Read { info, data } => (info, data),
            GetReply::Decoded(message) => return message.encoded_len(),
        };
        let data: usize = data
            .iter_bytes()
            .map(|(key, value)| {
                let len = entry_len(key, value);
                key_len(DATA) + encoded_len_varint(len as u64) + len
            })
            .sum();
        let session = SessionLens::of(info).inner;
        key_len(SESSION) + encoded_len_varint(session as u64) + session + data
    }

    /// Decoding into a reply that was read first turns it into the message
    /// it encodes, then merges as prost does.
    fn merge_field(
        &mut self,
        tag: u32,
        wire_type: WireType,
        buf: &mut impl Buf,
        ctx: DecodeContext,
    ) -> Result<(), DecodeError> {
        if let GetReply::Read { .. } = self {
            let own = pb::GetResponse::decode(&self.encode_to_vec()[..])?;
            *self = GetReply::Decoded(Box::new(own));
        }
        match self {
            GetReply::Decoded(message) => message.merge_field(tag, wire_type, buf, ctx),
            GetReply::Read { .. } => unreachable!("turned into a decoded message above"),
        }
    }

    fn clear(&mut self) {
        *self = GetReply::default();
    }
}

/// One map entry's length: prost leaves out a key or value that is the
/// empty string (its default), and so does this, byte for byte.
fn entry_len(key: &[u8], value: &[u8]) -> usize {
    string_len(KEY, key) + string_len(VALUE, value)
}

fn string_len(tag: u32, s: &[u8]) -> usize {
    match s.len() {
        0 => 0,
        n => key_len(tag) + encoded_len_varint(n as u64) + n,
    }
}

/// Field 1 of a reply is at most 119 bytes: a `SessionInfo` of a 32-byte id
/// and eight numbers of at most 10 bytes, with the tags and lengths around
/// them.
const INFO_BYTES: usize = 128;
/// A map entry's tags and lengths, before its key: two of each.
const HEAD_BYTES: usize = 24;

/// Bytes encoded on the stack, to go to tonic's buffer in one copy. prost's
/// generated `SessionInfo` works out each nested message's length again at
/// every level that asks (a timestamp's three times a reply) and writes each
/// byte through `BufMut`: ~1 100 instructions of a Get, against ~200 here.
pub struct Staged<const N: usize> {
    bytes: [u8; N],
    len: usize,
}

impl<const N: usize> Default for Staged<N> {
    fn default() -> Self {
        Staged {
            bytes: [0; N],
            len: 0,
        }
    }
}

impl Staged<INFO_BYTES> {
    /// Field 1 of a reply: `info` as prost encodes `pb::SessionInfo::from`
    /// it, byte for byte (every field that is not its default, in order).
    fn session_info(info: &SessionInfo) -> Self {
        let id = info.id.expose().as_bytes();
        debug_assert_eq!(id.len(), ID_LEN);
        let SessionLens { inner, pairs, lens } = SessionLens::of(info);
        let mut out = Staged::default();
        out.key(SESSION);
        out.varint(inner as u64);
        out.string_head(INFO[0], id);
        out.put(id);
        out.int(INFO[1], info.version as i64);
        for ((&tag, &l), (seconds, nanos)) in INFO[2..].iter().zip(&lens).zip(pairs) {
            out.key(tag);
            out.varint(l as u64);
            out.int(SECONDS, seconds);
            out.int(NANOS, i64::from(nanos));
        }
        out
    }
}

/// A `SessionInfo`'s nested messages and lengths, as field 1 encodes them.
struct SessionLens {
    /// The bytes of the `SessionInfo` message itself.
    inner: usize,
    /// created_at, expires_at and idle_timeout: (seconds, nanos) each.
    pairs: [(i64, i32); 3],
    /// The encoded length of each of those three messages.
    lens: [usize; 3],
}

impl SessionLens {
    fn of(info: &SessionInfo) -> Self {
        let id = info.id.expose().as_bytes();
        let created = timestamp(info.created_ms);
        let expires = timestamp(info.expires_ms);
        let idle = duration(info.idle_timeout);
        let pairs = [
            (created.seconds, created.nanos),
            (expires.seconds, expires.nanos),
            (idle.seconds, idle.nanos),
        ];
        let lens = pairs
            .map(|(seconds, nanos)| int_len(SECONDS, seconds) + int_len(NANOS, i64::from(nanos)));
        let mut inner = string_len(INFO[0], id) + int_len(INFO[1], info.version as i64);
        for (&tag, &l) in INFO[2..].iter().zip(&lens) {
            inner += key_len(tag) + encoded_len_varint(l as u64) + l;
        }
        SessionLens { inner, pairs, lens }
    }
}

impl<const N: usize> Staged<N> {
    fn bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    fn put(&mut self, bytes: &[u8]) {
        self.bytes[self.len..self.len + bytes.len()].copy_from_slice(bytes);
        self.len += bytes.len();
    }

    /// A LEB128 varint, as prost writes it.
    fn varint(&mut self, mut value: u64) {
        while value >= 0x80 {
            self.bytes[self.len] = value as u8 | 0x80;
            self.len += 1;
            value >>= 7;
        }
        self.bytes[self.len] = value as u8;
        self.len += 1;
    }

    /// A length-delimited field's key.
    fn key(&mut self, tag: u32) {
        self.varint(u64::from(tag << 3 | WireType::LengthDelimited as u32));
    }

    /// A string field's key and length, unless the string is empty.
    fn string_head(&mut self, tag: u32, s: &[u8]) {
        if !s.is_empty() {
            self.key(tag);
            self.varint(s.len() as u64);
        }
    }

    /// An integer field (`int64`, `int32`, `uint64`), unless it is 0.
    fn int(&mut self, tag: u32, value: i64) {
        if value != 0 {
            self.varint(u64::from(tag << 3 | WireType::Varint as u32));
            self.varint(value as u64);
        }
    }
}

/// Bytes of an integer field that is not 0.
fn int_len(tag: u32, value: i64) -> usize {
    match value {
        0 => 0,
        v => key_len(tag) + encoded_len_varint(v as u64),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{Clock, Millis};
    use crate::session::{Limits, Namespace, SessionId, Timeouts};
    use crate::storage::memory::Memory;

    const NS: Namespace = Namespace::DEFAULT;

    /// A time with seconds of five varint bytes and milliseconds.
    const NOW: Millis = 1_700_000_000_123;

    fn holding(pairs: &[(String, String)]) -> (Memory, SessionId) {
        holding_at(NOW, pairs)
    }

    fn holding_at(now: Millis, pairs: &[(String, String)]) -> (Memory, SessionId) {
        let store = Memory::new(Limits::default(), Timeouts::default(), Clock::manual(now));
        let data = pairs.iter().cloned().collect();
        let id = store.create(&NS, data, None).unwrap().id;
        (store, id)
    }

    /// The reply as the server built it before `GetReply`: the generated
    /// message, from a copy of the data.
    fn generated(store: &Memory, id: &SessionId, keys: &[String]) -> pb::GetResponse {
        let (info, data) = store.get(&NS, id, keys, false).unwrap();
        pb::GetResponse {
            session: Some(info.into()),
            data,
        }
    }

    fn reply(store: &Memory, id: &SessionId, keys: &[String]) -> GetReply {
        GetReply::new(store.read(&NS, id, keys.to_vec(), false).unwrap())
    }

    fn pairs(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// Sessions whose encoding has something to get wrong: no data, unicode,
    /// lengths of one, two and three varint bytes, many entries.
    fn sessions() -> Vec<Vec<(String, String)>> {
        let long = |n: usize| format!("\"{}\"", "x".repeat(n));
        let many = (0..300)
            .map(|i| (format!("k{i}"), format!("[{i}]")))
            .collect();
        vec![
            vec![],
            pairs(&[("user", "\"yuan\"")]),
            pairs(&[("café ☕", "\"日本語 🎌\""), ("b", "{\"a\":[true,null]}")]),
            vec![("b".into(), long(200)), ("é".repeat(100), long(20_000))],
            many,
        ]
    }

    fn key_filters() -> Vec<Vec<String>> {
        let keys = |ks: &[&str]| ks.iter().map(|k| k.to_string()).collect();
        vec![
            keys(&[]),
            keys(&["b"]),
            keys(&["b", "b", "absent", "k7"]),
            keys(&["absent"]),
        ]
    }

    #[test]
    fn the_reply_stays_small_for_the_moves_it_goes_through() {
        // The session's info and a handle on its data; no encoded bytes.
        let size = std::mem::size_of::<GetReply>();
        assert!(size <= 128, "GetReply is {size} bytes");
    }

    #[test]
    fn a_reply_decodes_to_what_the_generated_get_response_holds() {
        for session in sessions() {
            let (store, id) = holding(&session);
            for keys in key_filters() {
                let reply = reply(&store, &id, &keys);
                let bytes = reply.encode_to_vec();
                assert_eq!(bytes.len(), reply.encoded_len());
                let decoded = pb::GetResponse::decode(&bytes[..]).unwrap();
                assert_eq!(decoded, generated(&store, &id, &keys), "{keys:?}");
            }
        }
    }

    #[test]
    fn a_reply_of_at_most_one_key_is_the_bytes_prost_writes() {
        // A map of one entry has one order, so the bytes must match. At
        // time 0 the creation time is an empty Timestamp.
        for (now, session) in [0, NOW]
            .into_iter()
            .flat_map(|t| sessions().into_iter().map(move |s| (t, s)))
        {
            let (store, id) = holding_at(now, &session);
            let keys = ["b".to_string()];
            let expected = generated(&store, &id, &keys).encode_to_vec();
            assert_eq!(reply(&store, &id, &keys).encode_to_vec(), expected);
            if session.len() <= 1 {
                let expected = generated(&store, &id, &[]).encode_to_vec();
                assert_eq!(reply(&store, &id, &[]).encode_to_vec(), expected);
            }
        }
    }

    #[test]
    fn a_reply_decoded_from_bytes_holds_and_encodes_the_same_message() {
        for session in sessions() {
            let (store, id) = holding(&session);
            let bytes = reply(&store, &id, &[]).encode_to_vec();
            let mut decoded = GetReply::decode(&bytes[..]).unwrap();
            let expected = generated(&store, &id, &[]);
            assert!(matches!(&decoded, GetReply::Decoded(m) if **m == expected));
            let again = pb::GetResponse::decode(&decoded.encode_to_vec()[..]).unwrap();
            assert_eq!(again, expected);
            decoded.clear();
            assert_eq!(decoded.encoded_len(), 0);
        }
    }

    #[test]
    fn bytes_merged_into_a_read_reply_merge_as_into_the_generated_message() {
        let (store, id) = holding(&pairs(&[("a", "1"), ("b", "2")]));
        let more = pb::GetResponse {
            session: None,
            data: pairs(&[("b", "20"), ("c", "3")]).into_iter().collect(),
        };
        let mut expected = generated(&store, &id, &[]);
        expected.merge(&more.encode_to_vec()[..]).unwrap();
        let mut merged = reply(&store, &id, &[]);
        merged.merge(&more.encode_to_vec()[..]).unwrap();
        let decoded = pb::GetResponse::decode(&merged.encode_to_vec()[..]).unwrap();
        assert_eq!(decoded, expected);
        assert_eq!(decoded.data["b"], "20");
    }
}
