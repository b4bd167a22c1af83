//! The on-disk encoding shared by the journal and snapshots.
//!
//! Both files are sequences of frames: `len: u32 | crc32(len): u32 |
//! crc32(payload): u32 | payload`. The length has its own checksum so that a
//! damaged length is reported as damage rather than mistaken for a torn
//! tail (which is cut). A payload starts with a kind byte. Integers are little-endian,
//! strings are `len: u32 | UTF-8 bytes`. Sessions are named by their id's
//! digest, so no file ever holds a usable session token.

use std::collections::HashMap;

use crate::clock::Millis;
use crate::session::{Binding, Digest, UserId};
pub use crate::storage::memory::{BindingRef, State, StateRef};

/// Bytes before a frame's payload.
pub const FRAME_HEADER: usize = 12;
/// A frame longer than this is corrupt: no session can be near it.
pub const MAX_FRAME: usize = 256 << 20;
/// The largest session version a record may carry: the memory store's
/// entries hold 48 bits of it (`storage::memory::entry`).
pub const MAX_VERSION: u64 = (1 << 48) - 1;

const MAGIC: &[u8; 8] = b"SESSIOND";
/// 4: sessions may be bound to a user (`PUT_BOUND`, `ROTATE_BOUND`,
/// `BIND`); a file without bindings is read the same as format 3.
/// 3: digests are 16 bytes (the first 128 bits of the SHA-256), not 32.
/// 2: sessions carry their namespace (`PUT_IN`, `ROTATE_IN`).
///
/// Older files are still read: their 32-byte digests are cut to 16, and the
/// sessions of format 1 are in the default namespace. An older sessiond
/// refuses a newer file instead of misreading it. A file is written in one
/// format, named by its header, since every start begins a new journal file.
const FORMAT: u32 = 4;
/// The oldest format still read.
const OLDEST_FORMAT: u32 = 1;
/// The last format with 32-byte digests.
const LONG_DIGESTS: u32 = 2;

mod kind {
    pub const LOG_HEADER: u8 = 1;
    pub const PUT: u8 = 2;
    pub const UPDATE: u8 = 3;
    pub const DEADLINE: u8 = 4;
    pub const DELETE: u8 = 5;
    pub const ROTATE: u8 = 6;
    pub const PUT_IN: u8 = 7;
    pub const ROTATE_IN: u8 = 8;
    pub const PUT_BOUND: u8 = 12;
    pub const ROTATE_BOUND: u8 = 13;
    pub const BIND: u8 = 14;
    pub const SNAPSHOT_HEADER: u8 = 10;
    pub const SNAPSHOT_END: u8 = 11;
}

/// One decoded frame. `lsn` orders the changes of one session: replay skips
/// a change the state already includes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    LogHeader {
        seq: u64,
    },
    Put {
        lsn: u64,
        digest: Digest,
        state: State,
    },
    Update {
        lsn: u64,
        digest: Digest,
        version: u64,
        idle_deadline_ms: Millis,
        upsert: Vec<(String, String)>,
        remove: Vec<String>,
    },
    Deadline {
        lsn: u64,
        digest: Digest,
        idle_ms: u64,
        idle_deadline_ms: Millis,
    },
    Delete {
        lsn: u64,
        digest: Digest,
    },
    Rotate {
        lsn: u64,
        old: Digest,
        new: Digest,
        state: State,
    },
    Bind {
        lsn: u64,
        digest: Digest,
        user: Option<Binding>,
    },
    SnapshotHeader {
        log_seq: u64,
        written_ms: Millis,
    },
    SnapshotEnd {
        count: u64,
    },
}

