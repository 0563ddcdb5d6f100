//! Rows of `sightings` as resolution compares them, read back from SQLite.

use chrono::DateTime;
use rusqlite::Transaction;

use crate::dedup::Signals;

/// One row of `sightings` as resolution compares it.
pub struct SightingRow {
    pub id: i64,
    pub call_id: i64,
    /// The group of sightings linked by "same call" decisions it belongs to
    /// (see `resolve`); `None` only in rows written before migration 14.
    pub component: Option<i64>,
    pub signals: Signals,
}

pub(in crate::store) const COLUMNS: &str =
    "id, call_id, source_id, title, url, funder, perimeter, deadline, kind, component";

pub(in crate::store) fn row(r: &rusqlite::Row) -> rusqlite::Result<SightingRow> {
    let deadline: Option<String> = r.get(7)?;
    Ok(SightingRow {
        id: r.get(0)?,
        call_id: r.get(1)?,
        component: r.get(9)?,
        signals: Signals {
            source_id: r.get(2)?,
            title: r.get(3)?,
            url: r.get(4)?,
            funder: r.get(5)?,
            perimeter: r.get(6)?,
            deadline: deadline.and_then(|d| DateTime::parse_from_rfc3339(&d).ok()),
            kind: r.get(8)?,
            origin_url: None,
        },
    })
}

/// Reads one sighting as resolution compares it.
pub fn read_sighting(tx: &Transaction, id: i64) -> anyhow::Result<SightingRow> {
    Ok(tx
        .prepare_cached(&format!("SELECT {COLUMNS} FROM sightings WHERE id = ?1"))?
        .query_row([id], row)?)
}

/// The revision counter the `sightings` triggers bump on every change of a
/// compared column (see migration 006).
pub fn table_revision(tx: &Transaction) -> anyhow::Result<i64> {
    Ok(tx
        .prepare_cached("SELECT n FROM sightings_revision WHERE id = 1")?
        .query_row([], |r| r.get(0))?)
}
