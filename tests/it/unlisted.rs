//! The `unlisted` lifecycle end to end: a call a source stops listing is
//! flagged (with the date it was last seen) after a complete crawl, comes
//! back when it reappears, is never flagged by a failed or empty crawl,
//! stays listed while another source lists it, and leaves the digests.

use chrono::Utc;
use serde_json::Value;

use crate::support::{FixtureServer, Response, Scenario, all_output, listing_source};

/// A listing of the calls `ids` (each `id` gives a distinct call).
fn listing(ids: &[&str]) -> String {
    let mut body = String::from("<!doctype html><html lang=\"fr\"><body><main>\n");
    for id in ids {
        body.push_str(&format!(
            "<article class=\"call\" data-id=\"{id}\"><h2><a href=\"/aap/{id}.html\">\
             Appel à projets {id} pour les communes</a></h2>\
             <p class=\"end\">Date limite : 15 mars 2035</p></article>\n"
        ));
    }
    body.push_str("</main></body></html>\n");
    body
}

fn source(id: &str, server: &FixtureServer, path: &str) -> String {
    listing_source(id, &server.url(path), "")
}

fn crawl(sc: &Scenario) -> (bool, Vec<Value>) {
    let out = sc.vigie(&["crawl", "--format", "json"]);
    let report = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("crawl printed no JSON: {}", all_output(&out)));
    (out.status.success(), report)
}

fn unlisted_titles(sc: &Scenario) -> Vec<String> {
    let mut titles: Vec<String> = sc
        .calls(&["--unlisted"])
        .iter()
        .map(|c| c["title"].as_str().unwrap().to_string())
        .collect();
    titles.sort();
    titles
}

#[test]
fn a_call_no_longer_listed_is_flagged_after_a_complete_crawl_and_comes_back() {
    let server = FixtureServer::start();
    server.route_sequence(
        "/aap",
        [
            Response::ok_html(listing(&["a", "b", "c"])),
            Response::ok_html(listing(&["a", "b"])),
            // The source breaks, then its page parses to nothing, while
            // `b` is gone too: neither crawl may flag it. (The fetcher
            // tries a 500 twice with the tests' `retries = 1`.)
            Response::status(500),
            Response::status(500),
            Response::ok_html(
                "<!doctype html><html><body><p>Site en maintenance</p></body></html>",
            ),
            Response::ok_html(listing(&["a", "b", "c"])),
        ],
    );
    let sc = Scenario::new();
    sc.source("site", &source("site", &server, "/aap"));

    assert!(crawl(&sc).0);
    assert!(sc.calls(&[]).iter().all(|c| c["unlisted"] == false));

    let (ok, report) = crawl(&sc);
    assert!(ok, "{report:#?}");
    assert_eq!(report[0]["unlisted"], 1, "{report:#?}");
    assert_eq!(
        unlisted_titles(&sc),
        ["Appel à projets c pour les communes"]
    );
    let c = sc.calls(&["--unlisted"]).pop().unwrap();
    assert!(c["last_listed"].as_str().is_some(), "{c:#}");
    assert_eq!(sc.calls(&["--listed"]).len(), 2);
    let shown = sc.vigie(&["calls", "show", &c["id"].to_string()]);
    assert!(
        String::from_utf8_lossy(&shown.stdout).contains("no longer listed (last seen"),
        "{}",
        all_output(&shown)
    );

    // The unlisted call leaves the digests' catalogue.
    {
        let store = vigie::store::Store::open(&sc.db()).unwrap();
        let catalogue = vigie::digest::Catalogue::load(&store, Utc::now()).unwrap();
        let ids: Vec<i64> = catalogue.calls().iter().map(|c| c.id).collect();
        assert_eq!(ids.len(), 2, "{ids:?}");
        assert!(!ids.contains(&c["id"].as_i64().unwrap()));
    }

    let (ok, report) = crawl(&sc);
    assert!(!ok);
    assert_eq!(report[0]["outcome"], "failed");
    assert_eq!(report[0]["error_code"], "http_500", "{report:#?}");
    assert_eq!(
        unlisted_titles(&sc),
        ["Appel à projets c pour les communes"]
    );

    let (ok, report) = crawl(&sc);
    assert!(!ok);
    assert_eq!(report[0]["error_code"], "layout_changed", "{report:#?}");
    assert_eq!(
        unlisted_titles(&sc),
        ["Appel à projets c pour les communes"]
    );

    let (ok, report) = crawl(&sc);
    assert!(ok, "{report:#?}");
    assert!(unlisted_titles(&sc).is_empty(), "c is listed again");
    assert_eq!(sc.calls(&[]).len(), 3);

    // The runs' codes are stored for alerts.
    let db = rusqlite::Connection::open(sc.db()).unwrap();
    let codes: Vec<Option<String>> = db
        .prepare("SELECT error_code FROM crawl_runs ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        codes,
        [
            None,
            None,
            Some("http_500".into()),
            Some("layout_changed".into()),
            None
        ]
    );
}