/// Appends a whole frame to `out`: reserves the header, lets `payload`
/// write, then fills in length and checksum.
pub fn frame(out: &mut Vec<u8>, payload: impl FnOnce(&mut Vec<u8>)) {
    let start = out.len();
    out.extend_from_slice(&[0; FRAME_HEADER]);
    payload(out);
    let body = &out[start + FRAME_HEADER..];
    let crc = crc32fast::hash(body);
    let len = (body.len() as u32).to_le_bytes();
    out[start..start + 4].copy_from_slice(&len);
    out[start + 4..start + 8].copy_from_slice(&crc32fast::hash(&len).to_le_bytes());
    out[start + 8..start + 12].copy_from_slice(&crc.to_le_bytes());
}

fn u32_(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn u64_(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn str_(out: &mut Vec<u8>, s: &str) {
    u32_(out, s.len() as u32);
    out.extend_from_slice(s.as_bytes());
}

fn state_(out: &mut Vec<u8>, s: &StateRef<'_>) {
    str_(out, s.namespace);
    u64_(out, s.version);
    u64_(out, s.created_ms);
    u64_(out, s.idle_ms);
    u64_(out, s.absolute_deadline_ms);
    u64_(out, s.idle_deadline_ms);
    u32_(out, s.data.len() as u32);
    for (k, v) in s.data.iter() {
        str_(out, k);
        str_(out, v);
    }
    if let Some(b) = s.user {
        binding_(out, b);
    }
}

fn binding_(out: &mut Vec<u8>, b: BindingRef<'_>) {
    str_(out, b.user);
    str_(out, b.user_agent);
    str_(out, b.ip);
}

pub fn log_header(out: &mut Vec<u8>, seq: u64) {
    out.push(kind::LOG_HEADER);
    out.extend_from_slice(MAGIC);
    u32_(out, FORMAT);
    u64_(out, seq);
}

pub fn put(out: &mut Vec<u8>, lsn: u64, digest: &Digest, state: &StateRef<'_>) {
    out.push(match state.user {
        Some(_) => kind::PUT_BOUND,
        None => kind::PUT_IN,
    });
    u64_(out, lsn);
    out.extend_from_slice(&digest.0);
    state_(out, state);
}

pub fn update<'a>(
    out: &mut Vec<u8>,
    lsn: u64,
    digest: &Digest,
    version: u64,
    idle_deadline_ms: Millis,
    upsert: impl ExactSizeIterator<Item = (&'a String, &'a String)>,
    remove: &[String],
) {
    out.push(kind::UPDATE);
    u64_(out, lsn);
    out.extend_from_slice(&digest.0);
    u64_(out, version);
    u64_(out, idle_deadline_ms);
    u32_(out, upsert.len() as u32);
    for (k, v) in upsert {
        str_(out, k);
        str_(out, v);
    }
    u32_(out, remove.len() as u32);
    for k in remove {
        str_(out, k);
    }
}

pub fn deadline(
    out: &mut Vec<u8>,
    lsn: u64,
    digest: &Digest,
    idle_ms: u64,
    idle_deadline_ms: Millis,
) {
    out.push(kind::DEADLINE);
    u64_(out, lsn);
    out.extend_from_slice(&digest.0);
    u64_(out, idle_ms);
    u64_(out, idle_deadline_ms);
}

pub fn delete(out: &mut Vec<u8>, lsn: u64, digest: &Digest) {
    out.push(kind::DELETE);
    u64_(out, lsn);
    out.extend_from_slice(&digest.0);
}

pub fn bind(out: &mut Vec<u8>, lsn: u64, digest: &Digest, user: Option<BindingRef<'_>>) {
    out.push(kind::BIND);
    u64_(out, lsn);
    out.extend_from_slice(&digest.0);
    match user {
        Some(b) => {
            out.push(1);
            binding_(out, b);
        }
        None => out.push(0),
    }
}

pub fn rotate(out: &mut Vec<u8>, lsn: u64, old: &Digest, new: &Digest, state: &StateRef<'_>) {
    out.push(match state.user {
        Some(_) => kind::ROTATE_BOUND,
        None => kind::ROTATE_IN,
    });
    u64_(out, lsn);
    out.extend_from_slice(&old.0);
    out.extend_from_slice(&new.0);
    state_(out, state);
}

pub fn snapshot_header(out: &mut Vec<u8>, log_seq: u64, written_ms: Millis) {
    out.push(kind::SNAPSHOT_HEADER);
    out.extend_from_slice(MAGIC);
    u32_(out, FORMAT);
    u64_(out, log_seq);
    u64_(out, written_ms);
}

pub fn snapshot_end(out: &mut Vec<u8>, count: u64) {
    out.push(kind::SNAPSHOT_END);
    u64_(out, count);
}

/// Why a payload could not be decoded.
pub type DecodeError = &'static str;

/// Decodes the payloads of one file, in order: its header names the format
/// the records after it are in.
#[derive(Debug, Clone, Copy)]
pub struct Decoder {
    format: u32,
}

impl Default for Decoder {
    /// A decoder for this sessiond's own format, until a header says
    /// otherwise.
    fn default() -> Self {
        Decoder { format: FORMAT }
    }
}

impl Decoder {
    /// Decodes one payload (checksum already verified).
    pub fn decode(&mut self, payload: &[u8]) -> Result<Record, DecodeError> {
        let mut r = Reader {
            bytes: payload,
            format: self.format,
        };
        let record = r.record()?;
        if !r.bytes.is_empty() {
            return Err("trailing bytes after the record");
        }
        self.format = r.format;
        Ok(record)
    }
}

/// Decodes one payload of this sessiond's own format.
pub fn decode(payload: &[u8]) -> Result<Record, DecodeError> {
    Decoder::default().decode(payload)
}

impl Reader<'_> {
    fn record(&mut self) -> Result<Record, DecodeError> {
        let r = self;
        let kind = r.u8()?;
        Ok(match kind {
            kind::LOG_HEADER => {
                r.magic()?;
                Record::LogHeader { seq: r.u64()? }
            }
            kind::PUT | kind::PUT_IN | kind::PUT_BOUND => Record::Put {
                lsn: r.u64()?,
                digest: r.digest()?,
                state: r.state(kind != kind::PUT, kind == kind::PUT_BOUND)?,
            },
            kind::UPDATE => {
                let (lsn, digest, version, idle_deadline_ms) =
                    (r.u64()?, r.digest()?, r.version()?, r.u64()?);
                let n = r.count()?;
                let upsert = (0..n)
                    .map(|_| Ok::<_, DecodeError>((r.string()?, r.string()?)))
                    .collect::<Result<_, _>>()?;
                let n = r.count()?;
                let remove = (0..n).map(|_| r.string()).collect::<Result<_, _>>()?;
                Record::Update {
                    lsn,
                    digest,
                    version,
                    idle_deadline_ms,
                    upsert,
                    remove,
                }
            }
            kind::DEADLINE => Record::Deadline {
                lsn: r.u64()?,
                digest: r.digest()?,
                idle_ms: r.u64()?,
                idle_deadline_ms: r.u64()?,
            },
            kind::DELETE => Record::Delete {
                lsn: r.u64()?,
                digest: r.digest()?,
            },
            kind::ROTATE | kind::ROTATE_IN | kind::ROTATE_BOUND => Record::Rotate {
                lsn: r.u64()?,
                old: r.digest()?,
                new: r.digest()?,
                state: r.state(kind != kind::ROTATE, kind == kind::ROTATE_BOUND)?,
            },
            kind::BIND => Record::Bind {
                lsn: r.u64()?,
                digest: r.digest()?,
                user: match r.u8()? {
                    0 => None,
                    1 => Some(r.binding()?),
                    _ => return Err("bad binding flag"),
                },
            },
            kind::SNAPSHOT_HEADER => {
                r.magic()?;
                Record::SnapshotHeader {
                    log_seq: r.u64()?,
                    written_ms: r.u64()?,
                }
            }
            kind::SNAPSHOT_END => Record::SnapshotEnd { count: r.u64()? },
            _ => return Err("unknown record kind"),
        })
    }
}

