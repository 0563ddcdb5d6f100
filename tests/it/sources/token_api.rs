//! A real HTTP server on loopback that behaves like an API with key → token
//! authentication, as Aides-territoires does: `POST /api/connexion/` with
//! the right `X-AUTH-TOKEN` answers `{"token": …}` (a new token each
//! time), a wrong key answers 401; every other path wants
//! `Authorization: Bearer <token>` with a token it issued and has not
//! expired, else answers 401 like the API (`Expired JWT Token`), and then
//! serves the file routed to that path and query. Tests can expire every
//! token (`expire_all`) as time passing would.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// One request as received.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    /// Header names lowercased.
    pub headers: Vec<(String, String)>,
    pub status: u16,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
struct State {
    key: String,
    /// Tokens issued and still accepted.
    valid: Vec<String>,
    issued: u32,
    routes: HashMap<String, Vec<u8>>,
    seen: Vec<Seen>,
    /// Every token is refused, even a valid one.
    refuse: bool,
}

pub struct TokenApi {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl TokenApi {
    /// A server that accepts the key `key`.
    pub fn start(key: &str) -> TokenApi {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State {
            key: key.to_string(),
            ..State::default()
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let (st, sp) = (Arc::clone(&state), Arc::clone(&stop));
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if sp.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(stream) = stream {
                    serve(stream, &st);
                }
            }
        });
        TokenApi {
            addr,
            state,
            stop,
            thread: Some(thread),
        }
    }

    /// Serves `body` at `path` (with its query) to authorized requests.
    pub fn route(&self, path: &str, body: Vec<u8>) {
        self.state
            .lock()
            .unwrap()
            .routes
            .insert(path.to_string(), body);
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Every token issued so far stops being accepted.
    pub fn expire_all(&self) {
        self.state.lock().unwrap().valid.clear();
    }

    /// From now on the token endpoint takes `key` instead (the account's
    /// key was replaced).
    pub fn set_key(&self, key: &str) {
        self.state.lock().unwrap().key = key.to_string();
    }

    /// From now on the API refuses every token.
    pub fn refuse_tokens(&self) {
        self.state.lock().unwrap().refuse = true;
    }

    /// How many tokens were issued.
    pub fn exchanges(&self) -> u32 {
        self.state.lock().unwrap().issued
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.state.lock().unwrap().seen.clone()
    }

    /// The requests to the API itself (neither the token endpoint nor robots.txt).
    pub fn api_requests(&self) -> Vec<Seen> {
        let mut seen = self.seen();
        seen.retain(|s| s.path.starts_with("/api/aids/"));
        seen
    }

    /// Every token issued, for checking that none is printed.
    pub fn tokens(&self) -> Vec<String> {
        let state = self.state.lock().unwrap();
        (1..=state.issued).map(token_of).collect()
    }
}

impl Drop for TokenApi {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The `n`th token: looks like a JWT, unique, easy to find in output.
fn token_of(n: u32) -> String {
    format!("eyJhbGciOiJSUzI1NiJ9.dGVzdC10b2tlbi0{n:04}.c2lnbmF0dXJl")
}

fn serve(stream: TcpStream, state: &Mutex<State>) {
    let mut reader = BufReader::new(&stream);
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let mut parts = line.split_whitespace();
    let (method, path) = match (parts.next(), parts.next()) {
        (Some(m), Some(p)) => (m.to_string(), p.to_string()),
        _ => return,
    };
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).is_err() || h.trim().is_empty() {
            break;
        }
        if let Some((n, v)) = h.split_once(':') {
            headers.push((n.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    let _ = reader.read_exact(&mut body);

    let mut state = state.lock().unwrap();
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    let (status, reply) = if path == "/robots.txt" {
        (404, b"{}".to_vec())
    } else if path == "/api/connexion/" {
        if method == "POST" && header("x-auth-token").as_deref() == Some(state.key.as_str()) {
            state.issued += 1;
            let token = token_of(state.issued);
            state.valid.push(token.clone());
            (
                200,
                serde_json::json!({ "token": token })
                    .to_string()
                    .into_bytes(),
            )
        } else {
            (401, br#"{"message":"User not found"}"#.to_vec())
        }
    } else {
        let bearer = header("authorization");
        let token = bearer.as_deref().and_then(|b| b.strip_prefix("Bearer "));
        match token {
            Some(t) if !state.refuse && state.valid.iter().any(|v| v == t) => {
                match state.routes.get(&path) {
                    Some(body) => (200, body.clone()),
                    None => (404, br#"{"detail":"Not found"}"#.to_vec()),
                }
            }
            Some(_) => (
                401,
                br#"{"code":401,"message":"Expired JWT Token"}"#.to_vec(),
            ),
            None => (
                401,
                br#"{"code":401,"message":"JWT Token not found"}"#.to_vec(),
            ),
        }
    };
    state.seen.push(Seen {
        method,
        path,
        headers,
        status,
    });
    drop(state);
    let head = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        reply.len()
    );
    let mut stream = stream;
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(&reply);
    let _ = stream.flush();
}
