//! The Get request as the server decodes it: `sessiond.v1.GetRequest`, whose
//! id, when its bytes arrive in one piece (as a 32-byte id does), is copied
//! straight from the buffer rather than through prost's generic `Take`
//! adapter and a growing `Vec`, which cost a Get ~400 instructions. The
//! server's generated code receives this type where the contract says
//! `GetRequest` (build.rs); every other field, and any id the short path
//! does not take, goes to prost's generated code, errors and all.

use bytes::{Buf, BufMut};
use prost::encoding::{DecodeContext, WireType};
use prost::{DecodeError, Message};

use super::pb;

/// `GetRequest.id`'s field number (proto/sessiond/v1/sessiond.proto).
const ID: u32 = 1;

/// `sessiond.v1.GetRequest`, as the server receives it: prost's message,
/// decoded with a short path for its id.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct GetQuery(pub pb::GetRequest);

impl Message for GetQuery {
    fn encode_raw(&self, buf: &mut impl BufMut) {
        self.0.encode_raw(buf)
    }

    fn merge_field(
        &mut self,
        tag: u32,
        wire_type: WireType,
        buf: &mut impl Buf,
        ctx: DecodeContext,
    ) -> Result<(), DecodeError> {
        if tag == ID && wire_type == WireType::LengthDelimited {
            if let Some((bytes, taken)) = whole_short_field(buf.chunk()) {
                // Checked once copied: the copy is aligned, which the
                // check's fast path wants, and the bytes in the buffer,
                // after a length, seldom are.
                if let Ok(id) = String::from_utf8(bytes.to_vec()) {
                    // As prost merges a string field: the last one wins.
                    self.0.id = id;
                    buf.advance(taken);
                    return Ok(());
                }
            }
        }
        self.0.merge_field(tag, wire_type, buf, ctx)
    }

    fn encoded_len(&self) -> usize {
        self.0.encoded_len()
    }

    fn clear(&mut self) {
        self.0.clear()
    }
}

/// The payload of a length-delimited field at the start of `chunk`, if its
/// length fits in one varint byte and all of it is in `chunk`: the payload
/// and the bytes it takes, length included. Anything else is left to
/// prost, which reads across chunks and reports errors.
fn whole_short_field(chunk: &[u8]) -> Option<(&[u8], usize)> {
    let (&len, rest) = chunk.split_first()?;
    if len >= 0x80 {
        return None;
    }
    let len = usize::from(len);
    Some((rest.get(..len)?, 1 + len))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use prost::encoding::{encode_key, encode_varint};

    const ID_TEXT: &str = "abcdefghijklmnopqrstuvwxyz012345";

    fn request(id: &str, keys: &[&str], no_touch: bool) -> Vec<u8> {
        pb::GetRequest {
            id: id.into(),
            keys: keys.iter().map(|k| k.to_string()).collect(),
            no_touch,
        }
        .encode_to_vec()
    }

    /// A field of raw bytes, as a peer that does not follow the contract
    /// might send it.
    fn field(tag: u32, wire_type: WireType, payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        encode_key(tag, wire_type, &mut out);
        if wire_type == WireType::LengthDelimited {
            encode_varint(payload.len() as u64, &mut out);
        }
        out.extend_from_slice(payload);
        out
    }

    /// Decodes `bytes` both ways and requires the same message or the same
    /// error.
    fn same_as_prost(bytes: &[u8]) {
        let ours = GetQuery::decode(bytes).map(|q| q.0);
        let prost = pb::GetRequest::decode(bytes);
        match (ours, prost) {
            (Ok(ours), Ok(prost)) => assert_eq!(ours, prost, "{bytes:?}"),
            (Err(ours), Err(prost)) => {
                assert_eq!(ours.to_string(), prost.to_string(), "{bytes:?}")
            }
            (ours, prost) => panic!("{bytes:?}: ours {ours:?}, prost's {prost:?}"),
        }
    }

    #[test]
    fn well_formed_requests_decode_as_prost_decodes_them() {
        let long = "é".repeat(100);
        for bytes in [
            request(ID_TEXT, &[], false),
            request(ID_TEXT, &["a", "cart"], true),
            request("", &[], false),
            request("short", &["k"], false),
            request(&long, &[], true),
            request("日本語 🎌", &[], false),
            Vec::new(),
        ] {
            same_as_prost(&bytes);
        }
    }

    #[test]
    fn the_last_id_wins_and_unknown_fields_are_skipped_as_prost_does() {
        let mut bytes = field(ID, WireType::LengthDelimited, b"first");
        bytes.extend(field(9, WireType::LengthDelimited, b"unknown"));
        bytes.extend(field(10, WireType::Varint, &[0x96, 0x01]));
        bytes.extend(request(ID_TEXT, &["k"], true));
        bytes.extend(field(ID, WireType::LengthDelimited, b"last"));
        same_as_prost(&bytes);
        assert_eq!(GetQuery::decode(&bytes[..]).unwrap().0.id, "last");
    }

    #[test]
    fn malformed_ids_fail_with_prosts_errors() {
        let mut truncated = field(ID, WireType::LengthDelimited, ID_TEXT.as_bytes());
        truncated.truncate(10);
        let mut overlong_length = field(ID, WireType::LengthDelimited, b"");
        overlong_length.pop();
        overlong_length.extend([0xff; 11]);
        for bytes in [
            field(ID, WireType::LengthDelimited, &[0xff, 0xfe, b'a']),
            field(ID, WireType::LengthDelimited, &[b'a', 0xc3]),
            field(ID, WireType::Varint, &[0x01]),
            field(ID, WireType::ThirtyTwoBit, &[1, 2, 3, 4]),
            truncated,
            overlong_length,
        ] {
            same_as_prost(&bytes);
            assert!(GetQuery::decode(&bytes[..]).is_err(), "{bytes:?}");
        }
    }

    #[test]
    fn an_id_split_across_chunks_decodes_as_prost_decodes_it() {
        let bytes = request(ID_TEXT, &["k"], false);
        for at in 0..bytes.len() {
            let (head, tail) = bytes.split_at(at);
            let decoded = GetQuery::decode(head.chain(tail)).unwrap();
            assert_eq!(decoded.0, pb::GetRequest::decode(&bytes[..]).unwrap());
        }
    }

    #[test]
    fn a_query_encodes_as_the_message_it_holds() {
        let message = pb::GetRequest {
            id: ID_TEXT.into(),
            keys: vec!["a".into()],
            no_touch: true,
        };
        let mut query = GetQuery(message.clone());
        assert_eq!(query.encode_to_vec(), message.encode_to_vec());
        assert_eq!(query.encoded_len(), message.encoded_len());
        query.clear();
        assert_eq!(query, GetQuery::default());
    }

    proptest! {
        #[test]
        fn any_bytes_decode_as_prost_decodes_them(bytes in prop::collection::vec(any::<u8>(), 0..80)) {
            same_as_prost(&bytes);
        }

        #[test]
        fn any_fields_decode_as_prost_decodes_them(
            fields in prop::collection::vec(
                (0u32..5, prop::sample::select(vec![
                    WireType::Varint,
                    WireType::LengthDelimited,
                    WireType::SixtyFourBit,
                    WireType::ThirtyTwoBit,
                ]), prop::collection::vec(any::<u8>(), 0..40)),
                0..6,
            )
        ) {
            let mut bytes = Vec::new();
            for (tag, wire_type, payload) in fields {
                bytes.extend(field(tag.max(1), wire_type, &payload));
            }
            same_as_prost(&bytes);
        }
    }
}
