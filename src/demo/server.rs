//! The demo's fixture sites on loopback: each site is a fixed set of pages
//! (rendered once at start) served by hyper on its own `127.0.0.1` port, so
//! that every site is a distinct host for the fetcher's politeness, as real
//! funders' sites are.
//!
//! Routing is by path, plus the `page` query parameter for listings and
//! APIs that paginate (`/api/aids/?page=2`); other query parameters (the
//! filters a source definition adds) are ignored, as a real site ignores
//! the ones it does not know. `/robots.txt` allows everything.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// One page of a fixture site.
#[derive(Debug, Clone)]
pub struct Page {
    pub content_type: &'static str,
    pub body: Bytes,
}

/// The pages of one site, by route (see [`route_key`]).
#[derive(Debug, Default)]
pub struct SitePages {
    pages: HashMap<String, Page>,
}

impl SitePages {
    /// Adds a page at `route`: a path, optionally with `?page=N`.
    pub fn insert(&mut self, route: &str, content_type: &'static str, body: String) {
        self.pages.insert(
            route.to_string(),
            Page {
                content_type,
                body: Bytes::from(body),
            },
        );
    }

    /// The body at `route`, as text (for checks and tests).
    pub fn body(&self, route: &str) -> Option<String> {
        let page = self.pages.get(route)?;
        Some(String::from_utf8_lossy(&page.body).into_owned())
    }

    fn get(&self, path: &str, query: Option<&str>) -> Option<&Page> {
        self.pages.get(&route_key(path, query))
    }
}

/// The route of a request: its path, with `?page=N` when the query names
/// a page other than the first.
pub fn route_key(path: &str, query: Option<&str>) -> String {
    let page = query
        .into_iter()
        .flat_map(|q| q.split('&'))
        .find_map(|pair| {
            let (name, value) = pair.split_once('=')?;
            (name == "page" && value != "1").then_some(value)
        });
    match page {
        Some(n) => format!("{path}?page={n}"),
        None => path.to_string(),
    }
}

/// A site being served; the server stops when this is dropped.
pub struct RunningSite {
    pub addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Drop for RunningSite {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Binds `127.0.0.1:0` now, so that the caller knows the site's address
/// before rendering pages that link to it.
pub async fn bind() -> std::io::Result<TcpListener> {
    TcpListener::bind(("127.0.0.1", 0)).await
}

/// Serves `pages` on `listener` until the returned handle is dropped.
pub fn serve(listener: TcpListener, pages: SitePages) -> std::io::Result<RunningSite> {
    let addr = listener.local_addr()?;
    let pages = Arc::new(pages);
    let task = tokio::spawn(async move {
        // Connections live in this set, so that stopping the accept loop
        // (abort on drop) also closes them.
        let mut connections = tokio::task::JoinSet::new();
        loop {
            tokio::select! {
                accepted = listener.accept() => {
                    let Ok((stream, _)) = accepted else { continue };
                    let pages = Arc::clone(&pages);
                    connections.spawn(async move {
                        let service = service_fn(move |req| respond(Arc::clone(&pages), req));
                        // A client that goes away mid-request is its own business.
                        let _ = http1::Builder::new()
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    });
                }
                Some(_) = connections.join_next(), if !connections.is_empty() => {}
            }
        }
    });
    Ok(RunningSite { addr, task })
}

async fn respond(
    pages: Arc<SitePages>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let uri = req.uri();
    let (status, content_type, body) = if uri.path() == "/robots.txt" {
        (
            StatusCode::OK,
            "text/plain; charset=utf-8",
            Bytes::from_static(b"User-agent: *\nAllow: /\n"),
        )
    } else {
        match pages.get(uri.path(), uri.query()) {
            Some(page) => (StatusCode::OK, page.content_type, page.body.clone()),
            None => (
                StatusCode::NOT_FOUND,
                "text/plain; charset=utf-8",
                Bytes::from_static(b"not found\n"),
            ),
        }
    };
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::route_key;

    #[test]
    fn routes_keep_the_page_number_and_drop_other_parameters() {
        assert_eq!(route_key("/api/aids/", None), "/api/aids/");
        assert_eq!(
            route_key("/api/aids/", Some("targeted_audiences=commune&page=2")),
            "/api/aids/?page=2"
        );
        assert_eq!(route_key("/appels", Some("page=1&x=y")), "/appels");
        assert_eq!(route_key("/appels", Some("pages=2")), "/appels");
    }
}
