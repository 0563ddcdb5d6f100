//! Paginated sources across crawls, with real `vigie` processes: conditional
//! GET per page (a 304 on page 1 does not hide a change on page 3), pages
//! stored as they come (a crawl killed midway keeps them, a rerun finishes
//! without duplicates).

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{FixtureServer, Response, Scenario, all_output, listing_source};

/// Calls per generated page.
pub(crate) const PER_PAGE: usize = 4;

/// An HTML listing page `n` of `pages`, linking to the next one; `deadline`
/// is the deadline text of every call on it.
pub(crate) fn html_page(n: usize, pages: usize, deadline: &str, extra: &str) -> String {
    let mut body = String::from("<!doctype html><html lang=\"fr\"><body><main>\n");
    for i in 0..PER_PAGE {
        body.push_str(&format!(
            "<article class=\"call\" data-id=\"p{n}-{i}\"><h2><a href=\"/aap/p{n}-{i}.html\">\
             Appel à projets numéro {i} de la page {n}</a></h2>\
             <p class=\"desc\">Soutien aux collectivités.</p><p class=\"end\">{deadline}</p></article>\n"
        ));
    }
    body.push_str(extra);
    if n < pages {
        body.push_str(&format!(
            "<nav><a rel=\"next\" href=\"/page{}.html\">Suivant</a></nav>\n",
            n + 1
        ));
    }
    body.push_str("</main></body></html>\n");
    body
}

pub(crate) fn html_source(id: &str, server: &FixtureServer) -> String {
    listing_source(
        id,
        &server.url("/page1.html"),
        "next_page = \"a[rel=next] @href\"\nmax_pages = 10\n",
    )
}

/// A JSON API page `n` of `pages`, whose `next` is the next page's URL.
fn json_page(server: &FixtureServer, n: usize, pages: usize, deadline: &str) -> String {
    let results: Vec<Value> = (0..PER_PAGE)
        .map(|i| {
            serde_json::json!({
                "id": format!("p{n}-{i}"),
                "title": format!("Appel à projets numéro {i} de la page {n}"),
                "url": format!("/aap/p{n}-{i}.html"),
                "deadline": deadline,
            })
        })
        .collect();
    let next = (n < pages).then(|| server.url(&format!("/api/p{}.json", n + 1)));
    serde_json::json!({ "results": results, "next": next }).to_string()
}

fn json_source(id: &str, server: &FixtureServer) -> String {
    format!(
        r#"id = "{id}"
name = "API paginée {id}"
kind = "json"
url = "{url}"
schedule = "0 6 * * *"

[defaults]
audiences = ["commune"]
perimeter = "france"
themes = ["numerique"]

[json]
items = "results"

[json.fields]
id = "id"
title = "title"
link = "url"
link_template = "{base}"
deadline = "deadline"

[json.pagination]
next = "next"
"#,
        url = server.url("/api/p1.json"),
        base = server.url("/")
    )
}

