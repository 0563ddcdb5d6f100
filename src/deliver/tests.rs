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
