//! The public JSON API, version 1, under `/api/v1`: the catalogue's search
//! with cursor pagination, one call with its sources and history, the
//! sources with their health, bulk exports (JSON, CSV) of the open
//! catalogue, and the OpenAPI 3.1 document describing all of it.
//!
//! Every answer is JSON (errors too, including unknown paths under
//! `/api/`), carries validators (`ETag`, `Last-Modified`, 304), and may be
//! read from any origin (CORS for GET). Unknown parameters are errors.

mod cursor;
mod model;
mod openapi;

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower_http::cors::CorsLayer;

use self::model::{Call, CallDetail, CallList, ErrorBody, ErrorDetail, Links, Source, SourceList};
use super::cache::Cacheable;
use super::query::{QueryError, SearchQuery};
use super::{WebError, WebState};
use crate::store::Keyset;

/// Calls per page unless `limit` says otherwise, and at most.
pub const DEFAULT_LIMIT: u32 = 20;
pub const MAX_LIMIT: u32 = 100;

pub fn routes() -> Router<WebState> {
    let cors = CorsLayer::new()
        .allow_origin(tower_http::cors::Any)
        .allow_methods([Method::GET, Method::HEAD, Method::OPTIONS])
        .allow_headers([header::IF_NONE_MATCH, header::IF_MODIFIED_SINCE])
        .expose_headers([header::ETAG, header::LAST_MODIFIED]);
    Router::new()
        .route("/api/v1/calls", get(list_calls))
        .route("/api/v1/calls/{id}", get(get_call))
        .route("/api/v1/sources", get(sources))
        .route("/api/v1/export.json", get(export_json))
        .route("/api/v1/export.csv", get(export_csv))
        .route("/api/v1/openapi.json", get(openapi_document))
        .route("/api/{*rest}", get(unknown))
        .route("/api", get(unknown))
        .layer(cors)
}

/// A JSON error answer.
pub(super) fn error(status: StatusCode, message: &str, q: Option<&QueryError>) -> Response {
    let body = ErrorBody {
        error: ErrorDetail {
            status: status.as_u16(),
            parameter: q.map(|q| q.parameter.clone()),
            message: message.to_string(),
            accepted: q.map(|q| q.accepted.clone()).unwrap_or_default(),
        },
    };
    (status, axum::Json(body)).into_response()
}

fn bad(q: &QueryError) -> Response {
    error(
        StatusCode::BAD_REQUEST,
        &format!("Paramètre « {} » : {}.", q.parameter, q.message),
        Some(q),
    )
}

fn failed(e: &WebError) -> Response {
    tracing::error!("api: {e}");
    error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Erreur du serveur : réessayez dans quelques minutes.",
        None,
    )
}

fn not_found() -> Response {
    error(
        StatusCode::NOT_FOUND,
        "Aucune ressource à cette adresse, ou l'appel n'est plus publié.",
        None,
    )
}

async fn unknown() -> Response {
    not_found()
}

fn json(
    value: &impl serde::Serialize,
    last: Option<chrono::DateTime<chrono::Utc>>,
    headers: &HeaderMap,
) -> Response {
    match serde_json::to_vec(value) {
        Ok(body) => Cacheable::new("application/json", body, last).respond(headers),
        Err(e) => failed(&WebError(e.into())),
    }
}

fn limit_of(raw: Option<&String>) -> Result<u32, QueryError> {
    let Some(raw) = raw.filter(|r| !r.is_empty()) else {
        return Ok(DEFAULT_LIMIT);
    };
    raw.parse::<u32>()
        .ok()
        .filter(|n| (1..=MAX_LIMIT).contains(n))
        .ok_or_else(|| QueryError {
            parameter: "limit".into(),
            message: format!(
                "nombre de résultats invalide `{}`",
                raw.chars().take(20).collect::<String>()
            ),
            accepted: vec![format!("un nombre entre 1 et {MAX_LIMIT}")],
        })
}

