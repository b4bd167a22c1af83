//! A session's user: the binding that lets one user's sessions be listed
//! and revoked ("log out everywhere"), and the public [`Handle`] a listing
//! names a session by, which is never a credential.

use std::fmt;
use std::net::IpAddr;

use super::{Digest, SessionError};
use crate::clock::Millis;

/// Longest user id in bytes.
pub const MAX_USER_ID_BYTES: usize = 256;
/// Longest user agent kept for a listing, in bytes.
pub const MAX_USER_AGENT_BYTES: usize = 256;

/// The user a session belongs to: opaque to sessiond, 1 to 256 bytes of
/// UTF-8 with no control characters (so it can never break a log line or
/// a header), compared byte for byte.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct UserId(String);

impl UserId {
    pub fn parse(raw: &str) -> Result<Self, SessionError> {
        Self::parse_owned(raw.to_owned())
    }

    pub fn parse_owned(raw: String) -> Result<Self, SessionError> {
        if raw.is_empty() || raw.len() > MAX_USER_ID_BYTES {
            return Err(SessionError::InvalidUser(format!(
                "a user id is 1 to {MAX_USER_ID_BYTES} bytes of UTF-8, not {}",
                raw.len()
            )));
        }
        if raw.chars().any(char::is_control) {
            return Err(SessionError::InvalidUser(
                "a user id may not contain control characters".into(),
            ));
        }
        Ok(UserId(raw))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// User ids are not secrets, but they are personal data: logs name them
/// only by length.
impl fmt::Debug for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "UserId({} bytes)", self.0.len())
    }
}

/// A session's binding to a user, with what a listing shows besides the
/// handle and the times: the device's user agent and address, each
/// optional (empty) and small.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub user: UserId,
    /// At most [`MAX_USER_AGENT_BYTES`]; empty when not given.
    pub user_agent: String,
    /// An IPv4 or IPv6 address in its canonical text; empty when not given.
    pub ip: String,
}

impl Binding {
    /// A binding to `user` with no metadata.
    pub fn to(user: UserId) -> Self {
        Binding {
            user,
            user_agent: String::new(),
            ip: String::new(),
        }
    }

    /// Checks the metadata a client sent: a user agent over the limit or
    /// with control characters, or an address that is not one, is refused.
    pub fn new(user: UserId, user_agent: String, ip: String) -> Result<Self, SessionError> {
        if user_agent.len() > MAX_USER_AGENT_BYTES || user_agent.chars().any(char::is_control) {
            return Err(SessionError::InvalidUser(format!(
                "user_agent must be at most {MAX_USER_AGENT_BYTES} bytes with no control characters"
            )));
        }
        let ip = if ip.is_empty() {
            ip
        } else {
            ip.parse::<IpAddr>()
                .map_err(|_| {
                    SessionError::InvalidUser("ip must be an IPv4 or IPv6 address".into())
                })?
                .to_string()
        };
        Ok(Binding {
            user,
            user_agent,
            ip,
        })
    }

    /// The user agent as a gateway sees it, cut to the limit at a
    /// character boundary and stripped of control characters, so a browser
    /// cannot make a login fail by sending a long one.
    pub fn truncated_user_agent(raw: &str) -> String {
        let mut out = String::new();
        for c in raw.chars().filter(|c| !c.is_control()) {
            if out.len() + c.len_utf8() > MAX_USER_AGENT_BYTES {
                break;
            }
            out.push(c);
        }
        out
    }
}

/// The public name of a session in a listing: the hex of its id's
/// digest, as the store already keys it. A digest cannot be turned back
/// into an id (it takes a preimage of SHA-256), so a handle shown in a UI
/// or sent to a browser opens nothing: presented as a session id it names
/// no session (ids are hashed before lookup), and only the revoke
/// operations accept it.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Handle(pub Digest);

impl Handle {
    /// Characters of a handle: 32 lowercase hex digits.
    pub const LEN: usize = 32;

    pub fn parse(raw: &str) -> Result<Self, SessionError> {
        let bad = || SessionError::InvalidUser("a handle is 32 lowercase hex digits".into());
        if raw.len() != Self::LEN {
            return Err(bad());
        }
        let mut digest = [0u8; 16];
        for (i, pair) in raw.as_bytes().chunks_exact(2).enumerate() {
            let hi = hex_digit(pair[0]).ok_or_else(bad)?;
            let lo = hex_digit(pair[1]).ok_or_else(bad)?;
            digest[i] = hi << 4 | lo;
        }
        Ok(Handle(Digest(digest)))
    }
}

fn hex_digit(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        _ => None,
    }
}

impl fmt::Display for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 .0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Handle({})", self.0.short())
    }
}

/// One session in a listing of a user's sessions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSession {
    pub handle: Handle,
    pub created_ms: Millis,
    /// The last activity: a read, Set or Touch (or the creation).
    pub last_seen_ms: Millis,
    /// When it expires if untouched.
    pub expires_ms: Millis,
    pub user_agent: String,
    pub ip: String,
    /// Whether this is the session whose id the caller passed.
    pub current: bool,
}

impl UserSession {
    /// Puts a listing in its order: most recently active first, then the
    /// newest, then by handle, so that every backend answers one order.
    pub fn sort_most_recent_first(sessions: &mut [UserSession]) {
        sessions.sort_by(|a, b| {
            (b.last_seen_ms, b.created_ms, b.handle.0).cmp(&(
                a.last_seen_ms,
                a.created_ms,
                a.handle.0,
            ))
        });
    }
}

/// What to do with a login beyond `--max-sessions-per-user`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PerUserPolicy {
    /// End the user's oldest session to make room (most sites do this).
    #[default]
    EvictOldest,
    /// Refuse the new binding with RESOURCE_EXHAUSTED.
    Refuse,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::SessionId;

    #[test]
    fn a_user_id_is_1_to_256_bytes_without_control_characters() {
        assert!(UserId::parse("42").is_ok());
        assert!(UserId::parse(&"é".repeat(128)).is_ok());
        for bad in [String::new(), "x".repeat(257), "a\nb".into(), "a\0".into()] {
            assert!(UserId::parse(&bad).is_err(), "{bad:?}");
        }
        assert!(!format!("{:?}", UserId::parse("alice").unwrap()).contains("alice"));
    }

    #[test]
    fn metadata_is_checked_and_an_address_canonical() {
        let user = UserId::parse("u").unwrap();
        let b = Binding::new(user.clone(), "curl/8".into(), "::FFFF:1.2.3.4".into()).unwrap();
        assert_eq!(b.ip, "::ffff:1.2.3.4");
        assert!(Binding::new(user.clone(), "x".repeat(257), String::new()).is_err());
        assert!(Binding::new(user, String::new(), "not an ip".into()).is_err());
        let long = Binding::truncated_user_agent(&"é".repeat(200));
        assert!(long.len() <= MAX_USER_AGENT_BYTES && long.chars().all(|c| c == 'é'));
        assert_eq!(Binding::truncated_user_agent("a\r\nb"), "ab");
    }

    #[test]
    fn a_handle_round_trips_through_its_text_and_names_the_digest() {
        let id = SessionId::generate();
        let handle = Handle(id.digest());
        let text = handle.to_string();
        assert_eq!(text.len(), Handle::LEN);
        assert_eq!(Handle::parse(&text).unwrap(), handle);
        assert!(!text.contains(id.expose()));
        for bad in ["", "0", &"g".repeat(32), &"A".repeat(32), &"0".repeat(33)] {
            assert!(Handle::parse(bad).is_err(), "{bad:?}");
        }
    }
}
