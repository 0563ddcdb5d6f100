//! One call however many places publish it: `vigie crawl` across sources,
//! then the curator's `calls show`, `calls split`, `calls merge` and
//! `review` commands, run as real processes.

use serde_json::Value;

use crate::support::{FixtureServer, Response, Scenario, all_output};

const FUNDER_PAGE: &str = r#"<!doctype html><html lang="fr"><body><main>
<article class="fr-card"><h3 class="fr-card__title"><a href="/aap/archivage-numerique-2035">Appel à projets « Archivage numérique en territoires » 2035</a></h3>
<p class="fr-card__desc">Le SIAF accompagne les collectivités dans l'archivage électronique.</p>
<p class="fr-card__end">Date limite de dépôt : 15 mars 2035 à 12h00</p></article>
<article class="fr-card"><h3 class="fr-card__title"><a href="/aap/archivage-numerique-2036">Appel à projets « Archivage numérique en territoires » 2036</a></h3>
<p class="fr-card__end">Date limite de dépôt : 16 mars 2036 à 12h00</p></article>
</main></body></html>"#;

const AGGREGATOR_FEED: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Aides</title><link>https://aides.test/</link><description>Aides</description>
<item><title>AAP Archivage numérique en territoires 2035</title><link>https://aides.test/aides/archivage-numerique-en-territoires</link>
<guid>aide-4242</guid><description>Appel à projets du SIAF. Clôture le 15 mars 2035.</description></item>
<item><title>Appel à projets « Tiers-lieux numériques ruraux »</title><link>https://aides.test/aides/tiers-lieux</link>
<guid>aide-4243</guid><description>Date limite : 2 juin 2035</description></item>
</channel></rss>"#;

fn setup(review: bool) -> (FixtureServer, Scenario) {
    let server = FixtureServer::start();
    server.route("/siaf", Response::ok_html(FUNDER_PAGE));
    server.route(
        "/aides.xml",
        Response::ok("application/rss+xml", AGGREGATOR_FEED),
    );
    let sc = Scenario::new();
    sc.source(
        "siaf",
        &format!(
            r#"id = "siaf"
name = "SIAF"
funder = "Service interministériel des Archives de France"
kind = "html"
url = "{}"
schedule = "0 6 * * *"
priority = 10

[html]
item = "article.fr-card"
title = ".fr-card__title a"
link = ".fr-card__title a @href"
summary = ".fr-card__desc"
deadline = ".fr-card__end"
"#,
            server.url("/siaf")
        ),
    );
    sc.source(
        "aides",
        &format!(
            "id = \"aides\"\nname = \"Agrégateur\"\nkind = \"feed\"\nurl = \"{}\"\nschedule = \"0 7 * * *\"\nreview = {review}\n",
            server.url("/aides.xml")
        ),
    );
    (server, sc)
}

