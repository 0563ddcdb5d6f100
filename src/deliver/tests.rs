use std::sync::{Arc, Mutex};

use chrono::{TimeZone, Utc};

use super::outbox::{self, OutboxStatus};
use super::*;
use crate::store::Store;

fn message(key: &str) -> NewMessage {
    NewMessage {
        idempotency_key: key.to_string(),
        subscriber_id: Some(7),
        to: "mairie@commune.example".into(),
        subject: "Vigie : 2 appels".into(),
        html: "<p>Bonjour</p>".into(),
        text: "Bonjour".into(),
        list_unsubscribe_url: "https://vigie.example/u/7".into(),
        list_unsubscribe_mailto: None,
    }
}

#[test]
fn enqueue_is_idempotent_on_its_key_and_keeps_the_first_message() {
    let mut store = Store::open_in_memory().unwrap();
    let now = Utc.with_ymd_and_hms(2026, 3, 2, 6, 0, 0).unwrap();
    let config = MailConfig::default();
    let conn = store.conn_mut();
    let tx = conn.transaction().unwrap();
    let first = enqueue(&tx, &message("digest:7:2026-03-02"), &config, now).unwrap();
    let mut other = message("digest:7:2026-03-02");
    other.subject = "changed".into();
    assert_eq!(enqueue(&tx, &other, &config, now).unwrap(), None);
    tx.commit().unwrap();
    let rows = outbox::list(store.conn()).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(Some(rows[0].id), first);
    assert_eq!(rows[0].status, OutboxStatus::Pending);
    assert_eq!(rows[0].next_attempt_at, "2026-03-02T06:00:00.000Z");
}

#[test]
fn an_enqueue_rolled_back_with_its_transaction_leaves_nothing() {
    let mut store = Store::open_in_memory().unwrap();
    let tx = store.conn_mut().transaction().unwrap();
    enqueue(&tx, &message("k"), &MailConfig::default(), Utc::now()).unwrap();
    drop(tx);
    assert!(outbox::list(store.conn()).unwrap().is_empty());
}

#[tokio::test]
async fn the_file_transport_writes_one_eml_per_row_named_by_its_id() {
    let dir = tempfile::tempdir().unwrap();
    let config = MailConfig {
        outbox_dir: dir.path().join("out"),
        ..MailConfig::default()
    };
    let store = Arc::new(Mutex::new(Store::open_in_memory().unwrap()));
    let ids: Vec<i64> = {
        let mut s = store.lock().unwrap();
        let tx = s.conn_mut().transaction().unwrap();
        let ids = ["a", "b"]
            .iter()
            .map(|k| {
                enqueue(&tx, &message(k), &config, Utc::now())
                    .unwrap()
                    .unwrap()
            })
            .collect();
        tx.commit().unwrap();
        ids
    };
    let transport = Transport::from_config(&config).unwrap();
    let report = drain_outbox(&store, &transport, &config, Utc::now)
        .await
        .unwrap();
    assert_eq!(report.sent, 2);
    for id in ids {
        let bytes = std::fs::read(config.outbox_dir.join(format!("{id}.eml"))).unwrap();
        assert!(
            bytes.starts_with(b"From: ") || String::from_utf8_lossy(&bytes).contains("\r\nFrom: ")
        );
    }
    let again = drain_outbox(&store, &transport, &config, Utc::now)
        .await
        .unwrap();
    assert_eq!(again, DrainReport::default(), "nothing is due twice");
}

#[test]
fn a_row_abandoned_in_sending_is_due_again_after_the_lease() {
    let mut store = Store::open_in_memory().unwrap();
    let config = MailConfig {
        claim_lease_secs: 60,
        ..MailConfig::default()
    };
    let t0 = Utc.with_ymd_and_hms(2026, 3, 2, 6, 0, 0).unwrap();
    let tx = store.conn_mut().transaction().unwrap();
    enqueue(&tx, &message("k"), &config, t0).unwrap();
    tx.commit().unwrap();
    let claimed = outbox::claim_next(store.conn(), t0).unwrap().unwrap();
    assert_eq!(claimed.attempts, 1);
    assert!(outbox::claim_next(store.conn(), t0).unwrap().is_none());
    let t1 = t0 + chrono::Duration::seconds(30);
    assert_eq!(
        outbox::recover_abandoned(store.conn(), &config, t1).unwrap(),
        0
    );
    let t2 = t0 + chrono::Duration::seconds(61);
    assert_eq!(
        outbox::recover_abandoned(store.conn(), &config, t2).unwrap(),
        1
    );
    let row = outbox::get(store.conn(), claimed.id).unwrap().unwrap();
    assert_eq!(row.status, OutboxStatus::Pending);
    assert!(row.last_error.unwrap().contains("stopped while sending"));
    assert_eq!(
        outbox::claim_next(store.conn(), t2)
            .unwrap()
            .unwrap()
            .attempts,
        2
    );
}

