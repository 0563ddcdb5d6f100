//! Reading calls back: filtered listings, one call with its sightings and
//! history. Rows are parsed again into domain types on the way out, so a
//! corrupted column is an error rather than a wrong answer.

use chrono::{DateTime, FixedOffset, Utc};
use rusqlite::{params_from_iter, types::Value};
use serde::Serialize;

use super::Store;
use crate::domain::{Audience, CallKind, CallPerimeter, Perimeter, Recurrence, Status, Theme};

/// Filters of `vigie calls` (and later of the API). Empty means "any".
#[derive(Debug, Clone, Default)]
pub struct CallFilter {
    /// Only calls whose deadline has not passed (status open or upcoming).
    pub open: bool,
    pub status: Vec<Status>,
    pub sources: Vec<String>,
    pub themes: Vec<Theme>,
    pub audiences: Vec<Audience>,
    /// Calls whose perimeter has one of these as a member (`region:53`
    /// finds a call for `region:52,region:53`).
    pub perimeters: Vec<Perimeter>,
    /// Only calls whose perimeter waits for a curator (unresolved label).
    pub unresolved_perimeter: bool,
    /// Full-text search over title, summary and funder, accent-insensitive;
    /// every word must match, as a prefix.
    pub text: Option<String>,
    /// Review states to include (`pending`, `approved`, `rejected`); empty: any.
    pub review: Vec<String>,
    /// `Some(false)`: only calls some source still lists; `Some(true)`:
    /// only calls no source lists any more (`unlisted`); `None`: both.
    pub unlisted: Option<bool>,
    pub kinds: Vec<CallKind>,
    /// Only calls whose last cut-off is at or after this instant.
    pub deadline_after: Option<DateTime<Utc>>,
    /// Only calls whose last cut-off is at or before this instant (calls
    /// without a deadline are left out when either bound is set).
    pub deadline_before: Option<DateTime<Utc>>,
    /// What the public sees: approved calls only (a call waiting for a
    /// curator or rejected by one is not shown).
    pub public_only: bool,
    /// Calls to skip before the first one returned (pagination).
    pub offset: u32,
    pub order: CallOrder,
    /// Keyset pagination: only calls after this one in `order` (the last
    /// call of the previous page). Stable when calls are added meanwhile.
    pub after: Option<Keyset>,
    pub limit: Option<u32>,
}

/// The order of a listing; every order ends on the call id, so pages never
/// overlap nor skip a call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CallOrder {
    /// Soonest deadline first, calls without a deadline last.
    #[default]
    Deadline,
    /// Most recently found first (`first_seen`).
    Newest,
    /// Most recently changed first (`updated`), as feeds list them.
    Updated,
}

/// Where a page ends, in the listing's order: the sort key and id of its
/// last call (see [`CallFilter::after`]).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Keyset {
    /// `deadline_ts` (None for calls without a deadline, listed last).
    Deadline(Option<i64>, i64),
    /// `first_seen` as stored.
    Newest(String, i64),
    /// `updated` as stored.
    Updated(String, i64),
}

impl Keyset {
    /// The key of `c` in `order`.
    pub fn of(order: CallOrder, c: &CallRecord) -> Keyset {
        match order {
            CallOrder::Deadline => Keyset::Deadline(c.deadline.map(|d| d.timestamp()), c.id),
            CallOrder::Newest => Keyset::Newest(super::ts(&c.first_seen.to_utc()), c.id),
            CallOrder::Updated => Keyset::Updated(super::ts(&c.updated.to_utc()), c.id),
        }
    }

    /// Whether this key belongs to listings in `order`.
    pub fn fits(&self, order: CallOrder) -> bool {
        matches!(
            (self, order),
            (Keyset::Deadline(..), CallOrder::Deadline)
                | (Keyset::Newest(..), CallOrder::Newest)
                | (Keyset::Updated(..), CallOrder::Updated)
        )
    }
}

/// One page of a listing and how many calls match in all.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CallPage {
    pub calls: Vec<CallRecord>,
    pub total: u64,
}

