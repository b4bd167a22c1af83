//! Session ids: what a client holds, and the digest the store keys by.

use std::fmt;
use std::hash::{Hash, Hasher};

use rand::Rng;
use sha2::{Digest as _, Sha256};

use super::{Namespace, SessionError};

/// Length of a session id in characters (Django's format).
pub const ID_LEN: usize = 32;

/// Fewest characters of a client-chosen id: 22 of a 64-letter alphabet
/// carry 132 bits, past the 128 the contract asks for (express-session's
/// default ids are 32).
pub const MIN_CHOSEN_ID_LEN: usize = 22;

/// Most characters of a client-chosen id: a bound on what a client makes
/// the server hash and journal, far past any generator's.
pub const MAX_CHOSEN_ID_LEN: usize = 256;

const ALPHABET: &[u8; 36] = b"abcdefghijklmnopqrstuvwxyz0123456789";

/// A well-formed session id: 32 characters of `[a-z0-9]` (~165 bits).
///
/// Only [`SessionId::generate`] makes new ones, from rand's OS-seeded
/// CSPRNG; [`SessionId::parse`] checks the shape of one a client sent back.
/// A parsed id that the server never issued is simply not found (strict
/// mode). `Debug` and `Display` never print the id itself, so it cannot leak
/// into a log by accident.
///
/// The digest is computed once, when the id is made or parsed: a request
/// names its session in its span and then looks it up, and SHA-256 per use
/// would be most of the store's own cost.
#[derive(Clone)]
pub struct SessionId {
    text: String,
    digest: Digest,
}

impl PartialEq for SessionId {
    fn eq(&self, other: &Self) -> bool {
        self.digest == other.digest && self.text == other.text
    }
}

impl Eq for SessionId {}

impl SessionId {
    /// A fresh id from the thread-local CSPRNG (ChaCha, seeded from the OS).
    pub fn generate() -> Self {
        let mut rng = rand::rng();
        let id = (0..ID_LEN)
            .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
            .collect();
        SessionId::new(id)
    }

    fn new(text: String) -> Self {
        let digest = Digest::of(Sha256::digest(text.as_bytes()).into());
        SessionId { text, digest }
    }

    /// Checks the shape of a client-supplied id.
    pub fn parse(raw: &str) -> Result<Self, SessionError> {
        if well_formed(raw) {
            Ok(SessionId::new(raw.to_owned()))
        } else {
            Err(SessionError::InvalidId)
        }
    }

    /// [`SessionId::parse`] of an id the caller owns, such as a decoded
    /// request's: keeps its text instead of copying it (a Get's hot path).
    pub fn parse_owned(raw: String) -> Result<Self, SessionError> {
        if well_formed(&raw) {
            Ok(SessionId::new(raw))
        } else {
            Err(SessionError::InvalidId)
        }
    }

    /// Checks the shape of an id a client chose, in a namespace that
    /// accepts them (`--client-id-namespaces`): 22 to 256 characters of
    /// `[A-Za-z0-9_-]`, which every server-issued id also has. Only the
    /// shape is checked: how random the id is stays the client's promise.
    pub fn parse_chosen(raw: String) -> Result<Self, SessionError> {
        if well_formed_chosen(&raw) {
            Ok(SessionId::new(raw))
        } else {
            Err(SessionError::InvalidChosenId)
        }
    }

    /// The id itself, for the one place it must leave: the client.
    pub fn expose(&self) -> &str {
        &self.text
    }

    /// The id itself, moved out, for the reply that carries it.
    pub fn into_exposed(self) -> String {
        self.text
    }

    /// The digest of the id alone: the store's key in the default namespace,
    /// and the short name logs follow a session by.
    pub fn digest(&self) -> Digest {
        self.digest
    }

    /// The digest the store keys this session by in `namespace`:
    /// `SHA-256(namespace || 0x00 || id)`, or `SHA-256(id)` in the default
    /// namespace (so data files from before namespaces stay valid), each
    /// cut to a [`Digest`]'s 128 bits. An id
    /// looked up in another namespace than its own therefore names nothing:
    /// no check to forget, no existence to leak. Namespace names never
    /// contain 0x00, so no two (namespace, id) pairs share an input.
    pub fn digest_in(&self, namespace: &Namespace) -> Digest {
        if namespace.is_default() {
            return self.digest();
        }
        let mut hash = Sha256::new();
        hash.update(namespace.as_str().as_bytes());
        hash.update([0u8]);
        hash.update(self.text.as_bytes());
        Digest::of(hash.finalize().into())
    }
}

/// Whether `raw` has the shape of an id the server issues. Every byte is
/// looked at, without an early exit, so that the loop is vectorized: every
/// Get parses an id, and the byte-at-a-time loop showed in its profile.
fn well_formed(raw: &str) -> bool {
    raw.len() == ID_LEN
        && raw.bytes().fold(true, |ok, b| {
            ok & (b.is_ascii_lowercase() | b.is_ascii_digit())
        })
}

/// Whether `raw` has the shape [`SessionId::parse_chosen`] accepts.
fn well_formed_chosen(raw: &str) -> bool {
    (MIN_CHOSEN_ID_LEN..=MAX_CHOSEN_ID_LEN).contains(&raw.len())
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionId({})", self.digest().short())
    }
}

/// The first 128 bits of the SHA-256 of a session id: how the store names a
/// session.
///
/// The map holds digests, not ids, so a memory dump or a snapshot does not
/// hold usable tokens. Digests of server-generated ids are uniformly
/// distributed, which is what lets [`DigestHasher`] skip real hashing.
///
/// 128 bits, not 256: finding an id with a given digest still takes 2^128
/// tries (a second preimage of truncated SHA-256), and a collision among
/// the sessions held matters less still, since a lookup needs the id. The
/// 16 bytes saved are 16 bytes of every session's memory (BENCHMARKS.md,
/// row 5).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Digest(pub [u8; 16]);

