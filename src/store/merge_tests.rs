//! The stored fields of a call are always the merge of its sightings,
//! whatever sources, priorities, fields and ingestion order produced them
//! (the shortcut of `merge::refresh_after_join` included).

use chrono::Duration;
use proptest::prelude::*;

use super::dedup_tests::{item, now, paris};
use super::*;
use crate::domain::{Audience, Theme};
use crate::normalize::item::{ItemKey, NormalizedItem};

/// Every stored column of every call, as text.
fn call_rows(store: &Store) -> Vec<Vec<Option<String>>> {
    let mut stmt = store
        .conn()
        .prepare("SELECT * FROM calls ORDER BY id")
        .unwrap();
    let n = stmt.column_count();
    stmt.query_map([], |r| {
        (0..n)
            .map(|i| {
                Ok(match r.get_ref(i)? {
                    rusqlite::types::ValueRef::Null => None,
                    v => Some(format!("{v:?}")),
                })
            })
            .collect()
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

/// One sighting of the same call by source `s`, with the optional fields
/// present or not as `mask` says and the themes of `themes` (bits).
fn variant(s: usize, mask: u8, themes: u8) -> NormalizedItem {
    let mut it = item(
        &format!("https://s{s}.test/fonds-numerique"),
        "Fonds pour la transformation numérique des collectivités",
        (mask & 1 != 0).then(|| paris(2035, 3, 15, 12) + Duration::hours(s as i64)),
    );
    if mask & 2 == 0 {
        it.key = ItemKey::Id(format!("s{s}-fonds"));
        it.url = None;
    }
    if mask & 4 != 0 {
        it.funder = Some(format!("Financeur {s}"));
    }
    if mask & 8 != 0 {
        it.summary_text = format!("Résumé {s}");
        it.summary_html = format!("<p>Résumé {s}</p>");
    }
    if mask & 16 != 0 {
        it.opens_on = Some(paris(2035, 1, 2 + s as u32, 9));
    }
    if mask & 32 != 0 {
        it.audiences = vec![Audience::Commune];
    }
    if mask & 64 != 0 {
        // Sources that relay a call give later publication dates.
        it.published = Some(paris(2034, 11, 2 + 3 * s as u32, 9));
    }
    let all = [Theme::Numerique, Theme::Archives, Theme::Donnees];
    it.themes = (0..3)
        .filter(|b| themes & (1 << b) != 0)
        .map(|b| all[b])
        .collect();
    it
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Whatever sources see a call, with whatever priorities and fields, in
    /// whatever order, its stored fields are the merge of its sightings: a
    /// full recomputation of every call afterwards changes nothing (the
    /// shortcut taken when a sighting joins as the least authoritative one
    /// must agree with it).
    #[test]
    fn a_call_always_holds_the_merge_of_its_sightings(
        seen in proptest::collection::vec((0usize..4, 0u8..128, 0u8..8), 1..7),
        priorities in proptest::collection::vec(-1i32..2, 4),
    ) {
        let mut store = Store::open_in_memory().unwrap();
        for (s, p) in priorities.iter().enumerate() {
            store.upsert_source(&format!("s{s}"), "Source", "html", "https://s.test/", *p, false).unwrap();
        }
        for (n, (s, mask, themes)) in seen.iter().enumerate() {
            let at = now() + Duration::hours(n as i64);
            store.ingest(&format!("s{s}"), &[variant(*s, *mask, *themes)], at).unwrap();
        }
        let last = super::ts(&(now() + Duration::hours(seen.len() as i64)));
        let before = call_rows(&store);
        let tx = store.conn_mut().transaction().unwrap();
        let ids: Vec<i64> = tx
            .prepare("SELECT id FROM calls").unwrap()
            .query_map([], |r| r.get(0)).unwrap()
            .collect::<Result<_, _>>().unwrap();
        for id in ids {
            prop_assert!(!merge::refresh_call(&tx, id, &last, None).unwrap());
        }
        tx.commit().unwrap();
        let after = call_rows(&store);
        // `last_seen` may move to `last`; nothing else may change.
        let strip = |rows: Vec<Vec<Option<String>>>| -> Vec<Vec<Option<String>>> {
            rows.into_iter().map(|mut r| { r.remove(17); r }).collect()
        };
        prop_assert_eq!(strip(after), strip(before));
    }
}

fn published_of(store: &Store, id: i64) -> Option<String> {
    store
        .get_call(id, now())
        .unwrap()
        .unwrap()
        .published
        .map(|p| p.to_rfc3339())
}

#[test]
fn a_call_is_published_when_its_first_source_published_it_and_that_is_no_update() {
    let mut store = Store::open_in_memory().unwrap();
    for (s, p) in [("funder", 10), ("relay", 0), ("late", 0)] {
        store
            .upsert_source(s, "Source", "html", "https://s.test/", p, false)
            .unwrap();
    }
    let at = |h: i64| now() + Duration::hours(h);
    let mut funder = variant(0, 2 | 64, 1);
    funder.published = Some(paris(2034, 11, 10, 9));
    let id = store.ingest("funder", &[funder], at(0)).unwrap().new[0];
    assert_eq!(
        published_of(&store, id).as_deref(),
        Some("2034-11-10T09:00:00+01:00")
    );
    // A less authoritative source joins with an earlier date: the call's
    // date moves (through the join shortcut's check), and nothing tells
    // subscribers the call was updated.
    let mut relay = variant(1, 2 | 64, 1);
    relay.url = Some("https://s0.test/fonds-numerique".into());
    relay.key = ItemKey::Url("https://s0.test/fonds-numerique".into());
    relay.published = Some(paris(2034, 11, 2, 9));
    let joined = store.ingest("relay", &[relay], at(1)).unwrap();
    assert_eq!(
        (joined.new.len(), joined.updated.len()),
        (0, 0),
        "{joined:?}"
    );
    assert_eq!(
        published_of(&store, id).as_deref(),
        Some("2034-11-02T09:00:00+01:00")
    );
    // A later date and no date change nothing.
    let mut late = variant(2, 2 | 64, 1);
    late.url = Some("https://s0.test/fonds-numerique".into());
    late.key = ItemKey::Id("late".into());
    late.published = Some(paris(2034, 12, 1, 9));
    store.ingest("late", &[late], at(2)).unwrap();
    assert_eq!(store.count_calls().unwrap(), 1);
    assert_eq!(
        published_of(&store, id).as_deref(),
        Some("2034-11-02T09:00:00+01:00")
    );
    let sightings = store.call_sightings(id).unwrap();
    let dates: Vec<Option<&str>> = sightings.iter().map(|s| s.published.as_deref()).collect();
    assert_eq!(
        dates,
        [
            Some("2034-11-10T09:00:00+01:00"),
            Some("2034-11-02T09:00:00+01:00"),
            Some("2034-12-01T09:00:00+01:00")
        ]
    );
}

#[test]
fn calls_stored_before_migration_17_get_their_earliest_sightings_date() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    {
        let mut store = Store::open(&path).unwrap();
        for s in ["funder", "relay"] {
            store
                .upsert_source(s, "Source", "html", "https://s.test/", 0, false)
                .unwrap();
        }
        let mut a = variant(0, 2, 1);
        a.published = Some(paris(2034, 11, 10, 9));
        let mut b = a.clone();
        b.key = ItemKey::Id("relay".into());
        // Another offset: the earliest instant wins, not the smallest text.
        b.published = Some(
            paris(2034, 11, 10, 9).with_timezone(&chrono::FixedOffset::east_opt(7200).unwrap())
                - Duration::minutes(30),
        );
        store.ingest("funder", &[a], now()).unwrap();
        store.ingest("relay", &[b], now()).unwrap();
        assert_eq!(store.count_calls().unwrap(), 1);
        // As a database of version 15 had it: no column.
        let conn = store.conn_mut();
        conn.execute_batch("ALTER TABLE calls DROP COLUMN published")
            .unwrap();
        let before = super::migrations::LATEST as i64 - 1;
        conn.pragma_update(None, "user_version", before).unwrap();
    }
    let store = Store::open(&path).unwrap();
    let id: i64 = store
        .conn()
        .query_row("SELECT id FROM calls", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        published_of(&store, id).as_deref(),
        Some("2034-11-10T09:30:00+02:00")
    );
}
