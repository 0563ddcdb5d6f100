//! Recording one crawl's normalized items: each becomes (or refreshes) a
//! sighting; a new sighting is resolved to an existing call (see
//! `resolve`) or creates one, and the call's fields are recomputed from its
//! sightings (see `merge`). Returns only what is new or changed, which is
//! what later drives notification.
//!
//! Re-ingesting an unchanged item changes no call and writes no history:
//! the sighting's content hash is compared first, and only its `last_seen`
//! moves (so that vanished items can be told apart). An existing sighting is
//! never re-resolved, so call ids are stable and curators' decisions hold.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Transaction, TransactionBehavior, params};
use sha2::{Digest, Sha256};

use super::index::{self, BlockingIndex};
use super::resolve::{self, Resolution};
use super::{Store, merge, ts};

mod placement;

use crate::dedup;
use crate::normalize::item::NormalizedItem;
use placement::{Stored, apply_placement};

/// What one ingest did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IngestOutcome {
    /// Calls created by this ingest.
    pub new: Vec<i64>,
    /// Calls whose stored fields changed.
    pub updated: Vec<i64>,
    /// Items identical to what was stored.
    pub unchanged: u32,
    /// New sightings of calls already known (from another source, or under
    /// another URL) that changed nothing.
    pub merged: u32,
}

/// The stored columns of a call, as text, derived from one item. The
/// `tracked` ones are compared and recorded in `call_changes`.
pub(super) struct CallColumns {
    pub values: Vec<(&'static str, Option<String>)>,
    pub deadline_ts: Option<i64>,
}

pub(super) const TRACKED: &[&str] = &[
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

pub(super) fn columns(item: &NormalizedItem) -> anyhow::Result<CallColumns> {
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
            // Not tracked: see migration 017.
            ("published", item.published.as_ref().map(ts)),
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
        // Immediate: the write lock is taken now, so the index is synced
        // with the table as it will be when this transaction writes.
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Taken out for the transaction: on any error it is dropped (it may
        // hold sightings that were rolled back) and rebuilt on next use.
        let mut slot = self.index.take();
        index::sync(&mut slot, &tx)?;
        let Some(idx) = slot.as_mut() else {
            anyhow::bail!("the resolution index could not be built");
        };
        let deferred_above = defer_fts(&tx)?;
        let outcome = ingest_items(&tx, idx, source_id, items, &now)?;
        flush_fts(&tx, deferred_above)?;
        idx.revision = index::table_revision(&tx)?;
        tx.commit()?;
        self.index = slot;
        Ok(outcome)
    }
}

/// Stops indexing new calls in `calls_fts` row by row (see migration 006):
/// each such write would flush FTS5's pending data. Returns the newest call
/// id already indexed.
fn defer_fts(tx: &Transaction) -> anyhow::Result<i64> {
    let above: i64 = tx
        .prepare_cached("SELECT coalesce(max(id), 0) FROM calls")?
        .query_row([], |r| r.get(0))?;
    tx.prepare_cached("UPDATE calls_fts_deferred SET above = ?1 WHERE id = 1")?
        .execute([above])?;
    Ok(above)
}

/// Indexes the calls created since [`defer_fts`] in one statement, with
/// their final fields, and returns to row-by-row indexing.
fn flush_fts(tx: &Transaction, above: i64) -> anyhow::Result<()> {
    tx.prepare_cached(
        "INSERT INTO calls_fts(rowid, title, summary_text, funder)
         SELECT id, title, summary_text, coalesce(funder, '') FROM calls WHERE id > ?1 ORDER BY id",
    )?
    .execute([above])?;
    tx.prepare_cached("UPDATE calls_fts_deferred SET above = NULL WHERE id = 1")?
        .execute([])?;
    Ok(())
}

/// The body of [`Store::ingest`], inside its transaction.
fn ingest_items(
    tx: &Transaction,
    idx: &mut BlockingIndex,
    source_id: &str,
    items: &[NormalizedItem],
    now: &str,
) -> anyhow::Result<IngestOutcome> {
    let (review, priority): (bool, i64) = tx
        .prepare_cached("SELECT review, priority FROM sources WHERE id = ?1")?
        .query_row([source_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?
        .unwrap_or((false, 0));
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
                let signals = resolve::signals(source_id, item);
                let title_key = dedup::title_key(&signals.title);
                let tokens = dedup::blocking_tokens_of(&title_key);
                let new = resolve::NewSighting {
                    item_key: &key,
                    signals: &signals,
                    key: &title_key,
                    tokens: &tokens,
                };
                let placement = resolve::place(tx, idx, &new)?;
                let stored = Stored {
                    source_id,
                    key: &key,
                    hash: &hash,
                    data: &data,
                    item,
                    priority,
                    review,
                };
                let sighting_id = match placement {
                    None => {
                        let call_id = insert_call(tx, item, now, review)?;
                        let row = SightingRow {
                            source_id,
                            key: &key,
                            call_id,
                            component: call_id,
                            hash: &hash,
                            data: &data,
                            resolution: &Resolution::new_call(),
                        };
                        outcome.new.push(call_id);
                        insert_sighting(tx, &row, item, now)?
                    }
                    Some(p) => apply_placement(tx, &p, &stored, now, &mut outcome)?,
                };
                idx.add_with_tokens(sighting_id, &signals, &title_key, tokens)?;
            }
            Some((sighting_id, _, old_hash)) if old_hash == hash => {
                tx.prepare_cached(
                    "UPDATE sightings SET last_seen = ?2, unlisted_since = NULL WHERE id = ?1",
                )?
                .execute(params![sighting_id, now])?;
                outcome.unchanged += 1;
            }
            Some((sighting_id, call_id, _)) => {
                let old = index::read_sighting(tx, sighting_id)?;
                update_sighting(tx, sighting_id, &hash, &data, item, now)?;
                let signals = resolve::signals(source_id, item);
                idx.update(
                    sighting_id,
                    &old.signals,
                    &signals,
                    &dedup::title_key(&item.title),
                )?;
                if merge::refresh_call(tx, call_id, now, Some(source_id))? {
                    outcome.updated.push(call_id);
                } else {
                    outcome.unchanged += 1;
                }
            }
        }
    }
    Ok(outcome)
}

fn approve_pending(
    tx: &Transaction,
    call_id: i64,
    source_id: &str,
    now: &str,
) -> anyhow::Result<()> {
    let changed = tx
        .prepare_cached(
            "UPDATE calls SET review = 'approved' WHERE id = ?1 AND review = 'pending'",
        )?
        .execute([call_id])?;
    if changed > 0 {
        tx.execute(
            "INSERT INTO call_changes (call_id, field, old, new, changed_at, source_id)
             VALUES (?1, 'review', 'pending', 'approved', ?2, ?3)",
            params![call_id, now, source_id],
        )?;
    }
    Ok(())
}

fn insert_call(
    tx: &Transaction,
    item: &NormalizedItem,
    now: &str,
    review: bool,
) -> anyhow::Result<i64> {
    let cols = columns(item)?;
    let v = |name: &str| {
        cols.values
            .iter()
            .find(|(n, _)| *n == name)
            .and_then(|(_, v)| v.clone())
    };
    tx.prepare_cached(
        "INSERT INTO calls (title, summary_html, summary_text, funder, kind, url, audiences, perimeter,
           themes, opens_on, deadline, deadline_ts, deadlines, recurrence, first_seen, updated, last_seen, review,
           published)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?15, ?15, ?16, ?17)",
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
        if review { "pending" } else { "approved" },
        v("published"),
    ])?;
    Ok(tx.last_insert_rowid())
}

