//! Review decisions from two processes at once.

use std::sync::{Arc, Barrier};

use chrono::TimeZone;

use super::*;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2035, 3, 2, 8, 0, 0).unwrap()
}

/// Two curators' processes (two connections on one file) change the review
/// state of the same call in turns. Every change record must chain: its
/// `old` is the `new` of the record before. Before: the state was read
/// outside the transaction that wrote, so a record could name as `old` a
/// state another process had already replaced.
#[test]
fn concurrent_review_changes_record_the_state_they_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vigie.db");
    let store = Store::open(&path).unwrap();
    store
        .conn()
        .execute(
            "INSERT INTO calls (title, kind, perimeter, deadlines, recurrence, first_seen,
                 updated, last_seen, review)
             VALUES ('Appel', 'aap', 'france', '[]', 'oneoff', '2035-01-01T00:00:00+00:00',
                 '2035-01-01T00:00:00+00:00', '2035-01-01T00:00:00+00:00', 'pending')",
            [],
        )
        .unwrap();
    let call = store.conn().last_insert_rowid();
    drop(store);
    const ROUNDS: usize = 150;
    let barrier = Arc::new(Barrier::new(2));
    let threads: Vec<_> = ["approved", "rejected"]
        .into_iter()
        .map(|state| {
            let (path, barrier) = (path.clone(), Arc::clone(&barrier));
            std::thread::spawn(move || {
                let mut store = Store::open(&path).unwrap();
                barrier.wait();
                for _ in 0..ROUNDS {
                    store.set_review(call, state, now()).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let store = Store::open(&path).unwrap();
    let mut stmt = store
        .conn()
        .prepare("SELECT old, new FROM call_changes WHERE field = 'review' ORDER BY id")
        .unwrap();
    let changes: Vec<(String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(!changes.is_empty());
    assert_eq!(changes[0].0, "pending");
    for pair in changes.windows(2) {
        assert_eq!(pair[1].0, pair[0].1, "broken chain: {pair:?}");
    }
    for (old, new) in &changes {
        assert_ne!(old, new, "a change that changed nothing");
    }
    let state: String = store
        .conn()
        .query_row("SELECT review FROM calls WHERE id = ?1", [call], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(state, changes.last().unwrap().1);
}
