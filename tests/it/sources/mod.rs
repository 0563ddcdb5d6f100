//! The real source definitions of `sources/` against fixture copies of
//! their sites (`tests/fixtures/sources/<id>/`): each definition is copied
//! as is into a scenario, only the origin of its `url` is moved to the
//! local fixture server, and the real `vigie crawl` must extract exactly
//! the calls a reader sees on those pages.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use url::Url;

use crate::support::{FixtureServer, Response, Scenario, all_output, fixtures};

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

/// A fixture server answering each request path (with its query, or the
/// path alone for any query) with a file of `tests/fixtures/sources/<id>/`,
/// and a scenario holding the real definition of `id` pointed at it.
pub(super) fn site(id: &str, routes: &[(&str, &str)]) -> (FixtureServer, Scenario) {
    let server = FixtureServer::start();
    let dir = fixtures(&format!("sources/{id}"));
    for (path, file) in routes {
        let body = std::fs::read(dir.join(file)).unwrap_or_else(|e| panic!("{id}/{file}: {e}"));
        server.route(path, Response::ok(content_type(file), body));
    }
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

pub(super) fn has_theme(call: &Value, theme: &str) -> bool {
    call["themes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t == theme)
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
        &[("AIDES_TERRITOIRES_API_KEY", "key-for-check")],
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
        !all_output(&out).contains("key-for-check"),
        "a secret never reaches the output"
    );
}

#[test]
fn siaf_listing_cards_are_completed_by_each_call_page() {
    let base = "/catalogue-des-demarches-et-subventions/appels-a-projets-candidatures";
    let (server, sc) = site(
        "siaf-archivage-numerique",
        &[
            (base, "listing.html"),
            (
                &format!("{base}/archivage-numerique-en-territoires-anet"),
                "anet.html",
            ),
            (
                &format!("{base}/numerisation-valorisation-archives"),
                "numerisation.html",
            ),
        ],
    );
    let calls = crawl(&sc, "siaf-archivage-numerique", &[]);
    assert_eq!(calls.len(), 3, "{:#?}", titles(&calls));

    let anet = by_title(&calls, "ANET");
    assert_eq!(anet["title"], "Archivage numérique en territoires (ANET)");
    assert_eq!(
        anet["url"],
        server.url(&format!("{base}/archivage-numerique-en-territoires-anet"))
    );
    assert_eq!(
        anet["deadline"], "2035-10-15T23:59:00+02:00",
        "the call page's deadline, with its time, wins over the card's date"
    );
    assert_eq!(anet["opens_on"], "2035-07-01T00:00:00+02:00");
    assert_eq!(anet["kind"], "aap");
    assert_eq!(
        anet["funder"],
        "Service interministériel des Archives de France"
    );
    assert_eq!(
        anet["audiences"],
        json!([
            "commune",
            "department",
            "region",
            "public_org",
            "public_cies"
        ]),
        "the call page's « Suis-je concerné(e) » list, mapped"
    );
    assert!(has_theme(anet, "archives") && has_theme(anet, "numerique"));

    let num = by_title(&calls, "Numérisation");
    assert_eq!(
        num["url"],
        server.url(&format!("{base}/numerisation-valorisation-archives")),
        "tracking parameters are dropped"
    );
    assert_eq!(num["deadline"], "2036-03-31T12:00:00+02:00");
    assert_eq!(
        num["audiences"],
        json!(["commune", "epci", "department", "region"]),
        "defaults when the page lists no audience"
    );

    let soon = by_title(&calls, "éducation artistique");
    assert_eq!(soon["url"], Value::Null, "a card without a link is kept");
    assert_eq!(soon["kind"], "appel_candidatures");
    assert_eq!(soon["deadline"], "2036-02-02T23:59:00+01:00");
    assert_eq!(soon["perimeter"], "france");
}

#[test]
fn fast_sessions_are_read_from_the_calls_section_only() {
    let (server, sc) = site("fast", &[("/fast/", "fast.html")]);
    let calls = crawl(&sc, "fast", &[]);
    assert_eq!(
        titles(&calls),
        vec![
            "FAST — session 14 : appel à candidatures",
            "FAST — session 25 : appel à candidatures",
            "FAST — session 26 : appel à candidatures",
        ],
        "the laureates' cards are not calls"
    );
    let s25 = by_title(&calls, "session 25");
    assert_eq!(s25["url"], server.url("/fast/session-25/"));
    assert_eq!(s25["deadline"], "2035-03-14T12:00:00+01:00");
    assert_eq!(s25["opens_on"], "2035-01-10T00:00:00+01:00");
    assert_eq!(s25["kind"], "appel_candidatures");
    assert!(has_theme(s25, "innovation") && has_theme(s25, "numerique"));
    let s26 = by_title(&calls, "session 26");
    assert_eq!(s26["deadline"], "2035-10-15T12:00:00+02:00");
    assert_eq!(s26["status"], "upcoming");
    let s14 = by_title(&calls, "session 14");
    assert_eq!(s14["status"], "closed", "a past session is stored closed");
}

#[test]
fn ditp_listing_follows_the_dsfr_pagination_to_the_last_page() {
    let (server, sc) = site(
        "ditp-transformation-publique",
        &[
            ("/appels-a-projets", "page-1.html"),
            ("/appels-a-projets?page=1", "page-2.html"),
        ],
    );
    let calls = crawl(&sc, "ditp-transformation-publique", &[]);
    assert_eq!(calls.len(), 5, "3 cards on page 1, 2 on page 2");
    assert_eq!(
        server.requests_to("/appels-a-projets?page=1").len(),
        1,
        "page 2 is fetched once; its disabled next link ends the crawl"
    );

    let ftap = by_title(&calls, "(FTAP) : appel à projets 2035");
    assert_eq!(ftap["url"], server.url("/appels-a-projets/ftap-2035"));
    assert_eq!(ftap["deadline"], "2035-03-31T23:59:00+02:00");
    assert_eq!(ftap["kind"], "aap");
    let ami = by_title(&calls, "IA et services publics");
    assert_eq!(ami["kind"], "ami", "the card's tag, mapped");
    assert_eq!(ami["deadline"], "2035-06-15T12:00:00+02:00");
    let deconc = by_title(&calls, "FTAP déconcentré");
    assert_eq!(deconc["deadline"], "2035-09-30T23:59:00+02:00");
    assert_eq!(
        by_title(&calls, "France Expérimentation")["recurrence"],
        "ongoing"
    );
    assert_eq!(
        by_title(&calls, "Participation citoyenne")["status"],
        "closed"
    );
}

#[test]
fn anct_views_rows_give_deadlines_kinds_and_ongoing_calls() {
    let (server, sc) = site(
        "anct-appels-a-projets",
        &[("/appels-a-projets", "listing.html")],
    );
    let calls = crawl(&sc, "anct-appels-a-projets", &[]);
    assert_eq!(calls.len(), 3, "the newsletter promo is not a row");
    let ami = by_title(&calls, "Inclusion numérique");
    assert_eq!(ami["url"], server.url("/ami-inclusion-numerique-2035"));
    assert_eq!(ami["kind"], "ami");
    assert_eq!(ami["deadline"], "2035-04-30T23:59:00+02:00");
    assert!(has_theme(ami, "inclusion_numerique"), "keyword rules");
    let fs = by_title(&calls, "France services");
    assert_eq!(fs["recurrence"], "ongoing");
    assert_eq!(fs["deadline"], Value::Null);
    assert_eq!(fs["kind"], "appel_candidatures");
    let ti = by_title(&calls, "jumeaux numériques");
    assert_eq!(ti["deadline"], "2036-01-12T23:59:00+01:00");
    assert_eq!(ti["kind"], "aap");
}

#[test]
fn banque_des_territoires_keeps_offers_and_skips_news_cards() {
    let (server, sc) = site(
        "banque-des-territoires",
        &[("/appels-a-projets", "listing.html")],
    );
    let calls = crawl(&sc, "banque-des-territoires", &[]);
    assert_eq!(
        titles(&calls),
        vec![
            "AMI « Plateformes de données territoriales »",
            "Prix de l'innovation numérique territoriale",
            "Territoires connectés et durables 2035",
        ]
    );
    let tcd = by_title(&calls, "Territoires connectés");
    assert_eq!(
        tcd["url"],
        server.url("/appels-a-projets/territoires-connectes-2035")
    );
    assert_eq!(tcd["deadline"], "2035-06-12T23:59:00+02:00");
    assert_eq!(tcd["kind"], "aap");
    let ami = by_title(&calls, "Plateformes de données");
    assert_eq!(ami["kind"], "ami");
    assert_eq!(ami["deadline"], "2035-11-30T23:59:00+01:00");
    let prix = by_title(&calls, "Prix de l'innovation");
    assert_eq!(prix["kind"], "prix");
    assert_eq!(prix["url"], Value::Null);
}

#[test]
fn region_ile_de_france_maps_its_audience_tags_and_region_perimeter() {
    let (server, sc) = site(
        "region-ile-de-france",
        &[("/aides-et-appels-a-projets", "listing.html")],
    );
    let calls = crawl(&sc, "region-ile-de-france", &[]);
    assert_eq!(calls.len(), 3);
    let smart = by_title(&calls, "Smart Région");
    assert_eq!(
        smart["url"],
        server.url("/aides-appels-a-projets/smart-region-services-numeriques")
    );
    assert_eq!(smart["audiences"], json!(["commune", "public_org"]));
    assert_eq!(smart["perimeter"], "region:11");
    assert_eq!(smart["deadline"], "2035-06-20T23:59:00+02:00");
    assert_eq!(smart["kind"], "aap");
    let tiers = by_title(&calls, "Tiers-lieux");
    assert_eq!(tiers["kind"], "ami");
    assert_eq!(tiers["audiences"], json!(["commune", "association"]));
    assert_eq!(tiers["deadline"], "2035-05-15T17:00:00+02:00");
    let cheque = by_title(&calls, "Chèque numérique");
    assert_eq!(cheque["audiences"], json!(["private_sector"]));
    assert_eq!(cheque["kind"], "autre");
    assert_eq!(cheque["recurrence"], "ongoing");
}

#[test]
fn dinum_feed_keeps_calls_and_drops_news_and_laureates() {
    let (server, sc) = site("dinum-actualites", &[("/actualites/feed/", "feed.xml")]);
    let calls = crawl(&sc, "dinum-actualites", &[]);
    assert_eq!(
        titles(&calls),
        vec![
            "Appel à projets « Transformation numérique des territoires » : candidatez avant le 15 mai 2035",
            "Intelligence artificielle : un appel à manifestation d'intérêt pour les collectivités",
        ],
        "news, the laureates' announcement and « dynamique » are filtered out"
    );
    let aap = &calls[0];
    assert_eq!(
        aap["url"],
        server.url("/actualites/appel-a-projets-transformation-numerique-territoires-2035/")
    );
    assert_eq!(aap["kind"], "aap");
    assert!(
        aap["deadline"].as_str().unwrap().starts_with("2035-05-15T"),
        "{}",
        aap["deadline"]
    );
    let ami = &calls[1];
    assert_eq!(ami["kind"], "ami");
    assert_eq!(ami["deadline"], "2035-06-30T23:59:00+02:00");
    assert_eq!(
        ami["audiences"],
        json!(["commune", "epci", "department", "region"])
    );
}

#[test]
fn anssi_feed_keeps_only_calls_for_projects() {
    let (server, sc) = site("anssi-actualites", &[("/actualites/rss.xml", "rss.xml")]);
    let calls = crawl(&sc, "anssi-actualites", &[]);
    assert_eq!(calls.len(), 1, "{:#?}", titles(&calls));
    let csirt = &calls[0];
    assert!(
        csirt["title"]
            .as_str()
            .unwrap()
            .starts_with("Cybersécurité des collectivités : appel à projets")
    );
    assert_eq!(
        csirt["url"],
        server.url("/actualites/appel-projets-csirt-regionaux-2035")
    );
    assert_eq!(csirt["deadline"], "2036-02-28T18:00:00+01:00");
    assert!(has_theme(csirt, "cybersecurite"));
    assert_eq!(csirt["kind"], "aap");
}
