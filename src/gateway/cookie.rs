//! The session cookie: finding it among whatever a browser sends, and
//! writing the `Set-Cookie` that issues, refreshes or expires it.
//!
//! Parsing follows the `cookie` crate's `split_parse` rule for rule (many
//! cookies, empty pairs, quoting and garbage), without building a `Cookie`
//! per pair (see `values_named`); we add the policy: only well-formed ids
//! count, and duplicates are all kept as candidates.

use cookie::{Cookie, SameSite};
use http::{header, HeaderMap, HeaderValue};

use crate::clock::Millis;
use crate::config::Config;
use crate::session::SessionId;

/// Most candidate ids taken from one request: bounds the store lookups a
/// request full of duplicate cookies can cause.
const MAX_CANDIDATES: usize = 8;

/// How the gateway writes its cookie, from the configuration.
#[derive(Debug, Clone)]
pub struct CookiePolicy {
    /// Cookie name; `__Host-` and `__Secure-` prefixes are checked by
    /// `Config::validate`.
    pub name: String,
    /// `Secure` attribute; off only for plain-HTTP development.
    pub secure: bool,
    /// `Domain` attribute, to share the cookie with subdomains.
    pub domain: Option<String>,
    /// No `Max-Age`: the browser forgets the cookie when it closes.
    pub browser_session: bool,
}

impl CookiePolicy {
    pub fn from_config(config: &Config) -> Self {
        CookiePolicy {
            name: config.gateway.cookie_name.clone(),
            secure: config.gateway.cookie_secure,
            domain: config.gateway.cookie_domain.clone(),
            browser_session: config.gateway.cookie_browser_session,
        }
    }

    /// `Set-Cookie` carrying `id`, living as long as the session does when
    /// untouched (`expires_ms`), unless cookies are browser-session ones.
    ///
    /// Every read refreshes the cookie, so this is on the hot path: the
    /// header is written directly, attribute for attribute as the `cookie`
    /// crate's `Display` writes it for [`Self::base`] (a test holds the two
    /// equal), without its generic formatter or an intermediate `Cookie`.
    pub fn issue(&self, id: &SessionId, expires_ms: Millis, now_ms: Millis) -> Option<HeaderValue> {
        let mut text = String::with_capacity(128);
        text.push_str(&self.name);
        text.push('=');
        text.push_str(id.expose());
        text.push_str("; HttpOnly; SameSite=Lax");
        if self.secure {
            text.push_str("; Secure");
        }
        text.push_str("; Path=/");
        if let Some(domain) = &self.domain {
            // As `Cookie::domain` reports it: without a leading dot.
            text.push_str("; Domain=");
            text.push_str(domain.strip_prefix('.').unwrap_or(domain));
        }
        if !self.browser_session {
            let secs = expires_ms.saturating_sub(now_ms).div_ceil(1000);
            text.push_str("; Max-Age=");
            text.push_str(itoa::Buffer::new().format(i64::try_from(secs).unwrap_or(i64::MAX)));
        }
        HeaderValue::try_from(text).ok()
    }

    /// `Set-Cookie` that makes the browser drop the cookie now.
    pub fn expire(&self) -> Option<HeaderValue> {
        let mut cookie = self.base(String::new());
        cookie.make_removal();
        HeaderValue::try_from(cookie.to_string()).ok()
    }

    fn base(&self, value: String) -> Cookie<'static> {
        let mut cookie = Cookie::new(self.name.clone(), value);
        cookie.set_http_only(true);
        cookie.set_same_site(SameSite::Lax);
        cookie.set_path("/");
        cookie.set_secure(self.secure);
        if let Some(domain) = &self.domain {
            cookie.set_domain(domain.clone());
        }
        cookie
    }
}

