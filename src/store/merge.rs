//! A call's fields from its sightings, and the operations that move
//! sightings between calls (dedup merges, curator merge and split).
//!
//! Each field of a call comes from its most authoritative sighting — the
//! highest source `priority`, then the earliest seen — and gaps are filled
//! from the others; themes are the union, and the publication date is the
//! earliest any sighting gives. Every change of a call's stored
//! fields is written to `call_changes`, and a change of its deadline is also
//! an event in `call_events`, to be announced once to subscribers.

use chrono::{DateTime, FixedOffset};
use rusqlite::{Transaction, params};

use super::ingest::{TRACKED, columns};
use super::resolve::Resolution;
use crate::normalize::item::NormalizedItem;

/// The sightings of a call as normalized items, most authoritative first.
fn sightings_by_authority(tx: &Transaction, call_id: i64) -> anyhow::Result<Vec<NormalizedItem>> {
    let mut stmt = tx.prepare_cached(
        "SELECT s.data FROM sightings s JOIN sources src ON src.id = s.source_id
         WHERE s.call_id = ?1 ORDER BY src.priority DESC, s.first_seen, s.id",
    )?;
    let rows = stmt.query_map([call_id], |r| r.get::<_, String>(0))?;
    let mut items = Vec::new();
    for data in rows {
        items.push(serde_json::from_str(&data?)?);
    }
    Ok(items)
}

/// Merges sightings (most authoritative first) into the call's fields.
pub fn merged_fields(items: &[NormalizedItem]) -> Option<NormalizedItem> {
    let mut merged = items.first()?.clone();
    for other in &items[1..] {
        if merged.url.is_none() {
            merged.url.clone_from(&other.url);
        }
        if merged.funder.is_none() {
            merged.funder.clone_from(&other.funder);
        }
        if merged.summary_text.is_empty() {
            merged.summary_text.clone_from(&other.summary_text);
            merged.summary_html.clone_from(&other.summary_html);
        }
        if merged.opens_on.is_none() {
            merged.opens_on = other.opens_on;
        }
        if merged.deadlines.is_empty() {
            merged.deadlines.clone_from(&other.deadlines);
            if merged.recurrence == crate::domain::Recurrence::Oneoff {
                merged.recurrence = other.recurrence;
            }
        }
        if merged.audiences.is_empty() {
            merged.audiences.clone_from(&other.audiences);
        }
        if !merged.perimeter.is_resolved() && other.perimeter.is_resolved() {
            merged.perimeter.clone_from(&other.perimeter);
        }
        merged.themes.extend(other.themes.iter().copied());
        // The earliest, not the most authoritative: a call is published
        // when it first appears anywhere; relays and aggregators repost it
        // later, and feeds give their entry's update time when they lack
        // a publication time, so later dates say less about the call.
        if let Some(p) = other.published
            && merged.published.is_none_or(|m| p < m)
        {
            merged.published = Some(p);
        }
    }
    merged.themes.sort();
    merged.themes.dedup();
    Some(merged)
}

/// Recomputes a call's fields from its sightings, recording every change.
/// Returns whether a tracked field changed.
pub fn refresh_call(
    tx: &Transaction,
    call_id: i64,
    now: &str,
    source_id: Option<&str>,
) -> anyhow::Result<bool> {
    let items = sightings_by_authority(tx, call_id)?;
    let Some(mut merged) = merged_fields(&items) else {
        return Ok(false);
    };
    if let Some(p) = super::perimeter::curator_perimeter(tx, call_id)? {
        merged.perimeter = p;
    }
    let cols = columns(&merged)?;
    let names: Vec<&str> = cols.values.iter().map(|(n, _)| *n).collect();
    let old: Vec<Option<String>> = tx
        .prepare_cached(&format!(
            "SELECT {} FROM calls WHERE id = ?1",
            names.join(", ")
        ))?
        .query_row([call_id], |r| (0..names.len()).map(|i| r.get(i)).collect())?;
    let mut changed = false;
    for ((name, new), old) in cols.values.iter().zip(old) {
        if old == *new {
            continue;
        }
        tx.prepare_cached(&format!("UPDATE calls SET {name} = ?2 WHERE id = ?1"))?
            .execute(params![call_id, new])?;
        if TRACKED.contains(name) {
            changed = true;
            tx.prepare_cached(
                "INSERT INTO call_changes (call_id, field, old, new, changed_at, source_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![call_id, name, old, new, now, source_id])?;
        }
        if *name == "deadline" {
            record_deadline_event(tx, call_id, old.as_deref(), new.as_deref(), now)?;
        }
    }
    tx.prepare_cached(
        "UPDATE calls SET deadline_ts = ?2, updated = CASE WHEN ?3 THEN ?4 ELSE updated END,
           last_seen = max(last_seen, ?4)
         WHERE id = ?1",
    )?
    .execute(params![call_id, cols.deadline_ts, changed, now])?;
    Ok(changed)
}

/// A sighting that was just stored and joined an existing call.
pub struct Joined<'a> {
    pub sighting_id: i64,
    pub item: &'a NormalizedItem,
    pub source_id: &'a str,
    /// Its source's `priority`.
    pub priority: i64,
}

