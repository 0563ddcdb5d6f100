//! The public web served in-process on loopback for HTTP-level tests: a
//! [`Scenario`] whose catalogue was filled by a real crawl of a fixture
//! source, and `vigie::web::router` on `127.0.0.1:0` over that SQLite file.
//! Requests go through reqwest like any client's.

use std::sync::Arc;

use reqwest::header::HeaderMap;

use super::{FixtureServer, Response, Scenario, text};

pub struct Site {
    pub sc: Scenario,
    pub fixtures: FixtureServer,
    pub base: String,
    runtime: tokio::runtime::Runtime,
    client: reqwest::Client,
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
}

/// An HTML source named `demo` reading `article.call` items (the selectors
/// of `crawl/listing.html`), for perimeter France and every audience.
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
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let state =
            vigie::web::WebState::new(sc.db(), Arc::new(config), Arc::new(chrono::Utc::now))
                .expect("web state");
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        runtime.spawn(async move {
            axum::serve(listener, vigie::web::router(state))
                .await
                .unwrap();
        });
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Site {
            sc,
            fixtures,
            base,
            runtime,
            client,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// `GET path` with extra request headers.
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

    pub fn send(&self, req: reqwest::RequestBuilder) -> Reply {
        self.runtime.block_on(async {
            let resp = req.send().await.expect("the web answers");
            let status = resp.status().as_u16();
            let headers = resp.headers().clone();
            let body = resp.text().await.expect("a body");
            Reply {
                status,
                headers,
                body,
            }
        })
    }

    /// The call ids in the catalogue, by `vigie calls --format json`.
    pub fn call_ids(&self) -> Vec<i64> {
        self.sc
            .calls(&[])
            .iter()
            .map(|c| c["id"].as_i64().expect("an id"))
            .collect()
    }
}
