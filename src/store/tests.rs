//! Store behaviour: identity, idempotent re-ingest, history, search.

use chrono::{DateTime, FixedOffset, TimeZone, Utc};

use super::*;
use crate::domain::{Audience, CallKind, Perimeter, Recurrence, Status, Theme};
use crate::normalize::item::{ItemKey, NormalizedItem};

fn paris(y: i32, m: u32, d: u32, h: u32) -> DateTime<FixedOffset> {
    FixedOffset::east_opt(3600)
        .unwrap()
        .with_ymd_and_hms(y, m, d, h, 0, 0)
        .unwrap()
}

fn item(key: &str, title: &str) -> NormalizedItem {
    NormalizedItem {
        key: ItemKey::Url(format!("https://a.fr/{key}")),
        title: title.to_string(),
        url: Some(format!("https://a.fr/{key}")),
        summary_html: "<p>Dossier de candidature</p>".into(),
        summary_text: "Dossier de candidature".into(),
        funder: Some("SIAF".into()),
        kind: CallKind::Aap,
        audiences: vec![Audience::Commune, Audience::Epci],
        perimeter: Perimeter::France.into(),
        themes: vec![Theme::Archives],
        opens_on: None,
        deadlines: vec![paris(2027, 3, 15, 12)],
        recurrence: Recurrence::Oneoff,
        published: None,
    }
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2027, 1, 10, 8, 0, 0).unwrap()
}

fn store_with_source() -> Store {
    let store = Store::open_in_memory().unwrap();
    store
        .upsert_source("siaf", "SIAF", "html", "https://a.fr/", 0, false)
        .unwrap();
    store
}

#[test]
fn first_ingest_creates_calls_and_a_second_identical_one_changes_nothing() {
    let mut store = store_with_source();
    let items = vec![
        item("a", "Archivage numérique"),
        item("b", "Données ouvertes"),
    ];
    let first = store.ingest("siaf", &items, now()).unwrap();
    assert_eq!(first.new.len(), 2);
    let before = store.list_calls(&CallFilter::default(), now()).unwrap();
    let second = store
        .ingest("siaf", &items, now() + chrono::Duration::hours(1))
        .unwrap();
    assert_eq!(
        (second.new.len(), second.updated.len(), second.unchanged),
        (0, 0, 2)
    );
    let mut after = store.list_calls(&CallFilter::default(), now()).unwrap();
    // Only the bookkeeping of when a source last listed it moves.
    for (a, b) in after.iter_mut().zip(&before) {
        assert!(a.last_listed > b.last_listed);
        a.last_listed = b.last_listed;
    }
    assert_eq!(before, after, "an unchanged re-crawl must not touch calls");
    assert!(store.call_history(first.new[0]).unwrap().is_empty());
}

#[test]
fn a_changed_deadline_updates_the_call_and_is_recorded() {
    let mut store = store_with_source();
    let id = store
        .ingest("siaf", &[item("a", "Archivage")], now())
        .unwrap()
        .new[0];
    let mut extended = item("a", "Archivage");
    extended.deadlines = vec![paris(2027, 4, 30, 23)];
    let out = store.ingest("siaf", &[extended], now()).unwrap();
    assert_eq!(out.updated, vec![id]);
    let call = store.get_call(id, now()).unwrap().unwrap();
    assert_eq!(call.deadline, Some(paris(2027, 4, 30, 23)));
    let history = store.call_history(id).unwrap();
    let fields: Vec<&str> = history.iter().map(|c| c.field.as_str()).collect();
    assert!(
        fields.contains(&"deadline") && fields.contains(&"deadlines"),
        "{fields:?}"
    );
    let change = history.iter().find(|c| c.field == "deadline").unwrap();
    assert_eq!(change.old.as_deref(), Some("2027-03-15T12:00:00+01:00"));
    assert_eq!(change.new.as_deref(), Some("2027-04-30T23:00:00+01:00"));
}

#[test]
fn items_missing_from_a_later_crawl_are_kept() {
    let mut store = store_with_source();
    store
        .ingest("siaf", &[item("a", "A"), item("b", "B")], now())
        .unwrap();
    store.ingest("siaf", &[item("a", "A")], now()).unwrap();
    assert_eq!(store.count_calls().unwrap(), 2);
}

#[test]
fn the_same_key_twice_in_one_batch_is_one_call() {
    let mut store = store_with_source();
    let out = store
        .ingest("siaf", &[item("a", "A"), item("a", "A bis")], now())
        .unwrap();
    assert_eq!(out.new.len(), 1);
    assert_eq!(store.count_calls().unwrap(), 1);
}

#[test]
fn search_ignores_accents_and_matches_prefixes() {
    let mut store = store_with_source();
    let mut a = item("a", "Formation des élus au numérique");
    a.summary_text = "Sessions régionales".into();
    store
        .ingest("siaf", &[a, item("b", "Archives communales")], now())
        .unwrap();
    let find = |q: &str| {
        store
            .list_calls(
                &CallFilter {
                    text: Some(q.into()),
                    ..Default::default()
                },
                now(),
            )
            .unwrap()
            .into_iter()
            .map(|c| c.title)
            .collect::<Vec<_>>()
    };
    assert_eq!(find("elu"), vec!["Formation des élus au numérique"]);
    assert_eq!(
        find("NUMERIQUE regional"),
        vec!["Formation des élus au numérique"]
    );
    assert_eq!(find("archive"), vec!["Archives communales"]);
    assert!(
        find("\"unbalanced OR (").is_empty(),
        "FTS syntax typed by a user must not error"
    );
}

