//! The curator's tooling, end to end with the real binary: `vigie sources
//! new` on a DSFR listing served on loopback, `sources check` and
//! `sources check --fetch` on what it wrote (items, missing fields,
//! warnings), a crawl of the same pages into `vigie calls` (publication
//! dates), and the one deadline both commands show for a call with several
//! cut-offs. Fixture: `tests/fixtures/curator/dsfr-appels` (see its README).

use serde_json::Value;

use crate::support::web::Site;
use crate::support::{FixtureServer, Response, Scenario, all_output, fixtures};

const LISTING: &str = "/appels-a-projets";

fn fixture(name: &str) -> String {
    std::fs::read_to_string(fixtures(&format!("curator/dsfr-appels/{name}"))).unwrap()
}

/// The DSFR listing (two pages) on a fresh server.
fn dsfr_server() -> FixtureServer {
    let server = FixtureServer::start();
    server.route(LISTING, Response::ok_html(fixture("page-1.html")));
    server.route(
        &format!("{LISTING}?page=2"),
        Response::ok_html(fixture("page-2.html")),
    );
    server
}

fn json(out: &std::process::Output) -> Value {
    assert!(out.status.success(), "{}", all_output(out));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", all_output(out)))
}

fn by_title<'a>(items: &'a [Value], needle: &str) -> &'a Value {
    items
        .iter()
        .find(|i| i["title"].as_str().unwrap().contains(needle))
        .unwrap_or_else(|| panic!("no item titled like {needle:?} in {items:#?}"))
}

/// `sources new` on the listing; returns the id it derived.
fn new_source(sc: &Scenario, server: &FixtureServer) -> String {
    let out = sc.vigie(&["sources", "new", "--kind", "html", &server.url(LISTING)]);
    assert!(out.status.success(), "{}", all_output(&out));
    let id = "source-127-0-0-1-appels-a-projets";
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(&format!("{id}.toml")),
        "{}",
        all_output(&out)
    );
    id.to_string()
}

