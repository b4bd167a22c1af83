//! The reply to one request of a Pipeline stream, as the server sends it:
//! the wire bytes of `sessiond.v1.PipelineResponse`, with a Get's answer
//! written by [`GetReply`] straight from the stored session, as the unary
//! Get writes it. The server's generated code sends this type where the
//! contract says `PipelineResponse` (build.rs); clients and tests decode
//! the generated [`pb::PipelineResponse`].

use bytes::{Buf, BufMut};
use prost::encoding::{encode_key, encode_varint, encoded_len_varint, key_len, message};
use prost::encoding::{DecodeContext, WireType};
use prost::{DecodeError, Message};
use tonic::Status;

use super::get_reply::GetReply;
use super::pb;
use super::pb::pipeline_response::Result as Outcome;

/// `PipelineResponse`'s field numbers (proto/sessiond/v1/sessiond.proto).
const TAG: u32 = 1;
const GET: u32 = 2;
const SET: u32 = 3;
const TOUCH: u32 = 4;
const FLUSH: u32 = 5;
const ERROR: u32 = 6;

/// `sessiond.v1.PipelineResponse`, as the server sends it.
#[derive(Default)]
pub struct PipelineReply {
    /// The tag of the request answered.
    pub tag: u64,
    pub body: Body,
}

/// The `result` oneof.
#[derive(Default)]
pub enum Body {
    /// Unset: only in a reply decoded from bytes that carry none.
    #[default]
    Empty,
    Get(GetReply),
    Set(pb::SetResponse),
    Touch(pb::TouchResponse),
    Flush(pb::FlushResponse),
    Error(pb::PipelineError),
}

impl PipelineReply {
    /// The answer to the request tagged `tag`: `body`, or the status the
    /// unary call would have failed with.
    pub fn of(tag: u64, answer: Result<Body, Status>) -> Self {
        let body = answer.unwrap_or_else(|status| {
            Body::Error(pb::PipelineError {
                code: status.code() as i32,
                message: status.message().to_owned(),
            })
        });
        PipelineReply { tag, body }
    }
}

impl From<pb::PipelineResponse> for PipelineReply {
    fn from(m: pb::PipelineResponse) -> Self {
        let body = match m.result {
            None => Body::Empty,
            Some(Outcome::Get(r)) => Body::Get(GetReply::Decoded(Box::new(r))),
            Some(Outcome::Set(r)) => Body::Set(r),
            Some(Outcome::Touch(r)) => Body::Touch(r),
            Some(Outcome::Flush(r)) => Body::Flush(r),
            Some(Outcome::Error(r)) => Body::Error(r),
        };
        PipelineReply { tag: m.tag, body }
    }
}

impl Message for PipelineReply {
    fn encode_raw(&self, buf: &mut impl BufMut) {
        if self.tag != 0 {
            encode_key(TAG, WireType::Varint, buf);
            encode_varint(self.tag, buf);
        }
        match &self.body {
            Body::Empty => {}
            Body::Get(reply) => {
                encode_key(GET, WireType::LengthDelimited, buf);
                encode_varint(reply.encoded_len() as u64, buf);
                reply.encode_raw(buf);
            }
            Body::Set(m) => message::encode(SET, m, buf),
            Body::Touch(m) => message::encode(TOUCH, m, buf),
            Body::Flush(m) => message::encode(FLUSH, m, buf),
            Body::Error(m) => message::encode(ERROR, m, buf),
        }
    }

    fn encoded_len(&self) -> usize {
        let tag = match self.tag {
            0 => 0,
            t => key_len(TAG) + encoded_len_varint(t),
        };
        tag + match &self.body {
            Body::Empty => 0,
            Body::Get(reply) => {
                let len = reply.encoded_len();
                key_len(GET) + encoded_len_varint(len as u64) + len
            }
            Body::Set(m) => message::encoded_len(SET, m),
            Body::Touch(m) => message::encoded_len(TOUCH, m),
            Body::Flush(m) => message::encoded_len(FLUSH, m),
            Body::Error(m) => message::encoded_len(ERROR, m),
        }
    }

