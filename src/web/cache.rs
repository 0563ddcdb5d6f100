//! Conditional responses for feeds, calendars and the API: a validator
//! (`ETag`, `Last-Modified`) on every response, `304 Not Modified` when the
//! client already holds the same bytes, and a `Cache-Control` suited to
//! feed readers that poll.
//!
//! The entity tag is a digest of the body, so it changes exactly when the
//! bytes do (a deadline extended, a call added) and two servers reading the
//! same catalogue agree on it. It is weak (`W/"…"`) because the compression
//! layer may send the same representation with different encodings.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

/// How long readers and proxies may reuse a feed, calendar or API answer
/// without asking again; the crawl runs hourly at most, so five minutes
/// costs a reader nothing and spares the server the polling storms.
pub const MAX_AGE_SECONDS: u32 = 300;

/// A body with its validators, ready to answer a request.
#[derive(Debug, Clone)]
pub struct Cacheable {
    pub content_type: &'static str,
    pub body: bytes::Bytes,
    pub etag: String,
    /// The newest change among what the body shows, when known.
    pub last_modified: Option<DateTime<Utc>>,
}

impl Cacheable {
    pub fn new(
        content_type: &'static str,
        body: impl Into<bytes::Bytes>,
        last_modified: Option<DateTime<Utc>>,
    ) -> Cacheable {
        let body = body.into();
        let digest = Sha256::digest(&body);
        let etag = format!("W/\"{}\"", hex::encode(&digest[..12]));
        Cacheable {
            content_type,
            body,
            etag,
            // HTTP dates have whole seconds; compare and send them so.
            last_modified: last_modified.and_then(|d| DateTime::from_timestamp(d.timestamp(), 0)),
        }
    }

    /// `200` with the body, or `304` when the request's validators match.
    pub fn respond(&self, request: &HeaderMap) -> Response {
        let mut headers = HeaderMap::new();
        if let Ok(v) = HeaderValue::from_str(&self.etag) {
            headers.insert(header::ETAG, v);
        }
        if let Some(v) = self
            .last_modified
            .and_then(|d| HeaderValue::from_str(&http_date(d)).ok())
        {
            headers.insert(header::LAST_MODIFIED, v);
        }
        headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_str(&format!("public, max-age={MAX_AGE_SECONDS}"))
                .unwrap_or(HeaderValue::from_static("public")),
        );
        headers.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
        if self.not_modified(request) {
            return (StatusCode::NOT_MODIFIED, headers).into_response();
        }
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(self.content_type),
        );
        (StatusCode::OK, headers, self.body.clone()).into_response()
    }

    /// RFC 9110 §13.2.2: `If-None-Match` decides when present (weak
    /// comparison); otherwise `If-Modified-Since` against `Last-Modified`.
    fn not_modified(&self, request: &HeaderMap) -> bool {
        if let Some(inm) = request.get(header::IF_NONE_MATCH) {
            let Ok(inm) = inm.to_str() else {
                return false;
            };
            let ours = opaque(&self.etag);
            return inm
                .split(',')
                .map(str::trim)
                .any(|tag| tag == "*" || opaque(tag) == ours);
        }
        let (Some(since), Some(modified)) =
            (request.get(header::IF_MODIFIED_SINCE), self.last_modified)
        else {
            return false;
        };
        since
            .to_str()
            .ok()
            .and_then(|s| DateTime::parse_from_rfc2822(s).ok())
            .is_some_and(|since| modified <= since)
    }
}

/// The quoted part of an entity tag, without the weakness prefix.
fn opaque(tag: &str) -> &str {
    tag.strip_prefix("W/").unwrap_or(tag)
}

/// An IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`).
pub fn http_date(d: DateTime<Utc>) -> String {
    d.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    #[test]
    fn the_same_bytes_get_the_same_tag_and_other_bytes_another() {
        let a = Cacheable::new("text/plain", "abc", None);
        let b = Cacheable::new("text/plain", "abc", None);
        let c = Cacheable::new("text/plain", "abd", None);
        assert_eq!(a.etag, b.etag);
        assert_ne!(a.etag, c.etag);
        assert!(a.etag.starts_with("W/\"") && a.etag.ends_with('"'));
    }

    #[test]
    fn a_matching_tag_gets_304_without_a_body_and_a_stale_one_gets_200() {
        let c = Cacheable::new(
            "application/atom+xml",
            "<feed/>",
            Some(at("2026-03-01T10:00:00.5Z")),
        );
        let strong = c.etag.trim_start_matches("W/").to_string();
        for tag in [
            c.etag.as_str(),
            strong.as_str(),
            "\"x\", *",
            &format!("\"y\", {}", c.etag),
        ] {
            let r = c.respond(&request(&[(header::IF_NONE_MATCH, tag)]));
            assert_eq!(r.status(), StatusCode::NOT_MODIFIED, "{tag}");
            assert!(r.headers().get(header::ETAG).is_some());
            assert!(r.headers().get(header::CONTENT_TYPE).is_none());
        }
        let r = c.respond(&request(&[(header::IF_NONE_MATCH, "\"other\"")]));
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(
            r.headers()[header::LAST_MODIFIED],
            "Sun, 01 Mar 2026 10:00:00 GMT"
        );
        assert_eq!(r.headers()[header::CACHE_CONTROL], "public, max-age=300");
    }

    #[test]
    fn if_modified_since_is_used_only_without_if_none_match() {
        let c = Cacheable::new("text/calendar", "x", Some(at("2026-03-01T10:00:00Z")));
        let same = "Sun, 01 Mar 2026 10:00:00 GMT";
        let older = "Sun, 01 Mar 2026 09:59:59 GMT";
        let r = c.respond(&request(&[(header::IF_MODIFIED_SINCE, same)]));
        assert_eq!(r.status(), StatusCode::NOT_MODIFIED);
        let r = c.respond(&request(&[(header::IF_MODIFIED_SINCE, older)]));
        assert_eq!(r.status(), StatusCode::OK);
        // A non-matching tag wins over a matching date.
        let r = c.respond(&request(&[
            (header::IF_NONE_MATCH, "\"nope\""),
            (header::IF_MODIFIED_SINCE, same),
        ]));
        assert_eq!(r.status(), StatusCode::OK);
        let r = c.respond(&request(&[(header::IF_MODIFIED_SINCE, "not a date")]));
        assert_eq!(r.status(), StatusCode::OK);
    }
}