#[test]
fn sources_new_guesses_a_dsfr_listing_that_check_accepts_and_fetch_reads_field_by_field() {
    let server = dsfr_server();
    let sc = Scenario::new();
    let id = new_source(&sc, &server);
    let file = sc.path(&format!("sources/{id}.toml"));
    let written = std::fs::read_to_string(&file).unwrap();
    for line in [
        "item = \"main .fr-card\"",
        "title = \".fr-card__title\"",
        "link = \".fr-card__title a @href\"",
        "summary = \".fr-card__desc\"",
        "deadline = \".fr-card__end .fr-card__detail\"",
        "published = \".fr-card__start .fr-card__detail\"",
        "kind = \".fr-card__start .fr-tag\"",
        "next_page = \"a.fr-pagination__link--next @href\"",
        "name = \"Appels à projets | Agence de démonstration du numérique\"",
        "review = true",
    ] {
        assert!(written.lines().any(|l| l == line), "{line} in:\n{written}");
    }
    assert!(written.contains("# audiences = "), "explained, commented");

    // As written, it validates...
    let out = sc.vigie(&["sources", "check", &id]);
    assert!(out.status.success(), "{}", all_output(&out));
    // ...and reads every item of both pages.
    let previews = json(&sc.vigie(&["sources", "check", &id, "--fetch", "--format", "json"]));
    let p = &previews[0];
    assert_eq!(p["pages"], 2, "{p:#}");
    assert_eq!(p["time_zone"], "Europe/Paris");
    let items = p["items"].as_array().unwrap();
    assert_eq!(items.len(), 5, "{p:#}");
    let first = by_title(items, "Territoires numériques");
    assert_eq!(first["deadline"], "2035-03-31T12:00:00+02:00");
    assert_eq!(
        first["published"], "2026-11-02T00:00:00+01:00",
        "the day's start"
    );
    assert_eq!(first["kind"], "aap");
    assert_eq!(
        first["link"],
        server.url("/appels-a-projets/territoires-numeriques-2027")
    );
    // Nothing on the page says who may apply: the definition does not
    // either yet, so those are missing; the perimeter is assumed.
    let missing = |i: &Value| -> Vec<String> {
        i["missing"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f.as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        missing(first),
        ["opens", "funder", "audiences"],
        "{first:#}"
    );
    assert_eq!(first["filled"], serde_json::json!(["perimeter", "themes"]));
    let bare = by_title(items, "Tiers-lieux");
    assert_eq!(
        missing(bare),
        [
            "deadline",
            "opens",
            "published",
            "funder",
            "audiences",
            "summary"
        ]
    );
    assert_eq!(bare["kind"], "ami", "read from the tag");
    // Counts per field, in the order shown.
    let counts = &p["missing"];
    assert_eq!(counts["title"], 1, "the newsletter card has no title");
    assert_eq!(counts["link"], 0);
    assert_eq!(counts["deadline"], 2, "{counts}");
    assert_eq!(counts["published"], 1);
    assert_eq!(counts["opens"], 5);
    assert_eq!(counts["summary"], 1);
    assert_eq!(p["filled"]["perimeter"], 5);
    // In the order of the table (the parsed Value sorts keys: read the text).
    let raw = sc.vigie(&["sources", "check", &id, "--fetch", "--format", "json"]);
    let raw = String::from_utf8_lossy(&raw.stdout);
    let counts_text = &raw[raw.find("\"missing\": {").unwrap()..];
    let at = |k: &str| counts_text.find(&format!("\"{k}\":")).unwrap();
    assert!(at("title") < at("link") && at("link") < at("deadline") && at("kind") < at("summary"));
    // A deadline text that is not a date is a warning naming the item.
    let warnings = p["warnings"].to_string();
    assert!(
        warnings.contains("Mobilités rurales") && warnings.contains("prochainement"),
        "{warnings}"
    );
    assert!(warnings.contains("has no title"), "{warnings}");

    // The table: one row per item, `—` for what is missing, a count per
    // field, the warnings.
    let out = sc.vigie(&["sources", "check", &id, "--fetch"]);
    assert!(out.status.success(), "{}", all_output(&out));
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("5 items from 2 pages"), "{table}");
    assert!(table.contains("items missing it"), "{table}");
    assert!(
        table.contains("2035-03-31 12:00") && table.contains("2026-11-02"),
        "{table}"
    );
    assert!(
        table.contains("[france]"),
        "filled values are marked: {table}"
    );
    assert!(
        table.contains("warning: «Mobilités rurales partagées»"),
        "{table}"
    );
    let row = table
        .lines()
        .find(|l| l.contains("Tiers-lieux"))
        .expect("a row for each item");
    assert!(row.matches('—').count() >= 6, "{row}");
    assert!(!table.contains("hours on its pages"), "{table}");

    // The same pages published in French Guiana: its hours are read in
    // its own zone and shown in Paris time (noon in Cayenne, UTC-3, is
    // 17:00 in Paris in summer time).
    let guiana = written.replacen(
        "review = true",
        "review = true\ntimezone = \"America/Cayenne\"",
        1,
    );
    std::fs::write(&file, &guiana).unwrap();
    let previews = json(&sc.vigie(&["sources", "check", &id, "--fetch", "--format", "json"]));
    assert_eq!(previews[0]["time_zone"], "America/Cayenne");
    let items = previews[0]["items"].as_array().unwrap();
    let first = by_title(items, "Territoires numériques");
    assert_eq!(first["deadline"], "2035-03-31T17:00:00+02:00", "{first:#}");
    let out = sc.vigie(&["sources", "check", &id, "--fetch"]);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("hours on its pages are read in America/Cayenne"),
        "{table}"
    );
    std::fs::write(&file, &written).unwrap();

    // Never overwritten without --force.
    let before = sc.vigie(&["sources", "new", "--kind", "feed", &server.url(LISTING)]);
    assert!(!before.status.success());
    assert!(
        all_output(&before).contains("already exists") && all_output(&before).contains("--force"),
        "{}",
        all_output(&before)
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), written);
    let forced = sc.vigie(&[
        "sources",
        "new",
        "--kind",
        "feed",
        &server.url(LISTING),
        "--force",
    ]);
    assert!(forced.status.success(), "{}", all_output(&forced));
    assert!(
        std::fs::read_to_string(&file)
            .unwrap()
            .contains("kind = \"feed\"")
    );
}