#[test]
fn filters_combine_and_status_is_derived_from_dates() {
    let mut store = store_with_source();
    let mut closed = item("old", "Ancien appel");
    closed.deadlines = vec![paris(2026, 1, 1, 12)];
    let mut later = item("later", "Appel à venir");
    later.opens_on = Some(paris(2027, 6, 1, 0));
    later.deadlines = vec![paris(2027, 9, 1, 12)];
    let mut regional = item("reg", "Appel régional");
    regional.perimeter = Perimeter::Region("11".into()).into();
    regional.themes = vec![Theme::Connectivite];
    regional.audiences = vec![Audience::Region];
    store
        .ingest(
            "siaf",
            &[closed, later, regional, item("open", "Appel ouvert")],
            now(),
        )
        .unwrap();

    let titles = |f: CallFilter| {
        store
            .list_calls(&f, now())
            .unwrap()
            .into_iter()
            .map(|c| (c.title, c.status))
            .collect::<Vec<_>>()
    };
    let open = titles(CallFilter {
        open: true,
        ..Default::default()
    });
    assert!(!open.iter().any(|(t, _)| t == "Ancien appel"));
    assert!(open.contains(&("Appel à venir".into(), Status::Upcoming)));
    assert_eq!(
        titles(CallFilter {
            status: vec![Status::Closed],
            ..Default::default()
        }),
        vec![("Ancien appel".into(), Status::Closed)]
    );
    assert_eq!(
        titles(CallFilter {
            themes: vec![Theme::Connectivite],
            ..Default::default()
        })
        .len(),
        1
    );
    assert_eq!(
        titles(CallFilter {
            audiences: vec![Audience::Region],
            ..Default::default()
        })
        .len(),
        1
    );
    assert_eq!(
        titles(CallFilter {
            perimeters: vec![Perimeter::Region("11".into())],
            ..Default::default()
        })
        .len(),
        1
    );
    assert_eq!(
        titles(CallFilter {
            sources: vec!["other".into()],
            ..Default::default()
        })
        .len(),
        0
    );
}

#[test]
fn failed_runs_are_counted_and_logged_with_their_code() {
    let store = store_with_source();
    let run = |outcome: &str| CrawlRunRecord {
        source_id: "siaf".into(),
        started_at: "2027-01-10T08:00:00+00:00".into(),
        finished_at: "2027-01-10T08:00:01+00:00".into(),
        outcome: outcome.into(),
        pages: 1,
        items: 0,
        new: 0,
        updated: 0,
        unchanged: 0,
        errors: u32::from(outcome == "failed"),
        error: (outcome == "failed").then(|| "HTTP 500".into()),
        error_code: (outcome == "failed").then(|| "http_500".into()),
        warnings: vec![],
    };
    store.record_run(&run("ok"), now()).unwrap();
    store.record_run(&run("failed"), now()).unwrap();
    store.record_run(&run("skipped"), now()).unwrap();
    store.record_run(&run("failed"), now()).unwrap();
    let state = store.fetch_state("siaf").unwrap();
    assert_eq!(
        state.consecutive_failures, 2,
        "a skipped run is not a failure"
    );
    assert_eq!(
        store.recent_runs(Some("siaf"), 1).unwrap()[0]
            .error_code
            .as_deref(),
        Some("http_500")
    );
    assert_eq!(
        store.source_states().unwrap()[0].last_error.as_deref(),
        Some("HTTP 500")
    );
    assert_eq!(store.recent_runs(Some("siaf"), 10).unwrap().len(), 4);
}

#[test]
fn a_database_from_a_newer_vigie_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v.db");
    drop(Store::open(&path).unwrap());
    rusqlite::Connection::open(&path)
        .unwrap()
        .pragma_update(None, "user_version", 999)
        .unwrap();
    let err = Store::open(&path).err().unwrap();
    assert!(format!("{err:#}").contains("schema version 999"), "{err:#}");
}

#[test]
fn committed_pages_reach_the_database_file_without_the_writer() {
    // The writer's commits leave checkpoints to the store's checkpointer
    // thread: pages committed past the WAL threshold end up in the main
    // file while the writer does nothing more.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vigie.db");
    let mut store = Store::open(&path).unwrap();
    let before = std::fs::metadata(&path).unwrap().len();
    let mut items = Vec::new();
    for n in 0..600 {
        let mut it = item(&format!("c{n}"), &format!("Appel à projets numéro {n}"));
        // About 8 KiB a call, so 600 calls are well past 1,000 WAL pages.
        it.summary_text = format!("{n} ").repeat(2_000);
        items.push(it);
    }
    store
        .upsert_source("siaf", "SIAF", "html", "https://a.fr/", 0, false)
        .unwrap();
    store.ingest("siaf", &items, now()).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let mut size = before;
    while std::time::Instant::now() < deadline {
        size = std::fs::metadata(&path).unwrap().len();
        if size > before + 4 * 1024 * 1024 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(
        size > before + 4 * 1024 * 1024,
        "the database file stayed at {size} bytes (was {before})"
    );
    // Closing joins the checkpointer; the data is all there on reopening.
    drop(store);
    let store = Store::open(&path).unwrap();
    assert_eq!(store.count_calls().unwrap(), 600);
}
