//! `vigie crawl`, `vigie calls` and `vigie sources` run as real processes
//! against the fixture server: normalization end to end, idempotent
//! re-crawls, change history, and the fault set.

use std::time::Duration;

use serde_json::Value;

use crate::support::{FixtureServer, Response, Scenario, all_output, fixtures, listing_source};

/// A listing source on `server` at `path`, with the selectors of
/// `tests/fixtures/crawl/listing.html`.
fn html_source(id: &str, server: &FixtureServer, path: &str) -> String {
    listing_source(id, &server.url(path), "")
}

fn feed_source(id: &str, server: &FixtureServer, path: &str) -> String {
    format!(
        r#"id = "{id}"
name = "Flux {id}"
kind = "feed"
url = "{url}"
schedule = "30 7 * * 1-5"

[feed]
include = ["appel à projets", "AMI"]
"#,
        url = server.url(path)
    )
}

fn listing() -> Vec<u8> {
    std::fs::read(fixtures("crawl/listing.html")).unwrap()
}

fn by_title<'a>(calls: &'a [Value], needle: &str) -> &'a Value {
    calls
        .iter()
        .find(|c| c["title"].as_str().unwrap().contains(needle))
        .unwrap_or_else(|| panic!("no call titled like {needle:?} in {calls:#?}"))
}

#[test]
fn a_crawl_stores_clean_normalized_calls() {
    let server = FixtureServer::start();
    server.serve_dir(fixtures("crawl"));
    let sc = Scenario::new();
    sc.source(
        "demo-html",
        &html_source("demo-html", &server, "/listing.html"),
    );
    sc.source("demo-feed", &feed_source("demo-feed", &server, "/feed.xml"));

    let out = sc.vigie(&["crawl"]);
    assert!(out.status.success(), "{}", all_output(&out));

    let calls = sc.calls(&[]);
    assert_eq!(
        calls.len(),
        4,
        "3 listing items + 1 feed entry kept by the filter: {calls:#?}"
    );
    let aap = by_title(&calls, "Archivage");
    assert_eq!(
        aap["title"],
        "Appel à projets « Archivage numérique en territoires » 2035"
    );
    assert_eq!(
        aap["url"],
        server.url("/aap/archivage.html"),
        "tracking parameters are dropped"
    );
    assert_eq!(aap["kind"], "aap");
    assert_eq!(aap["deadline"], "2035-03-15T12:00:00+01:00");
    assert_eq!(aap["status"], "open");
    assert_eq!(
        aap["funder"],
        "Service interministériel des Archives de France"
    );
    assert_eq!(aap["audiences"], serde_json::json!(["commune", "epci"]));
    assert_eq!(aap["perimeter"], "france");
    let themes = aap["themes"].as_array().unwrap();
    assert!(
        themes.contains(&"archives".into()) && themes.contains(&"numerique".into()),
        "{themes:?}"
    );
    let summary = aap["summary_html"].as_str().unwrap();
    assert!(
        !summary.contains("script") && summary.contains("<b>archives</b>"),
        "{summary}"
    );
    assert_eq!(aap["sources"], serde_json::json!(["demo-html"]));

    let ami = by_title(&calls, "Données et territoires");
    assert_eq!(
        (ami["kind"].as_str(), ami["deadline"].as_str()),
        (Some("ami"), Some("2035-06-30T23:59:00+02:00"))
    );
    let prize = by_title(&calls, "Prix");
    assert_eq!(
        (prize["kind"].as_str(), prize["recurrence"].as_str()),
        (Some("prix"), Some("ongoing"))
    );
    assert_eq!(
        prize["url"],
        server.url("/prix.html"),
        "fragments are dropped"
    );
    assert!(prize["deadline"].is_null());

    let cyber = by_title(&calls, "Cybersécurité");
    assert_eq!(
        cyber["deadline"], "2035-10-01T23:59:00+02:00",
        "deadline found in the feed entry's text"
    );
    assert!(
        cyber["themes"]
            .as_array()
            .unwrap()
            .contains(&"cybersecurite".into())
    );
}

#[test]
fn an_unchanged_recrawl_costs_a_304_and_changes_nothing() {
    let server = FixtureServer::start();
    server.serve_dir(fixtures("crawl"));
    let sc = Scenario::new();
    sc.source(
        "demo-html",
        &html_source("demo-html", &server, "/listing.html"),
    );

    assert!(sc.vigie(&["crawl"]).status.success());
    let before = sc.calls(&[]);
    let out = sc.vigie(&["crawl", "--format", "json"]);
    assert!(out.status.success(), "{}", all_output(&out));
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary[0]["outcome"], "not_modified", "{summary:#}");
    assert_eq!(summary[0]["new"], 0);

    let second = server.requests_to("/listing.html").pop().unwrap();
    assert!(
        second.header("if-none-match").is_some(),
        "the stored ETag is sent back"
    );
    assert_eq!(
        sc.calls(&[]),
        before,
        "a not-modified crawl must not touch calls"
    );
}

