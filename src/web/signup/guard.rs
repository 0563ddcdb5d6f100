//! What protects the sign-up forms: a CSRF check (a double-submit cookie
//! plus the `Origin` header) and rate limits per client address and per
//! email address.
//!
//! The CSRF token is a random value set in an `HttpOnly`, `SameSite=Strict`
//! cookie when a form is shown and repeated in the form's hidden field: a
//! page on another site can make a browser post the form but can neither
//! read the cookie nor set it, so it cannot repeat the value. A present
//! `Origin` header must also name this site. The RFC 8058 one-click
//! endpoint is the one form without this check (mail clients post to it
//! with no page and no cookie); the secret token in its URL is what
//! authorizes it.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};

/// The cookie and form field that carry the CSRF token.
pub const CSRF_COOKIE: &str = "vigie_csrf";
pub const CSRF_FIELD: &str = "csrf";

/// The CSRF token of this visitor: the cookie's when it looks like one of
/// ours, else a new one (to be set with [`csrf_cookie`]).
pub fn csrf_token(request: &HeaderMap) -> (String, bool) {
    match cookie(request, CSRF_COOKIE).filter(|v| is_token(v)) {
        Some(v) => (v.to_string(), false),
        None => (
            crate::subscribers::model::new_token().unwrap_or_else(|_| fallback_token()),
            true,
        ),
    }
}

/// Without /dev/urandom (never on Linux), a token that is still unique;
/// it only protects forms, never an account.
fn fallback_token() -> String {
    use sha2::{Digest, Sha256};
    let seed = format!("{:?}{:?}", Instant::now(), std::thread::current().id());
    hex::encode(Sha256::digest(seed.as_bytes()))
}

/// `Set-Cookie` value for `token`; `Secure` when the site is served over
/// HTTPS.
pub fn csrf_cookie(token: &str, secure: bool) -> String {
    format!(
        "{CSRF_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=86400{}",
        if secure { "; Secure" } else { "" }
    )
}

fn is_token(v: &str) -> bool {
    v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit())
}

fn cookie<'a>(request: &'a HeaderMap, name: &str) -> Option<&'a str> {
    request
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
}

/// Why a form post is refused before it is read.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The cookie and the field disagree or are missing (an old page, a
    /// blocked cookie, or a forged request).
    Csrf,
    /// The `Origin` header names another site.
    Origin,
}

/// Checks a form post: the field repeats the cookie, and a present
/// `Origin` is this site's (`site_host` is `host[:port]` of `site_url`;
/// the request's own `Host` is accepted too, for a site reached by
/// several names such as the demo's loopback address).
pub fn check_post(request: &HeaderMap, field: &str, site_host: &str) -> Result<(), Refusal> {
    // Browsers since 2020 say where a request comes from.
    if request
        .get("sec-fetch-site")
        .is_some_and(|v| v.as_bytes() == b"cross-site")
    {
        return Err(Refusal::Origin);
    }
    if let Some(origin) = request.get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or("");
        let host = origin
            .split_once("://")
            .map(|(_, rest)| rest.trim_end_matches('/'))
            .unwrap_or("");
        let own = request
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("");
        if host.is_empty() || (host != site_host && host != own) {
            return Err(Refusal::Origin);
        }
    }
    let Some(cookie) = cookie(request, CSRF_COOKIE).filter(|v| is_token(v)) else {
        return Err(Refusal::Csrf);
    };
    if !constant_time_eq(cookie.as_bytes(), field.trim().as_bytes()) {
        return Err(Refusal::Csrf);
    }
    Ok(())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The client's address as the listener saw it (a reverse proxy's address
/// when there is one in front: then every visitor shares its limit, which
/// errs on the side of fewer emails).
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}

/// A sliding-window counter per key (an IP address, an email address).
pub struct RateLimit {
    max: usize,
    window: Duration,
    hits: Mutex<HashMap<String, VecDeque<Instant>>>,
}