    /// Decoding goes through the generated message: the server never
    /// decodes a reply, so this is for completeness and tests.
    fn merge_field(
        &mut self,
        tag: u32,
        wire_type: WireType,
        buf: &mut impl Buf,
        ctx: DecodeContext,
    ) -> Result<(), DecodeError> {
        let mut own = pb::PipelineResponse::decode(&self.encode_to_vec()[..])?;
        own.merge_field(tag, wire_type, buf, ctx)?;
        *self = PipelineReply::from(own);
        Ok(())
    }

    fn clear(&mut self) {
        *self = PipelineReply::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Clock;
    use crate::session::{Limits, Namespace, Timeouts};
    use crate::storage::memory::Memory;

    fn stored_get() -> (GetReply, pb::GetResponse) {
        let store = Memory::new(
            Limits::default(),
            Timeouts::default(),
            Clock::manual(1_700_000_000_123),
        );
        let data = [("user".to_string(), "\"yuan\"".to_string())].into();
        let id = store.create(&Namespace::DEFAULT, data, None).unwrap().id;
        let read = store.read(&Namespace::DEFAULT, &id, vec![], false).unwrap();
        let (info, data) = store.get(&Namespace::DEFAULT, &id, &[], false).unwrap();
        let generated = pb::GetResponse {
            session: Some(info.into()),
            data,
        };
        (GetReply::new(read), generated)
    }

    #[test]
    fn every_reply_is_the_bytes_prost_writes_for_the_generated_message() {
        let (get, generated_get) = stored_get();
        let set = pb::SetResponse {
            session: generated_get.session.clone(),
        };
        let error = pb::PipelineError {
            code: tonic::Code::NotFound as i32,
            message: "no such session".into(),
        };
        let cases = [
            (
                PipelineReply {
                    tag: 7,
                    body: Body::Get(get),
                },
                Some(Outcome::Get(generated_get)),
            ),
            (
                PipelineReply {
                    tag: u64::MAX,
                    body: Body::Set(set.clone()),
                },
                Some(Outcome::Set(set)),
            ),
            (
                PipelineReply {
                    tag: 0,
                    body: Body::Flush(pb::FlushResponse { existed: false }),
                },
                Some(Outcome::Flush(pb::FlushResponse { existed: false })),
            ),
            (
                PipelineReply {
                    tag: 300,
                    body: Body::Error(error.clone()),
                },
                Some(Outcome::Error(error)),
            ),
            (
                PipelineReply {
                    tag: 1,
                    body: Body::Empty,
                },
                None,
            ),
        ];
        for (reply, result) in cases {
            let expected = pb::PipelineResponse {
                tag: reply.tag,
                result,
            };
            let bytes = reply.encode_to_vec();
            assert_eq!(bytes.len(), reply.encoded_len());
            assert_eq!(bytes, expected.encode_to_vec(), "{expected:?}");
        }
    }

    #[test]
    fn a_reply_decoded_from_bytes_holds_the_message_they_encode() {
        let (get, generated_get) = stored_get();
        let bytes = PipelineReply {
            tag: 9,
            body: Body::Get(get),
        }
        .encode_to_vec();
        let decoded = PipelineReply::decode(&bytes[..]).unwrap();
        assert_eq!(decoded.tag, 9);
        let again = pb::PipelineResponse::decode(&decoded.encode_to_vec()[..]).unwrap();
        assert_eq!(again.result, Some(Outcome::Get(generated_get)));
    }

    #[test]
    fn a_failed_request_carries_its_status_code_and_message() {
        let reply = PipelineReply::of(3, Err(Status::aborted("the version moved")));
        match reply.body {
            Body::Error(e) => {
                assert_eq!(e.code, tonic::Code::Aborted as i32);
                assert_eq!(e.message, "the version moved");
            }
            _ => panic!("not an error reply"),
        }
    }
}