#[test]
fn a_changed_page_updates_its_calls_and_records_the_history() {
    let server = FixtureServer::start();
    let sc = Scenario::new();
    sc.source(
        "demo-html",
        &html_source("demo-html", &server, "/listing.html"),
    );
    server.route("/listing.html", Response::ok_html(listing()));
    assert!(sc.vigie(&["crawl"]).status.success());

    // Same page, re-served without validators: nothing may change.
    let out = sc.vigie(&["crawl", "--format", "json"]);
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (summary[0]["new"].as_u64(), summary[0]["unchanged"].as_u64()),
        (Some(0), Some(3)),
        "{summary:#}"
    );

    let extended = String::from_utf8(listing())
        .unwrap()
        .replace("15 mars 2035 à 12h", "30 avril 2035 à 17h");
    server.route("/listing.html", Response::ok_html(extended));
    let out = sc.vigie(&["crawl", "--format", "json"]);
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (
            summary[0]["updated"].as_u64(),
            summary[0]["unchanged"].as_u64()
        ),
        (Some(1), Some(2)),
        "{summary:#}"
    );

    let calls = sc.calls(&[]);
    let aap = by_title(&calls, "Archivage");
    assert_eq!(aap["deadline"], "2035-04-30T17:00:00+02:00");
    let id = aap["id"].as_i64().unwrap().to_string();
    let out = sc.vigie(&["calls", "show", &id, "--format", "json"]);
    assert!(out.status.success(), "{}", all_output(&out));
    let shown: Value = serde_json::from_slice(&out.stdout).unwrap();
    let change = shown["history"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["field"] == "deadline")
        .expect("a deadline change is recorded");
    assert_eq!(change["old"], "2035-03-15T12:00:00+01:00");
    assert_eq!(change["new"], "2035-04-30T17:00:00+02:00");
}

/// Every fault of the fault set: each failing source is reported with its
/// reason, the healthy ones are unaffected, and nothing stored is lost.
#[test]
fn every_fault_is_reported_and_no_stored_data_is_lost() {
    let server = FixtureServer::start();
    let sc = Scenario::new();
    let faults: &[(&str, Response, &str)] = &[
        ("not-found", Response::status(404), "404"),
        ("server-error", Response::status(500), "500"),
        ("rate-limited", Response::retry_after(429, "1"), "429"),
        (
            "slow",
            Response::ok_html(listing()).delay(Duration::from_secs(4)),
            "within 2 s",
        ),
        (
            "truncated",
            Response::ok_html(listing()).truncated(50_000),
            "body",
        ),
        (
            "too-big",
            Response::ok_html(listing().repeat(400)),
            "300000-byte cap",
        ),
        (
            "redirect-loop",
            Response::redirect("/redirect-loop"),
            "redirect",
        ),
        (
            "layout-changed",
            Response::ok_html(
                "<html><body><div class=\"new-design\">Nouveau site</div></body></html>",
            ),
            "match nothing",
        ),
    ];
    // Every source lists its own calls: its own URLs, and its own year in
    // titles and deadlines (different editions are never merged).
    let ids: Vec<&str> = faults
        .iter()
        .map(|(id, _, _)| *id)
        .chain(["healthy"])
        .collect();
    // 2027..=2035: deadlines more than ten years ahead are not deadlines.
    let year_of = |id: &str| 2027 + ids.iter().position(|i| *i == id).unwrap() as i32;
    let page_for = |id: &str| {
        let year = year_of(id).to_string();
        String::from_utf8(listing())
            .unwrap()
            .replace("data-id=\"", &format!("data-id=\"{id}-"))
            .replace("href=\"/", &format!("href=\"/{id}/"))
            .replace("2035", &year)
            .replace("territoriale", &format!("territoriale {year}"))
    };
    for (id, _, _) in faults {
        sc.source(id, &html_source(id, &server, &format!("/{id}")));
        server.route(&format!("/{id}"), Response::ok_html(page_for(id)));
    }
    sc.source("healthy", &html_source("healthy", &server, "/healthy"));
    server.route("/healthy", Response::ok_html(page_for("healthy")));
    sc.source(
        "not-a-feed",
        &feed_source("not-a-feed", &server, "/not-a-feed"),
    );
    server.route(
        "/not-a-feed",
        Response::ok(
            "application/rss+xml",
            std::fs::read(fixtures("crawl/feed.xml")).unwrap(),
        ),
    );

    let out = sc.vigie(&["crawl"]);
    assert!(
        out.status.success(),
        "first crawl, every source healthy: {}",
        all_output(&out)
    );
    let stored = sc.calls(&[]);
    assert_eq!(stored.len(), 3 * (faults.len() + 1) + 1);

    for (id, response, _) in faults {
        server.route(&format!("/{id}"), response.clone());
    }
    server.route(
        "/not-a-feed",
        Response::ok_html("<!doctype html><html><body><h1>Actualités</h1></body></html>"),
    );
    let healthy_year = year_of("healthy");
    let extended = page_for("healthy").replace(
        &format!("30/06/{healthy_year}"),
        &format!("31/07/{healthy_year}"),
    );
    server.route("/healthy", Response::ok_html(extended));

    let out = sc.vigie(&["crawl"]);
    let report = all_output(&out);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a failed source makes the crawl fail: {report}"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    for (id, _, reason) in faults.iter().map(|(i, r, w)| (*i, r, *w)).chain([(
        "not-a-feed",
        &Response::status(200),
        "feed",
    )]) {
        let line = stdout
            .lines()
            .find(|l| l.starts_with(&format!("{id}: ")))
            .unwrap_or_else(|| panic!("no failure line for {id}: {report}"));
        assert!(
            line.to_lowercase().contains(&reason.to_lowercase()),
            "{id}: `{line}` should mention `{reason}`"
        );
    }
    assert!(
        !stdout.lines().any(|l| l.starts_with("healthy: ")),
        "the healthy source did not fail: {report}"
    );

    let after = sc.calls(&[]);
    assert_eq!(
        after.len(),
        stored.len(),
        "a broken source never deletes its calls"
    );
    for call in &stored {
        let again = after
            .iter()
            .find(|c| c["id"] == call["id"])
            .expect("every call is still there");
        if call["sources"] != serde_json::json!(["healthy"]) {
            assert_eq!(again, call, "calls of failed sources are untouched");
        }
    }
    let healthy = after
        .iter()
        .filter(|c| c["sources"] == serde_json::json!(["healthy"]));
    assert!(
        healthy
            .clone()
            .any(|c| c["deadline"] == format!("{healthy_year}-07-31T23:59:00+02:00").as_str()),
        "the healthy source still updated"
    );

    let out = sc.vigie(&["sources", "list", "--format", "json"]);
    let states: Value = serde_json::from_slice(&out.stdout).unwrap();
    for state in states.as_array().unwrap() {
        let failed = state["id"] != "healthy";
        assert_eq!(state["consecutive_failures"], u32::from(failed), "{state}");
        assert_eq!(state["last_error"].is_string(), failed, "{state}");
    }
}