/// A payload being decoded, in the format of the file it came from.
struct Reader<'a> {
    bytes: &'a [u8],
    format: u32,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], DecodeError> {
        if self.bytes.len() < n {
            return Err("record ends early");
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }
    fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }
    fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }
    fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_le_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }
    /// A session version: the memory store keeps 48 bits of it, so a larger
    /// one (which sessiond never writes) is damage, not something to store
    /// truncated (found by the `journal_recover` fuzz target).
    fn version(&mut self) -> Result<u64, DecodeError> {
        let version = self.u64()?;
        if version > MAX_VERSION {
            return Err("session version out of range");
        }
        Ok(version)
    }
    /// A count of items, each at least 4 bytes long: bounded by what is left,
    /// so a damaged count cannot make us allocate wildly.
    fn count(&mut self) -> Result<usize, DecodeError> {
        let n = self.u32()? as usize;
        if n > self.bytes.len() / 4 {
            return Err("item count exceeds the record");
        }
        Ok(n)
    }
    fn string(&mut self) -> Result<String, DecodeError> {
        let n = self.u32()? as usize;
        String::from_utf8(self.take(n)?.to_vec()).map_err(|_| "string is not UTF-8")
    }
    fn digest(&mut self) -> Result<Digest, DecodeError> {
        if self.format <= LONG_DIGESTS {
            return Ok(Digest::of(self.take(32)?.try_into().expect("32 bytes")));
        }
        Ok(Digest(self.take(16)?.try_into().expect("16 bytes")))
    }
    /// The magic and format of a file header; the format holds for the
    /// rest of the file.
    fn magic(&mut self) -> Result<(), DecodeError> {
        if self.take(8)? != MAGIC {
            return Err("not a sessiond file");
        }
        let format = self.u32()?;
        if !(OLDEST_FORMAT..=FORMAT).contains(&format) {
            return Err("unsupported format version");
        }
        self.format = format;
        Ok(())
    }
    /// A user binding, checked as the domain checks one: a record sessiond
    /// wrote always passes.
    fn binding(&mut self) -> Result<Binding, DecodeError> {
        let user = UserId::parse_owned(self.string()?).map_err(|_| "bad user id")?;
        let (user_agent, ip) = (self.string()?, self.string()?);
        Binding::new(user, user_agent, ip).map_err(|_| "bad binding")
    }
    /// A session's state; `named` when the record carries its namespace
    /// (format 2), else it is in the default namespace; `bound` when a
    /// user binding follows the data (format 4).
    fn state(&mut self, named: bool, bound: bool) -> Result<State, DecodeError> {
        let namespace = if named { self.string()? } else { String::new() };
        let (version, created_ms, idle_ms, absolute_deadline_ms, idle_deadline_ms) = (
            self.version()?,
            self.u64()?,
            self.u64()?,
            self.u64()?,
            self.u64()?,
        );
        let n = self.count()?;
        let mut data = HashMap::with_capacity(n);
        for _ in 0..n {
            data.insert(self.string()?, self.string()?);
        }
        let user = if bound { Some(self.binding()?) } else { None };
        Ok(State {
            namespace,
            data,
            version,
            created_ms,
            idle_ms,
            absolute_deadline_ms,
            idle_deadline_ms,
            user,
        })
    }
}

