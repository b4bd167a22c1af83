//! ETags and `If-Match`: the session's version, quoted, is its entity tag,
//! so a client can read, change and write back with compare-and-set.

use http::{header, HeaderMap, HeaderValue};

use super::error::ApiError;

/// The `ETag` of a session at `version`.
pub fn etag(version: u64) -> HeaderValue {
    let mut digits = itoa::Buffer::new();
    let digits = digits.format(version).as_bytes();
    // Quotes around at most 20 digits, on the stack.
    let mut tag = [b'"'; 22];
    tag[1..=digits.len()].copy_from_slice(digits);
    HeaderValue::from_bytes(&tag[..digits.len() + 2])
        .expect("quotes and digits are a valid header value")
}

/// A parsed `If-Match` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IfMatch {
    /// `*`: the session must exist, whatever its version.
    Any,
    /// The versions the client accepts. Tags that are not versions (and weak
    /// tags, which `If-Match` compares strongly) match nothing.
    Versions(Vec<u64>),
}

impl IfMatch {
    /// `None` when the request has no `If-Match`.
    pub fn from_headers(headers: &HeaderMap) -> Result<Option<Self>, ApiError> {
        let mut versions = Vec::new();
        let mut seen = false;
        for value in headers.get_all(header::IF_MATCH) {
            seen = true;
            let text = value
                .to_str()
                .map_err(|_| ApiError::InvalidHeader("If-Match must be ASCII".into()))?;
            for tag in text.split(',').map(str::trim).filter(|t| !t.is_empty()) {
                if tag == "*" {
                    return Ok(Some(IfMatch::Any));
                }
                let version = tag
                    .strip_prefix('"')
                    .and_then(|t| t.strip_suffix('"'))
                    .and_then(|t| t.parse::<u64>().ok());
                versions.extend(version);
            }
        }
        Ok(seen.then_some(IfMatch::Versions(versions)))
    }

    /// The version to compare-and-set against, given the session's
    /// `current` version when it is known. `Ok(None)` means no CAS needed.
    /// A single tag needs no read: the store compares atomically.
    pub fn expected(&self, current: Option<u64>) -> Result<Option<u64>, ApiError> {
        match self {
            IfMatch::Any => Ok(current),
            IfMatch::Versions(v) if v.len() == 1 => Ok(Some(v[0])),
            IfMatch::Versions(v) => match current {
                Some(c) if v.contains(&c) => Ok(Some(c)),
                _ => Err(stale()),
            },
        }
    }

    /// Whether evaluating this condition needs the current version.
    pub fn needs_current(&self) -> bool {
        matches!(self, IfMatch::Versions(v) if v.len() != 1)
    }
}

/// The refusal for a stale `If-Match`.
pub fn stale() -> ApiError {
    ApiError::PreconditionFailed("If-Match does not match the session's current version (ETag)")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(values: &[&str]) -> Option<IfMatch> {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(header::IF_MATCH, HeaderValue::from_str(v).unwrap());
        }
        IfMatch::from_headers(&h).unwrap()
    }

    #[test]
    fn etags_are_quoted_versions() {
        assert_eq!(etag(42), "\"42\"");
        assert_eq!(etag(0), "\"0\"");
        assert_eq!(etag(u64::MAX), "\"18446744073709551615\"");
    }

    #[test]
    fn if_match_reads_tags_star_and_lists() {
        assert_eq!(parse(&[]), None);
        assert_eq!(parse(&["\"3\""]), Some(IfMatch::Versions(vec![3])));
        assert_eq!(parse(&["*"]), Some(IfMatch::Any));
        assert_eq!(
            parse(&["\"3\", W/\"4\", \"x\"", "\"5\""]),
            Some(IfMatch::Versions(vec![3, 5]))
        );
        assert_eq!(parse(&["garbage"]), Some(IfMatch::Versions(vec![])));
    }

    #[test]
    fn a_list_matches_only_the_current_version_in_it() {
        let list = IfMatch::Versions(vec![3, 5]);
        assert!(list.needs_current());
        assert_eq!(list.expected(Some(5)).unwrap(), Some(5));
        assert!(matches!(
            list.expected(Some(4)),
            Err(ApiError::PreconditionFailed(_))
        ));
        assert!(IfMatch::Versions(vec![]).expected(Some(1)).is_err());
        assert_eq!(IfMatch::Versions(vec![9]).expected(None).unwrap(), Some(9));
        assert_eq!(IfMatch::Any.expected(Some(2)).unwrap(), Some(2));
    }
}