/// Before: a row left `sending` by a killed process waited for the whole
/// lease (600 s by default) before being sent again.
#[test]
fn a_row_whose_holder_has_exited_is_reclaimed_at_once_and_a_live_one_is_not() {
    let mut store = Store::open_in_memory().unwrap();
    let config = MailConfig::default(); // lease 600 s
    let t0 = Utc.with_ymd_and_hms(2026, 3, 2, 6, 0, 0).unwrap();
    let tx = store.conn_mut().transaction().unwrap();
    enqueue(&tx, &message("a"), &config, t0).unwrap();
    enqueue(&tx, &message("b"), &config, t0).unwrap();
    tx.commit().unwrap();
    let mine = outbox::claim_next(store.conn(), t0).unwrap().unwrap();
    let theirs = outbox::claim_next(store.conn(), t0).unwrap().unwrap();
    let me = holder::Holder::current();
    if me.start.starts_with("token:") {
        eprintln!("skipped: no /proc here, only the lease can tell");
        return;
    }
    // `theirs` was claimed by a process that has exited since.
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let pid = child.id();
    let start = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    child.wait().unwrap();
    let ticks = start
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .nth(19)
        .unwrap();
    let (boot_and_ns, _) = me.start.rsplit_once(':').unwrap();
    store
        .conn()
        .execute(
            "UPDATE outbox SET holder_pid = ?2, holder_start = ?3 WHERE id = ?1",
            rusqlite::params![theirs.id, pid, format!("{boot_and_ns}:{ticks}")],
        )
        .unwrap();
    let t1 = t0 + chrono::Duration::seconds(1);
    assert_eq!(
        outbox::recover_abandoned(store.conn(), &config, t1).unwrap(),
        1
    );
    let row = outbox::get(store.conn(), theirs.id).unwrap().unwrap();
    assert_eq!(row.status, OutboxStatus::Pending);
    assert!(
        row.last_error.unwrap().contains("has exited"),
        "the reason names the holder"
    );
    let row = outbox::get(store.conn(), mine.id).unwrap().unwrap();
    assert_eq!(row.status, OutboxStatus::Sending, "this process is alive");
    assert_eq!(row.holder.as_ref(), Some(me));
}

#[test]
fn a_failed_row_gives_its_calls_back_and_a_retry_records_them_again_atomically() {
    let mut store = Store::open_in_memory().unwrap();
    let config = MailConfig::default();
    let t0 = Utc.with_ymd_and_hms(2026, 3, 2, 6, 0, 0).unwrap();
    store
        .conn()
        .execute_batch(
            "INSERT INTO subscribers (id, email, name, audience, territory, themes, keywords,
                 frequency, status, created_at, updated_at, manage_token)
             VALUES (7, 'mairie@commune.example', 'M', 'commune', 'france', '[]', '[]',
                 'daily', 'active', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', 't');
             INSERT INTO calls (id, title, kind, perimeter, deadlines, recurrence, first_seen,
                 updated, last_seen)
             VALUES (1, 'Appel', 'aap', 'france', '[]', 'oneoff', '2026-01-01T00:00:00Z',
                 '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z');",
        )
        .unwrap();
    let carry = |store: &mut Store, key: &str| -> i64 {
        let tx = store.conn_mut().transaction().unwrap();
        let id = enqueue(&tx, &message(key), &config, t0).unwrap().unwrap();
        tx.execute(
            "INSERT INTO digest_items (subscriber_id, call_id, section, outbox_id, sent_at)
             VALUES (7, 1, 'new', ?1, '2026-03-02T06:00:00+00:00')",
            [id],
        )
        .unwrap();
        tx.commit().unwrap();
        id
    };
    let live = |store: &Store| -> i64 {
        store
            .conn()
            .query_row(
                "SELECT count(*) FROM digest_items WHERE returned_at IS NULL",
                [],
                |r| r.get(0),
            )
            .unwrap()
    };
    let first = carry(&mut store, "d1");
    let claimed = outbox::claim_next(store.conn(), t0).unwrap().unwrap();
    outbox::mark_failed(store.conn(), claimed.id, "550 gone", t0).unwrap();
    assert_eq!(live(&store), 0, "the call is given back");

    // Retried before any other digest: the call counts as carried again.
    let done = carried::retry(store.conn(), first, t0).unwrap();
    assert_eq!(done.calls, 1);
    assert_eq!(live(&store), 1);
    let row = outbox::get(store.conn(), first).unwrap().unwrap();
    assert_eq!((row.status, row.attempts), (OutboxStatus::Pending, 0));

    // Fails again; a later digest carries the call; the retry is refused
    // and changes nothing.
    let claimed = outbox::claim_next(store.conn(), t0).unwrap().unwrap();
    outbox::mark_failed(store.conn(), claimed.id, "550 gone", t0).unwrap();
    let second = carry(&mut store, "d2");
    let err = carried::retry(store.conn(), first, t0).unwrap_err();
    assert!(
        matches!(&err, carried::RetryError::CarriedLater { conflicts, .. }
            if conflicts == &[carried::Conflict { call_id: 1, outbox_id: second }]),
        "{err}"
    );
    let row = outbox::get(store.conn(), first).unwrap().unwrap();
    assert_eq!(row.status, OutboxStatus::Failed);
    assert_eq!(live(&store), 1, "only the later digest's record");
    assert!(matches!(
        carried::retry(store.conn(), second, t0),
        Err(carried::RetryError::NotFailed { .. })
    ));
    assert!(matches!(
        carried::retry(store.conn(), 999, t0),
        Err(carried::RetryError::NotFound(999))
    ));
}
