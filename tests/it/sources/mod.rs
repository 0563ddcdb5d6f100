//! The real source definitions of `sources/` against fixture copies of
//! their sites (`tests/fixtures/sources/<id>/`): each definition is copied
//! as is into a scenario, only the origin of its `url` is moved to the
//! local fixture server, and the real `vigie crawl` must extract exactly
//! the calls a reader sees on those pages. A source expanded from a
//! template (`sources/prefectures.toml` → `prefecture-38`) is crawled the
//! same way: the template as is, and its data file reduced to the source's
//! row with the origin of every URL in it moved to the fixture server.

use std::path::{Path, PathBuf};

use serde_json::Value;
use url::Url;

use crate::support::{FixtureServer, Response, Scenario, all_output, fixtures, replace_bytes};

mod aides_territoires;
mod eu_funding;
mod fixtures;
mod templates;
mod token_api;

pub(super) fn repo_sources() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("sources")
}

/// A file of `sources/`: one source, or a template of several.
pub(super) enum SourceFile {
    Plain { id: String },
    Template { path: PathBuf, ids: Vec<String> },
}

/// The files of `sources/`, sorted, each with the ids it defines.
pub(super) fn source_files() -> Vec<SourceFile> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(repo_sources())
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            if vigie::source::template::is_template(&text) {
                let (defs, errors) = vigie::source::load_path(&path);
                assert!(errors.is_empty(), "{}: {errors:?}", path.display());
                let ids = defs.iter().map(|d| d.id.to_string()).collect();
                SourceFile::Template { path, ids }
            } else {
                let id = path.file_stem().unwrap().to_str().unwrap().to_string();
                SourceFile::Plain { id }
            }
        })
        .collect()
}

/// Every id the shipped sources define, templates expanded, sorted.
pub(super) fn shipped_ids() -> Vec<String> {
    let mut ids: Vec<String> = source_files()
        .into_iter()
        .flat_map(|f| match f {
            SourceFile::Plain { id } => vec![id],
            SourceFile::Template { ids, .. } => ids,
        })
        .collect();
    ids.sort();
    ids
}

