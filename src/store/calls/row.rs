//! One call's row: the columns a listing selects and their parsing back
//! into a [`CallRecord`], where a corrupted column is an error.

use chrono::{DateTime, FixedOffset, Utc};
use rusqlite::Row;

use super::{CallRecord, derive_status};

/// True when no source lists the call any more: it has sightings and every
/// one of them is flagged unlisted.
macro_rules! unlisted {
    () => {
        "(SELECT count(*) > 0 AND count(*) = count(unlisted_since) FROM sightings s WHERE s.call_id = c.id)"
    };
}
pub(super) const UNLISTED: &str = unlisted!();

/// The columns [`call_from_row`] reads, in its order.
pub(super) const CALL_COLUMNS: &str = concat!(
    "c.id, c.title, c.summary_html, c.summary_text, c.funder, c.kind, c.url,
    c.audiences, c.perimeter, c.themes, c.opens_on, c.deadlines, c.recurrence, c.first_seen,
    c.updated, c.last_seen,
    (SELECT group_concat(source_id, ',') FROM (SELECT DISTINCT source_id FROM sightings s
       WHERE s.call_id = c.id ORDER BY source_id)),
    c.review, ",
    unlisted!(),
    ",
    (SELECT max(last_seen) FROM sightings s WHERE s.call_id = c.id),
    c.published"
);

fn bad_column(index: usize, e: impl std::error::Error + Send + Sync + 'static) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(index, rusqlite::types::Type::Text, Box::new(e))
}

fn parse_col<T: std::str::FromStr>(row: &Row, index: usize) -> rusqlite::Result<T>
where
    T::Err: std::error::Error + Send + Sync + 'static,
{
    let text: String = row.get(index)?;
    text.parse().map_err(|e| bad_column(index, e))
}

fn json_col<T: serde::de::DeserializeOwned>(row: &Row, index: usize) -> rusqlite::Result<T> {
    let text: String = row.get(index)?;
    serde_json::from_str(&text).map_err(|e| bad_column(index, e))
}

fn time_col(row: &Row, index: usize) -> rusqlite::Result<DateTime<FixedOffset>> {
    let text: String = row.get(index)?;
    DateTime::parse_from_rfc3339(&text).map_err(|e| bad_column(index, e))
}

fn opt_time_col(row: &Row, index: usize) -> rusqlite::Result<Option<DateTime<FixedOffset>>> {
    let text: Option<String> = row.get(index)?;
    text.map(|t| DateTime::parse_from_rfc3339(&t).map_err(|e| bad_column(index, e)))
        .transpose()
}

pub(super) fn call_from_row(row: &Row, now: DateTime<Utc>) -> rusqlite::Result<CallRecord> {
    let deadline_texts: Vec<String> = json_col(row, 11)?;
    let deadlines = deadline_texts
        .iter()
        .map(|t| DateTime::parse_from_rfc3339(t).map_err(|e| bad_column(11, e)))
        .collect::<Result<Vec<_>, _>>()?;
    let opens_on = opt_time_col(row, 10)?;
    let sources: Option<String> = row.get(16)?;
    let next = crate::domain::current_deadline(&deadlines, now);
    Ok(CallRecord {
        id: row.get(0)?,
        title: row.get(1)?,
        summary_html: row.get(2)?,
        summary_text: row.get(3)?,
        funder: row.get(4)?,
        kind: parse_col(row, 5)?,
        url: row.get(6)?,
        audiences: json_col(row, 7)?,
        perimeter: parse_col(row, 8)?,
        themes: json_col(row, 9)?,
        status: derive_status(opens_on.as_ref(), &deadlines, now),
        opens_on,
        deadline: next,
        deadlines,
        recurrence: parse_col(row, 12)?,
        first_seen: time_col(row, 13)?,
        updated: time_col(row, 14)?,
        last_seen: time_col(row, 15)?,
        sources: sources
            .map(|s| s.split(',').map(str::to_string).collect())
            .unwrap_or_default(),
        review: row.get(17)?,
        unlisted: row.get(18)?,
        last_listed: opt_time_col(row, 19)?,
        published: opt_time_col(row, 20)?,
    })
}
