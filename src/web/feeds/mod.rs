//! Feeds and calendars of any search: Atom 1.0 (`/flux.atom`), RSS 2.0
//! (`/flux.rss`), JSON Feed 1.1 (`/flux.json`) and iCalendar
//! (`/agenda.ics`, and `/appels/{id}/agenda.ics` for one call). The query
//! string is the catalogue page's, so any search can be followed.
//!
//! Feed readers poll: every answer carries an entity tag and a
//! `Last-Modified`, and a rendered answer is kept in memory until the
//! catalogue changes. Whether it changed is SQLite's `data_version` on one
//! long-lived connection (it moves on every commit by another
//! connection), read at most every [`RECHECK`]: a hit costs a hash lookup
//! and, at most four times a second, one pragma. The watcher never writes,
//! so every write to the catalogue (a crawl, a curator's merge or review,
//! even a sign-up) comes from another connection and moves its counter;
//! values from different connections are never compared. A change is thus
//! seen within [`RECHECK`]; a rendering reads on a pooled connection after
//! the version was taken, so it is never older than the version it is
//! filed under. One call's calendar is cached the same way (200s only:
//! redirects and 404s are decided afresh).

mod calendar;
mod formats;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, Utc};

use super::cache::Cacheable;
use super::query::{QueryError, SearchQuery};
use super::{WebState, pages};
use crate::store::{CallOrder, CallRecord, Store};

/// Entries per feed: the most recently changed calls of the search.
pub const FEED_SIZE: u32 = 50;
/// Events per calendar (the nearest deadlines of the search).
pub const CALENDAR_SIZE: u32 = 500;
/// The calendar's name in clients (the search's text is added).
const CALENDAR_NAME: &str = "Vigie — dates limites des appels";
/// How stale the "catalogue changed?" answer may be.
const RECHECK: Duration = Duration::from_millis(250);
/// Cached answers kept at most (distinct searches); past it, the cache
/// starts again empty.
const MAX_CACHED: usize = 1024;

pub fn routes() -> Router<WebState> {
    Router::new()
        .route("/flux.atom", get(atom))
        .route("/flux.rss", get(rss))
        .route("/flux.json", get(json))
        .route("/agenda.ics", get(agenda))
        .route("/appels/{id}/agenda.ics", get(call_agenda))
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Kind {
    Atom,
    Rss,
    Json,
    Calendar,
    /// One call's calendar, keyed by the id asked for.
    CallCalendar,
}

/// Rendered answers by (kind, normalized query), valid for one
/// `data_version` of the watcher connection.
pub struct FeedCache {
    watcher: Mutex<Option<Watcher>>,
    entries: Mutex<HashMap<(Kind, String), (i64, Cacheable)>>,
}

struct Watcher {
    store: Store,
    checked: Instant,
    version: i64,
}

impl Default for FeedCache {
    fn default() -> FeedCache {
        FeedCache {
            watcher: Mutex::new(None),
            entries: Mutex::new(HashMap::new()),
        }
    }
}

impl FeedCache {
    /// The catalogue's current version, as seen by the watcher connection
    /// (opened on first use).
    pub(in crate::web) fn version(&self, state: &WebState) -> anyhow::Result<i64> {
        let mut guard = self
            .watcher
            .lock()
            .map_err(|_| anyhow::anyhow!("the feed cache's lock is poisoned"))?;
        let now = Instant::now();
        if let Some(w) = guard.as_mut() {
            if now.duration_since(w.checked) >= RECHECK {
                w.version = w.store.data_version()?;
                w.checked = now;
            }
            return Ok(w.version);
        }
        let store = Store::open_read_only(state.db_path())?;
        let version = store.data_version()?;
        *guard = Some(Watcher {
            store,
            checked: now,
            version,
        });
        Ok(version)
    }

    fn get(&self, key: &(Kind, String), version: i64) -> Option<Cacheable> {
        let entries = self.entries.lock().ok()?;
        entries
            .get(key)
            .filter(|(v, _)| *v == version)
            .map(|(_, c)| c.clone())
    }

    fn put(&self, key: (Kind, String), version: i64, value: Cacheable) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= MAX_CACHED {
                entries.clear();
            }
            entries.insert(key, (version, value));
        }
    }
}

/// A French plain-text 400 for feed readers and calendar clients.
fn bad_query(e: &QueryError) -> Response {
    let mut text = format!("Paramètre « {} » : {}.\n", e.parameter, e.message);
    if !e.accepted.is_empty() {
        text.push_str(&format!("Valeurs acceptées : {}.\n", e.accepted.join(", ")));
    }
    (
        StatusCode::BAD_REQUEST,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        text,
    )
        .into_response()
}

