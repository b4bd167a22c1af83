//! The HTTP gateway: its namespace, the cookie's attributes, the CSRF
//! origins, the forward-auth exports, and the request bounds.

use std::time::Duration;

use clap::builder::BoolishValueParser;

use super::parse_duration;
use crate::session::{Limits, Namespace};

/// hyper refuses a smaller head buffer.
pub const MIN_HEADER_BYTES: usize = 8192;

#[derive(Debug, Clone, clap::Args)]
pub struct Gateway {
    /// The namespace the HTTP gateway serves (its browsers need no token:
    /// the cookie is their credential). Empty: the default namespace.
    #[arg(long, env = "SESSIOND_HTTP_NAMESPACE", default_value = "")]
    pub http_namespace: String,

    /// Name of the session cookie. A `__Host-` name needs --cookie-secure
    /// and no --cookie-domain; a `__Secure-` name needs --cookie-secure.
    #[arg(long, env = "SESSIOND_COOKIE_NAME", default_value = "sessionid")]
    pub cookie_name: String,

    /// Mark the cookie `Secure` (sent over HTTPS only). Turn off
    /// (`--cookie-secure false`) only for plain-HTTP development.
    #[arg(long, env = "SESSIOND_COOKIE_SECURE", default_value_t = true,
          num_args = 0..=1, default_missing_value = "true",
          value_parser = BoolishValueParser::new())]
    pub cookie_secure: bool,

    /// `Domain` attribute of the cookie, to share it with subdomains.
    /// Unset: no `Domain`, so only this host receives it.
    #[arg(long, env = "SESSIOND_COOKIE_DOMAIN")]
    pub cookie_domain: Option<String>,

    /// Send the cookie without `Max-Age`, so the browser forgets it when it
    /// closes (Django's SESSION_EXPIRE_AT_BROWSER_CLOSE). The session itself
    /// still expires after its idle timeout.
    #[arg(long, env = "SESSIOND_COOKIE_BROWSER_SESSION", default_value_t = false,
          num_args = 0..=1, default_missing_value = "true",
          value_parser = BoolishValueParser::new())]
    pub cookie_browser_session: bool,

    /// Origins (`scheme://host[:port]`, comma-separated) allowed to make
    /// state-changing requests, besides the gateway's own host.
    #[arg(long, env = "SESSIOND_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub allowed_origins: Vec<String>,

    /// Session keys that `GET /auth` exports as `X-Session-<Key>` headers
    /// (comma-separated; `_` becomes `-` in the header name).
    #[arg(long, env = "SESSIOND_AUTH_HEADERS", value_delimiter = ',')]
    pub auth_headers: Vec<String>,

    /// Session keys that must hold a truthy value (not absent, `null`,
    /// `false`, `0` or `""`) for `GET /auth` to answer 200, e.g. `is_login`:
    /// without it, any live session passes, anonymous ones included.
    #[arg(long, env = "SESSIOND_AUTH_REQUIRE", value_delimiter = ',')]
    pub auth_require: Vec<String>,

    /// Largest HTTP request body, in bytes; larger ones get 413.
    #[arg(long, env = "SESSIOND_MAX_BODY_BYTES", default_value_t = 1024 * 1024)]
    pub max_body_bytes: usize,

    /// Largest HTTP request head (request line and headers), in bytes;
    /// larger ones get 431. At least 8192.
    #[arg(long, env = "SESSIOND_MAX_HEADER_BYTES", default_value_t = 32 * 1024)]
    pub max_header_bytes: usize,

    /// How long an HTTP client may take to send a request's head, or its
    /// body, before the gateway gives up on it (slow-client protection).
    #[arg(long, env = "SESSIOND_HTTP_READ_TIMEOUT", default_value = "10s", value_parser = parse_duration)]
    pub http_read_timeout: Duration,
}

/// A character allowed in an RFC 7230 token (cookie and header names).
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// `scheme://host[:port]` in the form browsers send in `Origin`: lower
/// case, no default port, no trailing slash. `None` if it is not an http(s)
/// origin.
pub fn normalize_origin(origin: &str) -> Option<String> {
    let origin = origin.trim().trim_end_matches('/');
    let (scheme, authority) = origin.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "http" => "80",
        "https" => "443",
        _ => return None,
    };
    let authority: http::uri::Authority = authority.parse().ok()?;
    if authority.as_str().contains('@') || authority.host().is_empty() {
        return None;
    }
    let host = authority.host().to_ascii_lowercase();
    Some(match authority.port_u16() {
        Some(port) if port.to_string() != default_port => format!("{scheme}://{host}:{port}"),
        _ => format!("{scheme}://{host}"),
    })
}

impl Gateway {
    /// The namespace the HTTP gateway serves (validated).
    pub fn http_namespace(&self) -> Namespace {
        Namespace::parse(&self.http_namespace).unwrap_or_default()
    }

    /// Cookie attributes that browsers would silently refuse are refused
    /// here instead, with the flag named; exported and required keys obey
    /// the session `limits`.
    pub(super) fn validate(&self, limits: &Limits) -> Result<(), String> {
        Namespace::parse(&self.http_namespace).map_err(|e| format!("--http-namespace: {e}"))?;
        if self.max_body_bytes == 0 {
            return Err("--max-body-bytes must be at least 1".into());
        }
        if self.max_header_bytes < MIN_HEADER_BYTES {
            return Err(format!(
                "--max-header-bytes must be at least {MIN_HEADER_BYTES}"
            ));
        }
        if self.http_read_timeout.is_zero() {
            return Err("--http-read-timeout must be more than 0".into());
        }
        self.validate_cookie()?;
        // Empty entries (an empty variable, a trailing comma) mean nothing.
        for origin in self.allowed_origins.iter().filter(|o| !o.trim().is_empty()) {
            normalize_origin(origin).ok_or_else(|| {
                format!("--allowed-origins: {origin:?} is not an origin like https://app.example.com[:port]")
            })?;
        }
        for key in self.auth_headers.iter().filter(|k| !k.is_empty()) {
            let valid = key.len() <= limits.max_key_bytes
                && key
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
            if !valid {
                return Err(format!(
                    "--auth-headers: {key:?} cannot name a header (use letters, digits, '.', '_' and '-')"
                ));
            }
        }
        for key in self.auth_require.iter().filter(|k| !k.is_empty()) {
            crate::session::validate_key(key, limits)
                .map_err(|e| format!("--auth-require: {e}"))?;
        }
        Ok(())
    }

    fn validate_cookie(&self) -> Result<(), String> {
        let name = &self.cookie_name;
        if name.is_empty() || !name.bytes().all(is_token_byte) {
            return Err(format!(
                "--cookie-name {name:?} is not a valid cookie name (letters, digits and !#$%&'*+-.^_`|~)"
            ));
        }
        if let Some(domain) = &self.cookie_domain {
            let valid = !domain.is_empty()
                && domain
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
            if !valid {
                return Err(format!("--cookie-domain {domain:?} is not a domain name"));
            }
        }
        let lower = name.to_ascii_lowercase();
        if lower.starts_with("__host-") {
            if !self.cookie_secure {
                return Err(
                    "--cookie-name with the __Host- prefix needs --cookie-secure true".into(),
                );
            }
            if self.cookie_domain.is_some() {
                return Err(
                    "--cookie-name with the __Host- prefix must not have a --cookie-domain".into(),
                );
            }
        }
        if lower.starts_with("__secure-") && !self.cookie_secure {
            return Err(
                "--cookie-name with the __Secure- prefix needs --cookie-secure true".into(),
            );
        }
        Ok(())
    }
}
