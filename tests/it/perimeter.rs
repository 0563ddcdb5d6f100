//! Perimeters the source's labels name: lists become sets, an unknown
//! label holds the call for a curator (warned about in the crawl summary,
//! listed by `review list`) until `vigie calls perimeter` sets it, and a
//! later crawl keeps the curator's choice.

use serde_json::Value;

use crate::support::{FixtureServer, Response, Scenario, all_output};

const PAGE: &str = r#"<html><body>
<article class="call" data-id="a"><h2><a href="/a">Numérique en Atlantide</a></h2>
  <p class="zone">Région Atlantide</p><p class="end">Clôture le 31 mars 2035</p></article>
<article class="call" data-id="b"><h2><a href="/b">Tiers-lieux de l'Ouest</a></h2>
  <p class="zone">Bretagne, Pays de la Loire</p><p class="end">Clôture le 30 avril 2035</p></article>
</body></html>"#;

fn source(server: &FixtureServer) -> String {
    format!(
        r#"id = "ouest"
name = "Régions de l'Ouest"
funder = "Régions"
kind = "html"
url = "{url}"
schedule = "0 6 * * *"

[defaults]
audiences = ["commune"]
perimeter = "france"
themes = ["numerique"]

[html]
item = "article.call"
id = "@data-id"
title = "h2 a"
link = "h2 a @href"
perimeter = "p.zone"
deadline = "p.end"
"#,
        url = server.url("/appels.html")
    )
}

fn by_title<'a>(calls: &'a [Value], needle: &str) -> &'a Value {
    calls
        .iter()
        .find(|c| c["title"].as_str().unwrap().contains(needle))
        .unwrap_or_else(|| panic!("no call titled like {needle:?} in {calls:#?}"))
}

#[test]
fn an_unknown_perimeter_waits_for_a_curator_and_the_curators_choice_survives_crawls() {
    let server = FixtureServer::start();
    server.route("/appels.html", Response::ok_html(PAGE));
    let sc = Scenario::new();
    sc.source("ouest", &source(&server));

    // `sources check --fetch` says it before anything is stored.
    let out = sc.vigie(&["sources", "check", "ouest", "--fetch", "--format", "json"]);
    assert!(out.status.success(), "{}", all_output(&out));
    let preview: Value = serde_json::from_slice(&out.stdout).unwrap();
    let warnings = preview[0]["warnings"].to_string();
    assert!(warnings.contains("«Numérique en Atlantide»"), "{warnings}");
    assert_eq!(
        preview[0]["items"][0]["perimeter"],
        "unresolved:Région Atlantide"
    );

    let out = sc.vigie(&["crawl", "--format", "json"]);
    assert!(out.status.success(), "{}", all_output(&out));
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    let warnings = summary[0]["warnings"].to_string();
    assert!(
        warnings.contains("Région Atlantide") && warnings.contains("vigie calls perimeter"),
        "{warnings}"
    );

    let calls = sc.calls(&[]);
    let lost = by_title(&calls, "Atlantide");
    assert_eq!(
        lost["perimeter"], "unresolved:Région Atlantide",
        "not widened to france"
    );
    assert_eq!(
        by_title(&calls, "Tiers-lieux")["perimeter"],
        "region:52,region:53"
    );
    // A member filter finds the call for both regions.
    assert_eq!(sc.calls(&["--perimeter", "region:53"]).len(), 1);

    let review = sc.vigie(&["review", "list"]);
    let listed = all_output(&review);
    assert!(review.status.success(), "{listed}");
    assert!(
        listed.contains("wait for a perimeter") && listed.contains("Atlantide"),
        "{listed}"
    );

    let id = lost["id"].as_i64().unwrap().to_string();
    let bad = sc.vigie(&["calls", "perimeter", &id, "region:99"]);
    assert!(!bad.status.success());
    assert!(
        all_output(&bad).contains("region:99"),
        "{}",
        all_output(&bad)
    );

    let set = sc.vigie(&["calls", "perimeter", &id, "region:76", "department:31"]);
    assert!(set.status.success(), "{}", all_output(&set));
    let placed = by_title(&sc.calls(&[]), "Atlantide").clone();
    assert_eq!(placed["perimeter"], "region:76,department:31");
    let review = all_output(&sc.vigie(&["review", "list"]));
    assert!(!review.contains("wait for a perimeter"), "{review}");

    // The source edits its page: the call is recomputed, the perimeter stays.
    server.route(
        "/appels.html",
        Response::ok_html(PAGE.replace("31 mars 2035", "15 avril 2035")),
    );
    let out = sc.vigie(&["crawl"]);
    assert!(out.status.success(), "{}", all_output(&out));
    let again = by_title(&sc.calls(&[]), "Atlantide").clone();
    assert_eq!(again["deadline"], "2035-04-15T23:59:00+02:00");
    assert_eq!(again["perimeter"], "region:76,department:31");
}

#[test]
fn a_source_for_several_territories_lists_them_in_its_defaults_and_maps() {
    // A water agency's basin spans regions: its calls without a label get
    // the basin (not all of France), and a label mapped to two departments
    // gets both.
    let server = FixtureServer::start();
    let page = PAGE
        .replace("Région Atlantide", "Haute-Corse et Corse-du-Sud")
        .replace(r#"<p class="zone">Bretagne, Pays de la Loire</p>"#, "");
    server.route("/appels.html", Response::ok_html(page));
    let sc = Scenario::new();
    let def = source(&server)
        .replace(
            r#"perimeter = "france""#,
            r#"perimeter = "region:84,region:27,region:93""#,
        )
        .replace(
            "[html]",
            "[maps.perimeter]\n\"Haute-Corse et Corse-du-Sud\" = \"department:2B,department:2A\"\n\n[html]",
        );
    sc.source("ouest", &def);
    let out = sc.vigie(&["crawl"]);
    assert!(out.status.success(), "{}", all_output(&out));
    let calls = sc.calls(&[]);
    assert_eq!(
        by_title(&calls, "Tiers-lieux")["perimeter"],
        "region:27,region:84,region:93"
    );
    assert_eq!(
        by_title(&calls, "Atlantide")["perimeter"],
        "department:2A,department:2B"
    );
    assert_eq!(sc.calls(&["--perimeter", "region:27"]).len(), 1);
    assert_eq!(sc.calls(&["--perimeter", "region:53"]).len(), 0);
}

#[test]
fn a_national_call_for_one_region_reaches_that_region_only() {
    // No perimeter label: the title places one call in Normandie, the
    // other names no place and keeps the source's default, France.
    let server = FixtureServer::start();
    let page = PAGE
        .replace(
            "Numérique en Atlantide",
            "Recyclage des friches en Normandie",
        )
        .replace(r#"<p class="zone">Région Atlantide</p>"#, "")
        .replace(r#"<p class="zone">Bretagne, Pays de la Loire</p>"#, "");
    server.route("/appels.html", Response::ok_html(page));
    let sc = Scenario::new();
    sc.source("ouest", &source(&server));
    let out = sc.vigie(&["crawl"]);
    assert!(out.status.success(), "{}", all_output(&out));
    let calls = sc.calls(&[]);
    assert_eq!(by_title(&calls, "Normandie")["perimeter"], "region:28");
    assert_eq!(by_title(&calls, "Tiers-lieux")["perimeter"], "france");
    assert_eq!(sc.calls(&["--perimeter", "region:28"]).len(), 1);
    assert_eq!(sc.calls(&["--perimeter", "france"]).len(), 1);
}