/// What the request's `Cookie` headers say about the session.
#[derive(Debug, Default)]
pub struct Presented {
    /// Well-formed ids under our cookie name, first seen first (browsers
    /// send the most specific cookie first). Duplicates arise when a
    /// parent domain and this host each set one.
    pub ids: Vec<SessionId>,
    /// A cookie with our name was sent at all, well-formed or not: if it
    /// names no live session, the response expires it.
    pub any: bool,
}

/// Reads every `Cookie` header (HTTP/2 may split them) for `name`.
pub fn presented(headers: &HeaderMap, name: &str) -> Presented {
    let mut found = Presented::default();
    for value in headers.get_all(header::COOKIE) {
        let Ok(text) = std::str::from_utf8(value.as_bytes()) else {
            continue;
        };
        for value in values_named(text, name) {
            found.any = true;
            if let Ok(id) = SessionId::parse(value) {
                if found.ids.len() < MAX_CANDIDATES && !found.ids.contains(&id) {
                    found.ids.push(id);
                }
            }
        }
    }
    found
}

/// The values of the cookies called `name` in one `Cookie` header, quotes
/// trimmed: what `Cookie::split_parse(text)` yields for that name, read
/// with `value_trimmed`. Every request parses its cookies, and the crate
/// builds a whole `Cookie` (with attribute parsing) for each pair; this
/// reads only the pairs. The rules are the crate's, step for step, and a
/// test compares the two on random headers: pairs split at `;`, trimmed;
/// a pair without `=` or with an empty name is skipped; the name and value
/// are trimmed around the first `=`; one pair of surrounding double quotes
/// is removed from the value.
fn values_named<'t>(text: &'t str, name: &'t str) -> impl Iterator<Item = &'t str> + 't {
    text.split(';').filter_map(move |pair| {
        let (key, value) = pair.trim().split_once('=')?;
        let key = key.trim();
        if key.is_empty() || key != name {
            return None;
        }
        let value = value.trim();
        let quoted = value.len() >= 2 && value.starts_with('"') && value.ends_with('"');
        Some(if quoted {
            &value[1..value.len() - 1]
        } else {
            value
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> CookiePolicy {
        CookiePolicy {
            name: "sessionid".into(),
            secure: true,
            domain: None,
            browser_session: false,
        }
    }

    fn headers(values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for v in values {
            map.append(header::COOKIE, HeaderValue::from_str(v).unwrap());
        }
        map
    }

    #[test]
    fn an_issued_cookie_has_every_attribute_of_the_design() {
        let id = SessionId::generate();
        let value = policy().issue(&id, 10_000 + 1_209_600_000, 10_000).unwrap();
        let text = value.to_str().unwrap();
        assert!(text.starts_with(&format!("sessionid={}", id.expose())));
        for attr in [
            "HttpOnly",
            "SameSite=Lax",
            "Path=/",
            "Secure",
            "Max-Age=1209600",
        ] {
            assert!(text.contains(attr), "{attr} missing from {text}");
        }
        assert!(!text.contains("Domain"));
    }

    #[test]
    fn an_issued_cookie_is_written_as_the_cookie_crate_writes_it() {
        use cookie::time::Duration as CookieDuration;
        let id = SessionId::generate();
        for secure in [true, false] {
            for domain in [None, Some("example.com"), Some(".example.com")] {
                for browser_session in [false, true] {
                    let p = CookiePolicy {
                        name: "__Secure-sid".into(),
                        secure,
                        domain: domain.map(String::from),
                        browser_session,
                    };
                    let mut expected = p.base(id.expose().to_owned());
                    if !browser_session {
                        expected.set_max_age(CookieDuration::seconds(1_209_601));
                    }
                    let issued = p.issue(&id, 1_209_600_500, 0).unwrap();
                    assert_eq!(issued.to_str().unwrap(), expected.to_string());
                }
            }
        }
    }

    #[test]
    fn browser_session_cookies_have_no_max_age_and_domain_is_optional() {
        let mut p = policy();
        p.browser_session = true;
        p.secure = false;
        p.domain = Some("example.com".into());
        let text = p.issue(&SessionId::generate(), 5_000, 0).unwrap();
        let text = text.to_str().unwrap();
        assert!(!text.contains("Max-Age"));
        assert!(!text.contains("Secure"));
        assert!(text.contains("Domain=example.com"));
    }

    #[test]
    fn an_expiring_cookie_has_max_age_zero_and_no_id() {
        let text = policy().expire().unwrap();
        let text = text.to_str().unwrap();
        assert!(text.starts_with("sessionid=;"), "{text}");
        assert!(text.contains("Max-Age=0"));
    }

    #[test]
    fn the_session_cookie_is_found_among_many_and_quoted() {
        let id = SessionId::generate();
        let h = headers(&[
            "a=1; b=2",
            &format!("theme=dark; sessionid=\"{}\"; c=3", id.expose()),
        ]);
        let found = presented(&h, "sessionid");
        assert!(found.any);
        assert_eq!(found.ids, vec![id]);
    }

    #[test]
    fn garbage_and_malformed_ids_are_no_session_but_are_noticed() {
        let h = headers(&[";;; =x; junk; sessionid=NOT-AN-ID; sessionid"]);
        let found = presented(&h, "sessionid");
        assert!(found.any);
        assert!(found.ids.is_empty());
        let none = presented(&headers(&["other=1"]), "sessionid");
        assert!(!none.any);
    }

    #[test]
    fn duplicates_are_all_candidates_in_order_and_bounded() {
        let a = SessionId::generate();
        let b = SessionId::generate();
        let h = headers(&[&format!(
            "sessionid={}; sessionid={}; sessionid={}",
            a.expose(),
            b.expose(),
            a.expose()
        )]);
        assert_eq!(presented(&h, "sessionid").ids, vec![a, b]);
        let many: Vec<String> = (0..50)
            .map(|_| format!("sessionid={}", SessionId::generate().expose()))
            .collect();
        let h = headers(&[&many.join("; ")]);
        assert_eq!(presented(&h, "sessionid").ids.len(), MAX_CANDIDATES);
    }

    #[test]
    fn cookie_values_are_read_as_the_cookie_crate_reads_them() {
        use rand::Rng;
        // Pieces that exercise every rule: separators, whitespace (ASCII
        // and Unicode), quotes, empty names and values, our name and
        // near-misses of it.
        const PIECES: &[&str] = &[
            "sessionid",
            "sessionid2",
            "Sessionid",
            "x",
            "=",
            ";",
            " ",
            "\t",
            "\u{a0}",
            "\"",
            "\"\"",
            "abc",
            "é",
            "; ",
            "=;",
            "secure",
            "==",
        ];
        let mut rng = rand::rng();
        let mut headers = vec![
            String::new(),
            "sessionid=\"\"".into(),
            "sessionid=\"".into(),
            " sessionid = \" a \" ;sessionid=b".into(),
            "=sessionid; sessionid; sessionid=a=b".into(),
        ];
        for _ in 0..20_000 {
            let len = rng.random_range(1..12);
            headers.push(
                (0..len)
                    .map(|_| PIECES[rng.random_range(0..PIECES.len())])
                    .collect(),
            );
        }
        for text in &headers {
            for name in ["sessionid", "x", ""] {
                let ours: Vec<&str> = values_named(text, name).collect();
                let crate_reads: Vec<String> = Cookie::split_parse(text.as_str())
                    .flatten()
                    .filter(|c| c.name() == name)
                    .map(|c| c.value_trimmed().to_owned())
                    .collect();
                assert_eq!(ours, crate_reads, "{text:?} for {name:?}");
            }
        }
    }

    #[test]
    fn host_prefixed_names_are_matched_exactly() {
        let id = SessionId::generate();
        let h = headers(&[&format!("__Host-sid={}", id.expose())]);
        assert_eq!(presented(&h, "__Host-sid").ids, vec![id]);
        assert!(!presented(&h, "__host-sid").any);
    }
}
