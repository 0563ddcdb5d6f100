//! A real HTTP/1.1 server for integration tests, written on a bare tokio
//! `TcpListener` so that tests can misbehave at the byte level (slow
//! headers, dribbled bodies, truncated bodies, missing `Content-Length`).
//!
//! It runs on its own thread with its own runtime, so it works the same from
//! `#[tokio::test]`, from plain `#[test]` and while a test drives the `vigie`
//! binary as a subprocess; its timing is not disturbed by the test's runtime.
//!
//! ```ignore
//! let server = FixtureServer::start();                  // 127.0.0.1, port 0
//! server.route("/aap", Response::ok_html("<h1>AAP</h1>"));
//! server.route_sequence("/flaky", [Response::status(500), Response::ok_html("ok")]);
//! server.robots("User-agent: *\nDisallow: /private\n");
//! server.serve_dir("tests/fixtures/sites/siaf");      // unrouted paths come from disk
//! let url = server.url("/aap");                        // http://127.0.0.1:PORT/aap
//! let hits = server.requests_to("/aap");               // method, headers, time of arrival
//! let other_host = FixtureServer::start_on([127, 0, 0, 2].into());
//! ```
//!
//! Responses and their faults are built with [`Response`] (see `response.rs`).
//! Every response carries `Connection: close`: one request per connection
//! keeps the server simple and makes each request's arrival time exact.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Instant;

use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};

use super::response::Response;

/// A running server; stops when dropped.
pub struct FixtureServer {
    addr: SocketAddr,
    state: Arc<State>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

/// One request as the server received it.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    pub method: String,
    /// Path and query, as sent (`/search?q=aap`).
    pub path: String,
    /// Header names lowercased, in the order received.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// When the request head was fully read.
    pub at: Instant,
}

impl RecordedRequest {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
struct State {
    routes: Mutex<HashMap<String, Route>>,
    requests: Mutex<Vec<RecordedRequest>>,
    dir: Mutex<Option<PathBuf>>,
    rewrites: Mutex<Vec<(String, String)>>,
}

/// Responses for one path, served in order; the last one repeats.
struct Route {
    responses: Vec<Response>,
    served: usize,
}

impl FixtureServer {
    /// Starts a server on 127.0.0.1 and a free port.
    pub fn start() -> FixtureServer {
        FixtureServer::start_on(Ipv4Addr::LOCALHOST)
    }

    /// Starts a server on `ip` (any 127.0.0.x works on Linux, which routes
    /// all of 127.0.0.0/8 to the loopback) and a free port, so that tests
    /// can have several distinct hosts.
    pub fn start_on(ip: Ipv4Addr) -> FixtureServer {
        let state = Arc::new(State::default());
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (shutdown, shutdown_rx) = tokio::sync::oneshot::channel::<()>();
        let thread_state = Arc::clone(&state);
        let thread = std::thread::Builder::new()
            .name(format!("fixture-server-{ip}"))
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("fixture server runtime");
                runtime.block_on(async move {
                    let listener = TcpListener::bind((ip, 0)).await;
                    let listener = match listener {
                        Ok(listener) => listener,
                        Err(error) => return addr_tx.send(Err(error)).unwrap(),
                    };
                    addr_tx.send(listener.local_addr()).unwrap();
                    tokio::select! {
                        _ = accept_loop(listener, thread_state) => {}
                        _ = shutdown_rx => {}
                    }
                });
            })
            .expect("spawn fixture server thread");
        let addr = addr_rx
            .recv()
            .expect("fixture server thread died")
            .unwrap_or_else(|e| panic!("fixture server cannot bind {ip}: {e}"));
        FixtureServer {
            addr,
            state,
            shutdown: Some(shutdown),
            thread: Some(thread),
        }
    }

    /// Answers `path` (with its query, if the request has one) with `response`.
    pub fn route(&self, path: &str, response: Response) {
        self.route_sequence(path, [response]);
    }

    /// Answers `path` with these responses in turn, repeating the last one:
    /// `[500, 500, 200]` fails twice, then succeeds.
    pub fn route_sequence(&self, path: &str, responses: impl IntoIterator<Item = Response>) {
        let responses: Vec<Response> = responses.into_iter().collect();
        assert!(!responses.is_empty(), "a route needs at least one response");
        let route = Route {
            responses,
            served: 0,
        };
        self.state
            .routes
            .lock()
            .unwrap()
            .insert(path.to_string(), route);
    }

    /// Serves `/robots.txt` with this content.
    pub fn robots(&self, txt: &str) {
        self.route("/robots.txt", Response::ok("text/plain", txt));
    }

    /// Serves unrouted paths from files under `dir`, with a `Content-Type`
    /// from the extension (no charset: the fixture declares its own), an
    /// `ETag` from the content, and 304 when `If-None-Match` matches it.
    pub fn serve_dir(&self, dir: impl Into<PathBuf>) {
        *self.state.dir.lock().unwrap() = Some(dir.into());
    }

    /// Replaces `from` by `to` in every file served from the directory of
    /// [`FixtureServer::serve_dir`] (as bytes, before the `ETag`): a stored
    /// page's `<base href="https://real.host/">` made to point here.
    pub fn rewrite(&self, from: &str, to: &str) {
        self.state
            .rewrites
            .lock()
            .unwrap()
            .push((from.to_string(), to.to_string()));
    }

    /// `http://IP:PORT` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every request received so far, in order of arrival.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.state.requests.lock().unwrap().clone()
    }

    /// The requests received for `path` (path and query).
    pub fn requests_to(&self, path: &str) -> Vec<RecordedRequest> {
        let mut requests = self.requests();
        requests.retain(|r| r.path == path);
        requests
    }
}

