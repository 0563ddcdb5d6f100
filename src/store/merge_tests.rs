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
        seen in proptest::collection::vec((0usize..4, 0u8..64, 0u8..8), 1..7),
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
