//! The public web: the catalogue's pages, the sign-up flow, the feeds and
//! calendars, and the API, served by the daemon's HTTP listener (see
//! `service::RunOptions::routes`) and by `vigie demo`.
//!
//! Every part reads the catalogue through [`WebState`] (a small pool of
//! read-only SQLite connections, so a crawl's write transaction never
//! blocks a page) and understands the same search parameters
//! ([`query::SearchQuery`]): a search on the catalogue page, as a feed, as a
//! calendar or through the API is the same query string.
//!
//! The web sits above the pipeline stages and is never imported by them.

pub mod cache;
mod pages;
pub mod query;
pub mod render;
mod state;
mod views;

pub use state::{Clock, WebError, WebState};

use axum::Router;
use axum::http::header;
use axum::routing::get;

/// Every public route, ready to be merged into the daemon's router.
pub fn router(state: WebState) -> Router {
    Router::new()
        .route(render::CSS_PATH, get(stylesheet))
        .merge(pages::routes())
        .fallback(not_found)
        .with_state(state)
}

async fn stylesheet() -> impl axum::response::IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        render::CSS,
    )
}

async fn not_found(
    axum::extract::State(state): axum::extract::State<WebState>,
) -> axum::response::Response {
    pages::not_found(&state)
}
