//! The token of a source with `[auth]` (see `source::auth`), for the pages
//! of one crawl: the token of the walk if it has one, else the one stored
//! by an earlier crawl (`store::auth_tokens`) while it is not near its end,
//! else a new one from the token endpoint — fetched by the same fetcher as
//! everything else (address guard, allow-list, politeness). A listing page
//! answered 401 gets a new token and is asked once more; a second 401 is
//! the source's error. Neither the key nor a token is ever printed.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::{AuthError, CrawlError, Crawler};
use crate::fetch::page::PageRequest;
use crate::fetch::{FetchError, FetchOutcome, FetchRequest, Validators};
use crate::source::{AuthDef, JsonPath, Secret, SourceDef};
use crate::store::StoredToken;

/// The token one walk of a source's pages uses.
#[derive(Debug, Default)]
pub(crate) struct AuthSession {
    /// The token in use and when it ends; `None` before the first page.
    token: Option<(Secret, DateTime<Utc>)>,
}

impl Crawler {
    /// Fetches a listing page of `source` (the `index`th), with a token when
    /// the source has `[auth]`.
    pub(crate) async fn fetch_listing(
        &self,
        source: &Arc<SourceDef>,
        page: &PageRequest,
        validators: Validators,
        session: &mut AuthSession,
        index: u32,
    ) -> Result<FetchOutcome, CrawlError> {
        let fetch_error = |error| CrawlError::Fetch {
            page: index,
            error: Arc::new(error),
        };
        let auth_error = |error| CrawlError::Auth { page: index, error };
        let Some(auth) = &source.auth else {
            let request = self.fetch_request(source, page.clone(), validators);
            return self.fetcher.fetch(&request).await.map_err(fetch_error);
        };
        let token = self
            .usable_token(source, auth, session)
            .await
            .map_err(auth_error)?;
        match self
            .fetch_with(source, auth, page, &validators, &token)
            .await
        {
            Err(FetchError::Status { status: 401, .. }) => {}
            other => return other.map_err(fetch_error),
        }
        // The API no longer takes the token (revoked, or it ended sooner
        // than `lifetime_secs` said): a new one, and one more try.
        tracing::info!(source = %source.id, "the API refused the token: obtaining a new one");
        let token = self
            .new_token(source, auth, session)
            .await
            .map_err(auth_error)?;
        match self
            .fetch_with(source, auth, page, &validators, &token)
            .await
        {
            Err(FetchError::Status { status: 401, url }) => {
                let source_id = source.id.to_string();
                let _ = self
                    .with_store(move |store| store.forget_auth_token(&source_id))
                    .await;
                session.token = None;
                Err(auth_error(AuthError::TokenRefused { url }))
            }
            other => other.map_err(fetch_error),
        }
    }

    async fn fetch_with(
        &self,
        source: &SourceDef,
        auth: &AuthDef,
        page: &PageRequest,
        validators: &Validators,
        token: &Secret,
    ) -> Result<FetchOutcome, FetchError> {
        let mut request = self.fetch_request(source, page.clone(), validators.clone());
        request.headers.push(auth.token_header(token));
        self.fetcher.fetch(&request).await
    }

    /// The session's token, else the stored one, while neither is near its
    /// end; else a new one.
    async fn usable_token(
        &self,
        source: &SourceDef,
        auth: &AuthDef,
        session: &mut AuthSession,
    ) -> Result<Secret, AuthError> {
        let fresh = |expires: DateTime<Utc>| {
            let margin = chrono::Duration::from_std(auth.renew_before).unwrap_or_default();
            Utc::now() + margin < expires
        };
        if let Some((token, expires)) = &session.token
            && fresh(*expires)
        {
            return Ok(token.clone());
        }
        if session.token.is_none() {
            let (id, fingerprint) = (source.id.to_string(), auth.fingerprint());
            let stored = self
                .with_store(move |store| store.auth_token(&id, &fingerprint))
                .await;
            match stored {
                Ok(Some(stored)) if fresh(stored.expires_at) => {
                    let token = Secret::new(stored.token);
                    session.token = Some((token.clone(), stored.expires_at));
                    return Ok(token);
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(source = %source.id, "could not read the stored API token: {e:#}")
                }
            }
        }
        self.new_token(source, auth, session).await
    }