#[test]
fn a_page_declared_latin1_but_served_as_windows_1252_is_decoded_correctly() {
    let server = FixtureServer::start();
    server.serve_dir(fixtures("crawl"));
    let sc = Scenario::new();
    let def =
        html_source("latin", &server, "/windows-1252.html").replace("id = \"@data-id\"\n", "");
    sc.source("latin", &def);
    let out = sc.vigie(&["crawl"]);
    assert!(out.status.success(), "{}", all_output(&out));
    let calls = sc.calls(&[]);
    assert_eq!(
        calls[0]["title"],
        "Appel à projets “ Numérique ” – € 20 000 œuvres"
    );
    assert_eq!(calls[0]["deadline"], "2035-12-02T23:59:00+01:00");
    assert_eq!(calls[0]["url"], server.url("/r%C3%A9gion/aap.html"));
}

#[test]
fn relative_links_follow_the_pages_base_href() {
    // CMS pages served under one path often declare another as their base
    // (`<base href="/portail/">`): a browser resolves the links against it,
    // and so must the crawl, or every call gets a dead link.
    let server = FixtureServer::start();
    let page = String::from_utf8(listing())
        .unwrap()
        .replacen("<head>", r#"<head><base href="/portail/">"#, 1)
        .replace(r#"href="/ami/donnees.html""#, r#"href="ami/donnees.html""#);
    assert!(page.contains("<base href"), "the fixture has a <head>");
    server.route("/aides/liste", Response::ok_html(page.into_bytes()));
    let sc = Scenario::new();
    sc.source("based", &html_source("based", &server, "/aides/liste"));
    let out = sc.vigie(&["crawl"]);
    assert!(out.status.success(), "{}", all_output(&out));
    let calls = sc.calls(&[]);
    assert_eq!(
        by_title(&calls, "AMI Données")["url"],
        server.url("/portail/ami/donnees.html")
    );
}

#[test]
fn robots_txt_is_honoured() {
    let server = FixtureServer::start();
    server.robots("User-agent: *\nDisallow: /prive/\n");
    server.route("/prive/listing.html", Response::ok_html(listing()));
    let sc = Scenario::new();
    sc.source(
        "private",
        &html_source("private", &server, "/prive/listing.html"),
    );
    let out = sc.vigie(&["crawl"]);
    assert_eq!(out.status.code(), Some(1), "{}", all_output(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("robots.txt"),
        "{}",
        all_output(&out)
    );
    assert!(
        server.requests_to("/prive/listing.html").is_empty(),
        "a disallowed page is never requested"
    );
}

#[test]
fn calls_can_be_filtered_and_exported() {
    let server = FixtureServer::start();
    server.serve_dir(fixtures("crawl"));
    let sc = Scenario::new();
    sc.source(
        "demo-html",
        &html_source("demo-html", &server, "/listing.html"),
    );
    sc.source("demo-feed", &feed_source("demo-feed", &server, "/feed.xml"));
    assert!(sc.vigie(&["crawl"]).status.success());

    let titles = |args: &[&str]| -> Vec<String> {
        let mut t: Vec<String> = sc
            .calls(args)
            .iter()
            .map(|c| c["title"].as_str().unwrap().to_string())
            .collect();
        t.sort();
        t
    };
    assert_eq!(
        titles(&["--text", "donnees"]),
        vec!["AMI Données et territoires"]
    );
    assert_eq!(
        titles(&["--source", "demo-feed"]),
        vec!["Appel à projets « Cybersécurité des collectivités »"]
    );
    assert_eq!(titles(&["--theme", "cybersecurite"]).len(), 1);
    assert_eq!(
        titles(&["--audience", "commune"]).len(),
        3,
        "the feed source has no default audience"
    );
    assert_eq!(titles(&["--open"]).len(), 4);

    let out = sc.vigie(&["calls", "--format", "csv", "--source", "demo-html"]);
    let csv = String::from_utf8(out.stdout).unwrap();
    let mut lines = csv.lines();
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("id,title,funder,kind,status")
    );
    assert_eq!(lines.count(), 3);

    let out = sc.vigie(&["calls", "--theme", "numerik"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("numerique"),
        "a bad theme lists the valid ones"
    );
}

#[test]
fn sources_check_names_the_file_line_and_field_of_a_mistake() {
    let server = FixtureServer::start();
    let sc = Scenario::new();
    let good = sc.source("good", &html_source("good", &server, "/x"));
    let bad = sc.source(
        "bad",
        &html_source("bad", &server, "/x").replace("title = \"h2 a\"", "title = \"h2 a[\""),
    );
    let typo = sc.source(
        "typo",
        &html_source("typo", &server, "/x").replace("summary = ", "sumary = "),
    );

    let out = sc.vigie(&["sources", "check"]);
    assert_eq!(out.status.code(), Some(1), "{}", all_output(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let bad_line = stderr
        .lines()
        .find(|l| l.contains("bad.toml"))
        .expect("bad.toml is reported");
    assert!(
        bad_line.contains(":16:9:") && bad_line.contains("html.title"),
        "{bad_line}"
    );
    let typo_line = stderr
        .lines()
        .find(|l| l.contains("typo.toml"))
        .expect("typo.toml is reported");
    assert!(typo_line.contains("sumary"), "{typo_line}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("good.toml"),
        "valid files are listed as ok"
    );

    let out = sc.vigie(&["sources", "check", good.to_str().unwrap()]);
    assert!(out.status.success(), "{}", all_output(&out));
    assert!(
        server.requests().is_empty(),
        "check without --fetch never touches the network"
    );
    drop((bad, typo));
}

#[test]
fn sources_check_fetch_previews_what_would_be_stored() {
    let server = FixtureServer::start();
    server.serve_dir(fixtures("crawl"));
    let sc = Scenario::new();
    sc.source(
        "demo-html",
        &html_source("demo-html", &server, "/listing.html"),
    );

    let out = sc.vigie(&[
        "sources",
        "check",
        "demo-html",
        "--fetch",
        "--format",
        "json",
    ]);
    assert!(out.status.success(), "{}", all_output(&out));
    let previews: Value = serde_json::from_slice(&out.stdout).unwrap();
    let items = previews[0]["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert_eq!(items[0]["deadline"], "2035-03-15T12:00:00+01:00");
    assert!(!sc.db().exists(), "check --fetch stores nothing");

    let out = sc.vigie(&["sources", "check", "demo-html", "--fetch"]);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("Données et territoires") && table.contains("3 items from 1 page\n"),
        "{table}"
    );

    // A layout change shows as an error with the selector that failed.
    server.route(
        "/listing.html",
        Response::ok_html("<html><body><p>Refonte du site</p></body></html>"),
    );
    let out = sc.vigie(&["sources", "check", "demo-html", "--fetch"]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("article.call") && text.contains("matched nothing"),
        "{text}"
    );
}
