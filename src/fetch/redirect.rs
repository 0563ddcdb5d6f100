//! Redirects, followed by the fetcher itself rather than by reqwest, so that
//! every hop goes through the same gates as the first request: the address
//! guard (`fetch::address`), robots.txt of the host the hop lands on, and
//! that host's politeness slot. This module computes the next hop from a
//! 3xx answer (RFC 9110 §15.4); the loop is in [`super::client`].

use reqwest::header::{self, HeaderMap, HeaderValue};
use url::Url;

use super::body::RequestBody;
use super::error::FetchError;
use super::page::HttpMethod;

/// One request of a redirect chain.
#[derive(Debug, Clone)]
pub(crate) struct Hop {
    pub method: HttpMethod,
    pub url: Url,
    pub headers: HeaderMap,
    pub body: Option<RequestBody>,
}

/// Whether `status` asks the client to follow `Location`.
pub(crate) fn is_redirect(status: u16) -> bool {
    matches!(status, 301 | 302 | 303 | 307 | 308)
}

/// Headers that only the origin they were written for may receive. Every
/// header a source sets counts (an API key has no standard name); of the
/// fetcher's own, only content negotiation and validators cross origins.
fn crosses_origins(name: &header::HeaderName) -> bool {
    name == header::ACCEPT
        || name == header::ACCEPT_LANGUAGE
        || name == header::IF_NONE_MATCH
        || name == header::IF_MODIFIED_SINCE
}

impl Hop {
    /// The request `location` (the `Location` header of a `status` answer to
    /// this hop) leads to.
    pub(crate) fn next(
        &self,
        status: u16,
        location: Option<&HeaderValue>,
    ) -> Result<Hop, FetchError> {
        let invalid = |message: String| FetchError::InvalidRequest {
            url: self.url.clone(),
            message,
        };
        let location = location
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| invalid(format!("HTTP {status} without a usable Location header")))?;
        let mut url = self
            .url
            .join(location.trim())
            .map_err(|e| invalid(format!("HTTP {status} to an invalid Location ({e})")))?;
        // RFC 9110 §10.2.2: a Location without a fragment inherits the
        // request's; we never send fragments, so drop it either way.
        url.set_fragment(None);
        let mut next = Hop {
            method: self.method,
            url,
            headers: self.headers.clone(),
            body: self.body.clone(),
        };
        // RFC 9110 §15.4.2-4: 301 and 302 may, and 303 must, turn a POST into
        // a GET without a body (what every client does); 307 and 308 keep both.
        if matches!(status, 301..=303) && self.method == HttpMethod::Post {
            next.method = HttpMethod::Get;
            next.body = None;
            next.headers.remove(header::CONTENT_TYPE);
        }
        if next.url.origin() != self.url.origin() {
            let kept: HeaderMap = next
                .headers
                .iter()
                .filter(|(name, _)| crosses_origins(name))
                .map(|(name, value)| (name.clone(), value.clone()))
                .collect();
            next.headers = kept;
        }
        Ok(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hop(method: HttpMethod) -> Hop {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
        headers.insert("x-api-key", HeaderValue::from_static("k"));
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        Hop {
            method,
            url: Url::parse("https://a.fr/api/search#top").unwrap(),
            headers,
            body: Some(RequestBody::Json(b"{}".to_vec())),
        }
    }

    fn location(s: &'static str) -> HeaderValue {
        HeaderValue::from_static(s)
    }

    #[test]
    fn a_relative_location_resolves_against_the_hop() {
        let next = hop(HttpMethod::Get)
            .next(302, Some(&location("../v2/search?q=1")))
            .unwrap();
        assert_eq!(next.url.as_str(), "https://a.fr/v2/search?q=1");
        assert!(
            next.headers.contains_key("x-api-key"),
            "same origin keeps the source's headers"
        );
    }

    #[test]
    fn see_other_turns_a_post_into_a_get_and_307_keeps_it() {
        let next = hop(HttpMethod::Post)
            .next(303, Some(&location("/r")))
            .unwrap();
        assert_eq!(next.method, HttpMethod::Get);
        assert!(next.body.is_none() && !next.headers.contains_key(header::CONTENT_TYPE));
        let kept = hop(HttpMethod::Post)
            .next(307, Some(&location("/r")))
            .unwrap();
        assert_eq!(kept.method, HttpMethod::Post);
        assert_eq!(kept.body, Some(RequestBody::Json(b"{}".to_vec())));
    }

    #[test]
    fn another_origin_does_not_receive_the_source_headers() {
        let next = hop(HttpMethod::Get)
            .next(301, Some(&location("https://b.fr/x")))
            .unwrap();
        assert!(!next.headers.contains_key("x-api-key"));
        assert!(next.headers.contains_key(header::ACCEPT));
        let other_port = hop(HttpMethod::Get)
            .next(301, Some(&location("https://a.fr:444/x")))
            .unwrap();
        assert!(!other_port.headers.contains_key("x-api-key"));
    }

    #[test]
    fn a_missing_or_broken_location_is_an_invalid_request() {
        assert!(matches!(
            hop(HttpMethod::Get).next(302, None),
            Err(FetchError::InvalidRequest { .. })
        ));
        assert!(matches!(
            hop(HttpMethod::Get).next(302, Some(&location("http://[::1"))),
            Err(FetchError::InvalidRequest { .. })
        ));
    }
}
