//! Every shipped source against its fixture pages, driven by data: each
//! `tests/fixtures/sources/<id>/expected.toml` says what the fixture is
//! based on, which file answers which request, and every call a reader sees
//! on those pages. The real definition (only its origin moved to a local
//! server) is crawled by the real `vigie crawl`, and the stored calls must
//! be exactly those: same number, titles, links and deadlines, plus any
//! other field the file pins.
//!
//! ```toml
//! based_on = "What the pages' structure follows (stored copies, API docs...)"
//! mirror = true               # absolute links to the definition's origin
//!                             # are served here too (default: only <base href>)
//!
//! [env]                       # secrets the definition reads
//! EXAMPLE_TOKEN = "test-token"
//!
//! [routes]                    # request path (and query) → file; other
//! "/api/aids/?page=2" = "page-2.json"   # paths are served from the folder
//!
//! [[calls]]
//! title = "Appel à projets « Archives numériques » 2026"
//! url = "/appels/archives-numeriques"   # "/…": on the fixture server; "" = no link
//! deadline = "2026-03-31T23:59:00+02:00" # as `calls --format json` prints; "" = none
//! perimeter = "region:76"                # any other key: that JSON field, exactly
//! themes = ["numerique"]                 # themes: these at least
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use super::site_with;
use crate::support::{all_output, fixtures};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expected {
    based_on: String,
    #[serde(default)]
    mirror: bool,
    #[serde(default)]
    env: BTreeMap<String, String>,
    #[serde(default)]
    routes: BTreeMap<String, String>,
    #[serde(default)]
    calls: Vec<ExpectedCall>,
}

#[derive(Debug, Deserialize)]
struct ExpectedCall {
    title: String,
    url: String,
    deadline: String,
    #[serde(flatten)]
    other: BTreeMap<String, toml::Value>,
}

fn expected_of(id: &str) -> Option<Expected> {
    let path = fixtures(&format!("sources/{id}")).join("expected.toml");
    let text = std::fs::read_to_string(&path).ok()?;
    let expected: Expected =
        toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Some(expected)
}

/// The ids of the shipped sources (templates expanded), sorted.
pub(super) fn source_ids() -> Vec<String> {
    super::shipped_ids()
}

fn json_of(value: &toml::Value) -> Value {
    serde_json::to_value(value).unwrap()
}

/// Crawls `id` from its fixtures; the list of what differs from
/// `expected` (empty when the source extracts exactly its calls).
fn check_source(id: &str, expected: &Expected) -> Vec<String> {
    let mut problems = Vec::new();
    if expected.based_on.trim().len() < 20 {
        problems.push("based_on must say what the fixture follows".to_string());
    }
    let routes: Vec<(&str, &str)> = expected
        .routes
        .iter()
        .map(|(path, file)| (path.as_str(), file.as_str()))
        .collect();
    let (server, sc) = site_with(id, &routes, expected.mirror);
    let env: Vec<(&str, &str)> = expected
        .env
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let out = sc.vigie_with_env(&["crawl", "--source", id, "--format", "json"], &env);
    if !out.status.success() {
        return vec![format!("crawl failed: {}", all_output(&out))];
    }
    let calls = sc.calls(&[]);
    if calls.len() != expected.calls.len() {
        let stored: Vec<String> = calls
            .iter()
            .map(|c| format!("  {} | {} | {}", c["title"], c["url"], c["deadline"]))
            .collect();
        problems.push(format!(
            "{} calls stored, {} expected (title | url | deadline):\n{}",
            calls.len(),
            expected.calls.len(),
            stored.join("\n")
        ));
    }
    let local = |url: &str| -> Value {
        match url {
            "" => Value::Null,
            u if u.starts_with('/') => Value::String(server.url(u)),
            u => Value::String(u.to_string()),
        }
    };
    for want in &expected.calls {
        let Some(got) = calls.iter().find(|c| c["title"] == want.title.as_str()) else {
            problems.push(format!("no call titled {:?}", want.title));
            continue;
        };
        let mut check = |field: &str, wanted: Value| {
            let found = &got[field];
            let ok = if field == "themes" {
                let have = found.as_array().cloned().unwrap_or_default();
                wanted
                    .as_array()
                    .is_some_and(|w| w.iter().all(|t| have.contains(t)))
            } else {
                *found == wanted
            };
            if !ok {
                problems.push(format!(
                    "{:?}: {field} is {found}, expected {wanted}",
                    want.title
                ));
            }
        };
        check("url", local(&want.url));
        let deadline = match want.deadline.as_str() {
            "" => Value::Null,
            d => Value::String(d.to_string()),
        };
        check("deadline", deadline);
        for (field, value) in &want.other {
            check(field, json_of(value));
        }
    }
    problems
}

/// `VIGIE_FIXTURE_SOURCES=id,id` narrows the run to those sources while a
/// definition is being written; the completeness check then stays quiet.
fn wanted_ids() -> Option<Vec<String>> {
    let list = std::env::var("VIGIE_FIXTURE_SOURCES").ok()?;
    Some(
        list.split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect(),
    )
}

#[test]
fn every_shipped_source_extracts_exactly_its_fixture_calls() {
    let wanted = wanted_ids();
    let (ids, missing): (Vec<_>, Vec<_>) = source_ids()
        .into_iter()
        .filter(|id| wanted.as_ref().is_none_or(|w| w.contains(id)))
        .map(|id| (expected_of(&id), id))
        .partition(|(expected, _)| expected.is_some());
    // A template's expansions need one fixture site per template, which
    // `every_real_source_is_valid_and_has_a_fixture_directory` checks.
    let missing: Vec<String> = missing
        .into_iter()
        .map(|(_, id)| id)
        .filter(|id| super::repo_sources().join(format!("{id}.toml")).exists())
        .collect();
    assert!(
        missing.is_empty(),
        "every shipped source says what its fixture holds: no \
         tests/fixtures/sources/<id>/expected.toml for {missing:?}"
    );
    let ids: Vec<(String, Expected)> = ids
        .into_iter()
        .map(|(expected, id)| (id, expected.unwrap()))
        .collect();
    assert!(!ids.is_empty());
    // A few crawls at a time: each is a process with its own fixture server.
    let failures: Vec<String> = std::thread::scope(|scope| {
        let chunks: Vec<_> = ids.chunks(ids.len().div_ceil(4)).collect();
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| {
                scope.spawn(move || {
                    chunk
                        .iter()
                        .flat_map(|(id, expected)| {
                            check_source(id, expected)
                                .into_iter()
                                .map(move |p| format!("sources/{id}.toml: {p}"))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_fixture_expectation_belongs_to_a_shipped_source() {
    let ids = source_ids();
    let dir = fixtures("sources");
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        if Path::new(&path).join("expected.toml").exists() {
            assert!(
                ids.contains(&name),
                "tests/fixtures/sources/{name}/expected.toml has no sources/{name}.toml \
                 and no template row expanding to `{name}`"
            );
        }
    }
}