pub(crate) fn crawl_json(sc: &Scenario) -> Vec<Value> {
    let out = sc.vigie(&["crawl", "--format", "json"]);
    assert!(out.status.success(), "{}", all_output(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn deadline_of(calls: &[Value], title: &str) -> String {
    calls
        .iter()
        .find(|c| c["title"] == title)
        .unwrap_or_else(|| panic!("no call {title:?}"))["deadline"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// Crawls a 3-page site twice: the second time pages 1 and 2 answer 304
/// and page 3 extends its deadlines and adds a call.
fn a_change_behind_304_pages_is_stored(kind: &str) {
    let server = FixtureServer::start();
    let site = tempfile::tempdir().unwrap();
    let write = |name: &str, body: String| {
        let path = site.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, body).unwrap();
    };
    let (first, later) = ("Date limite : 15 mars 2035", "Date limite : 30 avril 2035");
    let (paths, source): (Vec<String>, String) = if kind == "html" {
        for n in 1..=3 {
            write(&format!("page{n}.html"), html_page(n, 3, first, ""));
        }
        (
            (1..=3).map(|n| format!("/page{n}.html")).collect(),
            html_source("paged", &server),
        )
    } else {
        for n in 1..=3 {
            write(
                &format!("api/p{n}.json"),
                json_page(&server, n, 3, "2035-03-15"),
            );
        }
        (
            (1..=3).map(|n| format!("/api/p{n}.json")).collect(),
            json_source("paged", &server),
        )
    };
    server.serve_dir(site.path());
    let sc = Scenario::new();
    sc.source("paged", &source);

    let report = crawl_json(&sc);
    assert_eq!(report[0]["outcome"], "ok", "{report:#?}");
    assert_eq!(sc.calls(&[]).len(), 3 * PER_PAGE);

    // Page 3 changes: deadlines extended, one call added.
    if kind == "html" {
        let extra = "<article class=\"call\" data-id=\"late\"><h2><a href=\"/aap/late.html\">\
                     AMI ajouté tardivement</a></h2><p class=\"end\">Date limite : 1er juin 2035</p></article>";
        write("page3.html", html_page(3, 3, later, extra));
    } else {
        let mut page: Value =
            serde_json::from_str(&json_page(&server, 3, 3, "2035-04-30")).unwrap();
        page["results"]
            .as_array_mut()
            .unwrap()
            .push(serde_json::json!({
                "id": "late", "title": "AMI ajouté tardivement", "url": "/aap/late.html",
                "deadline": "2035-06-01",
            }));
        write("api/p3.json", page.to_string());
    }
    let report = crawl_json(&sc);
    assert_eq!(report[0]["outcome"], "ok", "{report:#?}");
    assert_eq!(report[0]["pages_not_modified"], 2, "{report:#?}");

    // Pages 1 and 2 were asked conditionally and answered 304.
    for path in &paths[..2] {
        let hits = server.requests_to(path);
        assert_eq!(hits.len(), 2, "{path}");
        assert!(hits[1].header("if-none-match").is_some(), "{path}");
    }
    let calls = sc.calls(&[]);
    assert_eq!(
        calls.len(),
        3 * PER_PAGE + 1,
        "the call added on page 3 is stored"
    );
    assert!(calls.iter().any(|c| c["title"] == "AMI ajouté tardivement"));
    assert!(
        deadline_of(&calls, "Appel à projets numéro 0 de la page 3").starts_with("2035-04-30"),
        "the extension on page 3 is stored"
    );
    assert!(deadline_of(&calls, "Appel à projets numéro 0 de la page 1").starts_with("2035-03-15"));
    // Nothing on the 304 pages was taken for withdrawn.
    assert!(calls.iter().all(|c| c["unlisted"] == false), "{calls:#?}");

    // A third crawl: every page answers 304.
    let report = crawl_json(&sc);
    assert_eq!(report[0]["outcome"], "not_modified", "{report:#?}");
    assert_eq!(report[0]["pages_not_modified"], 3);
}

#[test]
fn a_change_on_page_three_of_a_listing_is_seen_when_page_one_answers_304() {
    a_change_behind_304_pages_is_stored("html");
}

#[test]
fn a_change_on_page_three_of_an_api_is_seen_when_page_one_answers_304() {
    a_change_behind_304_pages_is_stored("json");
}

/// Counts the rows of `table` in the SQLite file, 0 if it cannot be read
/// yet.
fn count(db: &Path, sql: &str) -> i64 {
    rusqlite::Connection::open(db)
        .and_then(|c| c.query_row(sql, [], |r| r.get(0)))
        .unwrap_or(0)
}

/// Starts `vigie crawl --format json` in the background.
pub(crate) fn spawn_crawl(sc: &Scenario) -> Child {
    Command::new(env!("CARGO_BIN_EXE_vigie"))
        .current_dir(sc.dir.path())
        .args(["crawl", "--format", "json", "--config"])
        .arg(sc.path("vigie.toml"))
        .env_remove("VIGIE_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("vigie starts")
}

/// A scenario whose fetch timeout outlasts the slow page.
pub(crate) fn patient_scenario() -> Scenario {
    let sc = Scenario::new();
    let config = std::fs::read_to_string(sc.path("vigie.toml")).unwrap();
    let config = config.replace("timeout_secs = 2\n", "timeout_secs = 60\n");
    std::fs::write(sc.path("vigie.toml"), config).unwrap();
    sc
}

#[test]
fn a_crawl_killed_while_page_four_is_slow_keeps_pages_one_to_three_and_a_rerun_completes() {
    let server = FixtureServer::start();
    let deadline = "Date limite : 15 mars 2035";
    for n in 1..=3 {
        server.route(
            &format!("/page{n}.html"),
            Response::ok_html(html_page(n, 5, deadline, "")),
        );
    }
    server.route(
        "/page4.html",
        Response::ok_html(html_page(4, 5, deadline, "")).delay(Duration::from_secs(50)),
    );
    server.route(
        "/page5.html",
        Response::ok_html(html_page(5, 5, deadline, "")),
    );
    let sc = patient_scenario();
    sc.source("slow", &html_source("slow", &server));

    let mut child = spawn_crawl(&sc);
    let waited = Instant::now();
    let stored = || count(&sc.db(), "SELECT count(*) FROM calls");
    while (server.requests_to("/page4.html").is_empty() || stored() < (3 * PER_PAGE) as i64)
        && waited.elapsed() < Duration::from_secs(20)
    {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        child.try_wait().unwrap().is_none(),
        "the crawl should still be waiting on page 4"
    );
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert_eq!(
        stored(),
        (3 * PER_PAGE) as i64,
        "the calls of pages 1-3 survive the kill"
    );

    // The site is fast again: the rerun takes the dead crawl's lease over
    // at once and finishes the job.
    server.route(
        "/page4.html",
        Response::ok_html(html_page(4, 5, deadline, "")),
    );
    let report = crawl_json(&sc);
    assert_eq!(report[0]["outcome"], "ok", "{report:#?}");
    assert_eq!(report[0]["new"], (2 * PER_PAGE) as u64, "{report:#?}");
    let calls = sc.calls(&[]);
    assert_eq!(calls.len(), 5 * PER_PAGE, "no duplicates: {calls:#?}");
    assert_eq!(
        count(&sc.db(), "SELECT count(*) FROM sightings"),
        (5 * PER_PAGE) as i64
    );
}

#[test]
fn a_deadline_changed_on_a_detail_page_is_seen_while_the_listing_is_unchanged() {
    let server = FixtureServer::start();
    let site = tempfile::tempdir().unwrap();
    let detail = |deadline: &str| {
        format!(
            "<!doctype html><html lang=\"fr\"><body><h1>AAP</h1>\
             <p class=\"date-limite\">Date limite : {deadline}</p></body></html>"
        )
    };
    std::fs::write(site.path().join("page1.html"), html_page(1, 1, "", "")).unwrap();
    std::fs::create_dir(site.path().join("aap")).unwrap();
    for i in 0..PER_PAGE {
        std::fs::write(
            site.path().join(format!("aap/p1-{i}.html")),
            detail("15 mars 2035"),
        )
        .unwrap();
    }
    server.serve_dir(site.path());
    let sc = Scenario::new();
    let source = format!(
        "{}\n[html.detail]\ndeadline = \".date-limite\"\n",
        html_source("details", &server)
    );
    sc.source("details", &source);
    assert_eq!(crawl_json(&sc)[0]["outcome"], "ok");

    std::fs::write(site.path().join("aap/p1-0.html"), detail("30 avril 2035")).unwrap();
    let report = crawl_json(&sc);
    assert_eq!(report[0]["outcome"], "ok", "{report:#?}");
    let calls = sc.calls(&[]);
    assert!(
        deadline_of(&calls, "Appel à projets numéro 0 de la page 1").starts_with("2035-04-30"),
        "{calls:#?}"
    );
}