/// [`refresh_call`] after `joined` joined `call_id`, for the usual case
/// where it can change nothing: when it comes last in authority order, the
/// merge of the call's sightings is the former merge with gaps filled from
/// it (see [`merged_fields`], a left fold), so a call with no gap it fills
/// and every one of its themes keeps its fields, and only `last_seen`
/// moves. Anything else takes the full recomputation. Same result and same
/// return value as [`refresh_call`].
pub fn refresh_after_join(
    tx: &Transaction,
    call_id: i64,
    joined: &Joined,
    now: &str,
) -> anyhow::Result<bool> {
    let Joined {
        sighting_id,
        item,
        source_id,
        priority,
    } = *joined;
    let row = tx
        .prepare_cached(
            "SELECT c.url IS NULL, c.funder IS NULL, c.summary_text = '', c.opens_on IS NULL,
               c.deadlines = '[]', c.audiences = '[]', c.themes,
               c.perimeter LIKE 'unresolved:%',
               c.published,
               EXISTS (SELECT 1 FROM sightings s JOIN sources src ON src.id = s.source_id
                 WHERE s.call_id = c.id AND s.id <> ?2
                   AND (src.priority < ?3 OR (src.priority = ?3 AND s.first_seen > ?4)))
             FROM calls c WHERE c.id = ?1",
        )?
        .query_row(params![call_id, sighting_id, priority, now], |r| {
            Ok((
                [
                    r.get::<_, bool>(0)? && item.url.is_some(),
                    r.get::<_, bool>(1)? && item.funder.is_some(),
                    // An empty summary or no deadline: the fill rules touch
                    // other fields too (html, recurrence); recompute.
                    r.get::<_, bool>(2)?,
                    r.get::<_, bool>(3)? && item.opens_on.is_some(),
                    r.get::<_, bool>(4)?,
                    r.get::<_, bool>(5)? && !item.audiences.is_empty(),
                    r.get::<_, bool>(7)? && item.perimeter.is_resolved(),
                ],
                r.get::<_, String>(6)?,
                r.get::<_, bool>(9)?,
                r.get::<_, Option<String>>(8)?,
            ))
        })?;
    let (fills, themes, outranks, published) = row;
    // An earlier publication date than the call's moves it (see
    // `merged_fields`); a stored value that does not parse: recompute.
    let earlier = match (item.published, published.as_deref()) {
        (None, _) => false,
        (Some(_), None) => true,
        (Some(p), Some(stored)) => DateTime::parse_from_rfc3339(stored)
            .ok()
            .is_none_or(|s| p < s),
    };
    let keeps_themes = || -> anyhow::Result<bool> {
        let stored: Vec<crate::domain::Theme> = serde_json::from_str(&themes)?;
        let mut union = stored.clone();
        union.extend(item.themes.iter().copied());
        union.sort();
        union.dedup();
        Ok(union == stored)
    };
    if outranks || earlier || fills.contains(&true) || !keeps_themes()? {
        return refresh_call(tx, call_id, now, Some(source_id));
    }
    tx.prepare_cached("UPDATE calls SET last_seen = max(last_seen, ?2) WHERE id = ?1")?
        .execute(params![call_id, now])?;
    Ok(false)
}

/// A deadline as stored in `calls.deadline`: absent, or RFC 3339. A value
/// that does not parse is an error naming the row, never "no deadline"
/// (which recorded a false `deadline_set` or `deadline_removed` event).
fn parse_deadline(call_id: i64, t: Option<&str>) -> anyhow::Result<Option<DateTime<FixedOffset>>> {
    t.map(|t| {
        DateTime::parse_from_rfc3339(t).map_err(|e| {
            anyhow::anyhow!(
                "calls row {call_id}: column deadline = `{t}` is not an RFC 3339 time ({e}); \
                 fix the row or re-crawl its sources after clearing it"
            )
        })
    })
    .transpose()
}