fn show(sc: &Scenario, id: i64) -> Value {
    let out = sc.vigie(&["calls", "show", &id.to_string(), "--format", "json"]);
    assert!(out.status.success(), "{}", all_output(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn archivage_2035(calls: &[Value]) -> &Value {
    calls
        .iter()
        .find(|c| {
            c["title"].as_str().unwrap().contains("2035")
                && c["title"].as_str().unwrap().contains("Archivage")
        })
        .expect("the 2035 call")
}

#[test]
fn a_call_published_by_its_funder_and_an_aggregator_is_listed_once_with_its_reasons() {
    let (_server, sc) = setup(false);
    let out = sc.vigie(&["crawl"]);
    assert!(out.status.success(), "{}", all_output(&out));

    let calls = sc.calls(&[]);
    assert_eq!(
        calls.len(),
        3,
        "2035 edition (2 sources), 2036 edition, tiers-lieux: {calls:#?}"
    );
    let call = archivage_2035(&calls);
    assert_eq!(call["sources"], serde_json::json!(["aides", "siaf"]));
    assert!(
        call["url"]
            .as_str()
            .unwrap()
            .ends_with("/aap/archivage-numerique-2035"),
        "funder's URL wins"
    );

    let shown = show(&sc, call["id"].as_i64().unwrap());
    let sightings = shown["sightings"].as_array().unwrap();
    assert_eq!(sightings.len(), 2);
    let joined = sightings
        .iter()
        .find(|s| s["resolution"]["method"] != "new")
        .expect("one joined the other");
    assert!(
        joined["resolution"]["score"].as_f64().unwrap() >= 0.6,
        "{joined}"
    );
    assert!(
        !joined["resolution"]["reasons"]
            .as_array()
            .unwrap()
            .is_empty(),
        "{joined}"
    );

    let table = sc.vigie(&["calls", "show", &call["id"].to_string()]);
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(
        text.contains("Sightings") && text.contains("match with sighting"),
        "{text}"
    );
}

#[test]
fn a_curator_split_and_merge_survive_the_next_crawl() {
    let (_server, sc) = setup(false);
    assert!(sc.vigie(&["crawl"]).status.success());
    let calls = sc.calls(&[]);
    let call = archivage_2035(&calls)["id"].as_i64().unwrap();
    let relay = show(&sc, call)["sightings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["source_id"] == "aides")
        .unwrap()["id"]
        .as_i64()
        .unwrap();

    let out = sc.vigie(&[
        "calls",
        "split",
        &call.to_string(),
        "--sighting",
        &relay.to_string(),
    ]);
    assert!(out.status.success(), "{}", all_output(&out));
    assert_eq!(sc.calls(&[]).len(), 4);
    assert!(sc.vigie(&["crawl"]).status.success());
    assert_eq!(sc.calls(&[]).len(), 4, "the split holds after a crawl");

    let next = sc.calls(&["--text", "2036"]).first().expect("2036 edition")["id"]
        .as_i64()
        .unwrap();
    let out = sc.vigie(&["calls", "merge", &call.to_string(), &next.to_string()]);
    assert!(out.status.success(), "{}", all_output(&out));
    assert!(sc.vigie(&["crawl"]).status.success());
    assert_eq!(sc.calls(&[]).len(), 3, "the merge holds after a crawl");
    assert_eq!(
        show(&sc, next)["id"],
        call,
        "the merged-away id leads to the survivor"
    );

    let out = sc.vigie(&["calls", "split", &call.to_string(), "--sighting", "99999"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a sighting of call"));
}

#[test]
fn calls_of_a_review_source_wait_for_a_curator() {
    let (_server, sc) = setup(true);
    assert!(sc.vigie(&["crawl"]).status.success());
    let out = sc.vigie(&["review", "list", "--format", "json"]);
    assert!(out.status.success(), "{}", all_output(&out));
    let pending: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        pending.len(),
        1,
        "only the aggregator's own call waits: {pending:#?}"
    );
    assert!(
        pending[0]["title"]
            .as_str()
            .unwrap()
            .contains("Tiers-lieux")
    );
    let id = pending[0]["id"].to_string();

    let out = sc.vigie(&["review", "reject", &id]);
    assert!(out.status.success(), "{}", all_output(&out));
    assert!(sc.vigie(&["crawl"]).status.success());
    let out = sc.vigie(&["review", "list", "--format", "json"]);
    assert_eq!(
        serde_json::from_slice::<Vec<Value>>(&out.stdout)
            .unwrap()
            .len(),
        0,
        "rejected calls do not come back"
    );
    assert_eq!(sc.calls(&["--review", "rejected"]).len(), 1);
}

// ---------------------------------------------------------------------------
// Order independence across sources, orders and concurrency.

const MAIRIE_PAGE: &str = r#"<!doctype html><html lang="fr"><body><main>
<article class="fr-card"><h3 class="fr-card__title"><a href="/ami/archivage-mairies">AMI Archivage électronique des mairies</a></h3>
<p class="fr-card__end">Date limite : 30 juin 2035 à 12h00</p></article>
<article class="fr-card"><h3 class="fr-card__title"><a href="/ami/archivage-ecoles">AMI Archivage électronique des écoles</a></h3>
<p class="fr-card__end">Date limite : 30 juin 2035 à 12h00</p></article>
<article class="fr-card"><h3 class="fr-card__title"><a href="/aap/618">Appel à projets connectivité mairies n°618</a></h3>
<p class="fr-card__end">Date limite : 3 novembre 2035 à 12h00</p></article>
<article class="fr-card"><h3 class="fr-card__title"><a href="/aap/wifi4eu-5">WiFi4EU : 5e appel pour les communes</a></h3>
<p class="fr-card__end">Date limite : 2 juin 2035 à 17h00</p></article>
<article class="fr-card"><h3 class="fr-card__title"><a href="/aap/cyber">Parcours cybersécurité des collectivités</a></h3>
<p class="fr-card__end">Date limite : 1er septembre 2035 à 12h00</p></article>
</main></body></html>"#;

fn feed(items: &[(&str, &str, &str, &str)]) -> String {
    let mut out = String::from(
        r#"<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Aides</title><link>https://aides.test/</link><description>Aides</description>"#,
    );
    for (guid, title, link, deadline) in items {
        out.push_str(&format!(
            "<item><title>{title}</title><link>{link}</link><guid>{guid}</guid><description>Date limite : {deadline}</description></item>"
        ));
    }
    out.push_str("</channel></rss>");
    out
}

/// Three sources on three fixture servers: a funder's listing, an
/// aggregator and a relay whose copies resemble several of the funder's
/// items at once, plus numbered calls and an English copy of a page.
struct World {
    _servers: Vec<FixtureServer>,
    sources: Vec<(&'static str, String)>,
}

fn world() -> World {
    let funder = FixtureServer::start();
    funder.route("/appels", Response::ok_html(MAIRIE_PAGE));
    let aggregator = FixtureServer::start();
    let relay = FixtureServer::start();
    let wifi = funder.url("/aap/wifi4eu-5");
    aggregator.route(
        "/aides.xml",
        Response::ok(
            "application/rss+xml",
            feed(&[
                (
                    "a-1",
                    "Archivage électronique des mairies",
                    "https://aides.test/a/1",
                    "30 juin 2035 à 12h00",
                ),
                (
                    "a-2",
                    "Archivage électronique : mairies et écoles (AMI)",
                    "https://aides.test/a/2",
                    "30 juin 2035 à 12h00",
                ),
                (
                    "a-3",
                    "Appel à projets mairies connectivité n°2017",
                    "https://aides.test/a/3",
                    "6 novembre 2035 à 12h00",
                ),
                (
                    "a-4",
                    "AAP Parcours cybersécurité des collectivités",
                    "https://aides.test/a/4",
                    "1er septembre 2035 à 23h00",
                ),
            ]),
        ),
    );
    relay.route(
        "/relais.xml",
        Response::ok(
            "application/rss+xml",
            feed(&[
                (
                    "r-1",
                    "AMI archivage électronique mairies écoles",
                    "https://relais.test/r/1",
                    "30 juin 2035 à 12h00",
                ),
                (
                    "r-2",
                    "AAP n° 618 : connectivité des mairies",
                    "https://relais.test/r/2",
                    "3 novembre 2035 à 12h00",
                ),
                (
                    "r-3",
                    "WiFi4EU: fifth call for municipalities",
                    &wifi,
                    "2 juin 2035 à 17h00",
                ),
                (
                    "r-4",
                    "Parcours de cybersécurité pour les collectivités",
                    "https://relais.test/r/4",
                    "2 septembre 2035 à 12h00",
                ),
            ]),
        ),
    );
    let sources = vec![
        (
            "siaf",
            format!(
                "id = \"siaf\"\nname = \"SIAF\"\nfunder = \"SIAF\"\nkind = \"html\"\nurl = \"{}\"\nschedule = \"0 6 * * *\"\n\n[html]\nitem = \"article.fr-card\"\ntitle = \".fr-card__title a\"\nlink = \".fr-card__title a @href\"\ndeadline = \".fr-card__end\"\n",
                funder.url("/appels")
            ),
        ),
        (
            "aides",
            format!(
                "id = \"aides\"\nname = \"Agrégateur\"\nkind = \"feed\"\nurl = \"{}\"\nschedule = \"0 7 * * *\"\n",
                aggregator.url("/aides.xml")
            ),
        ),
        (
            "relais",
            format!(
                "id = \"relais\"\nname = \"Relais\"\nkind = \"feed\"\nurl = \"{}\"\nschedule = \"0 8 * * *\"\n",
                relay.url("/relais.xml")
            ),
        ),
    ];
    World {
        _servers: vec![funder, aggregator, relay],
        sources,
    }
}

/// The calls as sorted sets of (source, item key).
fn canonical_dump(sc: &Scenario) -> Vec<Vec<(String, String)>> {
    let mut out: Vec<Vec<(String, String)>> = sc
        .calls(&[])
        .iter()
        .map(|c| {
            let mut keys: Vec<(String, String)> = show(sc, c["id"].as_i64().unwrap())["sightings"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| {
                    (
                        s["source_id"].as_str().unwrap().to_string(),
                        s["item_key"].as_str().unwrap().to_string(),
                    )
                })
                .collect();
            keys.sort();
            keys
        })
        .collect();
    out.sort();
    out
}

/// Crawls the world into a fresh database: every source at once with
/// `concurrency`, or one source per crawl in `order`.
fn crawl_world(
    world: &World,
    concurrency: &str,
    order: Option<&[&str]>,
) -> Vec<Vec<(String, String)>> {
    let sc = Scenario::new();
    for (id, toml) in &world.sources {
        sc.source(id, toml);
    }
    let env = [("VIGIE_CRAWL__CONCURRENCY", concurrency)];
    match order {
        None => {
            let out = sc.vigie_with_env(&["crawl"], &env);
            assert!(out.status.success(), "{}", all_output(&out));
        }
        Some(order) => {
            for id in order {
                let out = sc.vigie_with_env(&["crawl", "--source", id], &env);
                assert!(out.status.success(), "{}", all_output(&out));
            }
        }
    }
    canonical_dump(&sc)
}

#[test]
fn the_calls_do_not_depend_on_the_order_or_concurrency_of_the_crawl() {
    let world = world();
    let reference = crawl_world(&world, "1", None);
    let call_of = |source: &str, key_end: &str| {
        reference
            .iter()
            .position(|c| c.iter().any(|(s, k)| s == source && k.ends_with(key_end)))
            .unwrap_or_else(|| panic!("{source} {key_end} not stored: {reference:#?}"))
    };
    assert_ne!(
        call_of("siaf", "/ami/archivage-mairies"),
        call_of("siaf", "/ami/archivage-ecoles"),
        "two items of one page are two calls: {reference:#?}"
    );
    assert_eq!(
        call_of("siaf", "/ami/archivage-mairies"),
        call_of("aides", "a-1")
    );
    assert_ne!(
        call_of("siaf", "/aap/618"),
        call_of("aides", "a-3"),
        "n°618 is not n°2017"
    );
    assert_eq!(call_of("siaf", "/aap/618"), call_of("relais", "r-2"));
    assert_eq!(
        call_of("siaf", "/aap/wifi4eu-5"),
        call_of("relais", "r-3"),
        "same page, same minute"
    );
    assert_eq!(call_of("siaf", "/aap/cyber"), call_of("aides", "a-4"));
    assert_eq!(call_of("siaf", "/aap/cyber"), call_of("relais", "r-4"));
    for call in &reference {
        let mut sources: Vec<&str> = call.iter().map(|(s, _)| s.as_str()).collect();
        sources.dedup();
        assert_eq!(
            sources.len(),
            call.len(),
            "two items of one source in one call: {call:?}"
        );
    }

    assert_eq!(crawl_world(&world, "16", None), reference, "concurrency 16");
    for order in [
        ["relais", "aides", "siaf"],
        ["aides", "siaf", "relais"],
        ["siaf", "relais", "aides"],
        ["relais", "siaf", "aides"],
    ] {
        assert_eq!(
            crawl_world(&world, "1", Some(&order)),
            reference,
            "order {order:?}"
        );
    }
}
