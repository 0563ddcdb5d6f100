//! The `service_sources` table: each source's next due time, running
//! lease, last outcome and health. Rows read back are parsed again (a
//! corrupt timestamp or health code is an error, not a default).
//!
//! The due time moves only in [`finish_run`], in the transaction that also
//! records the health change and queues its alert: a run cut by a crash or
//! a kill leaves its row due (and `running_since` set), so the next start
//! runs it again; a finished run is never repeated.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::Serialize;

use super::health::{Health, RunFacts, RunOutcome};
use crate::deliver::outbox::ts_ms;

/// One source's schedule state.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScheduleRow {
    pub source_id: String,
    pub schedule: Option<String>,
    pub next_due_at: DateTime<Utc>,
    /// Set while a run is in progress, or when one was cut by a stop.
    pub running_since: Option<DateTime<Utc>>,
    pub run_id: Option<String>,
    pub last_started_at: Option<DateTime<Utc>>,
    pub last_finished_at: Option<DateTime<Utc>>,
    pub last_outcome: Option<String>,
    pub last_error_code: Option<String>,
    pub consecutive_failures: u32,
    pub health: Health,
    pub alerted_health: Health,
    pub alerts: u32,
}

fn parse_ts(raw: &str) -> rusqlite::Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(raw)
        .map(|d| d.with_timezone(&Utc))
        .map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
        })
}

fn parse_opt(raw: Option<String>) -> rusqlite::Result<Option<DateTime<Utc>>> {
    raw.as_deref().map(parse_ts).transpose()
}

fn parse_health(raw: String) -> rusqlite::Result<Health> {
    raw.parse().map_err(|e: crate::domain::UnknownCode| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
    })
}

const COLUMNS: &str = "source_id, schedule, next_due_at, running_since, run_id, last_started_at,
    last_finished_at, last_outcome, last_error_code, consecutive_failures, health,
    alerted_health, alerts";

fn row(r: &rusqlite::Row) -> rusqlite::Result<ScheduleRow> {
    Ok(ScheduleRow {
        source_id: r.get(0)?,
        schedule: r.get(1)?,
        next_due_at: parse_ts(&r.get::<_, String>(2)?)?,
        running_since: parse_opt(r.get(3)?)?,
        run_id: r.get(4)?,
        last_started_at: parse_opt(r.get(5)?)?,
        last_finished_at: parse_opt(r.get(6)?)?,
        last_outcome: r.get(7)?,
        last_error_code: r.get(8)?,
        consecutive_failures: r.get(9)?,
        health: parse_health(r.get(10)?)?,
        alerted_health: parse_health(r.get(11)?)?,
        alerts: r.get(12)?,
    })
}

/// Every row, by source id.
pub fn load_all(conn: &Connection) -> anyhow::Result<Vec<ScheduleRow>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM service_sources ORDER BY source_id"
    ))?;
    let rows = stmt.query_map([], row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// One source's row.
pub fn load(conn: &Connection, source_id: &str) -> anyhow::Result<Option<ScheduleRow>> {
    Ok(conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM service_sources WHERE source_id = ?1"),
            [source_id],
            row,
        )
        .optional()?)
}

/// Sets when a source is next due and the schedule that says so,
/// creating its row if needed.
pub fn set_due(
    conn: &Connection,
    source_id: &str,
    schedule: &str,
    due: DateTime<Utc>,
) -> anyhow::Result<()> {
    conn.execute(
        "INSERT INTO service_sources (source_id, schedule, next_due_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (source_id) DO UPDATE SET schedule = ?2, next_due_at = ?3",
        params![source_id, schedule, ts_ms(due)],
    )?;
    Ok(())
}

/// Takes the in-process lease of a run (committed before the crawl starts).
pub fn start_run(
    conn: &Connection,
    source_id: &str,
    run_id: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let at = ts_ms(now);
    conn.execute(
        "INSERT INTO service_sources (source_id, next_due_at, running_since, run_id, last_started_at)
         VALUES (?1, ?2, ?2, ?3, ?2)
         ON CONFLICT (source_id) DO UPDATE SET running_since = ?2, run_id = ?3, last_started_at = ?2",
        params![source_id, at, run_id],
    )?;
    Ok(())
}

