//! Per-page crawl state: for each listing page a source's crawl fetched,
//! the validators of its last successful fetch (for the next conditional
//! GET), the request it led to and the keys of the items it listed.
//!
//! Why the request and the keys are kept, not only the validators: with
//! "next link" (or cursor) pagination, the URL of page 2 is only known from
//! the content of page 1, and a 304 has no content. Re-fetching page 1
//! unconditionally would throw away conditional GET for every paginated
//! source; storing what the page gave lets a 304 page be *replayed*: the
//! walk goes on to its stored next request (itself asked conditionally),
//! and its items still count as listed when the crawl decides which calls
//! a source no longer lists. A row is written only after the page's items
//! are committed, so a replay never stands for items that were not stored.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rusqlite::params;

use super::{Store, ts};
use crate::fetch::Validators;
use crate::fetch::body::RequestBody;
use crate::fetch::page::PageRequest;
use crate::source::schema::HttpMethod;

/// What the last successful fetch of one listing page gave.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageState {
    pub validators: Validators,
    /// The request that followed this page (`None`: it was the last).
    pub next: Option<PageRequest>,
    /// The item keys (`ItemKey::to_db`) of the items it listed.
    pub item_keys: Vec<String>,
}

/// The identity of a listing request: method, URL and body.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PageKey {
    pub method: &'static str,
    pub url: String,
    pub body: Vec<u8>,
}

impl PageKey {
    pub fn of(request: &PageRequest) -> PageKey {
        PageKey {
            method: method_code(request.method),
            url: request.url.to_string(),
            body: request
                .body
                .as_ref()
                .map(RequestBody::to_stored)
                .unwrap_or_default(),
        }
    }
}

fn method_code(method: HttpMethod) -> &'static str {
    match method {
        HttpMethod::Get => "GET",
        HttpMethod::Post => "POST",
    }
}

fn parse_method(code: &str) -> Option<HttpMethod> {
    match code {
        "GET" => Some(HttpMethod::Get),
        "POST" => Some(HttpMethod::Post),
        _ => None,
    }
}

impl Store {
    /// The page states of `source_id` recorded under the source definition
    /// `definition` (a fingerprint); rows from another definition are
    /// deleted, so that a curator's fix re-reads every page.
    pub fn page_states(
        &self,
        source_id: &str,
        definition: &str,
    ) -> anyhow::Result<HashMap<PageKey, PageState>> {
        self.conn.execute(
            "DELETE FROM page_states WHERE source_id = ?1 AND definition != ?2",
            params![source_id, definition],
        )?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT method, url, body, etag, last_modified, next_method, next_url, next_body, item_keys
             FROM page_states WHERE source_id = ?1",
        )?;
        let rows = stmt.query_map([source_id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Vec<u8>>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, Option<String>>(5)?,
                r.get::<_, Option<String>>(6)?,
                r.get::<_, Option<Vec<u8>>>(7)?,
                r.get::<_, String>(8)?,
            ))
        })?;
        let mut states = HashMap::new();
        for row in rows {
            let (method, url, body, etag, last_modified, next_method, next_url, next_body, keys) =
                row?;
            // A row that does not read back is skipped: its page is then
            // fetched unconditionally, which is always correct.
            let Some(method) = parse_method(&method) else {
                continue;
            };
            let next = match (next_method.as_deref().map(parse_method), next_url) {
                (None, None) => None,
                (Some(Some(method)), Some(url)) => match url::Url::parse(&url) {
                    Ok(url) => Some(PageRequest {
                        method,
                        url,
                        body: match next_body.filter(|b| !b.is_empty()) {
                            None => None,
                            Some(b) => match RequestBody::from_stored(&b) {
                                Some(body) => Some(body),
                                None => continue,
                            },
                        },
                    }),
                    Err(_) => continue,
                },
                _ => continue,
            };
            let Ok(item_keys) = serde_json::from_str(&keys) else {
                continue;
            };
            let key = PageKey {
                method: method_code(method),
                url,
                body,
            };
            let state = PageState {
                validators: Validators {
                    etag,
                    last_modified,
                },
                next,
                item_keys,
            };
            states.insert(key, state);
        }
        Ok(states)
    }

    /// Records what pages of `source_id` gave, in one transaction.
    pub fn save_page_states(
        &self,
        source_id: &str,
        definition: &str,
        pages: &[(PageKey, PageState)],
        now: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        let now = ts(&now);
        let tx = self.conn.unchecked_transaction()?;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO page_states (source_id, method, url, body, definition, etag,
                   last_modified, next_method, next_url, next_body, item_keys, fetched_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
                 ON CONFLICT(source_id, method, url, body) DO UPDATE SET definition = ?5,
                   etag = ?6, last_modified = ?7, next_method = ?8, next_url = ?9,
                   next_body = ?10, item_keys = ?11, fetched_at = ?12",
            )?;
            for (key, state) in pages {
                let next = state.next.as_ref();
                stmt.execute(params![
                    source_id,
                    key.method,
                    key.url,
                    key.body,
                    definition,
                    state.validators.etag,
                    state.validators.last_modified,
                    next.map(|n| method_code(n.method)),
                    next.map(|n| n.url.as_str()),
                    next.and_then(|n| n.body.as_ref().map(RequestBody::to_stored)),
                    serde_json::to_string(&state.item_keys)?,
                    now,
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }
}