/// Writes into `sc` the template of `sources/` that expands to `id`, with
/// its data file reduced to `id`'s row and every URL of that row moved to
/// `origin`. False when no template defines `id`.
pub(super) fn template_source_at(sc: &Scenario, id: &str, origin: &str) -> bool {
    let Some(path) = source_files().into_iter().find_map(|f| match f {
        SourceFile::Template { path, ids } if ids.iter().any(|i| i == id) => Some(path),
        _ => None,
    }) else {
        return false;
    };
    let (defs, _) = vigie::source::load_path(&path);
    let def = defs.iter().find(|d| d.id.as_str() == id).unwrap();
    let row = def.template.as_ref().unwrap();
    let local = Url::parse(origin).unwrap();
    let data = std::fs::read_to_string(&row.data).unwrap();
    let mut reader = csv::ReaderBuilder::new()
        .comment(Some(b'#'))
        .trim(csv::Trim::All)
        .from_reader(data.as_bytes());
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(reader.headers().unwrap()).unwrap();
    for record in reader.records() {
        let record = record.unwrap();
        if record.position().unwrap().line() != row.line {
            continue;
        }
        let moved: Vec<String> = record
            .iter()
            .map(|cell| match Url::parse(cell) {
                Ok(mut url) if url.has_host() => {
                    url.set_scheme(local.scheme()).unwrap();
                    url.set_host(local.host_str()).unwrap();
                    url.set_port(local.port()).unwrap();
                    url.as_str().trim_end_matches('/').to_string()
                }
                _ => cell.to_string(),
            })
            .collect();
        out.write_record(&moved).unwrap();
    }
    let rel = row.data.strip_prefix(repo_sources()).unwrap();
    let target = sc.path("sources").join(rel);
    std::fs::create_dir_all(target.parent().unwrap()).unwrap();
    std::fs::write(&target, out.into_inner().unwrap()).unwrap();
    let name = path.file_name().unwrap().to_str().unwrap();
    std::fs::copy(&path, sc.path(&format!("sources/{name}"))).unwrap();
    true
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

/// `https://host/` of the top-level `url` of `sources/<id>.toml`; `None`
/// for a template's source (its URL is per row).
fn real_origin(id: &str) -> Option<String> {
    let text = std::fs::read_to_string(repo_sources().join(format!("{id}.toml"))).ok()?;
    let url = text
        .lines()
        .find_map(|l| l.strip_prefix("url = \"")?.strip_suffix('"'))
        .unwrap_or_else(|| panic!("sources/{id}.toml has no top-level url line"));
    let url = Url::parse(url).unwrap();
    Some(format!("{}/", url.origin().ascii_serialization()))
}

/// A fixture server answering each request path (with its query, or the
/// path alone for any query) with a file of `tests/fixtures/sources/<id>/`,
/// and a scenario holding the real definition of `id` pointed at it.
pub(super) fn site(id: &str, routes: &[(&str, &str)]) -> (FixtureServer, Scenario) {
    site_with(id, routes, false)
}

/// [`site`]; with `mirror`, every absolute address on the definition's
/// origin in the fixture files (not only a `<base href>`) points here: a
/// site whose listing links to its own pages with absolute addresses
/// (WordPress) is then served whole, detail pages included.
pub(super) fn site_with(
    id: &str,
    routes: &[(&str, &str)],
    mirror: bool,
) -> (FixtureServer, Scenario) {
    let server = FixtureServer::start();
    let dir = fixtures(&format!("sources/{id}"));
    // A stored page's `<base href>` on the real site points here, as the
    // definition's own URL does.
    let base = |origin: &str| {
        if mirror {
            origin.to_string()
        } else {
            format!("<base href=\"{origin}")
        }
    };
    let real = real_origin(id).map_or_else(|| "\0no base\0".to_string(), |o| base(&o));
    let local = base(&server.url("/"));
    for (path, file) in routes {
        let body = std::fs::read(dir.join(file)).unwrap_or_else(|e| panic!("{id}/{file}: {e}"));
        let body = replace_bytes(&body, real.as_bytes(), local.as_bytes());
        server.route(path, Response::ok(content_type(file), body));
    }
    server.rewrite(&real, &local);
    server.serve_dir(&dir);
    let sc = Scenario::new();
    if !template_source_at(&sc, id, &server.url("/")) {
        sc.source(id, &definition_on(id, &server));
    }
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
    let files = source_files();
    assert!(files.len() >= 10);
    let has_fixture = |id: &str| {
        let fixture = fixtures(&format!("sources/{id}"));
        std::fs::read_dir(&fixture).is_ok_and(|mut d| d.next().is_some())
    };
    for file in &files {
        match file {
            SourceFile::Plain { id } => assert!(
                has_fixture(id),
                "sources/{id}.toml has no fixture pages in tests/fixtures/sources/{id}/"
            ),
            // One fixture site stands for the rows of a template.
            SourceFile::Template { path, ids } => assert!(
                ids.iter().any(|id| has_fixture(id)),
                "{} expands to {} sources, none with fixture pages in tests/fixtures/sources/<id>/",
                path.display(),
                ids.len()
            ),
        }
    }

    // `vigie sources check` on a copy of sources/ (data files included), as
    // a curator runs it.
    let sc = Scenario::new();
    copy_dir(&repo_sources(), &sc.path("sources"));
    let out = sc.vigie_with_env(
        &["sources", "check"],
        &[
            ("AIDES_TERRITOIRES_API_KEY", "key-for-check"),
            ("ADEME_AGIR_CLIENT_ID", "client-id-for-check"),
            ("ADEME_AGIR_CLIENT_SECRET", "secret-for-check"),
            ("MANCHE_API_BASIC", "basic-for-check"),
        ],
    );
    assert!(out.status.success(), "{}", all_output(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    for file in &files {
        match file {
            SourceFile::Plain { id } => assert!(
                stdout.contains(&format!("{id}.toml ({id}, ")),
                "sources/{id}.toml is valid and its id is its file name:\n{stdout}"
            ),
            SourceFile::Template { path, ids } => {
                let name = path.file_name().unwrap().to_str().unwrap();
                for id in ids {
                    assert!(
                        stdout.contains(&format!("{name} ({id}, ")),
                        "{id} of sources/{name} is listed:\n{stdout}"
                    );
                }
            }
        }
    }
    assert!(
        !["key-for-check", "client-id-for-check", "secret-for-check"]
            .iter()
            .any(|secret| all_output(&out).contains(secret)),
        "a secret never reaches the output"
    );
}

/// Copies the files of `from` (and of its subfolders) into `to`.
pub(super) fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).unwrap();
        }
    }
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
