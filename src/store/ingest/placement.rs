//! Storing a new sighting where resolution placed it (see
//! `store::resolve`): creating the calls it needs, moving the stored
//! sightings that were re-grouped, and refreshing every call that changed.

use rusqlite::{Transaction, params};

use super::{
    IngestOutcome, Resolution, SightingRow, approve_pending, insert_call, insert_sighting,
};
use crate::normalize::item::NormalizedItem;
use crate::store::{merge, resolve};

/// A new item being stored, with what placing it needs.
pub(super) struct Stored<'a> {
    pub source_id: &'a str,
    pub key: &'a str,
    pub hash: &'a str,
    pub data: &'a str,
    pub item: &'a NormalizedItem,
    /// Its source's `priority` and `review`.
    pub priority: i64,
    pub review: bool,
}

/// Stores a new sighting where resolution placed it, moves the stored
/// sightings it re-grouped, and refreshes every call that changed.
/// Returns the new sighting's id.
pub(super) fn apply_placement(
    tx: &Transaction,
    p: &resolve::Placement,
    new: &Stored,
    now: &str,
    outcome: &mut IngestOutcome,
) -> anyhow::Result<i64> {
    use resolve::Target;
    // Calls to create: from the new item when it is in one, else from a
    // moved sighting's item (refresh_call derives the fields anyway).
    let mut fresh = Vec::with_capacity(p.fresh);
    for n in 0..p.fresh {
        let id = if p.target == Target::Fresh(n) {
            insert_call(tx, new.item, now, new.review)?
        } else {
            let first = p
                .moves
                .iter()
                .find(|m| m.to == Target::Fresh(n))
                .map(|m| m.sighting)
                .ok_or_else(|| anyhow::anyhow!("call {n} to create has no sighting"))?;
            let data: String = tx
                .prepare_cached("SELECT data FROM sightings WHERE id = ?1")?
                .query_row([first], |r| r.get(0))?;
            insert_call(tx, &serde_json::from_str(&data)?, now, new.review)?
        };
        fresh.push(id);
    }
    let call_of = |t: Target| match t {
        Target::Call(id) => id,
        Target::Fresh(n) => fresh[n],
    };
    let call_id = call_of(p.target);
    let resolution = match &p.link {
        Some(link) => link.resolution(0),
        None => Resolution::new_call(),
    };
    let row = SightingRow {
        source_id: new.source_id,
        key: new.key,
        call_id,
        component: p.component,
        hash: new.hash,
        data: new.data,
        resolution: &resolution,
    };
    let sighting_id = insert_sighting(tx, &row, new.item, now)?;
    if let Some(link) = &p.link {
        merge::set_resolution(tx, sighting_id, &link.resolution(sighting_id))?;
    }
    let mut touched: Vec<i64> = Vec::new();
    for m in &p.moves {
        let to = call_of(m.to);
        tx.prepare_cached("UPDATE sightings SET call_id = ?2 WHERE id = ?1")?
            .execute(params![m.sighting, to])?;
        let resolution = match &m.link {
            Some(link) => link.resolution(sighting_id),
            None => Resolution::new_call(),
        };
        merge::set_resolution(tx, m.sighting, &resolution)?;
        touched.extend([m.from, to]);
    }
    for &(call, to) in &p.retired {
        merge::retire_call(
            tx,
            call,
            call_of(to),
            now,
            "dedup: its sightings were re-grouped",
        )?;
    }
    for &label in &p.joined {
        tx.prepare_cached("UPDATE sightings SET component = ?2 WHERE component = ?1")?
            .execute(params![label, p.component])?;
    }
    if !new.review && p.link.is_some() {
        // A trusted source vouches for a call that waited only because a
        // review source found it first.
        approve_pending(tx, call_id, new.source_id, now)?;
    }
    let created = matches!(p.target, Target::Fresh(_));
    if created {
        outcome.new.push(call_id);
    } else if p.moves.is_empty() {
        let joined = merge::Joined {
            sighting_id,
            item: new.item,
            source_id: new.source_id,
            priority: new.priority,
        };
        if merge::refresh_after_join(tx, call_id, &joined, now)? {
            outcome.updated.push(call_id);
        } else {
            outcome.merged += 1;
        }
    } else {
        touched.push(call_id);
    }
    touched.extend(fresh.iter().copied().filter(|&c| c != call_id));
    touched.sort_unstable();
    touched.dedup();
    let retired: Vec<i64> = p.retired.iter().map(|(c, _)| *c).collect();
    for call in touched.into_iter().filter(|c| !retired.contains(c)) {
        let changed = merge::refresh_call(tx, call, now, Some(new.source_id))?;
        if changed && !outcome.new.contains(&call) && !outcome.updated.contains(&call) {
            outcome.updated.push(call);
        } else if !changed && call == call_id && !created {
            outcome.merged += 1;
        }
    }
    Ok(sighting_id)
}