/// What a new sighting row records besides the item's compared fields.
struct SightingRow<'a> {
    source_id: &'a str,
    key: &'a str,
    call_id: i64,
    component: i64,
    hash: &'a str,
    data: &'a str,
    resolution: &'a Resolution,
}

fn insert_sighting(
    tx: &Transaction,
    row: &SightingRow,
    item: &NormalizedItem,
    now: &str,
) -> anyhow::Result<i64> {
    tx.prepare_cached(
        "INSERT INTO sightings (source_id, item_key, call_id, content_hash, data, first_seen, last_seen,
           url, title, funder, deadline, perimeter, kind, resolution, component)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
    )?
    .execute(params![
        row.source_id,
        row.key,
        row.call_id,
        row.hash,
        row.data,
        now,
        item.url,
        item.title,
        item.funder,
        item.deadlines.last().map(ts),
        item.perimeter.to_string(),
        item.kind.to_string(),
        serde_json::to_string(row.resolution)?,
        row.component,
    ])?;
    Ok(tx.last_insert_rowid())
}

fn update_sighting(
    tx: &Transaction,
    sighting_id: i64,
    hash: &str,
    data: &str,
    item: &NormalizedItem,
    now: &str,
) -> anyhow::Result<()> {
    tx.prepare_cached(
        "UPDATE sightings SET content_hash = ?2, data = ?3, last_seen = ?4, unlisted_since = NULL,
           url = ?5, title = ?6, funder = ?7, deadline = ?8, perimeter = ?9, kind = ?10
         WHERE id = ?1",
    )?
    .execute(params![
        sighting_id,
        hash,
        data,
        now,
        item.url,
        item.title,
        item.funder,
        item.deadlines.last().map(ts),
        item.perimeter.to_string(),
        item.kind.to_string(),
    ])?;
    Ok(())
}
