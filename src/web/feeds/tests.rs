//! Unit tests of the pure parts: text cleaning, the JSON Feed's shape, the
//! Atom document's escaping, and the calendar's folding, UIDs, VTIMEZONE
//! and events.

use chrono::{DateTime, FixedOffset, TimeZone};
use serde_json::Value;

use super::Selection;
use super::calendar::{calendar, uid};
use super::formats::{atom, json_feed, one_line, plain, rss};
use crate::domain::{Audience, CallKind, Perimeter, Recurrence, Status, Theme};
use crate::store::CallRecord;
use crate::web::query::SearchQuery;

const SITE: &str = "https://vigie.example.fr";

fn paris(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<FixedOffset> {
    chrono_tz::Europe::Paris
        .with_ymd_and_hms(y, mo, d, h, mi, 0)
        .single()
        .expect("a valid Paris time")
        .fixed_offset()
}

fn call(id: i64, title: &str) -> CallRecord {
    let t = paris(2035, 1, 10, 9, 0);
    CallRecord {
        id,
        title: title.into(),
        summary_html: String::new(),
        summary_text: "Pour les collectivités & leurs archives.".into(),
        funder: Some("Agence de démonstration".into()),
        kind: CallKind::Aap,
        url: None,
        audiences: vec![Audience::Commune],
        perimeter: Perimeter::France.into(),
        themes: vec![Theme::Archives],
        opens_on: None,
        deadline: Some(paris(2035, 3, 15, 12, 0)),
        deadlines: vec![paris(2035, 3, 15, 12, 0)],
        recurrence: Recurrence::Oneoff,
        status: Status::Open,
        published: None,
        first_seen: t,
        updated: paris(2035, 1, 12, 10, 30),
        last_seen: t,
        sources: vec![],
        review: "approved".into(),
        unlisted: false,
        last_listed: None,
    }
}

fn selection(calls: Vec<CallRecord>) -> Selection {
    Selection {
        query: SearchQuery::default(),
        calls,
        site: SITE.into(),
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("UTF-8")
}

const HOSTILE: &str =
    "Appel <script>alert(1)</script> ]]> & \"q\" 'a' ; , \\ \u{1}\u{7f}\r\nfin\u{FFFF}";

#[test]
fn plain_keeps_text_and_drops_what_xml_and_icalendar_refuse() {
    assert_eq!(plain("a\r\nb\rc\nd\te"), "a\nb\nc\nd\te");
    assert_eq!(plain("x\u{0}\u{1b}\u{7f}\u{85}\u{FFFE}y"), "xy");
    assert_eq!(plain("Données à « 12 h »"), "Données à « 12 h »");
    assert_eq!(one_line("un\r\ndeux\ttrois"), "un deux trois");
}

#[test]
fn json_feed_has_the_shape_of_version_1_1() {
    let mut two = call(2, "AMI Données");
    two.funder = None;
    two.themes.clear();
    let body = json_feed(&selection(vec![call(1, "Appel"), two])).expect("renders");
    assert_eq!(body.content_type, "application/feed+json; charset=utf-8");
    let v: Value = serde_json::from_slice(&body.body).expect("JSON");
    assert_eq!(v["version"], "https://jsonfeed.org/version/1.1");
    assert_eq!(v["language"], "fr");
    assert_eq!(v["home_page_url"], format!("{SITE}/appels"));
    assert_eq!(v["feed_url"], format!("{SITE}/flux.json"));
    let items = v["items"].as_array().expect("items");
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["id"], format!("{SITE}/appels/1"));
    assert_eq!(items[0]["url"], items[0]["id"]);
    assert_eq!(items[0]["date_modified"], "2035-01-12T10:30:00+01:00");
    assert_eq!(items[0]["date_published"], "2035-01-10T09:00:00+01:00");
    assert_eq!(items[0]["authors"][0]["name"], "Agence de démonstration");
    assert_eq!(items[0]["tags"][0], "Archives");
    let content = items[0]["content_text"].as_str().expect("text");
    assert!(
        content.starts_with("Date limite : avant le jeudi 15 mars 2035 à 12 h"),
        "{content}"
    );
    assert!(content.contains("Financeur : Agence de démonstration"));
    // Empty lists are left out rather than sent empty.
    assert!(items[1].get("authors").is_none() && items[1].get("tags").is_none());
    assert!(items[1]["_vigie"]["about"].is_string());
}

#[test]
fn an_empty_feed_has_a_fixed_date_so_its_tag_is_stable() {
    let a = atom(&selection(vec![])).expect("renders");
    let b = atom(&selection(vec![])).expect("renders");
    assert_eq!(a.etag, b.etag);
    assert!(text(&a.body).contains("<updated>1970-01-01T00:00:00+00:00</updated>"));
    assert_eq!(a.last_modified, None);
}

#[test]
fn hostile_titles_are_escaped_in_atom_and_rss() {
    let s = selection(vec![call(3, HOSTILE)]);
    for body in [atom(&s), rss(&s)].map(|r| text(&r.expect("renders").body)) {
        assert!(!body.contains("<script"), "{body}");
        assert!(body.contains("&lt;script&gt;"), "{body}");
        assert!(!body.contains("]]> &"), "{body}");
        assert!(
            !body
                .chars()
                .any(|c| c.is_control() && !matches!(c, '\n' | '\t')),
            "no control character: {body:?}"
        );
        assert!(!body.contains('\u{FFFF}'));
    }
}

/// Undoes RFC 5545 §3.1 folding.
fn unfold(ics: &str) -> String {
    ics.replace("\r\n ", "")
}

#[test]
fn calendar_lines_end_in_crlf_and_fold_at_75_octets_on_char_boundaries() {
    let long = "Appel à projets « Rénovation énergétique des bâtiments scolaires \
                et des équipements sportifs des communes rurales » édition 2035";
    let ics = text(
        &calendar(&selection(vec![call(4, long)]), "Vigie")
            .expect("renders")
            .body,
    );
    assert!(ics.ends_with("END:VCALENDAR\r\n"));
    assert!(!ics.replace("\r\n", "").contains(['\r', '\n']), "only CRLF");
    for line in ics.split("\r\n") {
        assert!(line.len() <= 75, "{} octets: {line}", line.len());
    }
    assert!(ics.contains("\r\n "), "the long lines were folded");
    assert!(
        unfold(&ics).contains(&format!("SUMMARY:Date limite : {long}\r\n")),
        "{ics}"
    );
}

#[test]
fn uids_are_stable_and_one_event_per_cut_off() {
    assert_eq!(
        uid(12, 1, "vigie.example.fr"),
        "appel-12-1@vigie.example.fr"
    );
    let mut c = call(5, "Deux relèves");
    c.deadlines = vec![paris(2035, 3, 15, 23, 59), paris(2035, 9, 15, 23, 59)];
    c.deadline = c.deadlines.first().copied();
    let s = selection(vec![c]);
    let a = calendar(&s, "Vigie").expect("renders");
    let b = calendar(&s, "Vigie").expect("renders");
    assert_eq!(a.body, b.body, "no clock in the file");
    assert_eq!(a.etag, b.etag);
    let ics = unfold(&text(&a.body));
    assert_eq!(ics.matches("BEGIN:VEVENT").count(), 2);
    assert!(ics.contains("UID:appel-5-0@vigie.example.fr\r\n"));
    assert!(ics.contains("UID:appel-5-1@vigie.example.fr\r\n"));
    // End-of-day deadlines are all-day events on their day.
    assert!(ics.contains("DTSTART;VALUE=DATE:20350315\r\n"), "{ics}");
    assert!(ics.contains("DTSTART;VALUE=DATE:20350915\r\n"), "{ics}");
    // The events' and their reminders' stamps: the call's last change.
    assert_eq!(ics.matches("DTSTAMP:20350112T093000Z").count(), 4, "{ics}");
    assert_eq!(ics.matches("DTSTAMP:").count(), 4, "{ics}");
    assert_eq!(ics.matches("TRIGGER;RELATED=START:-PT604800S").count(), 2);
    assert!(
        ics.contains("UID:appel-5-1-rappel@vigie.example.fr\r\n"),
        "{ics}"
    );
    assert_eq!(ics.matches("ACTION:DISPLAY").count(), 2, "{ics}");
}

#[test]
fn a_timed_deadline_is_a_half_hour_in_paris_time_after_one_vtimezone() {
    let ics = unfold(&text(
        &calendar(&selection(vec![call(6, "Midi")]), "Vigie")
            .expect("renders")
            .body,
    ));
    assert!(
        ics.contains("DTSTART;TZID=Europe/Paris:20350315T113000\r\n"),
        "{ics}"
    );
    assert!(ics.contains("DTEND;TZID=Europe/Paris:20350315T120000\r\n"));
    assert!(ics.contains("METHOD:PUBLISH\r\n") && ics.contains("PRODID:"));
    assert!(ics.contains("X-WR-CALNAME:Vigie\r\n"));
    assert_eq!(ics.matches("BEGIN:VTIMEZONE").count(), 1);
    let zone = ics.find("BEGIN:VTIMEZONE").expect("a zone");
    let event = ics.find("BEGIN:VEVENT").expect("an event");
    assert!(zone < event, "the zone comes before the events");
    for rule in [
        "BEGIN:DAYLIGHT\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200",
        "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
        "BEGIN:STANDARD\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100",
        "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
    ] {
        assert!(ics.contains(rule), "{rule}");
    }
    // An empty calendar still carries its zone and is well-formed.
    let empty = text(&calendar(&selection(vec![]), "Vigie").expect("renders").body);
    assert!(empty.contains("BEGIN:VTIMEZONE") && empty.ends_with("END:VCALENDAR\r\n"));
}

#[test]
fn hostile_text_cannot_add_a_calendar_line() {
    let ics = unfold(&text(
        &calendar(&selection(vec![call(7, HOSTILE)]), "Vigie ; « x »\r\nUID:y")
            .expect("renders")
            .body,
    ));
    assert!(
        ics.contains(
            "SUMMARY:Date limite : Appel <script>alert(1)</script> ]]> & \"q\" 'a' \\; \\, \\\\  fin\r\n"
        ),
        "{ics}"
    );
    assert!(
        ics.contains("X-WR-CALNAME:Vigie \\; « x » UID:y\r\n"),
        "{ics}"
    );
    for line in ics.split("\r\n") {
        assert!(!line.contains('\r') && !line.contains('\n'));
        assert!(
            !line.chars().any(char::is_control),
            "no control character: {line:?}"
        );
        assert!(!line.starts_with("UID:y"), "{line}");
    }
}

#[test]
fn the_cache_answers_only_for_the_version_it_was_filled_at() {
    use super::{FeedCache, Kind, MAX_CACHED};
    use crate::web::cache::Cacheable;
    let cache = FeedCache::default();
    let key = (Kind::Atom, "q=eau".to_string());
    let body = Cacheable::new("application/atom+xml", "<feed/>", None);
    assert!(cache.get(&key, 1).is_none());
    cache.put(key.clone(), 1, body.clone());
    assert_eq!(cache.get(&key, 1).map(|c| c.etag), Some(body.etag.clone()));
    assert!(cache.get(&key, 2).is_none(), "the catalogue changed");
    assert!(cache.get(&(Kind::Rss, "q=eau".into()), 1).is_none());
    // Bounded: past MAX_CACHED searches it starts again.
    for i in 0..MAX_CACHED {
        cache.put((Kind::Json, i.to_string()), 1, body.clone());
    }
    assert!(cache.get(&key, 1).is_none());
    assert!(
        cache
            .get(&(Kind::Json, (MAX_CACHED - 1).to_string()), 1)
            .is_some()
    );
}
