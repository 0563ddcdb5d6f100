//! A compiled `[auth]` table: how a `json` source obtains the short-lived
//! token its API wants from a long-lived key, and how it sends it. The key
//! comes from the environment and is held in a [`Secret`], which never
//! prints; the crawl (`crawl::auth`) exchanges, caches and renews tokens.

use std::fmt;
use std::time::Duration;

use sha2::{Digest, Sha256};
use url::Url;

use super::JsonPath;
use super::schema::HttpMethod;

/// A credential read from the environment. `Debug` and `Display` print
/// `***`; only [`Secret::expose`] gives the value, to put it in a request.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Secret {
        Secret(value)
    }

    /// The value itself, for a request header and nothing else.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(crate::redact::MASK)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(crate::redact::MASK)
    }
}

/// A validated `[auth]` table.
#[derive(Debug, Clone)]
pub struct AuthDef {
    /// The token endpoint.
    pub token_url: Url,
    pub method: HttpMethod,
    /// The header that carries the key to the token endpoint.
    pub key_header: String,
    pub key: Secret,
    /// The environment variables the key is read from, for messages.
    pub key_vars: Vec<String>,
    /// Where the token is in the endpoint's JSON answer.
    pub token_path: JsonPath,
    /// The header that carries the token to the API, and what precedes it.
    pub header: String,
    pub prefix: String,
    /// How long a token is valid once obtained.
    pub lifetime: Duration,
    /// A token this close to its end is renewed before use.
    pub renew_before: Duration,
}

impl AuthDef {
    /// Identifies the key and the endpoint without revealing the key: a
    /// cached token obtained with another key or endpoint is not reused.
    pub fn fingerprint(&self) -> String {
        let mut hash = Sha256::new();
        for part in [
            self.token_url.as_str(),
            self.key_header.as_str(),
            self.key.expose(),
        ] {
            hash.update(part.as_bytes());
            hash.update([0u8]);
        }
        hex::encode(hash.finalize())
    }

    /// The variables holding the key, as `AIDES_TERRITOIRES_API_KEY` or
    /// `A, B`.
    pub fn key_source(&self) -> String {
        self.key_vars.join(", ")
    }

    /// The request header carrying `token`.
    pub fn token_header(&self, token: &Secret) -> (String, String) {
        (
            self.header.clone(),
            format!("{}{}", self.prefix, token.expose()),
        )
    }
}