#[test]
fn a_call_another_source_still_lists_is_not_unlisted() {
    let server = FixtureServer::start();
    server.route_sequence(
        "/one",
        [
            Response::ok_html(listing(&["a", "shared"])),
            Response::ok_html(listing(&["a"])),
        ],
    );
    server.route("/two", Response::ok_html(listing(&["shared", "z"])));
    let sc = Scenario::new();
    sc.source("one", &source("one", &server, "/one"));
    sc.source("two", &source("two", &server, "/two"));
    assert!(crawl(&sc).0);
    let shared: Vec<Value> = sc
        .calls(&[])
        .into_iter()
        .filter(|c| c["title"].as_str().unwrap().contains("shared"))
        .collect();
    assert_eq!(
        shared.len(),
        1,
        "one call seen by both sources: {shared:#?}"
    );

    let (ok, report) = crawl(&sc);
    assert!(ok, "{report:#?}");
    let one = report.iter().find(|r| r["source"] == "one").unwrap();
    assert_eq!(one["unlisted"], 1, "source one's sighting is flagged");
    assert!(
        unlisted_titles(&sc).is_empty(),
        "source two still lists the call"
    );
}

/// A listing that keeps a call with a closed marker: the call is not taken
/// for an open one (a new call is not stored, a stored one stops being
/// listed) and the crawl says why; so are results and job offers that a
/// listing of calls carries.
#[test]
fn a_call_its_listing_marks_closed_is_not_kept_as_open() {
    let closed = |mark: &str| {
        listing(&["a", "b"]).replace(
            "Appel à projets b pour les communes",
            &format!("Appel à projets b pour les communes {mark}"),
        )
    };
    let server = FixtureServer::start();
    server.route_sequence(
        "/aap",
        [
            Response::ok_html(listing(&["a", "b"])),
            Response::ok_html(closed("(clôturé)")),
        ],
    );
    // `other` also lists the results of a past call and a job offer.
    let other_page = closed("– CLOS").replace(
        "</main>",
        "<article class=\"call\" data-id=\"r\"><h2><a href=\"/aap/r.html\">\
         Lauréats de l'appel à projets r pour les communes</a></h2></article>\n\
         <article class=\"call\" data-id=\"j\"><h2><a href=\"/aap/j.html\">\
         Chargé de mission appels à projets (H/F)</a></h2></article>\n</main>",
    );
    server.route("/new", Response::ok_html(other_page));
    let sc = Scenario::new();
    sc.source("site", &source("site", &server, "/aap"));
    sc.source("other", &source("other", &server, "/new"));

    let (ok, report) = crawl(&sc);
    assert!(ok, "{report:#?}");
    // `other` lists b as closed from the start: only a is stored from it.
    let other = report.iter().find(|r| r["source"] == "other").unwrap();
    assert_eq!(other["items"], 1, "{other:#}");
    assert!(
        other["warnings"]
            .to_string()
            .contains("marked closed by its source (`CLOS`)"),
        "{other:#}"
    );

    let (ok, report) = crawl(&sc);
    assert!(ok, "{report:#?}");
    let site = report.iter().find(|r| r["source"] == "site").unwrap();
    assert!(
        site["warnings"]
            .to_string()
            .contains("marked closed by its source (`clôturé`)"),
        "{site:#}"
    );
    assert_eq!(
        unlisted_titles(&sc),
        ["Appel à projets b pour les communes"]
    );
}