fn failed(e: &anyhow::Error) -> Response {
    tracing::error!("feed: {e:#}");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "Erreur du serveur : réessayez dans quelques minutes.\n",
    )
        .into_response()
}

/// What every format is built from.
pub(crate) struct Selection {
    pub query: SearchQuery,
    pub calls: Vec<CallRecord>,
    pub site: String,
}

impl Selection {
    /// The newest change among the calls (the answer's Last-Modified).
    pub fn last_modified(&self) -> Option<DateTime<Utc>> {
        self.calls.iter().map(|c| c.updated.to_utc()).max()
    }
}

async fn serve(state: WebState, kind: Kind, raw: Option<String>, headers: HeaderMap) -> Response {
    let query = match SearchQuery::parse(raw.as_deref().unwrap_or(""), &[]) {
        Ok(p) => p.query,
        Err(e) => return bad_query(&e),
    };
    let key = (kind, query.to_query_string());
    let version = match state.feeds().version(&state) {
        Ok(v) => v,
        Err(e) => return failed(&e),
    };
    if let Some(hit) = state.feeds().get(&key, version) {
        return hit.respond(&headers);
    }
    let mut filter = query.to_filter();
    let limit = match kind {
        Kind::Calendar => {
            filter.order = CallOrder::Deadline;
            CALENDAR_SIZE
        }
        _ => {
            filter.order = CallOrder::Updated;
            FEED_SIZE
        }
    };
    filter.limit = Some(limit);
    let now = state.now();
    let calls = match state
        .read(move |store| Ok(store.list_calls_page(&filter, now)?.calls))
        .await
    {
        Ok(c) => c,
        Err(e) => return failed(&e.0),
    };
    let selection = Selection {
        query,
        calls,
        site: state.site_url().to_string(),
    };
    let built = match kind {
        Kind::Atom => formats::atom(&selection),
        Kind::Rss => formats::rss(&selection),
        Kind::Json => formats::json_feed(&selection),
        Kind::Calendar | Kind::CallCalendar => {
            let name = match selection.query.text.as_deref().map(str::trim) {
                Some(q) if !q.is_empty() => format!("{CALENDAR_NAME} — « {q} »"),
                _ => CALENDAR_NAME.to_string(),
            };
            calendar::calendar(&selection, &name)
        }
    };
    match built {
        Ok(cacheable) => {
            let response = cacheable.respond(&headers);
            state.feeds().put(key, version, cacheable);
            response
        }
        Err(e) => failed(&e),
    }
}

async fn atom(State(s): State<WebState>, RawQuery(q): RawQuery, h: HeaderMap) -> Response {
    serve(s, Kind::Atom, q, h).await
}

async fn rss(State(s): State<WebState>, RawQuery(q): RawQuery, h: HeaderMap) -> Response {
    serve(s, Kind::Rss, q, h).await
}

async fn json(State(s): State<WebState>, RawQuery(q): RawQuery, h: HeaderMap) -> Response {
    serve(s, Kind::Json, q, h).await
}

async fn agenda(State(s): State<WebState>, RawQuery(q): RawQuery, h: HeaderMap) -> Response {
    serve(s, Kind::Calendar, q, h).await
}

/// One call's deadlines; a merged-away id moves to the survivor's file.
async fn call_agenda(
    State(state): State<WebState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Ok(id) = id.parse::<i64>() else {
        return pages::not_found(&state);
    };
    // Only a 200 is cached: a merged-away or hidden id was decided by this
    // catalogue version, so a hit is valid exactly as long as the others.
    let key = (Kind::CallCalendar, id.to_string());
    let version = match state.feeds().version(&state) {
        Ok(v) => v,
        Err(e) => return failed(&e),
    };
    if let Some(hit) = state.feeds().get(&key, version) {
        return hit.respond(&headers);
    }
    let now = state.now();
    let found = state
        .read(move |store| {
            let Some(call) = store.get_public_call(id, now)? else {
                return Ok(None);
            };
            Ok(Some(call))
        })
        .await;
    let call = match found {
        Ok(Some(c)) if c.id != id => {
            return pages::moved(&format!("/appels/{}/agenda.ics", c.id));
        }
        Ok(Some(c)) => c,
        Ok(None) => return pages::not_found(&state),
        Err(e) => return failed(&e.0),
    };
    let name = format!("Vigie — {}", call.title);
    let selection = Selection {
        query: SearchQuery::default(),
        calls: vec![call],
        site: state.site_url().to_string(),
    };
    match calendar::calendar(&selection, &name) {
        Ok(cacheable) => {
            let response = cacheable.respond(&headers);
            state.feeds().put(key, version, cacheable);
            response
        }
        Err(e) => failed(&e),
    }
}
