//! Two processes on one database: two connections on the same file,
//! racing in threads released together by a barrier.

use std::sync::{Arc, Barrier};

use chrono::TimeZone;

use super::*;
use crate::domain::{Audience, Perimeter};
use crate::subscribers::Frequency;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2027, 1, 10, 8, 0, 0).unwrap()
}

fn profile(email: &str) -> Profile {
    Profile {
        email: EmailAddress::parse(email).unwrap(),
        name: "Mairie de Cergy".into(),
        audience: Audience::Commune,
        territory: Perimeter::Commune("95127".into()),
        themes: vec![],
        keywords: vec![],
        frequency: Frequency::Daily,
    }
}

/// Before: `mark_bounce` read the count, then wrote count + 1; two
/// processes lost each other's bounces.
#[test]
fn bounces_counted_by_two_processes_at_once_are_all_counted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vigie.db");
    let email = EmailAddress::parse("mairie@cergy.fr").unwrap();
    let id = Store::open(&path)
        .unwrap()
        .add_subscriber(&profile("mairie@cergy.fr"), SubscriberStatus::Active, now())
        .unwrap()
        .id;
    const EACH: u32 = 200;
    let barrier = Arc::new(Barrier::new(2));
    let threads: Vec<_> = (0..2)
        .map(|_| {
            let (path, barrier, email) = (path.clone(), Arc::clone(&barrier), email.clone());
            std::thread::spawn(move || {
                let store = Store::open(&path).unwrap();
                barrier.wait();
                for _ in 0..EACH {
                    store.mark_bounce(&email, 1_000, now()).unwrap().unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let s = Store::open(&path).unwrap().subscriber(id).unwrap().unwrap();
    assert_eq!(s.bounce_count, 2 * EACH);
    assert_eq!(s.status, SubscriberStatus::Active, "threshold not reached");
}

#[test]
fn the_bounce_that_reaches_the_threshold_makes_the_subscriber_bouncing_once() {
    let store = Store::open_in_memory().unwrap();
    let email = EmailAddress::parse("mairie@cergy.fr").unwrap();
    store
        .add_subscriber(&profile("mairie@cergy.fr"), SubscriberStatus::Active, now())
        .unwrap();
    let first = store.mark_bounce(&email, 2, now()).unwrap().unwrap();
    assert_eq!(
        (first.bounce_count, first.status),
        (1, SubscriberStatus::Active)
    );
    let second = store.mark_bounce(&email, 2, now()).unwrap().unwrap();
    assert_eq!(
        (second.bounce_count, second.status),
        (2, SubscriberStatus::Bouncing)
    );
    let unknown = EmailAddress::parse("personne@cergy.fr").unwrap();
    assert!(store.mark_bounce(&unknown, 2, now()).unwrap().is_none());
}

/// Another process deletes the row right after our update and before any
/// re-read. A trigger on a second connection's behalf makes that
/// interleaving certain: it deletes the row the moment it is updated.
/// Before: the re-read found nothing and `expect("exists")` panicked.
#[test]
fn a_subscriber_deleted_by_another_process_during_an_update_is_no_panic() {
    let store = Store::open_in_memory().unwrap();
    let s = store
        .add_subscriber(
            &profile("mairie@cergy.fr"),
            SubscriberStatus::Bouncing,
            now(),
        )
        .unwrap();
    let (_, confirm) = store
        .create_pending(&profile("mairie@pontoise.fr"), now())
        .unwrap();
    let token = store.issue_token(s.id, now()).unwrap();
    store
        .conn()
        .execute_batch(
            "CREATE TEMP TRIGGER vanish AFTER UPDATE ON main.subscribers
             BEGIN DELETE FROM main.subscribers WHERE id = NEW.id; END;",
        )
        .unwrap();
    // Each returns the row as its own statement wrote it, or says the row
    // is not there: both are fine, a panic is not.
    let unsubscribed = store.unsubscribe(&token, now());
    assert!(
        matches!(&unsubscribed, Ok(u) if u.status == SubscriberStatus::Unsubscribed)
            || matches!(unsubscribed, Err(SubscriberError::InvalidToken)),
        "{unsubscribed:?}"
    );
    let confirmed = store.confirm_subscriber(&confirm, now());
    assert!(
        matches!(&confirmed, Ok(c) if c.status == SubscriberStatus::Active)
            || matches!(confirmed, Err(SubscriberError::InvalidToken)),
        "{confirmed:?}"
    );
    let t = store
        .add_subscriber(
            &profile("mairie@osny.fr"),
            SubscriberStatus::Bouncing,
            now(),
        )
        .unwrap();
    let reactivated = store.reactivate_subscriber(t.id, now());
    assert!(
        matches!(&reactivated, Ok(r) if r.status == SubscriberStatus::Active)
            || matches!(reactivated, Err(SubscriberError::NotFound(_))),
        "{reactivated:?}"
    );
    assert!(store.list_subscribers(&[]).unwrap().is_empty());
}

/// Before: an unknown stored frequency was read as `daily`.
#[test]
fn a_corrupt_stored_row_is_an_error_naming_table_row_column_and_value() {
    let store = Store::open_in_memory().unwrap();
    let s = store
        .add_subscriber(&profile("mairie@cergy.fr"), SubscriberStatus::Active, now())
        .unwrap();
    // The table's CHECK constraints stop most of these; a row written by
    // another tool or an older schema may still hold them.
    store
        .conn()
        .pragma_update(None, "ignore_check_constraints", true)
        .unwrap();
    for (sql, column, value) in [
        (
            "UPDATE subscribers SET frequency = 'hourly' WHERE id = ?1",
            "frequency",
            "hourly",
        ),
        (
            "UPDATE subscribers SET frequency = 'weekly', weekday = 'funday' WHERE id = ?1",
            "frequency",
            "weekly",
        ),
        (
            "UPDATE subscribers SET frequency = 'daily', weekday = NULL, status = 'zombie'
             WHERE id = ?1",
            "status",
            "zombie",
        ),
    ] {
        store.conn().execute(sql, [s.id]).unwrap();
        let err = store.subscriber(s.id).unwrap_err().to_string();
        for part in [
            format!("subscribers row {}", s.id),
            format!("column {column} = `{value}`"),
        ] {
            assert!(err.contains(&part), "{part} missing from: {err}");
        }
        assert!(store.list_subscribers(&[]).is_err());
    }
}
