//! Namespaces: each application's sessions live apart from every other's.

use std::borrow::Cow;
use std::fmt;

use super::SessionError;

/// Longest namespace name, in bytes.
pub const MAX_NAMESPACE_BYTES: usize = 64;

/// The name of one application's share of the store: the namespace of the
/// credential (token or client certificate) that created a session.
///
/// A session id is only found in the namespace it was created in, because
/// the store keys sessions by [`SessionId::digest_in`](super::SessionId::digest_in),
/// which mixes the namespace in. The default namespace is `""`: the one used
/// when access control is off, and the gateway's unless configured.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Namespace(Cow<'static, str>);

impl Namespace {
    /// The default namespace, `""`: its digests are the plain SHA-256 of the
    /// id, as before namespaces existed, so older data files stay valid.
    pub const DEFAULT: Namespace = Namespace(Cow::Borrowed(""));

    /// Checks a configured name: at most 64 bytes of `[A-Za-z0-9._-]`
    /// (empty is the default namespace).
    pub fn parse(raw: &str) -> Result<Self, SessionError> {
        let valid = raw.len() <= MAX_NAMESPACE_BYTES
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
        if valid {
            Ok(Namespace(Cow::Owned(raw.to_owned())))
        } else {
            Err(SessionError::InvalidNamespace(format!(
                "{raw:?} is not a namespace: use at most {MAX_NAMESPACE_BYTES} of A-Z, a-z, 0-9, '.', '_' and '-'"
            )))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_default(&self) -> bool {
        self.0.is_empty()
    }
}

impl Default for Namespace {
    fn default() -> Self {
        Namespace::DEFAULT
    }
}

impl fmt::Debug for Namespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Namespace({:?})", self.0)
    }
}

impl fmt::Display for Namespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_default() {
            f.write_str("(default)")
        } else {
            f.write_str(&self.0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_of_letters_digits_dots_dashes_and_underscores_are_accepted() {
        for good in ["", "shop", "Shop-2.eu_west", &"a".repeat(64)] {
            assert_eq!(Namespace::parse(good).unwrap().as_str(), good);
        }
    }

    #[test]
    fn names_with_other_characters_or_too_long_are_refused() {
        for bad in ["a:b", "a b", "é", "a\0b", &"a".repeat(65)] {
            assert!(Namespace::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn the_empty_name_is_the_default_namespace() {
        assert!(Namespace::parse("").unwrap().is_default());
        assert_eq!(Namespace::default(), Namespace::DEFAULT);
    }
}