/// What reading the next frame of a file found.
#[derive(Debug, PartialEq, Eq)]
pub enum Next {
    /// A whole frame with a good checksum; its payload is in the buffer.
    Frame,
    /// Clean end of the file.
    End,
    /// The file ends inside a frame, or in zeros a crash left behind: a torn
    /// tail, to be cut.
    Torn,
    /// A frame whose checksum or length is wrong: damage.
    Corrupt(&'static str),
}

/// Reads the next frame from `r`, which has `remaining` bytes left, into
/// `payload`. Returns how many bytes it consumed with what it found; on
/// `Torn` and `Corrupt` the reader is left somewhere inside the bad frame.
pub fn read_frame<R: std::io::Read>(
    r: &mut R,
    remaining: u64,
    payload: &mut Vec<u8>,
) -> std::io::Result<(Next, u64)> {
    if remaining == 0 {
        return Ok((Next::End, 0));
    }
    if remaining < FRAME_HEADER as u64 {
        return Ok((Next::Torn, 0));
    }
    let mut header = [0u8; FRAME_HEADER];
    r.read_exact(&mut header)?;
    let word = |i: usize| u32::from_le_bytes(header[i..i + 4].try_into().expect("4 bytes"));
    let (len, len_crc, crc) = (word(0) as usize, word(4), word(8));
    if len == 0 && len_crc == 0 {
        // Zeros to the end are a crash's preallocated tail; anything else
        // after a zero length is damage.
        let mut rest = Vec::new();
        std::io::Read::read_to_end(
            &mut std::io::Read::take(&mut *r, remaining - FRAME_HEADER as u64),
            &mut rest,
        )?;
        let zeros = header.iter().chain(&rest).all(|&b| b == 0);
        return Ok((
            if zeros {
                Next::Torn
            } else {
                Next::Corrupt("zero frame length")
            },
            0,
        ));
    }
    if crc32fast::hash(&header[..4]) != len_crc {
        return Ok((Next::Corrupt("frame length checksum mismatch"), 0));
    }
    if len == 0 || len > MAX_FRAME {
        return Ok((Next::Corrupt("impossible frame length"), 0));
    }
    if (FRAME_HEADER + len) as u64 > remaining {
        return Ok((Next::Torn, 0));
    }
    payload.clear();
    payload.resize(len, 0);
    r.read_exact(payload)?;
    if crc32fast::hash(payload) != crc {
        return Ok((Next::Corrupt("checksum mismatch"), 0));
    }
    Ok((Next::Frame, (FRAME_HEADER + len) as u64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::FieldsBuf;

    fn state() -> State {
        State {
            namespace: "shop".into(),
            data: [("user".to_string(), "\"yuan\"".to_string())].into(),
            version: 3,
            created_ms: 10,
            idle_ms: 20,
            absolute_deadline_ms: u64::MAX,
            idle_deadline_ms: 30,
            user: None,
        }
    }

    fn state_ref<'a>(s: &'a State, fields: &'a FieldsBuf) -> StateRef<'a> {
        StateRef {
            namespace: &s.namespace,
            data: fields.fields(),
            version: s.version,
            created_ms: s.created_ms,
            idle_ms: s.idle_ms,
            absolute_deadline_ms: s.absolute_deadline_ms,
            idle_deadline_ms: s.idle_deadline_ms,
            user: s.user.as_ref().map(BindingRef::of),
        }
    }

    fn next_frame(bytes: &[u8]) -> (Next, Vec<u8>) {
        let mut payload = Vec::new();
        let (next, _) = read_frame(
            &mut std::io::Cursor::new(bytes),
            bytes.len() as u64,
            &mut payload,
        )
        .unwrap();
        (next, payload)
    }

    fn roundtrip(write: impl FnOnce(&mut Vec<u8>)) -> Record {
        let mut out = Vec::new();
        frame(&mut out, write);
        match next_frame(&out) {
            (Next::Frame, p) => decode(&p).unwrap(),
            (other, _) => panic!("{other:?}"),
        }
    }

    #[test]
    fn every_record_kind_round_trips() {
        let d = Digest([7; 16]);
        let s = state();
        assert_eq!(
            roundtrip(|o| log_header(o, 9)),
            Record::LogHeader { seq: 9 }
        );
        assert_eq!(
            roundtrip(|o| put(o, 5, &d, &state_ref(&s, &FieldsBuf::from_map(&s.data)))),
            Record::Put {
                lsn: 5,
                digest: d,
                state: s.clone()
            }
        );
        let upsert: HashMap<String, String> = [("a".to_string(), "1".to_string())].into();
        assert_eq!(
            roundtrip(|o| update(o, 6, &d, 4, 99, upsert.iter(), &["b".to_string()])),
            Record::Update {
                lsn: 6,
                digest: d,
                version: 4,
                idle_deadline_ms: 99,
                upsert: vec![("a".into(), "1".into())],
                remove: vec!["b".into()],
            }
        );
        assert_eq!(
            roundtrip(|o| deadline(o, 7, &d, 1000, 2000)),
            Record::Deadline {
                lsn: 7,
                digest: d,
                idle_ms: 1000,
                idle_deadline_ms: 2000
            }
        );
        assert_eq!(
            roundtrip(|o| delete(o, 8, &d)),
            Record::Delete { lsn: 8, digest: d }
        );
        let n = Digest([9; 16]);
        assert_eq!(
            roundtrip(|o| rotate(o, 9, &d, &n, &state_ref(&s, &FieldsBuf::from_map(&s.data)))),
            Record::Rotate {
                lsn: 9,
                old: d,
                new: n,
                state: s.clone()
            }
        );
        assert_eq!(
            roundtrip(|o| snapshot_header(o, 3, 4)),
            Record::SnapshotHeader {
                log_seq: 3,
                written_ms: 4
            }
        );
        assert_eq!(
            roundtrip(|o| snapshot_end(o, 12)),
            Record::SnapshotEnd { count: 12 }
        );
    }

    #[test]
    fn a_binding_round_trips_in_puts_rotates_and_binds() {
        let d = Digest([7; 16]);
        let n = Digest([9; 16]);
        let user = UserId::parse("alice").unwrap();
        let binding = Binding::new(user, "curl/8".into(), "10.0.0.1".into()).unwrap();
        let s = State {
            user: Some(binding.clone()),
            ..state()
        };
        let fields = FieldsBuf::from_map(&s.data);
        assert_eq!(
            roundtrip(|o| put(o, 5, &d, &state_ref(&s, &fields))),
            Record::Put {
                lsn: 5,
                digest: d,
                state: s.clone()
            }
        );
        assert_eq!(
            roundtrip(|o| rotate(o, 6, &d, &n, &state_ref(&s, &fields))),
            Record::Rotate {
                lsn: 6,
                old: d,
                new: n,
                state: s.clone()
            }
        );
        for user in [Some(binding), None] {
            assert_eq!(
                roundtrip(|o| bind(o, 7, &d, user.as_ref().map(BindingRef::of))),
                Record::Bind {
                    lsn: 7,
                    digest: d,
                    user
                }
            );
        }
        let mut bad = Vec::new();
        bind(&mut bad, 8, &d, None);
        *bad.last_mut().unwrap() = 2;
        assert_eq!(decode(&bad), Err("bad binding flag"));
    }

    /// Found by the `journal_recover` fuzz target (RELIABILITY.md): such a
    /// record, checksums and all, tripped the memory store's debug assertion
    /// at start-up, and a release build stored the version truncated.
    #[test]
    fn a_version_beyond_48_bits_is_damage() {
        let d = Digest([7; 16]);
        let mut s = state();
        let payload = |write: &dyn Fn(&mut Vec<u8>)| {
            let mut out = Vec::new();
            write(&mut out);
            out
        };
        for version in [MAX_VERSION + 1, u64::MAX] {
            s.version = version;
            let fields = FieldsBuf::from_map(&s.data);
            let put_record = payload(&|o| put(o, 5, &d, &state_ref(&s, &fields)));
            assert_eq!(decode(&put_record), Err("session version out of range"));
            let no_upsert: HashMap<String, String> = HashMap::new();
            let update_record = payload(&|o| update(o, 6, &d, version, 99, no_upsert.iter(), &[]));
            assert_eq!(decode(&update_record), Err("session version out of range"));
        }
        s.version = MAX_VERSION;
        let fields = FieldsBuf::from_map(&s.data);
        assert!(decode(&payload(&|o| put(o, 5, &d, &state_ref(&s, &fields)))).is_ok());
    }

    #[test]
    fn a_cut_frame_is_torn_and_a_flipped_byte_is_corrupt() {
        let mut out = Vec::new();
        frame(&mut out, |o| delete(o, 1, &Digest([1; 16])));
        for cut in 1..out.len() {
            assert_eq!(next_frame(&out[..cut]).0, Next::Torn, "cut at {cut}");
        }
        for i in 0..out.len() {
            let mut bad = out.clone();
            bad[i] ^= 0x40;
            assert!(
                matches!(next_frame(&bad).0, Next::Corrupt(_)),
                "flip at {i}"
            );
        }
        assert_eq!(
            next_frame(&[0; 64]).0,
            Next::Torn,
            "zeros a crash left behind"
        );
        let mut zero_then_data = vec![0u8; 20];
        zero_then_data[16] = 1;
        assert!(matches!(next_frame(&zero_then_data).0, Next::Corrupt(_)));
    }

    fn header_of_format(format: u32) -> Vec<u8> {
        let mut header = vec![kind::LOG_HEADER];
        header.extend_from_slice(MAGIC);
        header.extend_from_slice(&format.to_le_bytes());
        header.extend_from_slice(&4u64.to_le_bytes());
        header
    }

    #[test]
    fn format_1_files_are_still_read_in_the_default_namespace() {
        let mut file = Decoder::default();
        assert_eq!(
            file.decode(&header_of_format(1)),
            Ok(Record::LogHeader { seq: 4 })
        );

        // A format-1 PUT: the state has no namespace, the digest 32 bytes.
        let mut old = vec![kind::PUT];
        old.extend_from_slice(&5u64.to_le_bytes());
        let long: [u8; 32] = std::array::from_fn(|i| i as u8);
        old.extend_from_slice(&long);
        for v in [3u64, 10, 20, u64::MAX, 30] {
            old.extend_from_slice(&v.to_le_bytes());
        }
        old.extend_from_slice(&0u32.to_le_bytes());
        let Ok(Record::Put { state, digest, .. }) = file.decode(&old) else {
            panic!("format-1 PUT not decoded");
        };
        assert_eq!(state.namespace, "");
        assert_eq!(state.version, 3);
        assert_eq!(digest, Digest::of(long), "cut to its first 128 bits");
        assert!(
            decode(&old).is_err(),
            "read as the current format, the long digest does not fit"
        );

        assert_eq!(
            decode(&header_of_format(FORMAT + 1)),
            Err("unsupported format version")
        );
    }

    #[test]
    fn format_2_digests_are_cut_to_128_bits_and_format_3_ones_kept() {
        let long: [u8; 32] = std::array::from_fn(|i| 100 + i as u8);
        let mut delete = vec![kind::DELETE];
        delete.extend_from_slice(&8u64.to_le_bytes());
        delete.extend_from_slice(&long);
        let mut file = Decoder::default();
        file.decode(&header_of_format(2)).unwrap();
        assert_eq!(
            file.decode(&delete),
            Ok(Record::Delete {
                lsn: 8,
                digest: Digest::of(long)
            })
        );

        let mut file = Decoder::default();
        file.decode(&header_of_format(3)).unwrap();
        let mut out = Vec::new();
        super::delete(&mut out, 8, &Digest::of(long));
        assert_eq!(out.len(), 1 + 8 + 16, "a 16-byte digest is written");
        assert_eq!(
            file.decode(&out),
            Ok(Record::Delete {
                lsn: 8,
                digest: Digest::of(long)
            })
        );
    }

    #[test]
    fn damaged_counts_do_not_allocate_or_panic() {
        let mut payload = vec![kind::UPDATE];
        payload.extend_from_slice(&[0; 8 + 16 + 8 + 8]);
        payload.extend_from_slice(&u32::MAX.to_le_bytes());
        assert!(decode(&payload).is_err());
        assert!(decode(&[]).is_err());
        assert!(decode(&[200]).is_err());
    }
}
