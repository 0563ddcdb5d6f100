//! Recording one crawl's normalized items: each becomes (or refreshes) a
//! sighting, and each sighting's call is created or updated. Returns only
//! what is new or changed, which is what later drives notification.
//!
//! Re-ingesting an unchanged item changes no call and writes no history:
//! the sighting's content hash is compared first, and only its `last_seen`
//! moves (so that vanished items can later be told apart).

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Transaction, params};
use sha2::{Digest, Sha256};

use super::{Store, ts};
use crate::normalize::item::NormalizedItem;

/// What one ingest did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IngestOutcome {
    /// Calls created by this ingest.
    pub new: Vec<i64>,
    /// Calls whose stored fields changed.
    pub updated: Vec<i64>,
    /// Items identical to what was stored.
    pub unchanged: u32,
}

/// The stored columns of a call, as text, derived from one item. The
/// `tracked` ones are compared and recorded in `call_changes`.
struct CallColumns {
    values: Vec<(&'static str, Option<String>)>,
    deadline_ts: Option<i64>,
}

const TRACKED: &[&str] = &[
    "title",
    "summary_text",
    "funder",
    "kind",
    "url",
    "audiences",
    "perimeter",
    "themes",
    "opens_on",
    "deadline",
    "deadlines",
    "recurrence",
];

fn columns(item: &NormalizedItem) -> anyhow::Result<CallColumns> {
    let last = item.deadlines.last();
    Ok(CallColumns {
        values: vec![
            ("title", Some(item.title.clone())),
            ("summary_html", Some(item.summary_html.clone())),
            ("summary_text", Some(item.summary_text.clone())),
            ("funder", item.funder.clone()),
            ("kind", Some(item.kind.to_string())),
            ("url", item.url.clone()),
            ("audiences", Some(serde_json::to_string(&item.audiences)?)),
            ("perimeter", Some(item.perimeter.to_string())),
            ("themes", Some(serde_json::to_string(&item.themes)?)),
            ("opens_on", item.opens_on.as_ref().map(ts)),
            ("deadline", last.map(ts)),
            (
                "deadlines",
                Some(serde_json::to_string(
                    &item.deadlines.iter().map(ts).collect::<Vec<_>>(),
                )?),
            ),
            ("recurrence", Some(item.recurrence.to_string())),
        ],
        deadline_ts: last.map(|d| d.timestamp()),
    })
}

fn content_hash(data: &str) -> String {
    hex::encode(&Sha256::digest(data.as_bytes())[..16])
}

impl Store {
    /// Records `items`, all seen now on source `source_id`, in one
    /// transaction. Duplicate keys within the batch keep the first item.
    pub fn ingest(
        &mut self,
        source_id: &str,
        items: &[NormalizedItem],
        now: DateTime<Utc>,
    ) -> anyhow::Result<IngestOutcome> {
        let now = ts(&now);
        let tx = self.conn.transaction()?;
        let mut outcome = IngestOutcome::default();
        let mut seen = HashSet::new();
        for item in items {
            let key = item.key.to_db();
            if !seen.insert(key.clone()) {
                continue;
            }
            let data = serde_json::to_string(item)?;
            let hash = content_hash(&data);
            let existing: Option<(i64, i64, String)> = tx
                .prepare_cached(
                    "SELECT id, call_id, content_hash FROM sightings WHERE source_id = ?1 AND item_key = ?2",
                )?
                .query_row(params![source_id, key], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .optional()?;
            match existing {
                None => {
                    let call_id = insert_call(&tx, item, &now)?;
                    tx.prepare_cached(
                        "INSERT INTO sightings (source_id, item_key, call_id, content_hash, data, first_seen, last_seen)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
                    )?
                    .execute(params![source_id, key, call_id, hash, data, now])?;
                    outcome.new.push(call_id);
                }
                Some((sighting_id, _, old_hash)) if old_hash == hash => {
                    tx.prepare_cached("UPDATE sightings SET last_seen = ?2 WHERE id = ?1")?
                        .execute(params![sighting_id, now])?;
                    outcome.unchanged += 1;
                }
                Some((sighting_id, call_id, _)) => {
                    tx.prepare_cached(
                        "UPDATE sightings SET content_hash = ?2, data = ?3, last_seen = ?4 WHERE id = ?1",
                    )?
                    .execute(params![sighting_id, hash, data, now])?;
                    if update_call(&tx, call_id, item, source_id, &now)? {
                        outcome.updated.push(call_id);
                    } else {
                        outcome.unchanged += 1;
                    }
                }
            }
        }
        tx.commit()?;
        Ok(outcome)
    }
}

fn insert_call(tx: &Transaction, item: &NormalizedItem, now: &str) -> anyhow::Result<i64> {
    let cols = columns(item)?;
    let v = |name: &str| {
        cols.values
            .iter()
            .find(|(n, _)| *n == name)
            .and_then(|(_, v)| v.clone())
    };
    tx.prepare_cached(
        "INSERT INTO calls (title, summary_html, summary_text, funder, kind, url, audiences, perimeter,
           themes, opens_on, deadline, deadline_ts, deadlines, recurrence, first_seen, updated, last_seen)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?15, ?15)",
    )?
    .execute(params![
        v("title"),
        v("summary_html"),
        v("summary_text"),
        v("funder"),
        v("kind"),
        v("url"),
        v("audiences"),
        v("perimeter"),
        v("themes"),
        v("opens_on"),
        v("deadline"),
        cols.deadline_ts,
        v("deadlines"),
        v("recurrence"),
        now,
    ])?;
    Ok(tx.last_insert_rowid())
}

/// Writes the item's fields onto its call, recording each tracked field
/// that changed. Returns whether anything tracked changed.
fn update_call(
    tx: &Transaction,
    call_id: i64,
    item: &NormalizedItem,
    source_id: &str,
    now: &str,
) -> anyhow::Result<bool> {
    let cols = columns(item)?;
    let mut changed = false;
    for (name, new) in &cols.values {
        let old: Option<String> = tx.query_row(
            &format!("SELECT {name} FROM calls WHERE id = ?1"),
            [call_id],
            |r| r.get(0),
        )?;
        if old == *new {
            continue;
        }
        tx.execute(
            &format!("UPDATE calls SET {name} = ?2 WHERE id = ?1"),
            params![call_id, new],
        )?;
        if TRACKED.contains(name) {
            changed = true;
            tx.prepare_cached(
                "INSERT INTO call_changes (call_id, field, old, new, changed_at, source_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![call_id, name, old, new, now, source_id])?;
        }
    }
    tx.execute(
        "UPDATE calls SET deadline_ts = ?2, last_seen = ?3, updated = CASE WHEN ?4 THEN ?3 ELSE updated END
         WHERE id = ?1",
        params![call_id, cols.deadline_ts, now, changed],
    )?;
    Ok(changed)
}
