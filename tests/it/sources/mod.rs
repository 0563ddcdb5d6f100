//! The real source definitions of `sources/` against fixture copies of
//! their sites (`tests/fixtures/sources/<id>/`): each definition is copied
//! as is into a scenario, only the origin of its `url` is moved to the
//! local fixture server, and the real `vigie crawl` must extract exactly
//! the calls a reader sees on those pages.

use std::path::{Path, PathBuf};

use serde_json::Value;
use url::Url;

use crate::support::{FixtureServer, Response, Scenario, all_output, fixtures, replace_bytes};

mod aides_territoires;
mod eu_funding;
mod fixtures;
mod token_api;

pub(super) fn repo_sources() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("sources")
}

/// `sources/<id>.toml` with the origin of its `url` (and of `[auth]`'s
/// `token_url`) replaced by `server`'s (path and query kept).
pub(super) fn definition_on(id: &str, server: &FixtureServer) -> String {
    definition_at(id, &server.url("/"))
}

/// `sources/<id>.toml` with the origin of its `url` and `token_url`
/// replaced by `origin`'s.
pub(super) fn definition_at(id: &str, origin: &str) -> String {
    let text = std::fs::read_to_string(repo_sources().join(format!("{id}.toml")))
        .unwrap_or_else(|e| panic!("sources/{id}.toml: {e}"));
    let local = Url::parse(origin).unwrap();
    let mut done = false;
    let lines: Vec<String> = text
        .lines()
        .map(|line| {
            let Some((key, raw)) = ["url", "token_url"].iter().find_map(|key| {
                line.strip_prefix(&format!("{key} = \""))
                    .and_then(|r| r.strip_suffix('"'))
                    .map(|raw| (key, raw))
            }) else {
                return line.to_string();
            };
            let mut url = Url::parse(raw).unwrap();
            url.set_scheme(local.scheme()).unwrap();
            url.set_host(local.host_str()).unwrap();
            url.set_port(local.port()).unwrap();
            done |= *key == "url";
            format!("{key} = \"{url}\"")
        })
        .collect();
    assert!(done, "sources/{id}.toml has no top-level url line");
    lines.join("\n") + "\n"
}

pub(super) fn content_type(file: &str) -> &'static str {
    match Path::new(file).extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("json") => "application/json",
        Some("xml") => "application/rss+xml; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// `https://host/` of the top-level `url` of `sources/<id>.toml`.
fn real_origin(id: &str) -> String {
    let text = std::fs::read_to_string(repo_sources().join(format!("{id}.toml"))).unwrap();
    let url = text
        .lines()
        .find_map(|l| l.strip_prefix("url = \"")?.strip_suffix('"'))
        .unwrap_or_else(|| panic!("sources/{id}.toml has no top-level url line"));
    let url = Url::parse(url).unwrap();
    format!("{}/", url.origin().ascii_serialization())
}

/// A fixture server answering each request path (with its query, or the
/// path alone for any query) with a file of `tests/fixtures/sources/<id>/`,
/// and a scenario holding the real definition of `id` pointed at it.
pub(super) fn site(id: &str, routes: &[(&str, &str)]) -> (FixtureServer, Scenario) {
    let server = FixtureServer::start();
    let dir = fixtures(&format!("sources/{id}"));
    // A stored page's `<base href>` on the real site points here, as the
    // definition's own URL does.
    let base = |origin: &str| format!("<base href=\"{origin}");
    let (real, local) = (base(&real_origin(id)), base(&server.url("/")));
    for (path, file) in routes {
        let body = std::fs::read(dir.join(file)).unwrap_or_else(|e| panic!("{id}/{file}: {e}"));
        let body = replace_bytes(&body, real.as_bytes(), local.as_bytes());
        server.route(path, Response::ok(content_type(file), body));
    }
    server.rewrite(&real, &local);
    server.serve_dir(&dir);
    let sc = Scenario::new();
    sc.source(id, &definition_on(id, &server));
    (server, sc)
}

/// `vigie crawl --source id`, which must succeed, then every stored call.
pub(super) fn crawl(sc: &Scenario, id: &str, env: &[(&str, &str)]) -> Vec<Value> {
    let out = sc.vigie_with_env(&["crawl", "--source", id, "--format", "json"], env);
    assert!(out.status.success(), "{}", all_output(&out));
    let mut calls = sc.calls(&[]);
    calls.sort_by(|a, b| a["title"].as_str().cmp(&b["title"].as_str()));
    calls
}

pub(super) fn by_title<'a>(calls: &'a [Value], needle: &str) -> &'a Value {
    calls
        .iter()
        .find(|c| c["title"].as_str().unwrap().contains(needle))
        .unwrap_or_else(|| panic!("no call titled like {needle:?} in {calls:#?}"))
}

pub(super) fn titles(calls: &[Value]) -> Vec<&str> {
    calls.iter().map(|c| c["title"].as_str().unwrap()).collect()
}

#[test]
fn every_real_source_is_valid_and_has_a_fixture_directory() {
    let mut stems: Vec<String> = std::fs::read_dir(repo_sources())
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .map(|p| p.file_stem().unwrap().to_str().unwrap().to_string())
        .collect();
    stems.sort();
    assert!(stems.len() >= 10, "{stems:?}");
    for stem in &stems {
        let fixture = fixtures(&format!("sources/{stem}"));
        let has_files = std::fs::read_dir(&fixture).is_ok_and(|mut d| d.next().is_some());
        assert!(
            has_files,
            "sources/{stem}.toml has no fixture pages in tests/fixtures/sources/{stem}/"
        );
    }

    // `vigie sources check` on a copy of sources/, as a curator runs it.
    let sc = Scenario::new();
    for stem in &stems {
        std::fs::copy(
            repo_sources().join(format!("{stem}.toml")),
            sc.path(&format!("sources/{stem}.toml")),
        )
        .unwrap();
    }
    let out = sc.vigie_with_env(
        &["sources", "check"],
        &[
            ("AIDES_TERRITOIRES_API_KEY", "key-for-check"),
            ("ADEME_AGIR_CLIENT_ID", "client-id-for-check"),
            ("ADEME_AGIR_CLIENT_SECRET", "secret-for-check"),
        ],
    );
    assert!(out.status.success(), "{}", all_output(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    for stem in &stems {
        assert!(
            stdout.contains(&format!("{stem}.toml ({stem}, ")),
            "sources/{stem}.toml is valid and its id is its file name:\n{stdout}"
        );
    }
    assert!(
        !["key-for-check", "client-id-for-check", "secret-for-check"]
            .iter()
            .any(|secret| all_output(&out).contains(secret)),
        "a secret never reaches the output"
    );
}

#[test]
fn ditp_listing_follows_the_dsfr_pagination_to_the_last_page() {
    // The calls themselves are pinned in expected.toml; this checks how the
    // pages are walked.
    let (server, sc) = site(
        "ditp-transformation-publique",
        &[
            ("/actualites", "page-1.html"),
            ("/actualites?page=1", "page-2.html"),
        ],
    );
    let calls = crawl(&sc, "ditp-transformation-publique", &[]);
    assert!(
        titles(&calls)
            .iter()
            .any(|t| t.starts_with("FTAP déconcentré")),
        "a call of page 2 is read: {:#?}",
        titles(&calls)
    );
    assert_eq!(server.requests_to("/actualites").len(), 1);
    assert_eq!(
        server.requests_to("/actualites?page=1").len(),
        1,
        "page 2 is fetched once; its disabled next link ends the crawl"
    );
    assert!(
        server.requests_to("/actualites?page=0").is_empty(),
        "the previous-page links are not followed"
    );
}