/// Keys kept at most; past it, keys with no recent hit are dropped.
const MAX_KEYS: usize = 100_000;

impl RateLimit {
    pub fn new(max: usize, window: Duration) -> RateLimit {
        RateLimit {
            max,
            window,
            hits: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one attempt for `key`; false when it goes over the limit
    /// (the refused attempt is not counted).
    pub fn allow(&self, key: &str, now: Instant) -> bool {
        let Ok(mut hits) = self.hits.lock() else {
            return true;
        };
        if hits.len() >= MAX_KEYS {
            let window = self.window;
            hits.retain(|_, q| q.back().is_some_and(|t| now.duration_since(*t) < window));
        }
        let q = hits.entry(key.to_string()).or_default();
        while q
            .front()
            .is_some_and(|t| now.duration_since(*t) >= self.window)
        {
            q.pop_front();
        }
        if q.len() >= self.max {
            return false;
        }
        q.push_back(now);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn a_post_passes_only_when_the_field_repeats_the_cookie_and_the_origin_is_ours() {
        let t = "ab".repeat(32);
        let cookie = format!("autre=1; {CSRF_COOKIE}={t}");
        let ok = headers(&[(header::COOKIE, &cookie), (header::HOST, "127.0.0.1:8080")]);
        assert_eq!(check_post(&ok, &t, "vigie.example.fr"), Ok(()));
        assert_eq!(
            check_post(&ok, &"cd".repeat(32), "vigie.example.fr"),
            Err(Refusal::Csrf)
        );
        assert_eq!(check_post(&ok, "", "vigie.example.fr"), Err(Refusal::Csrf));
        let none = headers(&[(header::HOST, "127.0.0.1:8080")]);
        assert_eq!(
            check_post(&none, &t, "vigie.example.fr"),
            Err(Refusal::Csrf)
        );
        let bad_cookie = headers(&[(header::COOKIE, &format!("{CSRF_COOKIE}=x"))]);
        assert_eq!(
            check_post(&bad_cookie, "x", "vigie.example.fr"),
            Err(Refusal::Csrf)
        );
        for (origin, expected) in [
            ("https://vigie.example.fr", Ok(())),
            ("http://127.0.0.1:8080", Ok(())),
            ("https://evil.example", Err(Refusal::Origin)),
            ("null", Err(Refusal::Origin)),
            (
                "https://vigie.example.fr.evil.example",
                Err(Refusal::Origin),
            ),
        ] {
            let h = headers(&[
                (header::COOKIE, &cookie),
                (header::HOST, "127.0.0.1:8080"),
                (header::ORIGIN, origin),
            ]);
            assert_eq!(check_post(&h, &t, "vigie.example.fr"), expected, "{origin}");
        }
    }

    #[test]
    fn a_new_visitor_gets_a_fresh_token_and_a_returning_one_keeps_theirs() {
        let (t, new) = csrf_token(&HeaderMap::new());
        assert!(new && is_token(&t));
        let h = headers(&[(header::COOKIE, &format!("{CSRF_COOKIE}={t}"))]);
        assert_eq!(csrf_token(&h), (t.clone(), false));
        assert!(csrf_cookie(&t, true).ends_with("; Secure"));
        assert!(csrf_cookie(&t, false).contains("HttpOnly; SameSite=Strict"));
    }

    #[test]
    fn the_limit_counts_per_key_within_the_window() {
        let limit = RateLimit::new(2, Duration::from_secs(60));
        let t0 = Instant::now();
        assert!(limit.allow("a", t0));
        assert!(limit.allow("a", t0));
        assert!(!limit.allow("a", t0 + Duration::from_secs(1)));
        assert!(limit.allow("b", t0), "another key has its own count");
        assert!(
            limit.allow("a", t0 + Duration::from_secs(61)),
            "the window slides"
        );
    }
}
