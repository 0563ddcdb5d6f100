//! The catalogue (`/`, `/appels`) and call pages (`/appels/{id}`),
//! server-rendered in French, without JavaScript.

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;

use super::query::{ORDERS, QueryError, STATUSES, SearchQuery};
use super::views::{CallView, Choice, audience_label, kind_label, status_label};
use super::{WebError, WebState};
use crate::digest::render::safe_url;
use crate::domain::{Audience, CallKind, Theme};
use crate::store::{ChangeRecord, SeenOn};
use crate::territory;

/// Calls per catalogue page.
pub const PAGE_SIZE: u32 = 20;
/// The last page number accepted (deeper pages are refused, not computed).
const MAX_PAGE: u32 = 10_000;

pub fn routes() -> Router<WebState> {
    Router::new()
        .route("/", get(catalogue))
        .route("/appels", get(catalogue))
        .route("/appels/{id}", get(call_page))
}

/// The page's own parameter besides the search.
const PAGE_PARAM: &str = "page";

#[derive(Serialize)]
struct Form {
    q: String,
    commune: String,
    cloture_apres: String,
    cloture_avant: String,
    audiences: Vec<Choice>,
    themes: Vec<Choice>,
    kinds: Vec<Choice>,
    statuses: Vec<Choice>,
    regions: Vec<Choice>,
    departments: Vec<Choice>,
    orders: Vec<Choice>,
}

fn choices<T: Copy + PartialEq>(
    all: &[T],
    chosen: &[T],
    code: impl Fn(T) -> &'static str,
    label: impl Fn(T) -> &'static str,
) -> Vec<Choice> {
    all.iter()
        .map(|&v| Choice {
            code: code(v).to_string(),
            label: label(v).to_string(),
            checked: chosen.contains(&v),
        })
        .collect()
}

fn form_of(q: &SearchQuery) -> Form {
    let statuses = q.effective_statuses();
    Form {
        q: q.text.clone().unwrap_or_default(),
        commune: q.commune.clone().unwrap_or_default(),
        cloture_apres: q.deadline_from.map(|d| d.to_string()).unwrap_or_default(),
        cloture_avant: q.deadline_to.map(|d| d.to_string()).unwrap_or_default(),
        audiences: choices(Audience::ALL, &q.audiences, |a| a.as_str(), audience_label),
        themes: choices(Theme::ALL, &q.themes, |t| t.as_str(), |t| t.label()),
        kinds: choices(CallKind::ALL, &q.kinds, |k| k.as_str(), kind_label),
        statuses: STATUSES
            .iter()
            .map(|(code, s)| Choice {
                code: code.to_string(),
                label: status_label(*s).to_string(),
                checked: statuses.contains(s),
            })
            .collect(),
        regions: territory::regions()
            .iter()
            .map(|r| Choice {
                code: r.code.to_string(),
                label: r.name.to_string(),
                checked: q.region.as_deref() == Some(r.code),
            })
            .collect(),
        departments: territory::departments()
            .iter()
            .map(|d| Choice {
                code: d.code.to_string(),
                label: format!("{} — {}", d.code, d.name),
                checked: q.department.as_deref() == Some(d.code),
            })
            .collect(),
        orders: ORDERS
            .iter()
            .map(|(code, o)| Choice {
                code: code.to_string(),
                label: match *code {
                    "recent" => "Les plus récents",
                    "modifie" => "Modifiés récemment",
                    _ => "Clôture la plus proche",
                }
                .to_string(),
                checked: *o == q.order,
            })
            .collect(),
    }
}

#[derive(Serialize)]
struct PageLink {
    number: u32,
    href: String,
    current: bool,
}

#[derive(Serialize)]
struct Feeds {
    atom: String,
    rss: String,
    json: String,
    ics: String,
}

async fn catalogue(State(state): State<WebState>, RawQuery(raw): RawQuery) -> Response {
    let raw = raw.unwrap_or_default();
    let parsed = SearchQuery::parse(&raw, &[PAGE_PARAM]);
    let (query, page) = match parsed {
        Ok(p) => match page_number(p.extra.get(PAGE_PARAM)) {
            Ok(page) => (p.query, page),
            Err(e) => return bad_search(&state, &p.query, &e),
        },
        Err(e) => return bad_search(&state, &SearchQuery::default(), &e),
    };
    let mut filter = query.to_filter();
    filter.offset = (page - 1) * PAGE_SIZE;
    filter.limit = Some(PAGE_SIZE);
    let result = state.page(query.to_query_string(), filter).await;
    let found = match result {
        Ok(found) => found,
        Err(e) => return server_error(&state, &e),
    };
    let pages = found
        .total
        .div_ceil(u64::from(PAGE_SIZE))
        .min(u64::from(MAX_PAGE)) as u32;
    let links: Vec<PageLink> = page_window(page, pages)
        .into_iter()
        .map(|n| PageLink {
            number: n,
            href: page_href(&query, n),
            current: n == page,
        })
        .collect();
    let calls: Vec<CallView> = found.calls.iter().map(CallView::of).collect();
    let body = state.templates().render(
        "catalogue.html.j2",
        serde_json::json!({
            "form": form_of(&query),
            "calls": calls,
            "total": found.total,
            "page": page,
            "pages": pages,
            "links": links,
            "previous": (page > 1).then(|| page_href(&query, page - 1)),
            "next": (page < pages).then(|| page_href(&query, page + 1)),
            "feeds": feeds_of(&query),
            "error": None::<QueryError>,
        }),
    );
    html(&state, StatusCode::OK, body)
}

