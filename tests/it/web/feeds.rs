//! Feeds and calendars over HTTP, read by the tools readers use: Atom and
//! RSS through Python's feedparser (`bozo == 0`) and Atom against a RELAX
//! NG schema with jing; JSON Feed against a JSON Schema; iCalendar through
//! Python's icalendar. Validators, 304s, and a changed deadline.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::support::smtp::require_python;
use crate::support::web::Site;
use crate::support::{Response, fixtures};

fn listing() -> Vec<u8> {
    std::fs::read(fixtures("crawl/listing.html")).unwrap()
}

/// Runs `tests/feed_check.py` on `body`.
fn check(body: &str, kind: &str) -> Value {
    for (module, package) in [
        ("feedparser", "feedparser"),
        ("jsonschema", "jsonschema"),
        ("icalendar", "icalendar"),
    ] {
        require_python(module, package);
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("feed");
    std::fs::write(&file, body).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/feed_check.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(&file)
        .arg(kind)
        .output()
        .expect("python3 runs");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert!(out.status.success(), "{kind}: {v}\n{body}");
    v
}

/// jing with the Atom schema written from RFC 4287: Ok or its errors.
fn jing(body: &str) -> Result<(), String> {
    assert!(
        Path::new("/usr/bin/jing").exists(),
        "jing is missing: install Debian's `jing` package"
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("feed.atom");
    std::fs::write(&file, body).unwrap();
    let schema = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/schemas/atom.rnc");
    let out = Command::new("jing")
        .arg("-c")
        .arg(schema)
        .arg(&file)
        .output()
        .expect("jing runs");
    let errors: String = String::from_utf8_lossy(&out.stdout)
        .lines()
        .chain(String::from_utf8_lossy(&out.stderr).lines())
        .filter(|l| !l.starts_with("[warning]"))
        .collect::<Vec<_>>()
        .join("\n");
    if out.status.success() {
        Ok(())
    } else {
        Err(errors)
    }
}

#[test]
fn atom_and_rss_read_cleanly_in_feedparser_and_atom_passes_the_schema() {
    let site = Site::crawled(listing());
    let atom = site.get("/flux.atom");
    assert_eq!(atom.status, 200);
    assert_eq!(
        atom.header("content-type"),
        Some("application/atom+xml; charset=utf-8")
    );
    jing(&atom.body).unwrap_or_else(|e| panic!("{e}\n{}", atom.body));
    let broken =
        atom.body
            .replacen("<id>", "<identifiant>", 1)
            .replacen("</id>", "</identifiant>", 1);
    assert!(jing(&broken).is_err(), "the schema really checks");
    let a = check(&atom.body, "xml");
    assert_eq!(a["bozo"], 0, "{a}");
    assert_eq!(a["version"], "atom10");
    assert_eq!(a["language"], "fr");
    let entries = a["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 3, "{a}");
    let archive = entries
        .iter()
        .find(|e| e["title"].as_str().unwrap().contains("Archivage numérique"))
        .unwrap();
    let id = archive["id"].as_str().unwrap();
    assert!(id.starts_with("https://vigie.example.fr/appels/"), "{id}");
    assert_eq!(archive["link"], id);
    let content = archive["content"].as_str().unwrap();
    assert!(
        content.contains("Date limite : avant le jeudi 15 mars 2035 à 12 h"),
        "{content}"
    );
    assert!(
        content.contains("Financeur : Agence de démonstration"),
        "{content}"
    );
    assert!(content.contains("Territoire : France entière"), "{content}");
    assert!(
        !content.contains("alert("),
        "the scraped script is gone: {content}"
    );
    assert!(
        archive["tags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t == "numerique")
    );

    let rss = site.get("/flux.rss");
    assert_eq!(rss.status, 200);
    let r = check(&rss.body, "xml");
    assert_eq!(r["bozo"], 0, "{r}");
    assert_eq!(r["version"], "rss20");
    assert_eq!(r["entries"].as_array().unwrap().len(), 3);
    assert!(
        r["entries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["id"] == id),
        "the same stable id in both formats"
    );
    assert!(rss.body.contains("rel=\"self\""), "an atom:link to itself");
}

#[test]
fn json_feed_passes_its_schema_and_a_search_gives_only_its_calls() {
    let site = Site::crawled(listing());
    let j = site.get("/flux.json?q=donnees");
    assert_eq!(j.status, 200, "{}", j.body);
    assert_eq!(
        j.header("content-type"),
        Some("application/feed+json; charset=utf-8")
    );
    let v = check(&j.body, "json");
    assert_eq!(v["valid"], true, "{v}");
    let items = v["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{v}");
    assert_eq!(items[0]["title"], "AMI Données et territoires");
    assert!(
        items[0]["_vigie"]["deadline"]
            .as_str()
            .unwrap()
            .starts_with("2035-06-30T23:59")
    );
    let doc: Value = serde_json::from_str(&j.body).unwrap();
    assert!(
        doc["feed_url"]
            .as_str()
            .unwrap()
            .ends_with("/flux.json?q=donnees"),
        "{doc}"
    );
    // The schema really checks: a wrong version, an unknown key and an
    // item without content are refused.
    let mut broken = doc.clone();
    broken["version"] = Value::from("https://jsonfeed.org/version/1");
    broken["unknown"] = Value::from(1);
    broken["items"][0]
        .as_object_mut()
        .unwrap()
        .remove("content_text");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("broken.json");
    std::fs::write(&file, broken.to_string()).unwrap();
    let out = Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/feed_check.py"))
        .arg(&file)
        .arg("json")
        .output()
        .expect("python3 runs");
    let b: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(b["valid"], false, "{b}");
    assert_eq!(b["errors"].as_array().unwrap().len(), 3, "{b}");
    // A bad parameter: 400 in French, naming it.
    let r = site.get("/flux.json?statut=fini");
    assert_eq!(r.status, 400);
    assert!(r.body.contains("Paramètre « statut »"), "{}", r.body);
    let r = site.get("/flux.atom?inconnu=1");
    assert_eq!(r.status, 400);
}

#[test]
fn the_calendar_has_one_event_per_deadline_in_paris_time_with_a_reminder() {
    let site = Site::crawled(listing());
    let r = site.get("/agenda.ics");
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-type"),
        Some("text/calendar; charset=utf-8")
    );
    assert!(r.body.contains("\r\n"), "CRLF line endings");
    assert!(r.body.lines().all(|l| l.len() <= 75), "folded at 75 octets");
    let v = check(&r.body, "ics");
    assert_eq!(v["timezones"], serde_json::json!(["Europe/Paris"]), "{v}");
    let events = v["events"].as_array().unwrap();
    assert_eq!(
        events.len(),
        2,
        "the call without a deadline has no event: {v}"
    );
    let archive = events
        .iter()
        .find(|e| e["summary"].as_str().unwrap().contains("Archivage"))
        .unwrap();
    assert_eq!(archive["tzid"], "Europe/Paris");
    assert_eq!(
        archive["start"], "2035-03-15T11:30:00+01:00",
        "30 minutes before noon, Paris"
    );
    assert_eq!(archive["alarms"], serde_json::json!(["-P7D"]));
    let donnees = events
        .iter()
        .find(|e| e["summary"].as_str().unwrap().contains("Données"))
        .unwrap();
    assert_eq!(
        donnees["all_day"], true,
        "a deadline at the end of a day is a day"
    );
    assert_eq!(donnees["start"], "2035-06-30");
    let uid = archive["uid"].as_str().unwrap();
    assert!(
        uid.starts_with("appel-") && uid.ends_with("@vigie.example.fr"),
        "{uid}"
    );

    // One call's calendar, and the call page's link to it.
    let id = uid.trim_start_matches("appel-").split('-').next().unwrap();
    let one = site.get(&format!("/appels/{id}/agenda.ics"));
    assert_eq!(one.status, 200);
    let v1 = check(&one.body, "ics");
    assert_eq!(v1["events"].as_array().unwrap().len(), 1);
    assert_eq!(v1["events"][0]["uid"], uid, "the same UID in both files");
    assert_eq!(site.get("/appels/999999/agenda.ics").status, 404);
}

#[test]
fn validators_give_304_until_a_deadline_moves_then_the_entry_is_updated_in_place() {
    let site = Site::crawled(listing());
    for path in ["/flux.atom", "/flux.rss", "/flux.json", "/agenda.ics"] {
        let r = site.get(path);
        let etag = r.header("etag").expect("an ETag").to_string();
        let modified = r
            .header("last-modified")
            .expect("a Last-Modified")
            .to_string();
        assert!(r.header("cache-control").unwrap().contains("max-age"));
        let again = site.get_with(path, &[("if-none-match", &etag)]);
        assert_eq!(again.status, 304, "{path}");
        assert!(again.body.is_empty());
        let since = site.get_with(path, &[("if-modified-since", &modified)]);
        assert_eq!(since.status, 304, "{path}");
        let gz = site.get_with(path, &[("accept-encoding", "gzip")]);
        assert_eq!(gz.header("content-encoding"), Some("gzip"), "{path}");
    }
    let before = site.get("/flux.atom");
    let etag = before.header("etag").unwrap().to_string();
    let a = check(&before.body, "xml");

    // The funder extends a deadline; the next crawl sees it.
    let html = String::from_utf8(listing())
        .unwrap()
        .replace("15 mars 2035 à 12h", "15 avril 2035 à 12h");
    site.fixtures.route("/appels.html", Response::ok_html(html));
    let out = site.sc.vigie(&["crawl"]);
    assert!(out.status.success());
    std::thread::sleep(std::time::Duration::from_millis(300));
    let after = site.get_with("/flux.atom", &[("if-none-match", &etag)]);
    assert_eq!(after.status, 200, "the feed changed");
    assert_ne!(after.header("etag"), Some(etag.as_str()));
    let b = check(&after.body, "xml");
    let find = |v: &Value| {
        v["entries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["title"].as_str().unwrap().contains("Archivage"))
            .cloned()
            .unwrap()
    };
    let (old, new) = (find(&a), find(&b));
    assert_eq!(old["id"], new["id"], "the same entry");
    assert_ne!(old["updated"], new["updated"], "its updated date moved");
    assert!(
        new["content"].as_str().unwrap().contains("15 avril 2035"),
        "{new}"
    );
}

/// A listing whose text is hostile to every output format, and a call
/// with two cut-offs.
fn hostile_listing() -> String {
    "<!doctype html><html lang=\"fr\"><head><meta charset=\"utf-8\"></head><body><main>\
     <article class=\"call\" data-id=\"h-1\"><h2><a href=\"/h1.html\">Appel &lt;script&gt;alert(1)&lt;/script&gt; \
     ]]&gt; &amp; &#1;«\u{a0}guillemets\u{a0}» ;\r\nvirgule, barre \\ fin</a></h2>\
     <p class=\"desc\">Texte &lt;/content&gt;&lt;entry&gt; ]]&gt; &amp;amp; \r\nBEGIN:VEVENT\r\nUID:x</p>\
     <p class=\"end\">Date limite : 15 mars 2035 à 12h</p></article>\
     <article class=\"call\" data-id=\"h-2\"><h2><a href=\"/h2.html\">AMI deux relèves ; étape, deux</a></h2>\
     <p class=\"desc\">Deux vagues.</p>\
     <p class=\"end\">Clôture : 15 mars et 15 septembre 2035</p></article>\
     </main></body></html>"
        .to_string()
}

/// xmllint's verdict on a document: Ok or its errors.
fn xmllint(body: &str) -> Result<(), String> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("feed.xml");
    std::fs::write(&file, body).unwrap();
    let out = Command::new("xmllint")
        .arg("--noout")
        .arg(&file)
        .output()
        .expect("xmllint runs (Debian's libxml2-utils)");
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

#[test]
fn hostile_text_stays_text_in_every_format_and_two_cut_offs_give_two_events() {
    let site = Site::crawled(hostile_listing());
    let atom = site.get("/flux.atom");
    let rss = site.get("/flux.rss");
    let json = site.get("/flux.json");
    let ics = site.get("/agenda.ics");
    for r in [&atom, &rss, &json, &ics] {
        assert_eq!(r.status, 200, "{}", r.body);
        assert!(!r.body.contains("<script"), "{}", r.body);
        assert!(!r.body.contains("<entry>]]"), "{}", r.body);
    }
    jing(&atom.body).unwrap_or_else(|e| panic!("{e}\n{}", atom.body));
    xmllint(&atom.body).unwrap_or_else(|e| panic!("{e}\n{}", atom.body));
    xmllint(&rss.body).unwrap_or_else(|e| panic!("{e}\n{}", rss.body));
    for body in [&atom.body, &rss.body] {
        let v = check(body, "xml");
        assert_eq!(v["bozo"], 0, "{v}");
        let entries = v["entries"].as_array().unwrap();
        assert_eq!(entries.len(), 2, "no entry smuggled in: {v}");
        assert!(
            entries
                .iter()
                .any(|e| e["title"].as_str().unwrap().contains("guillemets")),
            "{v}"
        );
    }
    let j = check(&json.body, "json");
    assert_eq!(j["valid"], true, "{j}");
    assert_eq!(j["items"].as_array().unwrap().len(), 2);

    let v = check(&ics.body, "ics");
    let events = v["events"].as_array().unwrap();
    assert_eq!(events.len(), 3, "one event per cut-off: {v}");
    let hostile = events
        .iter()
        .find(|e| e["summary"].as_str().unwrap().contains("guillemets"))
        .unwrap();
    let summary = hostile["summary"].as_str().unwrap();
    assert!(summary.contains("; virgule, barre \\ fin"), "{summary}");
    // (The normalize stage already dropped the `<script>` element.)
    assert!(!summary.contains('\u{1}'), "{summary:?}");
    let description = hostile["description"].as_str().unwrap();
    assert!(
        description.contains("</content><entry> ]]> &amp; BEGIN:VEVENT UID:x"),
        "kept as text: {description}"
    );
    // The crafted BEGIN:VEVENT line stayed inside DESCRIPTION.
    assert!(
        !ics.body.contains("\r\nBEGIN:VEVENT\r\nUID:x"),
        "{}",
        ics.body
    );
    let two: Vec<&Value> = events
        .iter()
        .filter(|e| e["summary"].as_str().unwrap().contains("deux relèves"))
        .collect();
    assert_eq!(two.len(), 2, "{v}");
    let (a, b) = (
        two[0]["uid"].as_str().unwrap(),
        two[1]["uid"].as_str().unwrap(),
    );
    assert_ne!(a, b);
    assert!(a.ends_with("-0@vigie.example.fr") || b.ends_with("-0@vigie.example.fr"));
    assert!(a.ends_with("-1@vigie.example.fr") || b.ends_with("-1@vigie.example.fr"));
    let mut days: Vec<&str> = two.iter().map(|e| e["start"].as_str().unwrap()).collect();
    days.sort();
    assert_eq!(days, ["2035-03-15", "2035-09-15"], "{v}");
    assert_eq!(
        two[0]["summary"],
        "Date limite : AMI deux relèves ; étape, deux"
    );

    // The same bytes on a second request (no clock in any format).
    for (path, first) in [
        ("/flux.atom", &atom),
        ("/flux.rss", &rss),
        ("/flux.json", &json),
        ("/agenda.ics", &ics),
    ] {
        assert_eq!(
            site.get(path).header("etag"),
            first.header("etag"),
            "{path}"
        );
    }
}

#[test]
fn a_calls_calendar_follows_a_merge_and_disappears_when_rejected_even_once_cached() {
    let site = Site::crawled(listing());
    let ids = site.call_ids();
    assert_eq!(ids.len(), 3, "{ids:?}");
    let (a, b, c) = (ids[0], ids[1], ids[2]);
    // Cached first: the cache must not outlive the catalogue's change.
    for id in [a, b, c] {
        let r = site.get(&format!("/appels/{id}/agenda.ics"));
        assert_eq!(r.status, 200, "{id}");
        assert_eq!(
            r.header("content-type"),
            Some("text/calendar; charset=utf-8")
        );
        assert!(r.header("etag").is_some());
    }
    for path in ["/appels/abc/agenda.ics", "/appels/-1/agenda.ics"] {
        assert_eq!(site.get(path).status, 404, "{path}");
    }
    let out = site
        .sc
        .vigie(&["calls", "merge", &a.to_string(), &b.to_string()]);
    assert!(out.status.success(), "{}", crate::support::all_output(&out));
    let out = site.sc.vigie(&["review", "reject", &c.to_string()]);
    assert!(out.status.success(), "{}", crate::support::all_output(&out));
    std::thread::sleep(std::time::Duration::from_millis(300));
    let r = site.get(&format!("/appels/{b}/agenda.ics"));
    assert_eq!(r.status, 301);
    assert_eq!(
        r.header("location"),
        Some(format!("/appels/{a}/agenda.ics").as_str())
    );
    assert_eq!(site.get(&format!("/appels/{c}/agenda.ics")).status, 404);
    assert_eq!(site.get(&format!("/appels/{a}/agenda.ics")).status, 200);
}
