//! Curators' operations on the catalogue: merge two calls, split a
//! sighting off its call, approve or reject calls waiting for review, and
//! inspect a call's sightings with the reasons they were merged.
//!
//! Decisions are stored (`curator_links`, `calls.review`) and crawls only
//! ever resolve *new* sightings, so a crawl never undoes them.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde::Serialize;

use super::merge::{self, link, merge_calls, set_resolution};
use super::resolve::Resolution;
use super::{Store, ts};

/// One sighting of a call, as `vigie calls show` prints it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SightingRecord {
    pub id: i64,
    pub source_id: String,
    pub item_key: String,
    pub title: String,
    pub url: Option<String>,
    pub first_seen: String,
    pub last_seen: String,
    pub unlisted_since: Option<String>,
    pub resolution: Resolution,
    /// The publication date this source gave (RFC 3339), if any.
    pub published: Option<String>,
}

/// A deadline change of a call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventRecord {
    pub id: i64,
    pub call_id: i64,
    pub kind: String,
    pub old: Option<String>,
    pub new: Option<String>,
    pub at: String,
}

/// The review states of a call.
pub const REVIEW_STATES: &[&str] = &["pending", "approved", "rejected"];

/// The id call `id` now stands for (following merges), on `conn` (the store's
/// connection or a transaction on it).
fn live_id(conn: &Connection, id: i64) -> anyhow::Result<Option<i64>> {
    let mut at = id;
    for _ in 0..64 {
        let merged: Option<Option<i64>> = conn
            .query_row("SELECT merged_into FROM calls WHERE id = ?1", [at], |r| {
                r.get(0)
            })
            .optional()?;
        match merged {
            None => return Ok(None),
            Some(None) => return Ok(Some(at)),
            Some(Some(next)) => at = next,
        }
    }
    anyhow::bail!("call {id}: merge chain too long (corrupted merged_into)")
}

impl Store {
    /// The id a call id now stands for (following merges), if it exists.
    pub fn live_call_id(&self, id: i64) -> anyhow::Result<Option<i64>> {
        live_id(&self.conn, id)
    }

    fn require_call(&self, id: i64) -> anyhow::Result<i64> {
        self.live_call_id(id)?
            .ok_or_else(|| anyhow::anyhow!("no call with id {id}"))
    }