fn cursor_error(message: &str) -> QueryError {
    QueryError {
        parameter: "cursor".into(),
        message: message.into(),
        accepted: vec![
            "la valeur de `next_cursor` d'une page précédente de la même recherche".into(),
        ],
    }
}

async fn list_calls(
    State(state): State<WebState>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let parsed = match SearchQuery::parse(raw.as_deref().unwrap_or(""), &["limit", "cursor"]) {
        Ok(p) => p,
        Err(e) => return bad(&e),
    };
    let query = parsed.query;
    let limit = match limit_of(parsed.extra.get("limit")) {
        Ok(l) => l,
        Err(e) => return bad(&e),
    };
    let search = query.to_query_string();
    let after = match parsed.extra.get("cursor").filter(|c| !c.is_empty()) {
        None => None,
        Some(c) => match cursor::decode(&search, c) {
            Ok(k) if k.fits(query.order) => Some(k),
            Ok(_) | Err(cursor::CursorError::OtherSearch) => {
                return bad(&cursor_error(
                    "ce curseur a été obtenu pour une autre recherche ou un autre tri",
                ));
            }
            Err(cursor::CursorError::Malformed) => {
                return bad(&cursor_error("curseur illisible"));
            }
        },
    };
    let mut filter = query.to_filter();
    // One more than asked: whether there is a next page.
    filter.limit = Some(limit + 1);
    filter.after = after.clone();
    let order = filter.order;
    let mut page = match state.page(search.clone(), filter).await {
        Ok(p) => p,
        Err(e) => return failed(&e),
    };
    let total = page.total;
    let has_next = page.calls.len() > limit as usize;
    page.calls.truncate(limit as usize);
    let site = state.site_url();
    let next_cursor = page
        .calls
        .last()
        .filter(|_| has_next)
        .map(|c| cursor::encode(&search, &Keyset::of(order, c)));
    let with = |cursor: Option<&str>| {
        let mut url = format!("{site}/api/v1/calls?");
        if !search.is_empty() {
            url.push_str(&search);
            url.push('&');
        }
        url.push_str(&format!("limit={limit}"));
        if let Some(c) = cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        url
    };
    let last = page.calls.iter().map(|c| c.updated.to_utc()).max();
    let body = CallList {
        data: page.calls.iter().map(|c| Call::of(c, site)).collect(),
        total,
        links: Links {
            this: with(parsed.extra.get("cursor").map(String::as_str)),
            next: next_cursor.as_deref().map(|c| with(Some(c))),
        },
        next_cursor,
    };
    json(&body, last, &headers)
}

async fn get_call(
    State(state): State<WebState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Ok(id) = id.parse::<i64>() else {
        return not_found();
    };
    let now = state.now();
    let found = state
        .read(move |store| {
            let Some(call) = store.get_public_call(id, now)? else {
                return Ok(None);
            };
            if call.id != id {
                return Ok(Some((call, Vec::new(), Vec::new())));
            }
            let seen = store.seen_on(id)?;
            let history = store.call_history(id)?;
            Ok(Some((call, seen, history)))
        })
        .await;
    match found {
        Ok(Some((call, _, _))) if call.id != id => {
            super::pages::moved(&format!("/api/v1/calls/{}", call.id))
        }
        Ok(Some((call, seen, history))) => {
            let last = Some(call.updated.to_utc());
            let body = CallDetail {
                call: Call::of(&call, state.site_url()),
                sources: seen.into_iter().map(Into::into).collect(),
                history: history.into_iter().map(Into::into).collect(),
            };
            json(&body, last, &headers)
        }
        Ok(None) => not_found(),
        Err(e) => failed(&e),
    }
}