impl Drop for FixtureServer {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn accept_loop(listener: TcpListener, state: Arc<State>) {
    while let Ok((stream, _)) = listener.accept().await {
        tokio::spawn(serve_connection(stream, Arc::clone(&state)));
    }
}

async fn serve_connection(mut stream: TcpStream, state: Arc<State>) {
    let Some(request) = read_request(&mut stream).await else {
        return;
    };
    let response = state.respond(&request);
    state.requests.lock().unwrap().push(request.clone());
    let _ = response.write_to(&mut stream, &request.method).await;
}

impl State {
    fn respond(&self, request: &RecordedRequest) -> Response {
        let path_only = request.path.split('?').next().unwrap_or_default();
        let mut routes = self.routes.lock().unwrap();
        let key = if routes.contains_key(&request.path) {
            request.path.as_str()
        } else {
            path_only
        };
        if let Some(route) = routes.get_mut(key) {
            let response = route.responses[route.served.min(route.responses.len() - 1)].clone();
            route.served += 1;
            return response;
        }
        drop(routes);
        let dir = self.dir.lock().unwrap().clone();
        let rewrites = self.rewrites.lock().unwrap().clone();
        dir.and_then(|dir| serve_file(&dir, path_only, request, &rewrites))
            .unwrap_or_else(|| {
                Response::status(404)
                    .header("Content-Type", "text/plain")
                    .body("not found")
            })
    }
}

fn serve_file(
    dir: &Path,
    path: &str,
    request: &RecordedRequest,
    rewrites: &[(String, String)],
) -> Option<Response> {
    let relative = Path::new(path.trim_start_matches('/'));
    if relative
        .components()
        .any(|c| !matches!(c, Component::Normal(_)))
    {
        return None;
    }
    let mut body = std::fs::read(dir.join(relative)).ok()?;
    for (from, to) in rewrites {
        body = replace_bytes(&body, from.as_bytes(), to.as_bytes());
    }
    let etag = format!("\"{:016x}\"", fnv1a(&body));
    if request
        .header("if-none-match")
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"))
    {
        return Some(Response::status(304).header("ETag", &etag));
    }
    let content_type = match relative.extension().and_then(|e| e.to_str()) {
        Some("html" | "htm") => "text/html",
        Some("xml") => "application/xml",
        Some("rss") => "application/rss+xml",
        Some("atom") => "application/atom+xml",
        Some("json") => "application/json",
        Some("txt") => "text/plain",
        Some("ics") => "text/calendar",
        _ => "application/octet-stream",
    };
    Some(Response::ok(content_type, body).header("ETag", &etag))
}

/// `haystack` with every `from` replaced by `to`.
pub fn replace_bytes(haystack: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(haystack.len());
    let mut rest = haystack;
    while let Some(at) = rest.windows(from.len()).position(|w| w == from) {
        out.extend_from_slice(&rest[..at]);
        out.extend_from_slice(to);
        rest = &rest[at + from.len()..];
    }
    out.extend_from_slice(rest);
    out
}

/// FNV-1a: a content hash that is stable across runs and Rust versions.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf29ce484222325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x100000001b3)
    })
}

/// Reads one request: the head up to the blank line, then a body of
/// `Content-Length` bytes (test clients do not send chunked requests).
async fn read_request(stream: &mut TcpStream) -> Option<RecordedRequest> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break end;
        }
        if buffer.len() > 64 * 1024 {
            return None;
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
    };
    let at = Instant::now();
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next()?.split(' ');
    let method = request_line.next()?.to_string();
    let path = request_line.next()?.to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let length = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = buffer[head_end + 4..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some(RecordedRequest {
        method,
        path,
        headers,
        body,
        at,
    })
}
