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

mod api;
pub mod cache;
mod feeds;
mod pages;
pub mod query;
pub mod render;
mod signup;
mod state;
mod views;

pub use state::{Clock, WebError, WebState};

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower_http::compression::CompressionLayer;
use tower_http::set_header::SetResponseHeaderLayer;

/// The largest form body accepted (a sign-up is well under 4 KiB).
pub const MAX_BODY_BYTES: usize = 32 * 1024;
/// The longest path and query string accepted.
pub const MAX_URI_BYTES: usize = 4096;

/// The Content-Security-Policy of every response: no script at all, styles
/// and fonts only from the site itself, forms only to the site, never in a
/// frame.
pub const CSP: &str = "default-src 'none'; style-src 'self'; font-src 'self'; \
     img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// Every public route, ready to be merged into the daemon's router.
pub fn router(state: WebState) -> Router {
    let headers: [(HeaderName, &'static str); 5] = [
        (header::CONTENT_SECURITY_POLICY, CSP),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "strict-origin-when-cross-origin"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (
            HeaderName::from_static("permissions-policy"),
            "camera=(), microphone=(), geolocation=(), interest-cohort=()",
        ),
    ];
    let mut router = Router::new()
        .route(render::CSS_PATH, get(stylesheet))
        .route(render::FONTS_PATH, get(font))
        .merge(pages::routes())
        .merge(signup::routes())
        .merge(feeds::routes())
        .merge(api::routes())
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(state.clone(), limit_uri))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(CompressionLayer::new());
    for (name, value) in headers {
        router = router.layer(SetResponseHeaderLayer::if_not_present(
            name,
            HeaderValue::from_static(value),
        ));
    }
    router.with_state(state)
}

/// Refuses over-long URIs (414) before any handler parses them.
async fn limit_uri(
    axum::extract::State(state): axum::extract::State<WebState>,
    request: Request,
    next: Next,
) -> Response {
    let len = request
        .uri()
        .path_and_query()
        .map_or(0, |p| p.as_str().len());
    if len > MAX_URI_BYTES {
        return state.templates().error_page(
            StatusCode::URI_TOO_LONG,
            "Adresse trop longue",
            "Cette adresse est trop longue pour être traitée. Simplifiez la recherche.",
        );
    }
    next.run(request).await.into_response()
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

/// One of the bundled font files (or their licence), else the 404 page.
async fn font(
    axum::extract::State(state): axum::extract::State<WebState>,
    axum::extract::Path(name): axum::extract::Path<String>,
) -> axum::response::Response {
    let Some((_, bytes)) = render::FONTS.iter().find(|(file, _)| *file == name) else {
        return pages::not_found(&state);
    };
    let kind = if name.ends_with(".woff2") {
        "font/woff2"
    } else {
        "text/plain; charset=utf-8"
    };
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        *bytes,
    )
        .into_response()
}

async fn not_found(
    axum::extract::State(state): axum::extract::State<WebState>,
) -> axum::response::Response {
    pages::not_found(&state)
}