fn feeds_of(q: &SearchQuery) -> Feeds {
    Feeds {
        atom: q.url("/flux.atom"),
        rss: q.url("/flux.rss"),
        json: q.url("/flux.json"),
        ics: q.url("/agenda.ics"),
    }
}

fn page_number(raw: Option<&String>) -> Result<u32, QueryError> {
    let Some(raw) = raw.filter(|r| !r.is_empty()) else {
        return Ok(1);
    };
    raw.parse::<u32>()
        .ok()
        .filter(|n| (1..=MAX_PAGE).contains(n))
        .ok_or_else(|| QueryError {
            parameter: PAGE_PARAM.to_string(),
            message: format!(
                "numéro de page invalide `{}`",
                raw.chars().take(20).collect::<String>()
            ),
            accepted: vec![format!("un nombre entre 1 et {MAX_PAGE}")],
        })
}

fn page_href(q: &SearchQuery, n: u32) -> String {
    let base = q.url("/appels");
    if n == 1 {
        base
    } else if base.contains('?') {
        format!("{base}&page={n}")
    } else {
        format!("{base}?page={n}")
    }
}

/// Page numbers to show: the first, the last, and two around the current.
fn page_window(page: u32, pages: u32) -> Vec<u32> {
    let mut out: Vec<u32> = (1..=pages)
        .filter(|&n| n == 1 || n == pages || n.abs_diff(page) <= 2)
        .collect();
    out.dedup();
    out
}

fn bad_search(state: &WebState, q: &SearchQuery, e: &QueryError) -> Response {
    let body = state.templates().render(
        "catalogue.html.j2",
        serde_json::json!({
            "form": form_of(q),
            "calls": Vec::<CallView>::new(),
            "total": 0,
            "page": 1,
            "pages": 0,
            "links": Vec::<PageLink>::new(),
            "previous": None::<String>,
            "next": None::<String>,
            "feeds": feeds_of(q),
            "error": Some(e),
        }),
    );
    html(state, StatusCode::BAD_REQUEST, body)
}

fn html(state: &WebState, status: StatusCode, body: Result<String, WebError>) -> Response {
    match body {
        Ok(body) => (status, Html(body)).into_response(),
        Err(e) => server_error(state, &e),
    }
}

pub(super) fn server_error(state: &WebState, e: &WebError) -> Response {
    tracing::error!("web page: {e}");
    state.templates().error_page(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Erreur du serveur",
        "La page n'a pas pu être construite. Réessayez dans quelques minutes.",
    )
}

pub(super) fn not_found(state: &WebState) -> Response {
    state.templates().error_page(
        StatusCode::NOT_FOUND,
        "Page introuvable",
        "Cette adresse ne correspond à aucune page, ou l'appel n'est plus publié.",
    )
}

#[derive(Serialize)]
struct SourceLink {
    name: String,
    url: Option<String>,
    first_seen: String,
    last_seen: String,
    unlisted: bool,
}

#[derive(Serialize)]
struct Change {
    at: String,
    field: &'static str,
    old: Option<String>,
    new: Option<String>,
}

/// What one call's page needs, read in one go.
enum Found {
    Page(
        Box<crate::store::CallRecord>,
        Vec<SeenOn>,
        Vec<ChangeRecord>,
    ),
    Moved(i64),
    Missing,
}

async fn call_page(State(state): State<WebState>, Path(id): Path<String>) -> Response {
    let Ok(id) = id.parse::<i64>() else {
        return not_found(&state);
    };
    let now = state.now();
    let found = state
        .read(move |store| {
            let Some(call) = store.get_public_call(id, now)? else {
                return Ok(Found::Missing);
            };
            if call.id != id {
                return Ok(Found::Moved(call.id));
            }
            let seen = store.seen_on(id)?;
            let history = store.call_history(id)?;
            Ok(Found::Page(Box::new(call), seen, history))
        })
        .await;
    let (call, seen, history) = match found {
        Ok(Found::Page(c, s, h)) => (c, s, h),
        Ok(Found::Moved(to)) => return moved(&format!("/appels/{to}")),
        Ok(Found::Missing) => return not_found(&state),
        Err(e) => return server_error(&state, &e),
    };
    let sources: Vec<SourceLink> = seen
        .into_iter()
        .map(|s| SourceLink {
            name: s.source_name,
            url: s.url.as_deref().and_then(safe_url),
            first_seen: s.first_seen,
            last_seen: s.last_seen,
            unlisted: s.unlisted,
        })
        .collect();
    let changes: Vec<Change> = history
        .into_iter()
        .filter_map(|c| {
            let field = match c.field.as_str() {
                "deadline" | "deadlines" => "Date limite",
                "opens_on" => "Ouverture",
                "title" => "Titre",
                _ => return None,
            };
            Some(Change {
                at: c.changed_at,
                field,
                old: c.old,
                new: c.new,
            })
        })
        .collect();
    let body = state.templates().render(
        "call.html.j2",
        serde_json::json!({
            "call": CallView::of(&call),
            "sources": sources,
            "changes": changes,
            "ics": format!("/appels/{}/agenda.ics", call.id),
            "page_url": format!("{}/appels/{}", state.site_url(), call.id),
        }),
    );
    html(&state, StatusCode::OK, body)
}

/// `301 Moved Permanently` to `location` (axum's `Redirect::permanent` is a
/// 308, which old feed readers and crawlers handle less well).
pub(super) fn moved(location: &str) -> Response {
    (
        StatusCode::MOVED_PERMANENTLY,
        [(axum::http::header::LOCATION, location.to_string())],
    )
        .into_response()
}
