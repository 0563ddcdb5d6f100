//! Stored values that no longer parse are errors naming the row, the
//! column and the value, never a quiet default.

use chrono::{DateTime, FixedOffset, TimeZone, Utc};

use crate::domain::{Audience, CallKind, Perimeter, Recurrence, Theme};
use crate::normalize::item::{ItemKey, NormalizedItem};
use crate::store::{CrawlRunRecord, Store};

fn paris(y: i32, m: u32, d: u32) -> DateTime<FixedOffset> {
    FixedOffset::east_opt(3600)
        .unwrap()
        .with_ymd_and_hms(y, m, d, 12, 0, 0)
        .unwrap()
}

fn item(deadline: DateTime<FixedOffset>) -> NormalizedItem {
    NormalizedItem {
        key: ItemKey::Url("https://a.fr/a".into()),
        title: "Archivage".into(),
        url: Some("https://a.fr/a".into()),
        summary_html: "<p>Dossier</p>".into(),
        summary_text: "Dossier".into(),
        funder: Some("SIAF".into()),
        kind: CallKind::Aap,
        audiences: vec![Audience::Commune],
        perimeter: Perimeter::France.into(),
        themes: vec![Theme::Archives],
        opens_on: None,
        deadlines: vec![deadline],
        recurrence: Recurrence::Oneoff,
        published: None,
    }
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2027, 1, 10, 8, 0, 0).unwrap()
}

fn store() -> Store {
    let store = Store::open_in_memory().unwrap();
    store
        .upsert_source("siaf", "SIAF", "html", "https://a.fr/", 0, false)
        .unwrap();
    store
}

/// Before: the unreadable stored deadline counted as none, and the change
/// was recorded as a `deadline_set` event (announced to nobody, but a
/// false history).
#[test]
fn a_stored_deadline_that_no_longer_parses_records_no_false_event() {
    let mut store = store();
    let id = store
        .ingest("siaf", &[item(paris(2027, 3, 15))], now())
        .unwrap()
        .new[0];
    store
        .conn()
        .execute("UPDATE calls SET deadline = 'mi-mars' WHERE id = ?1", [id])
        .unwrap();
    let err = store
        .ingest("siaf", &[item(paris(2027, 4, 30))], now())
        .unwrap_err();
    let err = format!("{err:#}");
    assert!(
        err.contains(&format!("calls row {id}")) && err.contains("deadline = `mi-mars`"),
        "{err}"
    );
    assert!(store.call_events(Some(id)).unwrap().is_empty());
}

/// Before: unreadable warnings of a crawl run read back as none.
#[test]
fn unreadable_stored_warnings_are_an_error_naming_the_run() {
    let store = store();
    let run = CrawlRunRecord {
        source_id: "siaf".into(),
        started_at: "2027-01-10T08:00:00+00:00".into(),
        finished_at: "2027-01-10T08:00:01+00:00".into(),
        outcome: "ok".into(),
        pages: 1,
        items: 0,
        new: 0,
        updated: 0,
        unchanged: 0,
        errors: 0,
        error: None,
        error_code: None,
        warnings: vec!["0 items on page 2".into()],
    };
    store.record_run(&run, now()).unwrap();
    assert_eq!(
        store.recent_runs(None, 5).unwrap()[0].warnings,
        run.warnings
    );
    let id: i64 = store
        .conn()
        .query_row("SELECT id FROM crawl_runs", [], |r| r.get(0))
        .unwrap();
    store
        .conn()
        .execute(
            "UPDATE crawl_runs SET warnings = 'oops' WHERE id = ?1",
            [id],
        )
        .unwrap();
    let err = store.recent_runs(None, 5).unwrap_err().to_string();
    assert!(
        err.contains(&format!("crawl_runs row {id}")) && err.contains("warnings = `oops`"),
        "{err}"
    );
}