/// A stored call with every field, its derived status and its sources.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CallRecord {
    pub id: i64,
    pub title: String,
    pub summary_html: String,
    pub summary_text: String,
    pub funder: Option<String>,
    pub kind: CallKind,
    pub url: Option<String>,
    pub audiences: Vec<Audience>,
    pub perimeter: CallPerimeter,
    pub themes: Vec<Theme>,
    pub opens_on: Option<DateTime<FixedOffset>>,
    /// The next cut-off still to come, else the last one (see
    /// [`crate::domain::current_deadline`]).
    pub deadline: Option<DateTime<FixedOffset>>,
    /// Every cut-off, ascending (several for multi-stage calls).
    pub deadlines: Vec<DateTime<FixedOffset>>,
    pub recurrence: Recurrence,
    pub status: Status,
    /// When the call was published: the earliest publication date among
    /// its sightings (see `merge::merged_fields`).
    pub published: Option<DateTime<FixedOffset>>,
    pub first_seen: DateTime<FixedOffset>,
    pub updated: DateTime<FixedOffset>,
    pub last_seen: DateTime<FixedOffset>,
    pub sources: Vec<String>,
    /// `pending` (waiting for a curator), `approved` or `rejected`.
    pub review: String,
    /// No source lists it any more (it is kept, never deleted).
    pub unlisted: bool,
    /// When a source last listed it.
    pub last_listed: Option<DateTime<FixedOffset>>,
}

/// One recorded change of a call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangeRecord {
    pub field: String,
    pub old: Option<String>,
    pub new: Option<String>,
    pub changed_at: String,
    pub source_id: Option<String>,
}

/// Status is derived from the dates, never stored: a call that opens later
/// is upcoming, one whose last cut-off has passed is closed, anything else
/// (including calls without a deadline) is open.
pub fn derive_status(
    opens_on: Option<&DateTime<FixedOffset>>,
    deadlines: &[DateTime<FixedOffset>],
    now: DateTime<Utc>,
) -> Status {
    if deadlines.last().is_some_and(|d| *d < now) {
        Status::Closed
    } else if opens_on.is_some_and(|o| *o > now) {
        Status::Upcoming
    } else {
        Status::Open
    }
}