    /// Exchanges the key for a new token at the token endpoint, and stores it.
    async fn new_token(
        &self,
        source: &SourceDef,
        auth: &AuthDef,
        session: &mut AuthSession,
    ) -> Result<Secret, AuthError> {
        let mut request = FetchRequest::new(PageRequest {
            method: auth.method,
            url: auth.token_url.clone(),
            body: None,
        });
        request.headers = vec![(auth.key_header.clone(), auth.key.expose().to_string())];
        request.overrides = self
            .fetch_request(source, request.page.clone(), Validators::default())
            .overrides;
        let page = match self.fetcher.fetch(&request).await {
            Ok(FetchOutcome::Fetched(page)) => page,
            Ok(FetchOutcome::NotModified) => {
                return Err(no_token(auth, "HTTP 304 without a body"));
            }
            Err(FetchError::Status { status, url }) if status == 401 || status == 403 => {
                return Err(AuthError::KeyRefused {
                    url,
                    status,
                    vars: auth.key_source(),
                });
            }
            Err(e) => return Err(AuthError::Exchange(Arc::new(e))),
        };
        let json: Value = serde_json::from_slice(&page.bytes)
            .map_err(|_| no_token(auth, "the answer is not JSON"))?;
        let token = token_at(&json, &auth.token_path).map_err(|why| no_token(auth, why))?;
        let obtained_at = Utc::now();
        let lifetime = chrono::Duration::from_std(auth.lifetime).unwrap_or_default();
        let stored = StoredToken {
            token: token.clone(),
            obtained_at,
            expires_at: obtained_at + lifetime,
        };
        let expires_at = stored.expires_at;
        let (id, fingerprint) = (source.id.to_string(), auth.fingerprint());
        if let Err(e) = self
            .with_store(move |store| store.save_auth_token(&id, &fingerprint, &stored))
            .await
        {
            // The token still serves this crawl; the next one asks again.
            tracing::warn!(source = %source.id, "could not store the API token: {e:#}");
        }
        tracing::info!(
            source = %source.id,
            until = %crate::store::ts(&expires_at),
            "obtained a new API token"
        );
        let token = Secret::new(token);
        session.token = Some((token.clone(), expires_at));
        Ok(token)
    }
}

fn no_token(auth: &AuthDef, why: &str) -> AuthError {
    AuthError::NoToken {
        url: auth.token_url.clone(),
        path: auth.token_path.raw.clone(),
        why: why.to_string(),
    }
}

/// The non-empty string at `path`; the error says what is there instead,
/// never the value.
fn token_at(json: &Value, path: &JsonPath) -> Result<String, &'static str> {
    let mut value = json;
    for segment in &path.segments {
        let next = match value {
            Value::Object(map) => map.get(segment),
            Value::Array(items) => segment.parse::<usize>().ok().and_then(|i| items.get(i)),
            _ => None,
        };
        value = next.ok_or("nothing there")?;
    }
    match value {
        Value::String(s) if !s.trim().is_empty() => {
            let token = s.trim();
            if token.chars().any(char::is_control) {
                Err("a text with control characters")
            } else {
                Ok(token.to_string())
            }
        }
        Value::String(_) => Err("an empty text"),
        Value::Null => Err("null"),
        _ => Err("not a text"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(segments: &[&str]) -> JsonPath {
        JsonPath {
            raw: segments.join("."),
            segments: segments.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn the_token_is_the_text_at_its_path_and_errors_never_show_a_value() {
        let json: Value = serde_json::json!({
            "token": "eyJ0eXAiOiJKV1Qi.x.y",
            "data": [{"access": " abc "}],
            "n": 42,
            "e": "",
            "z": null
        });
        assert_eq!(
            token_at(&json, &path(&["token"])).unwrap(),
            "eyJ0eXAiOiJKV1Qi.x.y"
        );
        assert_eq!(
            token_at(&json, &path(&["data", "0", "access"])).unwrap(),
            "abc"
        );
        assert_eq!(token_at(&json, &path(&["nope"])), Err("nothing there"));
        assert_eq!(token_at(&json, &path(&["n"])), Err("not a text"));
        assert_eq!(token_at(&json, &path(&["e"])), Err("an empty text"));
        assert_eq!(token_at(&json, &path(&["z"])), Err("null"));
        assert_eq!(token_at(&json, &path(&["data"])), Err("not a text"));
    }
}