#[test]
fn sources_new_without_the_page_still_writes_a_skeleton_that_loads() {
    let server = dsfr_server();
    let other = FixtureServer::start_on([127, 0, 0, 2].into());
    other.route("/aap", Response::ok_html(fixture("page-1.html")));
    let sc = Scenario::new();
    let cases: Vec<(&str, String, &str, Vec<&str>)> = vec![
        // Offline: no request at all.
        ("html", server.url(LISTING), "hors-ligne", vec!["--offline"]),
        // The page fails.
        ("html", server.url("/disparue"), "disparue", vec![]),
        // A host outside allow_hosts: the guarded fetcher refuses it.
        ("html", other.url("/aap"), "hote-interdit", vec![]),
        ("feed", server.url("/flux.xml"), "flux", vec![]),
        ("json", server.url("/api/aides"), "api", vec![]),
    ];
    for (kind, url, id, extra) in &cases {
        let mut args = vec!["sources", "new", "--kind", kind, url.as_str(), "--id", id];
        args.extend(extra);
        let out = sc.vigie(&args);
        assert!(out.status.success(), "{id}: {}", all_output(&out));
        let text = std::fs::read_to_string(sc.path(&format!("sources/{id}.toml"))).unwrap();
        assert!(text.contains(&format!("id = \"{id}\"")), "{text}");
        let check = sc.vigie(&["sources", "check", id]);
        assert!(check.status.success(), "{id}: {}", all_output(&check));
        if *kind == "html" {
            assert!(text.contains("PLACEHOLDERS"), "{id}: {text}");
        }
    }
    let note = |id: &str| std::fs::read_to_string(sc.path(&format!("sources/{id}.toml"))).unwrap();
    assert!(note("hors-ligne").contains("Written offline"));
    assert!(
        note("disparue").contains("could not be fetched"),
        "{}",
        note("disparue")
    );
    assert!(note("hote-interdit").contains("could not be fetched"));
    assert!(
        other.requests().is_empty(),
        "a host outside allow_hosts is never contacted"
    );
    assert!(
        server.requests_to(LISTING).is_empty(),
        "--offline fetches nothing"
    );
    assert!(
        server.requests_to("/flux.xml").is_empty(),
        "only html pages are read"
    );

    // A bad URL or id is a clear error, and writes nothing.
    for args in [
        vec!["sources", "new", "--kind", "html", "ftp://exemple.fr/"],
        vec!["sources", "new", "--kind", "html", "pas une adresse"],
        vec![
            "sources",
            "new",
            "--kind",
            "html",
            "https://a.fr/",
            "--id",
            "../x",
        ],
    ] {
        let out = sc.vigie(&args);
        assert!(!out.status.success(), "{args:?}");
        assert!(
            !all_output(&out).contains("panicked"),
            "{}",
            all_output(&out)
        );
    }
    assert_eq!(
        std::fs::read_dir(sc.path("sources")).unwrap().count(),
        cases.len()
    );
}