impl Store {
    /// Calls matching `filter`, soonest deadline first (no deadline last).
    pub fn list_calls(
        &self,
        filter: &CallFilter,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Vec<CallRecord>> {
        Ok(self.select_calls(filter, now, false)?.calls)
    }

    /// The listing behind [`Store::list_calls`] and [`Store::list_calls_page`];
    /// `count_all` reads past the page to count every match.
    fn select_calls(
        &self,
        filter: &CallFilter,
        now: DateTime<Utc>,
        count_all: bool,
    ) -> anyhow::Result<CallPage> {
        // The WHERE clause, shared by the count and the page.
        let mut sql = String::from(" WHERE c.merged_into IS NULL");
        let mut args: Vec<Value> = Vec::new();
        let mut push = |sql: &mut String, clause: &str, values: Vec<Value>| {
            sql.push_str(" AND ");
            sql.push_str(clause);
            args.extend(values);
        };
        if filter.open {
            push(
                &mut sql,
                "(c.deadline_ts IS NULL OR c.deadline_ts >= ?)",
                vec![now.timestamp().into()],
            );
        }
        if !filter.status.is_empty() {
            // `derive_status` in SQL, so that counting and paging stay in
            // the database (the Rust check below then drops nothing but a
            // row crossing its deadline during the query).
            let t = now.timestamp();
            let closed = "(c.deadline_ts IS NOT NULL AND c.deadline_ts < ?)";
            let later = "(c.opens_on IS NOT NULL AND unixepoch(c.opens_on) > ?)";
            let mut any = Vec::new();
            let mut values: Vec<Value> = Vec::new();
            for status in &filter.status {
                match status {
                    Status::Closed => {
                        any.push(closed.to_string());
                        values.push(t.into());
                    }
                    Status::Upcoming => {
                        any.push(format!("(NOT {closed} AND {later})"));
                        values.extend([t.into(), t.into()]);
                    }
                    Status::Open => {
                        any.push(format!("(NOT {closed} AND NOT {later})"));
                        values.extend([t.into(), t.into()]);
                    }
                }
            }
            push(&mut sql, &format!("({})", any.join(" OR ")), values);
        }
        if !filter.sources.is_empty() {
            let marks = vec!["?"; filter.sources.len()].join(",");
            push(
                &mut sql,
                &format!("c.id IN (SELECT call_id FROM sightings WHERE source_id IN ({marks}))"),
                filter
                    .sources
                    .iter()
                    .map(|s| Value::from(s.clone()))
                    .collect(),
            );
        }
        // Themes and audiences are JSON arrays of codes (lowercase letters
        // and `_`, written by Vigie): a code is in the array exactly when
        // its quoted form is in the text, which `instr` finds without
        // parsing the JSON of every row.
        if !filter.themes.is_empty() {
            let any = vec!["instr(c.themes, ?) > 0"; filter.themes.len()].join(" OR ");
            push(
                &mut sql,
                &format!("({any})"),
                filter
                    .themes
                    .iter()
                    .map(|t| Value::from(format!("\"{}\"", t.as_str())))
                    .collect(),
            );
        }
        if !filter.audiences.is_empty() {
            let any = vec!["instr(c.audiences, ?) > 0"; filter.audiences.len()].join(" OR ");
            push(
                &mut sql,
                &format!("({any})"),
                filter
                    .audiences
                    .iter()
                    .map(|a| Value::from(format!("\"{}\"", a.as_str())))
                    .collect(),
            );
        }
        if !filter.perimeters.is_empty() {
            // A member of the comma-separated set (see `CallPerimeter`).
            let any = vec![
                "(',' || c.perimeter || ',') LIKE ('%,' || ? || ',%')";
                filter.perimeters.len()
            ]
            .join(" OR ");
            push(
                &mut sql,
                &format!("({any})"),
                filter
                    .perimeters
                    .iter()
                    .map(|p| Value::from(p.to_string()))
                    .collect(),
            );
        }
        if filter.unresolved_perimeter {
            push(&mut sql, "c.perimeter LIKE 'unresolved:%'", Vec::new());
        }
        if !filter.review.is_empty() {
            let marks = vec!["?"; filter.review.len()].join(",");
            push(
                &mut sql,
                &format!("c.review IN ({marks})"),
                filter
                    .review
                    .iter()
                    .map(|r| Value::from(r.clone()))
                    .collect(),
            );
        }
        if !filter.kinds.is_empty() {
            let marks = vec!["?"; filter.kinds.len()].join(",");
            push(
                &mut sql,
                &format!("c.kind IN ({marks})"),
                filter
                    .kinds
                    .iter()
                    .map(|k| Value::from(k.as_str().to_string()))
                    .collect(),
            );
        }
        if let Some(after) = filter.deadline_after {
            push(
                &mut sql,
                "c.deadline_ts >= ?",
                vec![after.timestamp().into()],
            );
        }
        if let Some(before) = filter.deadline_before {
            push(
                &mut sql,
                "c.deadline_ts <= ?",
                vec![before.timestamp().into()],
            );
        }
        if filter.public_only {
            // Unary `+`: not through the review index, which would make
            // SQLite sort every approved call instead of walking a listing
            // order's index and stopping after one page.
            push(&mut sql, "+c.review = 'approved'", Vec::new());
        }
        if let Some(unlisted) = filter.unlisted {
            push(&mut sql, &format!("{UNLISTED} = ?"), vec![unlisted.into()]);
        }
        if let Some(text) = &filter.text {
            match fts_query(text) {
                Some(q) => push(
                    &mut sql,
                    "c.id IN (SELECT rowid FROM calls_fts WHERE calls_fts MATCH ?)",
                    vec![q.into()],
                ),
                None => anyhow::bail!("the search text `{text}` contains no word to look for"),
            }
        }
        match &filter.after {
            None => {}
            Some(Keyset::Deadline(Some(ts), id)) => push(
                &mut sql,
                "(c.deadline_ts IS NULL OR c.deadline_ts > ? OR (c.deadline_ts = ? AND c.id > ?))",
                vec![(*ts).into(), (*ts).into(), (*id).into()],
            ),
            Some(Keyset::Deadline(None, id)) => push(
                &mut sql,
                "(c.deadline_ts IS NULL AND c.id > ?)",
                vec![(*id).into()],
            ),
            Some(Keyset::Newest(at, id)) => push(
                &mut sql,
                "(c.first_seen < ? OR (c.first_seen = ? AND c.id < ?))",
                vec![at.clone().into(), at.clone().into(), (*id).into()],
            ),
            Some(Keyset::Updated(at, id)) => push(
                &mut sql,
                "(c.updated < ? OR (c.updated = ? AND c.id < ?))",
                vec![at.clone().into(), at.clone().into(), (*id).into()],
            ),
        }
        let total = if count_all {
            let count: i64 = self
                .conn
                .prepare_cached(&format!("SELECT count(*) FROM calls c{sql}"))?
                .query_row(params_from_iter(args.iter()), |r| r.get(0))?;
            u64::try_from(count).unwrap_or(0)
        } else {
            0
        };
        sql.push_str(match filter.order {
            CallOrder::Deadline => " ORDER BY c.deadline_ts IS NULL, c.deadline_ts, c.id",
            CallOrder::Newest => " ORDER BY c.first_seen DESC, c.id DESC",
            CallOrder::Updated => " ORDER BY c.updated DESC, c.id DESC",
        });
        if let Some(limit) = filter.limit {
            sql.push_str(" LIMIT ? OFFSET ?");
            args.push(i64::from(limit).into());
            args.push(i64::from(filter.offset).into());
        } else if filter.offset > 0 {
            sql.push_str(" LIMIT -1 OFFSET ?");
            args.push(i64::from(filter.offset).into());
        }
        let mut stmt = self
            .conn
            .prepare_cached(&format!("SELECT {CALL_COLUMNS} FROM calls c{sql}"))?;
        let rows = stmt.query_map(params_from_iter(args), |r| call_from_row(r, now))?;
        let mut calls = Vec::new();
        for call in rows {
            let call = call?;
            if !filter.status.is_empty() && !filter.status.contains(&call.status) {
                continue;
            }
            calls.push(call);
        }
        let total = if count_all { total } else { calls.len() as u64 };
        Ok(CallPage { calls, total })
    }

    /// One page of the calls matching `filter` (`offset`, `limit`) and how
    /// many match in all, for paginated listings.
    pub fn list_calls_page(
        &self,
        filter: &CallFilter,
        now: DateTime<Utc>,
    ) -> anyhow::Result<CallPage> {
        self.select_calls(filter, now, true)
    }

    /// One call by id, following merges to the surviving call.
    pub fn get_call(&self, id: i64, now: DateTime<Utc>) -> anyhow::Result<Option<CallRecord>> {
        let Some(id) = self.live_call_id(id)? else {
            return Ok(None);
        };
        let sql = format!("SELECT {CALL_COLUMNS} FROM calls c WHERE c.id = ?1");
        let call = self.conn.query_row(&sql, [id], |r| call_from_row(r, now))?;
        Ok(Some(call))
    }

    /// The recorded changes of a call, oldest first.
    pub fn call_history(&self, id: i64) -> anyhow::Result<Vec<ChangeRecord>> {
        let mut stmt = self.conn.prepare(
            "SELECT field, old, new, changed_at, source_id FROM call_changes WHERE call_id = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map([id], |r| {
            Ok(ChangeRecord {
                field: r.get(0)?,
                old: r.get(1)?,
                new: r.get(2)?,
                changed_at: r.get(3)?,
                source_id: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// How many calls are stored (merged-away ones excluded).
    pub fn count_calls(&self) -> anyhow::Result<i64> {
        Ok(self.conn.query_row(
            "SELECT count(*) FROM calls WHERE merged_into IS NULL",
            [],
            |r| r.get(0),
        )?)
    }
}

mod row;
mod search_text;

pub use search_text::fts_query;

use row::{CALL_COLUMNS, UNLISTED, call_from_row};

#[cfg(test)]
mod corrupt_tests;