/// Refuses any query parameter on routes that take none.
fn no_parameters(raw: Option<&str>) -> Result<(), Box<Response>> {
    match raw.map(|r| url::form_urlencoded::parse(r.as_bytes()).next()) {
        Some(Some((k, _))) => Err(Box::new(bad(&QueryError {
            parameter: k.chars().take(40).collect(),
            message: "paramètre inconnu".into(),
            accepted: vec!["aucun paramètre".into()],
        }))),
        _ => Ok(()),
    }
}

async fn sources(
    State(state): State<WebState>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = no_parameters(raw.as_deref()) {
        return *r;
    }
    match state.read(|store| store.source_states()).await {
        Ok(rows) => {
            let body = SourceList {
                data: rows.into_iter().map(Source::from).collect(),
            };
            json(&body, None, &headers)
        }
        Err(e) => failed(&e),
    }
}

/// Every open public call (the default search), oldest deadline first.
async fn open_catalogue(state: &WebState) -> Result<Vec<crate::store::CallRecord>, WebError> {
    let filter = SearchQuery::default().to_filter();
    let now = state.now();
    state
        .read(move |store| Ok(store.list_calls_page(&filter, now)?.calls))
        .await
}

async fn export_json(
    State(state): State<WebState>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = no_parameters(raw.as_deref()) {
        return *r;
    }
    match open_catalogue(&state).await {
        Ok(calls) => {
            let last = calls.iter().map(|c| c.updated.to_utc()).max();
            let site = state.site_url();
            let body: Vec<Call> = calls.iter().map(|c| Call::of(c, site)).collect();
            json(&body, last, &headers)
        }
        Err(e) => failed(&e),
    }
}

/// The columns of the CSV export.
pub const CSV_COLUMNS: [&str; 14] = [
    "id",
    "titre",
    "financeur",
    "type",
    "statut",
    "date_limite",
    "dates_limites",
    "territoire",
    "codes_territoire",
    "publics",
    "thematiques",
    "url_financeur",
    "url_vigie",
    "mis_a_jour",
];

async fn export_csv(
    State(state): State<WebState>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = no_parameters(raw.as_deref()) {
        return *r;
    }
    let calls = match open_catalogue(&state).await {
        Ok(c) => c,
        Err(e) => return failed(&e),
    };
    let site = state.site_url().to_string();
    let last = calls.iter().map(|c| c.updated.to_utc()).max();
    let built = (|| -> anyhow::Result<Vec<u8>> {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(CSV_COLUMNS)?;
        for c in &calls {
            let v = Call::of(c, &site);
            let codes = |items: &[model::Coded]| {
                items
                    .iter()
                    .map(|i| i.code.as_str())
                    .collect::<Vec<_>>()
                    .join("|")
            };
            let row = [
                v.id.to_string(),
                v.title,
                v.funder.unwrap_or_default(),
                v.kind.code,
                v.status.code,
                v.deadline.unwrap_or_default(),
                v.deadlines.join("|"),
                v.territory.label,
                v.territory.codes.join("|"),
                codes(&v.audiences),
                codes(&v.themes),
                v.url.unwrap_or_default(),
                v.page_url,
                v.updated,
            ];
            w.write_record(
                row.iter()
                    .map(|cell| crate::spreadsheet::neutralize(cell).into_owned()),
            )?;
        }
        Ok(w.into_inner()?)
    })();
    match built {
        Ok(body) => {
            let mut r = Cacheable::new("text/csv; charset=utf-8", body, last).respond(&headers);
            r.headers_mut().insert(
                header::CONTENT_DISPOSITION,
                HeaderValue::from_static("attachment; filename=\"vigie-appels-ouverts.csv\""),
            );
            r
        }
        Err(e) => failed(&WebError(e)),
    }
}

async fn openapi_document(State(state): State<WebState>, headers: HeaderMap) -> Response {
    match openapi::document(state.site_url()) {
        Ok(body) => Cacheable::new("application/json", body, None).respond(&headers),
        Err(e) => failed(&WebError(e)),
    }
}
