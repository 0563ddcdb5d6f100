//! The public web served in-process on loopback for HTTP-level tests: a
//! [`Scenario`] whose catalogue was filled by a real crawl of a fixture
//! source, and `vigie::web::router` on `127.0.0.1:0` over that SQLite file.
//! Requests go through reqwest like any client's ([`Http`]).

use std::sync::{Arc, Mutex};

use reqwest::header::HeaderMap;

use super::{FixtureServer, Response, Scenario, text};

pub struct Site {
    pub sc: Scenario,
    pub fixtures: FixtureServer,
    pub base: String,
    pub http: Http,
}

/// A small HTTP client for tests: no redirects followed, and like a
/// browser it keeps the cookies the site sets (the CSRF cookie).
pub struct Http {
    pub base: String,
    runtime: tokio::runtime::Runtime,
    client: reqwest::Client,
    cookies: Mutex<Vec<(String, String)>>,
}

/// One answer, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The value of the hidden CSRF field of the page's (first) form.
    pub fn csrf(&self) -> String {
        self.body
            .split("name=\"csrf\" value=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .expect("a form with a CSRF field")
            .to_string()
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

impl Http {
    pub fn new(base: String) -> Http {
        Http::with_runtime(base, runtime())
    }

    fn with_runtime(base: String, runtime: tokio::runtime::Runtime) -> Http {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            // Tests see the encoding the server chose, not a decoded body.
            .no_gzip()
            .build()
            .unwrap();
        Http {
            base,
            runtime,
            client,
            cookies: Mutex::new(Vec::new()),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Forgets the cookies (another visitor).
    pub fn clear_cookies(&self) {
        self.cookies.lock().unwrap().clear();
    }

    pub fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Reply {
        let mut req = self.client.get(self.url(path));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        self.send(req)
    }

    pub fn get(&self, path: &str) -> Reply {
        self.get_with(path, &[])
    }

    /// `POST path` with a form body.
    pub fn post_form(&self, path: &str, form: &[(&str, &str)], headers: &[(&str, &str)]) -> Reply {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let mut req = self
            .client
            .post(self.url(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        self.send(req)
    }

    pub fn send(&self, mut req: reqwest::RequestBuilder) -> Reply {
        let cookie = self
            .cookies
            .lock()
            .unwrap()
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        if !cookie.is_empty() {
            req = req.header("cookie", cookie);
        }
        let reply = self.runtime.block_on(async {
            let resp = req.send().await.expect("the web answers");
            let status = resp.status().as_u16();
            let headers = resp.headers().clone();
            let body = resp.text().await.expect("a body");
            Reply {
                status,
                headers,
                body,
            }
        });
        let mut jar = self.cookies.lock().unwrap();
        for set in reply.headers.get_all("set-cookie") {
            let Some((k, v)) = set
                .to_str()
                .ok()
                .and_then(|s| s.split(';').next())
                .and_then(|kv| kv.split_once('='))
            else {
                continue;
            };
            jar.retain(|(name, _)| name != k);
            jar.push((k.to_string(), v.to_string()));
        }
        drop(jar);
        reply
    }
}

/// An HTML source named `demo` reading `article.call` items (the selectors
/// of `crawl/listing.html`), for perimeter France, communes and EPCIs.
pub fn source_toml(url: &str) -> String {
    format!(
        r#"id = "demo"
name = "Financeur de démonstration"
kind = "html"
url = "{url}"
funder = "Agence de démonstration"
schedule = "0 6 * * *"

[defaults]
audiences = ["commune", "epci"]
perimeter = "france"
themes = ["numerique"]

[html]
item = "article.call"
id = "@data-id"
title = "h2 a"
link = "h2 a @href"
summary = "p.desc"
deadline = "p.end"
"#
    )
}

/// A listing of `n` calls "Appel à projets numéro i" closing in March
/// 2035 on `days` distinct days (few days: ties in the sort key).
pub fn numbered_listing(n: usize, days: usize) -> String {
    let mut html = String::from("<!doctype html><html lang=\"fr\"><body><main>");
    for i in 0..n {
        html.push_str(&format!(
            "<article class=\"call\" data-id=\"c{i}\"><h2><a href=\"/c/{i}.html\">Appel à projets numéro {i}</a></h2>\
             <p class=\"desc\">Projet {i}.</p><p class=\"end\">Date limite : {d} mars 2035</p></article>",
            d = 1 + i % days.max(1)
        ));
    }
    html.push_str("</main></body></html>");
    html
}

impl Site {
    /// Crawls `listing` (HTML served at `/appels.html`) with the `demo`
    /// source, then serves the web on the resulting catalogue.
    pub fn crawled(listing: impl Into<Vec<u8>>) -> Site {
        Site::crawled_with(listing, source_toml)
    }

    /// Like [`Site::crawled`] with another source definition (given the
    /// listing's URL).
    pub fn crawled_with(listing: impl Into<Vec<u8>>, toml: impl Fn(&str) -> String) -> Site {
        let sc = Scenario::new();
        let fixtures = FixtureServer::start();
        fixtures.route("/appels.html", Response::ok_html(listing));
        sc.source("demo", &toml(&fixtures.url("/appels.html")));
        let out = sc.vigie(&["crawl"]);
        assert!(
            out.status.success(),
            "the crawl failed: {}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        Site::serve(sc, fixtures)
    }

    /// Serves the web over the scenario's (already migrated) database.
    pub fn serve(sc: Scenario, fixtures: FixtureServer) -> Site {
        // Server-side errors (a template that fails) show in the test's output.
        let _ = tracing_subscriber::fmt().with_test_writer().try_init();
        let mut config = vigie::config::Config::load(Some(&sc.path("vigie.toml"))).expect("config");
        config.digest.site_url = "https://vigie.example.fr".into();
        let runtime = runtime();
        let state =
            vigie::web::WebState::new(sc.db(), Arc::new(config), Arc::new(chrono::Utc::now))
                .expect("web state");
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        runtime.spawn(async move {
            let app = vigie::web::router(state)
                .into_make_service_with_connect_info::<std::net::SocketAddr>();
            axum::serve(listener, app).await.unwrap();
        });
        let http = Http::with_runtime(base.clone(), runtime);
        Site {
            sc,
            fixtures,
            base,
            http,
        }
    }

    pub fn url(&self, path: &str) -> String {
        self.http.url(path)
    }

    pub fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Reply {
        self.http.get_with(path, headers)
    }

    pub fn get(&self, path: &str) -> Reply {
        self.http.get(path)
    }

    pub fn post_form(&self, path: &str, form: &[(&str, &str)], headers: &[(&str, &str)]) -> Reply {
        self.http.post_form(path, form, headers)
    }

    /// The call ids in the catalogue, by `vigie calls --format json`.
    pub fn call_ids(&self) -> Vec<i64> {
        self.sc
            .calls(&[])
            .iter()
            .map(|c| c["id"].as_i64().expect("an id"))
            .collect()
    }

    /// The emails queued in the outbox so far: (recipient, subject, raw
    /// RFC 5322 message), oldest first.
    pub fn outbox(&self) -> Vec<(String, String, String)> {
        let conn = rusqlite::Connection::open(self.sc.db()).unwrap();
        let mut stmt = conn
            .prepare("SELECT recipient, message FROM outbox ORDER BY id")
            .unwrap();
        stmt.query_map([], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?))
        })
        .unwrap()
        .map(|r| {
            let (to, raw) = r.unwrap();
            let parsed = mail_parser::MessageParser::default()
                .parse(&raw)
                .expect("a message");
            let subject = parsed.subject().unwrap_or("").to_string();
            let body = parsed
                .body_text(0)
                .map(|b| b.into_owned())
                .unwrap_or_default();
            (to, subject, body)
        })
        .collect()
    }
}

/// The first link of `text` under `path_prefix` (as a path, without the
/// site's base).
pub fn link_in(text: &str, path_prefix: &str) -> Option<String> {
    let start = text.find(path_prefix)?;
    let rest = &text[start..];
    let end = rest
        .find(|c: char| c.is_whitespace() || matches!(c, '"' | '<' | '>' | ','))
        .unwrap_or(rest.len());
    Some(rest[..end].to_string())
}