fn record_deadline_event(
    tx: &Transaction,
    call_id: i64,
    old: Option<&str>,
    new: Option<&str>,
    now: &str,
) -> anyhow::Result<()> {
    let kind = match (parse_deadline(call_id, old)?, parse_deadline(call_id, new)?) {
        (Some(o), Some(n)) if n > o => "deadline_extended",
        (Some(o), Some(n)) if n < o => "deadline_brought_forward",
        (Some(_), Some(_)) => return Ok(()),
        (None, Some(_)) => "deadline_set",
        (Some(_), None) => "deadline_removed",
        (None, None) => return Ok(()),
    };
    tx.prepare_cached(
        "INSERT INTO call_events (call_id, kind, old, new, at) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![call_id, kind, old, new, now])?;
    Ok(())
}

/// Moves every sighting of `absorbed` into `survivor`; `absorbed` keeps
/// pointing to `survivor` (so links to it keep working) and so does any
/// call merged into it earlier.
pub fn merge_calls(
    tx: &Transaction,
    survivor: i64,
    absorbed: i64,
    now: &str,
    why: &str,
) -> anyhow::Result<()> {
    anyhow::ensure!(
        survivor != absorbed,
        "cannot merge call {survivor} into itself"
    );
    tx.execute(
        "UPDATE sightings SET call_id = ?1 WHERE call_id = ?2",
        params![survivor, absorbed],
    )?;
    tx.execute(
        "UPDATE calls SET merged_into = ?1 WHERE id = ?2 OR merged_into = ?2",
        params![survivor, absorbed],
    )?;
    // One call is one component: the two components become one (see
    // `resolve`), labelled by the smaller label.
    tx.execute(
        "UPDATE sightings SET component = (SELECT min(component) FROM sightings WHERE call_id = ?1)
         WHERE component IN (SELECT component FROM sightings WHERE call_id = ?1)",
        params![survivor],
    )?;
    // Approval travels with the call: one approved part approves the whole.
    tx.execute(
        "UPDATE calls SET review = 'approved' WHERE id = ?1
           AND (SELECT review FROM calls WHERE id = ?2) = 'approved' AND review = 'pending'",
        params![survivor, absorbed],
    )?;
    tx.execute(
        "INSERT INTO call_changes (call_id, field, old, new, changed_at, source_id)
         VALUES (?1, 'merged', ?2, ?3, ?4, NULL)",
        params![survivor, absorbed.to_string(), why, now],
    )?;
    refresh_call(tx, survivor, now, None)?;
    Ok(())
}

/// Marks `absorbed`, whose sightings all moved away when resolution
/// re-grouped its component, as leading to `survivor` (links to it keep
/// working), with the reason in its history.
pub fn retire_call(
    tx: &Transaction,
    absorbed: i64,
    survivor: i64,
    now: &str,
    why: &str,
) -> anyhow::Result<()> {
    anyhow::ensure!(
        survivor != absorbed,
        "cannot retire call {absorbed} into itself"
    );
    tx.prepare_cached("UPDATE calls SET merged_into = ?1 WHERE id = ?2 OR merged_into = ?2")?
        .execute(params![survivor, absorbed])?;
    tx.prepare_cached(
        "UPDATE calls SET review = 'approved' WHERE id = ?1
           AND (SELECT review FROM calls WHERE id = ?2) = 'approved' AND review = 'pending'",
    )?
    .execute(params![survivor, absorbed])?;
    tx.prepare_cached(
        "INSERT INTO call_changes (call_id, field, old, new, changed_at, source_id)
         VALUES (?1, 'merged', ?2, ?3, ?4, NULL)",
    )?
    .execute(params![survivor, absorbed.to_string(), why, now])?;
    Ok(())
}

/// Records a curator's verdict on a pair of sightings.
pub fn link(tx: &Transaction, a: i64, b: i64, verdict: &str, now: &str) -> anyhow::Result<()> {
    let (a, b) = if a < b { (a, b) } else { (b, a) };
    tx.execute(
        "INSERT INTO curator_links (a, b, verdict, decided_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT(a, b) DO UPDATE SET verdict = ?3, decided_at = ?4",
        params![a, b, verdict, now],
    )?;
    Ok(())
}

/// Stores a sighting's resolution.
pub fn set_resolution(
    tx: &Transaction,
    sighting_id: i64,
    resolution: &Resolution,
) -> anyhow::Result<()> {
    tx.execute(
        "UPDATE sightings SET resolution = ?2 WHERE id = ?1",
        params![sighting_id, serde_json::to_string(resolution)?],
    )?;
    Ok(())
}