impl Digest {
    /// The digest of a full SHA-256 hash: its first 128 bits.
    pub fn of(sha256: [u8; 32]) -> Self {
        let mut digest = [0; 16];
        digest.copy_from_slice(&sha256[..16]);
        Digest(digest)
    }

    /// A short hex prefix: enough to follow one session through logs, far too
    /// little to find or forge its id. Formatted where it is written, so
    /// naming a session in a span allocates nothing.
    pub fn short(&self) -> ShortDigest {
        ShortDigest([self.0[0], self.0[1], self.0[2], self.0[3]])
    }
}

/// The first 4 bytes of a [`Digest`], displayed as 8 hex digits.
#[derive(Clone, Copy)]
pub struct ShortDigest([u8; 4]);

impl fmt::Display for ShortDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d] = self.0;
        write!(f, "{a:02x}{b:02x}{c:02x}{d:02x}")
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({})", self.short())
    }
}

impl Digest {
    /// The first 64 bits, as maps key sessions: unique among the sessions
    /// held (the store regenerates an id whose key is taken), and the rest
    /// of the digest is checked on lookup.
    pub fn key(&self) -> u64 {
        let mut word = [0u8; 8];
        word.copy_from_slice(&self.0[..8]);
        u64::from_le_bytes(word)
    }
}

impl Hash for Digest {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.key());
    }
}

/// A hasher that passes the digest's first 64 bits through.
///
/// Safe against hash flooding because only server-generated ids are ever
/// inserted: a client can look up any digest it likes, but cannot choose
/// where a stored session lands.
#[derive(Default, Clone, Copy)]
pub struct DigestHasher(u64);

impl Hasher for DigestHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only reached if something other than a Digest is hashed; fold the
        // bytes in so the hasher stays correct, if not fast.
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// `BuildHasher` for maps keyed by [`Digest`] or [`Digest::key`].
pub type BuildDigestHasher = std::hash::BuildHasherDefault<DigestHasher>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_have_the_django_shape_and_differ() {
        let a = SessionId::generate();
        let b = SessionId::generate();
        assert_eq!(a.expose().len(), ID_LEN);
        assert!(SessionId::parse(a.expose()).is_ok());
        assert_ne!(a, b);
    }

    #[test]
    fn malformed_ids_are_rejected() {
        for bad in [
            "",
            "short",
            "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345",
            "abcdefghijklmnopqrstuvwxyz01234-",
            "abcdefghijklmnopqrstuvwxyz0123456",
            "abcdefghijklmnopqrstuvwxyz01234é",
        ] {
            assert!(SessionId::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn an_owned_id_parses_as_a_borrowed_one_does() {
        let id = SessionId::generate();
        let owned = SessionId::parse_owned(id.expose().to_owned()).unwrap();
        assert_eq!(owned, id);
        assert_eq!(owned.digest(), id.digest());
        for bad in ["", "short", "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"] {
            assert!(SessionId::parse_owned(bad.to_owned()).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_chosen_id_needs_22_to_256_characters_of_the_url_safe_alphabet() {
        let express = "Xy_9-aBcDeFgHiJkLmNoPqRsTuVwXyZ0"; // 24 random bytes, base64url
        for good in [express, &"a".repeat(22), &"Z".repeat(256)] {
            let id = SessionId::parse_chosen(good.to_owned()).unwrap();
            assert_eq!(id.expose(), good);
        }
        let issued = SessionId::generate();
        assert_eq!(
            SessionId::parse_chosen(issued.expose().to_owned()).unwrap(),
            issued
        );
        for bad in [
            "",
            &"a".repeat(21),
            &"a".repeat(257),
            "abcdefghijklmnopqrstuv+",
            "abcdefghijklmnopqrstuv/",
            "abcdefghijklmnopqrstu.v",
            "abcdefghijklmnopqrstuvé",
            "abcdefghijklmnopqrstu v",
        ] {
            let refused = SessionId::parse_chosen(bad.to_owned()).unwrap_err();
            assert_eq!(refused, SessionError::InvalidChosenId, "{bad:?}");
        }
        assert!(SessionError::InvalidChosenId.to_string().contains("22"));
    }

    #[test]
    fn debug_output_never_contains_the_id() {
        let id = SessionId::generate();
        assert!(!format!("{id:?}").contains(id.expose()));
    }

    #[test]
    fn the_digest_depends_on_the_namespace_except_in_the_default_one() {
        let id = SessionId::generate();
        let shop = Namespace::parse("shop").unwrap();
        let blog = Namespace::parse("blog").unwrap();
        assert_eq!(id.digest_in(&Namespace::DEFAULT), id.digest());
        assert_ne!(id.digest_in(&shop), id.digest());
        assert_ne!(id.digest_in(&shop), id.digest_in(&blog));
        assert_eq!(id.digest_in(&shop), id.digest_in(&shop.clone()));
    }

    #[test]
    fn the_short_digest_is_8_hex_digits_of_the_digest() {
        let id = SessionId::parse("abcdefghijklmnopqrstuvwxyz012345").unwrap();
        let short = id.digest().short().to_string();
        let full: String = id.digest().0.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(short.len(), 8);
        assert!(full.starts_with(&short));
    }

    #[test]
    fn every_alphabet_character_appears() {
        let mut seen = [false; 36];
        for _ in 0..200 {
            for b in SessionId::generate().expose().bytes() {
                let i = ALPHABET.iter().position(|&c| c == b).unwrap();
                seen[i] = true;
            }
        }
        assert!(seen.iter().all(|&s| s));
    }
}
