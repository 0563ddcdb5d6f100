//! `vigie sources status`: each source's health as the daemon sees it —
//! health, next run, last success, consecutive failures, last error and
//! the item counts of its last successful runs.

use chrono::{DateTime, Datelike, Utc};
use chrono_tz::Europe::Paris;
use comfy_table::{ContentArrangement, Table, presets::UTF8_BORDERS_ONLY};
use serde::Serialize;

use super::Health;
use super::state;
use crate::source::SourceDef;
use crate::store::Store;

/// How many successful runs the item history shows.
const HISTORY: u32 = 5;

/// One row of the table.
#[derive(Debug, Clone, Serialize)]
pub struct SourceStatus {
    pub id: String,
    pub name: String,
    /// Defined in the sources folder and enabled.
    pub scheduled: bool,
    pub schedule: Option<String>,
    /// `None` until the daemon has seen the source.
    pub health: Option<Health>,
    pub next_run: Option<DateTime<Utc>>,
    pub running: bool,
    pub last_success_at: Option<String>,
    pub consecutive_failures: u32,
    pub last_error: Option<String>,
    /// Items of the last successful runs, newest first.
    pub recent_items: Vec<u32>,
}

/// Every defined source, then every source known only to the database.
pub fn load(store: &Store, defs: &[SourceDef]) -> anyhow::Result<Vec<SourceStatus>> {
    let conn = store.conn();
    let rows = state::load_all(conn)?;
    let states = store.source_states()?;
    let mut ids: Vec<String> = defs.iter().map(|d| d.id.to_string()).collect();
    for s in &states {
        if !ids.contains(&s.id) {
            ids.push(s.id.clone());
        }
    }
    let mut out = Vec::new();
    for id in ids {
        let def = defs.iter().find(|d| d.id.as_str() == id);
        let row = rows.iter().find(|r| r.source_id == id);
        let st = states.iter().find(|s| s.id == id);
        out.push(SourceStatus {
            name: def
                .map(|d| d.name.clone())
                .or_else(|| st.map(|s| s.name.clone()))
                .unwrap_or_default(),
            scheduled: def.is_some_and(|d| d.enabled),
            schedule: def.map(|d| d.schedule.clone()),
            health: row.map(|r| r.health),
            next_run: row
                .map(|r| r.next_due_at)
                .filter(|_| def.is_some_and(|d| d.enabled)),
            running: row.is_some_and(|r| r.running_since.is_some()),
            last_success_at: st.and_then(|s| s.last_success_at.clone()),
            consecutive_failures: st.map_or(0, |s| s.consecutive_failures),
            last_error: st.and_then(|s| s.last_error.clone()),
            recent_items: state::items_history(conn, &id, HISTORY)?,
            id,
        });
    }
    Ok(out)
}

fn paris(t: DateTime<Utc>) -> String {
    // The "never" marker of a schedule that matches no future time.
    if t.year() >= 9999 {
        return "never".into();
    }
    t.with_timezone(&Paris).format("%Y-%m-%d %H:%M").to_string()
}

/// The table, times in Europe/Paris.
pub fn render_table(rows: &[SourceStatus]) -> String {
    let mut t = Table::new();
    t.load_style(UTF8_BORDERS_ONLY)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(vec![
            "source",
            "health",
            "next run (Paris)",
            "last success",
            "failures",
            "items (last runs)",
            "last error",
        ]);
    for r in rows {
        let health = match (r.scheduled, r.health) {
            (false, _) => "not scheduled".to_string(),
            (true, None) => "new".to_string(),
            (true, Some(h)) => h.to_string(),
        };
        let next = match (r.running, r.next_run) {
            (true, _) => "running".to_string(),
            (false, Some(t)) => paris(t),
            (false, None) if r.scheduled => "at daemon start".to_string(),
            (false, None) => String::new(),
        };
        t.add_row(vec![
            r.id.clone(),
            health,
            next,
            r.last_success_at.clone().unwrap_or_default(),
            r.consecutive_failures.to_string(),
            r.recent_items
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(" "),
            r.last_error
                .as_deref()
                .map(|e| crate::digest::text::shorten(e, 80))
                .unwrap_or_default(),
        ]);
    }
    t.to_string()
}
