//! The closing-soon reminder waits `closing_soon_min_age_days` after the
//! call was first sent as new, and the history refuses corrupt rows.

use super::*;

fn send(store: &Store, s: &Subscriber, now: DateTime<Utc>) -> Plan {
    let p = plan_now(store, s, now).unwrap();
    let email = Renderer::new().unwrap().render(&p.view).unwrap();
    enqueue_digest(
        store,
        s,
        &p,
        &email,
        &MailConfig::default(),
        &DigestConfig::default(),
        now,
    )
    .unwrap()
    .unwrap();
    p
}

/// Before: a call announced as new on the 2nd, 10 days before its
/// deadline, was reminded as closing soon on the 3rd.
#[test]
fn a_call_announced_yesterday_is_not_reminded_today_but_after_the_minimum_age() {
    let store = store_with_calls(&[("france", "2035-03-12T12:00:00+01:00")]);
    let s = add(&store, &subscriber(Frequency::Daily, None));
    let day1 = utc(2035, 3, 2, 8, 0);
    assert_eq!(send(&store, &s, day1).call_ids(SectionKind::New), vec![1]);

    assert!(
        plan_now(&store, &s, utc(2035, 3, 3, 8, 0)).is_none(),
        "announced yesterday: no reminder"
    );
    assert!(plan_now(&store, &s, utc(2035, 3, 9, 7, 59)).is_none());
    let p = plan_now(&store, &s, utc(2035, 3, 9, 8, 0)).unwrap();
    assert_eq!(p.call_ids(SectionKind::ClosingSoon), vec![1]);

    let eager = DigestConfig {
        closing_soon_min_age_days: 0,
        ..DigestConfig::default()
    };
    let p = plan_with(&store, &s, &eager, utc(2035, 3, 3, 8, 0)).unwrap();
    assert_eq!(p.call_ids(SectionKind::ClosingSoon), vec![1]);
}

#[test]
fn a_corrupt_history_row_is_an_error_naming_the_row_column_and_value() {
    let store = store_with_calls(&[("france", "2035-03-12T12:00:00+01:00")]);
    let s = add(&store, &subscriber(Frequency::Daily, None));
    send(&store, &s, utc(2035, 3, 2, 8, 0));
    let row: i64 = store
        .conn()
        .query_row("SELECT id FROM digest_items", [], |r| r.get(0))
        .unwrap();
    store
        .conn()
        .execute(
            "UPDATE digest_items SET sent_at = 'hier' WHERE id = ?1",
            [row],
        )
        .unwrap();
    let err = format!("{:#}", History::load(store.conn(), s.id).unwrap_err());
    assert!(
        err.contains(&format!("digest_items row {row}"))
            && err.contains("sent_at")
            && err.contains("`hier`"),
        "{err}"
    );
}