/// What [`finish_run`] writes.
#[derive(Debug, Clone)]
pub struct Finished<'a> {
    pub source_id: &'a str,
    pub facts: &'a RunFacts,
    pub now: DateTime<Utc>,
    /// `None`: the schedule never matches again; the row keeps a far date.
    pub next_due: Option<DateTime<Utc>>,
    pub failures: u32,
    pub health: Health,
    /// Set when curators are told about `health` in this transaction.
    pub alerted: bool,
}

/// Far enough to mean "never" and still sort as a timestamp.
const NEVER: &str = "9999-12-31T23:59:59.000Z";

/// Ends a run: due time, outcome, health (and, with `alerted`, what curators
/// were told), inside the caller's transaction.
pub fn finish_run(tx: &Transaction, f: &Finished) -> anyhow::Result<()> {
    let code = match &f.facts.outcome {
        RunOutcome::Failed { code, .. } => Some(code.as_ref()),
        _ => None,
    };
    let due = f.next_due.map_or_else(|| NEVER.to_string(), ts_ms);
    tx.execute(
        "UPDATE service_sources SET next_due_at = ?2, running_since = NULL, last_finished_at = ?3,
            last_outcome = ?4, last_error_code = ?5, consecutive_failures = ?6, health = ?7,
            alerted_health = CASE WHEN ?8 THEN ?7 ELSE alerted_health END,
            alerts = alerts + CASE WHEN ?8 THEN 1 ELSE 0 END
         WHERE source_id = ?1",
        params![
            f.source_id,
            due,
            ts_ms(f.now),
            f.facts.outcome.as_str(),
            code,
            f.failures,
            f.health.as_str(),
            f.alerted,
        ],
    )?;
    Ok(())
}

/// Item counts of the source's last successful (`ok`) runs, newest first,
/// from the crawl log.
pub fn items_history(conn: &Connection, source_id: &str, limit: u32) -> anyhow::Result<Vec<u32>> {
    let mut stmt = conn.prepare_cached(
        "SELECT items FROM crawl_runs WHERE source_id = ?1 AND outcome = 'ok'
         ORDER BY id DESC LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![source_id, limit], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    #[test]
    fn a_run_cut_short_stays_due_and_a_finished_one_moves_on() {
        let store = Store::open_in_memory().unwrap();
        let conn = store.conn();
        let t0 = Utc::now();
        set_due(conn, "a", "0 * * * *", t0).unwrap();
        start_run(conn, "a", "r1", t0).unwrap();
        let r = load(conn, "a").unwrap().unwrap();
        assert_eq!(r.running_since.map(ts_ms), Some(ts_ms(t0)));
        assert_eq!(
            ts_ms(r.next_due_at),
            ts_ms(t0),
            "still due until it finishes"
        );
        let facts = RunFacts {
            outcome: RunOutcome::Ok,
            pages: 1,
            items: 4,
        };
        let next = t0 + chrono::Duration::hours(1);
        let tx = conn.unchecked_transaction().unwrap();
        finish_run(
            &tx,
            &Finished {
                source_id: "a",
                facts: &facts,
                now: t0,
                next_due: Some(next),
                failures: 0,
                health: Health::Drop,
                alerted: true,
            },
        )
        .unwrap();
        tx.commit().unwrap();
        let r = load(conn, "a").unwrap().unwrap();
        assert_eq!(r.running_since, None);
        assert_eq!(ts_ms(r.next_due_at), ts_ms(next));
        assert_eq!(
            (r.health, r.alerted_health, r.alerts),
            (Health::Drop, Health::Drop, 1)
        );
    }

    #[test]
    fn a_corrupt_row_is_an_error_not_a_default() {
        let store = Store::open_in_memory().unwrap();
        store
            .conn()
            .execute(
                "INSERT INTO service_sources (source_id, next_due_at) VALUES ('a', 'tomorrow')",
                [],
            )
            .unwrap();
        assert!(load_all(store.conn()).is_err());
    }
}