    /// The sightings of a call with the reason each belongs to it.
    pub fn call_sightings(&self, call_id: i64) -> anyhow::Result<Vec<SightingRecord>> {
        let mut stmt = self.conn.prepare(
            "SELECT id, source_id, item_key, title, url, first_seen, last_seen, unlisted_since, resolution,
               CASE WHEN json_valid(data) THEN json_extract(data, '$.published') END
             FROM sightings WHERE call_id = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map([call_id], |r| {
            let id: i64 = r.get(0)?;
            let resolution: String = r.get(8)?;
            let resolution = serde_json::from_str(&resolution).map_err(|e| {
                rusqlite::Error::FromSqlConversionFailure(
                    8,
                    rusqlite::types::Type::Text,
                    format!("sightings row {id}: column resolution = `{resolution}`: {e}").into(),
                )
            })?;
            Ok(SightingRecord {
                id,
                source_id: r.get(1)?,
                item_key: r.get(2)?,
                title: r.get(3)?,
                url: r.get(4)?,
                first_seen: r.get(5)?,
                last_seen: r.get(6)?,
                unlisted_since: r.get(7)?,
                resolution,
                published: r.get(9)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Deadline events, oldest first; `call_id` None lists all of them.
    pub fn call_events(&self, call_id: Option<i64>) -> anyhow::Result<Vec<EventRecord>> {
        let mut stmt = self.conn.prepare(
            "SELECT id, call_id, kind, old, new, at FROM call_events
             WHERE ?1 IS NULL OR call_id = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map([call_id], |r| {
            Ok(EventRecord {
                id: r.get(0)?,
                call_id: r.get(1)?,
                kind: r.get(2)?,
                old: r.get(3)?,
                new: r.get(4)?,
                at: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// A curator's merge: `b` joins `a` (ids are followed through earlier
    /// merges). Returns the surviving id. Every pair of their sightings is
    /// remembered as "together", and any earlier "apart" verdict between
    /// them is replaced.
    pub fn merge_calls(&mut self, a: i64, b: i64, now: DateTime<Utc>) -> anyhow::Result<i64> {
        let (a, b) = (self.require_call(a)?, self.require_call(b)?);
        anyhow::ensure!(a != b, "calls {a} and {b} are already the same call");
        let now = ts(&now);
        let tx = self.conn.transaction()?;
        let pairs: Vec<(i64, i64)> = {
            let mut stmt = tx.prepare(
                "SELECT x.id, y.id FROM sightings x JOIN sightings y ON y.call_id = ?2 WHERE x.call_id = ?1",
            )?;
            stmt.query_map(params![a, b], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<_, _>>()?
        };
        for (x, y) in pairs {
            link(&tx, x, y, "together", &now)?;
        }
        let moved: Vec<i64> = {
            let mut stmt = tx.prepare("SELECT id FROM sightings WHERE call_id = ?1")?;
            stmt.query_map([b], |r| r.get(0))?
                .collect::<Result<_, _>>()?
        };
        merge_calls(&tx, a, b, &now, "curator merge")?;
        for s in moved {
            set_resolution(
                &tx,
                s,
                &Resolution::curator(&format!("merged call {b} into {a}")),
            )?;
        }
        tx.commit()?;
        Ok(a)
    }

    /// A curator's split: sighting `sighting` leaves call `call` for a new
    /// call of its own, and is remembered as "apart" from every sighting it
    /// leaves, so no later crawl brings them back together. Returns the new
    /// call's id.
    pub fn split_call(
        &mut self,
        call: i64,
        sighting: i64,
        now: DateTime<Utc>,
    ) -> anyhow::Result<i64> {
        let call = self.require_call(call)?;
        let now = ts(&now);
        let tx = self.conn.transaction()?;
        let owner: Option<i64> = tx
            .query_row(
                "SELECT call_id FROM sightings WHERE id = ?1",
                [sighting],
                |r| r.get(0),
            )
            .optional()?;
        anyhow::ensure!(
            owner == Some(call),
            "sighting {sighting} is not a sighting of call {call}: see `vigie calls show {call}`"
        );
        let others: Vec<i64> = {
            let mut stmt =
                tx.prepare("SELECT id FROM sightings WHERE call_id = ?1 AND id != ?2")?;
            stmt.query_map(params![call, sighting], |r| r.get(0))?
                .collect::<Result<_, _>>()?
        };
        anyhow::ensure!(
            !others.is_empty(),
            "call {call} has only this sighting: there is nothing to split"
        );
        // The new call starts as a copy of the old row; refresh_call then
        // derives its fields from its one sighting.
        tx.execute(
            "INSERT INTO calls (title, summary_html, summary_text, funder, kind, url, audiences, perimeter,
               themes, opens_on, deadline, deadline_ts, deadlines, recurrence, first_seen, updated, last_seen, review)
             SELECT title, summary_html, summary_text, funder, kind, url, audiences, perimeter, themes, opens_on,
               deadline, deadline_ts, deadlines, recurrence, first_seen, ?2, last_seen, review
             FROM calls WHERE id = ?1",
            params![call, now],
        )?;
        let new_call = tx.last_insert_rowid();
        tx.execute(
            "UPDATE sightings SET call_id = ?1 WHERE id = ?2",
            params![new_call, sighting],
        )?;
        for other in others {
            link(&tx, sighting, other, "apart", &now)?;
        }
        set_resolution(
            &tx,
            sighting,
            &Resolution::curator(&format!("split from call {call}")),
        )?;
        tx.execute(
            "INSERT INTO call_changes (call_id, field, old, new, changed_at) VALUES (?1, 'split', ?2, ?3, ?4)",
            params![call, sighting.to_string(), new_call.to_string(), now],
        )?;
        merge::refresh_call(&tx, call, &now, None)?;
        merge::refresh_call(&tx, new_call, &now, None)?;
        tx.commit()?;
        Ok(new_call)
    }

    /// Sets the review state of a call (`approved` or `rejected`).
    pub fn set_review(
        &mut self,
        call: i64,
        state: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<i64> {
        anyhow::ensure!(
            REVIEW_STATES.contains(&state),
            "unknown review state `{state}`: expected one of {}",
            REVIEW_STATES.join(", ")
        );
        // One IMMEDIATE transaction from the lookup to the change record:
        // the state recorded as `old` is the one this write replaced, even
        // when another curator's process changes it at the same moment.
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let call = live_id(&tx, call)?.ok_or_else(|| anyhow::anyhow!("no call with id {call}"))?;
        let old: String = tx.query_row("SELECT review FROM calls WHERE id = ?1", [call], |r| {
            r.get(0)
        })?;
        if old != state {
            tx.execute(
                "UPDATE calls SET review = ?2 WHERE id = ?1",
                params![call, state],
            )?;
            tx.execute(
                "INSERT INTO call_changes (call_id, field, old, new, changed_at) VALUES (?1, 'review', ?2, ?3, ?4)",
                params![call, old, state, ts(&now)],
            )?;
        }
        tx.commit()?;
        Ok(call)
    }
}

#[cfg(test)]
mod tests;
