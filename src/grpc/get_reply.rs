//! The Get reply, encoded straight from the stored session: the wire bytes
//! of `sessiond.v1.GetResponse` written from a [`SessionRead`], without
//! copying the data into a map of owned strings that prost would encode and
//! the call would then drop (BENCHMARKS.md, row 1). The server's generated
//! code sends this type where the contract says `GetResponse` (build.rs);
//! clients, tests and benches decode the generated [`pb::GetResponse`].

use std::collections::HashMap;

use bytes::{Buf, BufMut};
use prost::encoding::{
    encode_key, encode_varint, encoded_len_varint, hash_map, key_len, message, skip_field, string,
    DecodeContext, WireType,
};
use prost::{DecodeError, Message};

use super::pb;
use crate::store::{DataView, SessionRead};

/// `GetResponse`'s field numbers (proto/sessiond/v1/sessiond.proto).
const SESSION: u32 = 1;
const DATA: u32 = 2;
/// A map is a repeated message of these two fields.
const KEY: u32 = 1;
const VALUE: u32 = 2;

/// `sessiond.v1.GetResponse`, as the server sends it.
#[derive(Default)]
pub struct GetReply {
    /// Field 1.
    pub session: Option<pb::SessionInfo>,
    /// Field 2 as the store read it: encoded from the stored session.
    read: Option<DataView>,
    /// Field 2 as decoded: only a reply decoded from bytes holds pairs here.
    /// Encoded after `read`, so a pair in both ends up as this one, as when
    /// two map entries of one key arrive.
    pub data: HashMap<String, String>,
}

impl GetReply {
    /// The answer to a Get that found `read`.
    pub fn new(read: SessionRead) -> Self {
        GetReply {
            session: Some(read.info.into()),
            read: Some(read.data),
            data: HashMap::new(),
        }
    }

    /// Every pair of field 2, as the bytes of its strings.
    fn pairs(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        let decoded = self.data.iter().map(|(k, v)| (k.as_bytes(), v.as_bytes()));
        self.read
            .iter()
            .flat_map(DataView::iter_bytes)
            .chain(decoded)
    }
}

impl Message for GetReply {
    fn encode_raw(&self, buf: &mut impl BufMut) {
        if let Some(session) = &self.session {
            message::encode(SESSION, session, buf);
        }
        for (key, value) in self.pairs() {
            encode_key(DATA, WireType::LengthDelimited, buf);
            encode_varint(entry_len(key, value) as u64, buf);
            put_string(KEY, key, buf);
            put_string(VALUE, value, buf);
        }
    }

    fn encoded_len(&self) -> usize {
        let session = self
            .session
            .as_ref()
            .map_or(0, |s| message::encoded_len(SESSION, s));
        let data: usize = self
            .pairs()
            .map(|(key, value)| {
                let len = entry_len(key, value);
                key_len(DATA) + encoded_len_varint(len as u64) + len
            })
            .sum();
        session + data
    }

    fn merge_field(
        &mut self,
        tag: u32,
        wire_type: WireType,
        buf: &mut impl Buf,
        ctx: DecodeContext,
    ) -> Result<(), DecodeError> {
        match tag {
            SESSION => message::merge(
                wire_type,
                self.session.get_or_insert_with(Default::default),
                buf,
                ctx,
            ),
            DATA => hash_map::merge(string::merge, string::merge, &mut self.data, buf, ctx),
            _ => skip_field(wire_type, tag, buf, ctx),
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

fn put_string(tag: u32, s: &[u8], buf: &mut impl BufMut) {
    if !s.is_empty() {
        encode_key(tag, WireType::LengthDelimited, buf);
        encode_varint(s.len() as u64, buf);
        buf.put_slice(s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Clock;
    use crate::session::{Limits, Namespace, SessionId, Timeouts};
    use crate::store::Store;

    const NS: Namespace = Namespace::DEFAULT;

    fn holding(pairs: &[(String, String)]) -> (Store, SessionId) {
        let store = Store::new(Limits::default(), Timeouts::default(), Clock::manual(0));
        let data = pairs.iter().cloned().collect();
        let id = store.create(&NS, data, None).unwrap().id;
        (store, id)
    }

    /// The reply as the server built it before `GetReply`: the generated
    /// message, from a copy of the data.
    fn generated(store: &Store, id: &SessionId, keys: &[String]) -> pb::GetResponse {
        let (info, data) = store.get(&NS, id, keys, false).unwrap();
        pb::GetResponse {
            session: Some(info.into()),
            data,
        }
    }

    fn reply(store: &Store, id: &SessionId, keys: &[String]) -> GetReply {
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
        // A map of one entry has one order, so the bytes must match.
        for session in sessions() {
            let (store, id) = holding(&session);
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
            assert_eq!(decoded.session, expected.session);
            assert_eq!(decoded.data, expected.data);
            let again = pb::GetResponse::decode(&decoded.encode_to_vec()[..]).unwrap();
            assert_eq!(again, expected);
            decoded.clear();
            assert_eq!(decoded.encoded_len(), 0);
        }
    }
}