#[test]
fn publication_dates_reach_calls_and_both_commands_show_the_same_cut_off() {
    let server = dsfr_server();
    let relay = fixture("relais.xml").replace("{{BASE}}", &server.url(""));
    server.route("/relais.xml", Response::ok("application/rss+xml", relay));
    let sc = Scenario::new();
    let id = new_source(&sc, &server);
    sc.source(
        "relais",
        &format!(
            "id = \"relais\"\nname = \"Relais\"\nkind = \"feed\"\nurl = \"{}\"\n\
             schedule = \"0 6 * * *\"\n",
            server.url("/relais.xml")
        ),
    );
    let out = sc.vigie(&["crawl"]);
    assert!(out.status.success(), "{}", all_output(&out));
    let calls = sc.calls(&[]);
    assert_eq!(
        calls.len(),
        5,
        "the relay's entry joined its call: {calls:#?}"
    );

    // The listing says 2 November, the relay 20 November: the call was
    // published when it first appeared.
    let first = by_title(&calls, "Territoires numériques");
    let sources: Vec<&str> = first["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert_eq!(sources, ["relais", id.as_str()]);
    assert_eq!(first["published"], "2026-11-02T00:00:00+01:00", "{first:#}");
    assert!(by_title(&calls, "Tiers-lieux")["published"].is_null());

    let shown = sc.vigie(&["calls", "show", &first["id"].to_string()]);
    assert!(shown.status.success(), "{}", all_output(&shown));
    let table = String::from_utf8_lossy(&shown.stdout);
    let row = table
        .lines()
        .find(|l| l.contains("published"))
        .unwrap_or_else(|| panic!("{table}"));
    assert!(row.contains("2026-11-02"), "{row}");
    assert!(
        table.contains("2026-11-20"),
        "each sighting's own date is listed: {table}"
    );
    let full = json(&sc.vigie(&[
        "calls",
        "show",
        &first["id"].to_string(),
        "--format",
        "json",
    ]));
    assert_eq!(full["published"], first["published"]);

    // Three cut-offs, the first one past: both commands show the next one.
    let stored = by_title(&calls, "Archivage électronique");
    let cutoffs: Vec<&str> = stored["deadlines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap())
        .collect();
    assert_eq!(cutoffs.len(), 3, "{stored:#}");
    assert!(cutoffs[0].starts_with("2026-01-15"), "{cutoffs:?}");
    assert!(cutoffs[1].starts_with("2035-03-15"), "{cutoffs:?}");
    assert_eq!(stored["deadline"], cutoffs[1]);
    let previews = json(&sc.vigie(&["sources", "check", &id, "--fetch", "--format", "json"]));
    let previewed = by_title(
        previews[0]["items"].as_array().unwrap(),
        "Archivage électronique",
    );
    assert_eq!(previewed["deadline"], stored["deadline"]);
    assert_eq!(previewed["deadlines"], stored["deadlines"]);
    // The tables too: the same day and time, and which cut-off it is.
    let check = sc.vigie(&["sources", "check", &id, "--fetch"]);
    let listing = sc.vigie(&["calls"]);
    let shown_day = &cutoffs[1][..10];
    let check_row = String::from_utf8_lossy(&check.stdout)
        .lines()
        .find(|l| l.contains("Archivage"))
        .unwrap()
        .to_string();
    assert!(
        check_row.contains(shown_day) && check_row.contains("cut-off 2 of 3"),
        "{check_row}"
    );
    let calls_row = String::from_utf8_lossy(&listing.stdout)
        .lines()
        .find(|l| l.contains("Archivage"))
        .unwrap()
        .to_string();
    assert!(calls_row.contains(shown_day), "{calls_row}");

    // The API gives the date too, and its document describes it.
    let call_id = first["id"].as_i64().unwrap();
    let site = Site::serve(sc, server);
    let r = site.get(&format!("/api/v1/calls/{call_id}"));
    assert_eq!(r.status, 200, "{}", r.body);
    let api: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(api["published"], "2026-11-02T00:00:00+01:00");
    let doc: Value = serde_json::from_str(&site.get("/api/v1/openapi.json").body).unwrap();
    assert_eq!(
        doc["components"]["schemas"]["Call"]["properties"]["published"]["format"], "date-time",
        "{:#}",
        doc["components"]["schemas"]["Call"]
    );
}
