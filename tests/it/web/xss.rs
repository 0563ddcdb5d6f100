//! Hostile text end to end: 392 attack strings (tests/fixtures/xss) put in
//! a fixture source's titles, summaries, funders and links, crawled, then
//! looked for in everything built from them: every catalogue and call
//! page, the sign-up form echoing them back, the feeds, the calendar, the
//! API and a subscriber's digest email. HTML is parsed, not grepped: no
//! element or attribute the templates do not write may appear, and every
//! link must be one of ours or a plain http(s) link.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use scraper::{ElementRef, Html};
use serde_json::Value;

use crate::support::smtp::require_python;
use crate::support::web::Site;
use crate::support::{all_output, fixtures};

fn payloads() -> Vec<String> {
    std::fs::read_to_string(fixtures("xss/payloads.txt"))
        .unwrap()
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

fn attr(s: &str) -> String {
    html_escape::encode_double_quoted_attribute(s).into_owned()
}

/// Each payload as the items' text (escaped in the fixture, so that the
/// extracted title, summary and funder are the hostile string itself, the
/// worst case for the output side; raw markup that would swallow the rest
/// of the listing, such as an unclosed comment, is the extractor's
/// concern and tested there) and in their links.
fn listing(payloads: &[String]) -> String {
    let mut html = String::from("<!doctype html><html lang=\"fr\"><body><main>");
    for (i, p) in payloads.iter().enumerate() {
        let text = html_escape::encode_text(p).into_owned();
        let href = if i % 3 == 0 {
            attr(p)
        } else {
            format!("/aap/{i}.html?x={}", attr(p))
        };
        html.push_str(&format!(
            "<article class=\"call\" data-id=\"x{i}\"><h2><a href=\"{href}\">Appel {i} {text}</a></h2>\
             <p class=\"desc\">Résumé {i} : {text}</p><p class=\"funder\">Financeur {text}</p>\
             <p class=\"end\">Date limite : {d} mars 2035 à 12h</p></article>\n",
            d = 1 + i % 28
        ));
    }
    html.push_str("</main></body></html>");
    html
}

fn source(url: &str) -> String {
    crate::support::web::source_toml(url)
        .replace("funder = \"Agence de démonstration\"\n", "")
        .replace(
            "deadline = \"p.end\"",
            "deadline = \"p.end\"\nfunder = \"p.funder\"",
        )
}

const ELEMENTS: &[&str] = &[
    "html", "head", "meta", "title", "link", "body", "div", "a", "header", "p", "nav", "ul", "ol",
    "li", "main", "footer", "h1", "h2", "h3", "form", "label", "input", "select", "option",
    "fieldset", "legend", "button", "section", "article", "span", "strong", "dl", "dt", "dd",
    "table", "caption", "thead", "tbody", "tr", "th", "td", "br", "em", "hr", "center",
];

/// Parses `html` and fails on anything the templates do not write.
fn assert_safe(html: &str, what: &str, email: bool) {
    let doc = Html::parse_document(html);
    let allowed: BTreeSet<&str> = ELEMENTS.iter().copied().collect();
    for el in doc
        .root_element()
        .descendants()
        .filter_map(ElementRef::wrap)
    {
        let name = el.value().name();
        assert!(
            allowed.contains(name),
            "{what}: a <{name}> element: {}",
            el.html()
        );
        for (attribute, value) in el.value().attrs() {
            let a = attribute.to_ascii_lowercase();
            assert!(
                !a.starts_with("on"),
                "{what}: an event handler {a}={value:?}"
            );
            if a == "style" {
                assert!(email, "{what}: an inline style");
                let v = value.to_ascii_lowercase();
                assert!(
                    !v.contains("url(") && !v.contains("expression"),
                    "{what}: style {value:?}"
                );
            }
            if matches!(
                a.as_str(),
                "href" | "src" | "action" | "formaction" | "srcset"
            ) {
                let v = value.trim().to_ascii_lowercase();
                let ok = (v.starts_with('/') && !v.starts_with("//"))
                    || v.starts_with('#')
                    || v.starts_with("https://")
                    || v.starts_with("http://");
                assert!(ok, "{what}: a {a} of {value:?}");
            }
            if name == "meta" {
                assert!(
                    a != "http-equiv" || value.eq_ignore_ascii_case("content-type"),
                    "{what}: meta {a}"
                );
            }
            if name == "link" && a == "rel" {
                assert!(
                    matches!(value, "stylesheet" | "alternate" | "canonical"),
                    "{what}: link rel {value:?}"
                );
            }
        }
    }
}

#[test]
fn hostile_titles_summaries_funders_and_links_come_out_inert_everywhere() {
    let payloads = payloads();
    assert!(payloads.len() >= 200);
    let site = Site::crawled_with(listing(&payloads), source);
    let ids = site.call_ids();
    assert!(
        ids.len() >= payloads.len() - 5,
        "{} calls for {} items",
        ids.len(),
        payloads.len()
    );

    // Every catalogue page and every call page.
    let pages = ids.len().div_ceil(20);
    for page in 1..=pages {
        let r = site.get(&format!("/appels?page={page}"));
        assert_eq!(r.status, 200);
        assert_safe(&r.body, &format!("catalogue page {page}"), false);
    }
    for id in &ids {
        let r = site.get(&format!("/appels/{id}"));
        assert_eq!(r.status, 200, "{id}");
        assert_safe(&r.body, &format!("call {id}"), false);
    }
    // Searches and forms echo what they are given.
    let csrf = site.get("/abonnement").csrf();
    for p in payloads.iter().step_by(7) {
        let r = site.get(&format!("/appels?q={}", urlencode(p)));
        assert_safe(&r.body, &format!("search {p:?}"), false);
        let r = site.post_form(
            "/abonnement",
            &[
                ("csrf", &csrf),
                ("email", p),
                ("nom", p),
                ("public", "commune"),
                ("territoire", p),
                ("mots_cles", p),
                ("frequence", "quotidienne"),
            ],
            &[],
        );
        assert_safe(&r.body, &format!("sign-up echo {p:?}"), false);
    }

    // Feeds: well-formed, every entry where it should be.
    require_python("feedparser", "feedparser");
    for path in ["/flux.atom", "/flux.rss"] {
        let r = site.get(path);
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f.xml");
        std::fs::write(&file, &r.body).unwrap();
        let out = Command::new("xmllint")
            .arg("--noout")
            .arg(&file)
            .output()
            .expect("xmllint (Debian's libxml2-utils)");
        assert!(
            out.status.success(),
            "{path} is not well-formed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/feed_check.py");
        let out = Command::new("python3")
            .arg(script)
            .arg(&file)
            .arg("xml")
            .output()
            .unwrap();
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["bozo"], 0, "{path}: {}", v["bozo_exception"]);
        assert_eq!(
            v["entries"].as_array().unwrap().len(),
            50,
            "{path}: no entry added or lost"
        );
    }
    let j: Value = serde_json::from_str(&site.get("/flux.json").body).expect("JSON Feed is JSON");
    assert_eq!(j["items"].as_array().unwrap().len(), 50);

    // The API: valid JSON whose titles are the scraped text, as data.
    let export: Value = serde_json::from_str(&site.get("/api/v1/export.json").body).unwrap();
    assert_eq!(export.as_array().unwrap().len(), ids.len());

    // The calendar: one event per cut-off, no property smuggled in.
    let cutoffs: usize = export
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            c["deadlines"]
                .as_array()
                .unwrap()
                .len()
                .max(usize::from(!c["deadline"].is_null()))
        })
        .sum();
    let ics = site.get("/agenda.ics").body;
    let events = ics.split("\r\n").filter(|l| *l == "BEGIN:VEVENT").count();
    assert_eq!(events, cutoffs, "one event per cut-off");
    let known = [
        "BEGIN",
        "END",
        "VERSION",
        "PRODID",
        "CALSCALE",
        "METHOD",
        "X-WR-CALNAME",
        "X-WR-TIMEZONE",
        "TZID",
        "X-LIC-LOCATION",
        "TZOFFSETFROM",
        "TZOFFSETTO",
        "TZNAME",
        "DTSTART",
        "RRULE",
        "UID",
        "SUMMARY",
        "DESCRIPTION",
        "URL",
        "DTSTAMP",
        "LAST-MODIFIED",
        "STATUS",
        "TRANSP",
        "DTEND",
        "ACTION",
        "TRIGGER",
    ];
    for line in ics
        .split("\r\n")
        .filter(|l| !l.is_empty() && !l.starts_with(' '))
    {
        let name = line.split([':', ';']).next().unwrap();
        assert!(known.contains(&name), "a smuggled iCalendar line: {line:?}");
    }

    // A digest email built from them.
    let out = site.sc.vigie(&[
        "subscribers",
        "add",
        "mairie@cergy.fr",
        "--name",
        "Mairie de Cergy",
        "--audience",
        "commune",
        "--territory",
        "commune:95127",
    ]);
    assert!(out.status.success(), "{}", all_output(&out));
    let html = site.sc.path("digest.html");
    let out = site.sc.vigie(&[
        "digest",
        "preview",
        "mairie@cergy.fr",
        "--html",
        html.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", all_output(&out));
    let email = std::fs::read_to_string(&html).unwrap();
    assert!(email.contains("Appel "), "the digest lists the calls");
    assert_safe(&email, "digest email", true);
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
