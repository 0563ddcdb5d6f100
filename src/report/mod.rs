//! What the command line prints: crawl progress and summary, source
//! previews (`sources check --fetch`), source health and call listings, as
//! tables for people or JSON/CSV for scripts. Calls are printed by
//! [`calls`], source previews by [`preview`].

mod calls;
mod format;
pub mod out;
mod preview;

pub use calls::{print_call, print_calls};
pub use format::Format;
pub use preview::{FIELDS, FieldCounts, Preview, PreviewItem, preview_source, print_previews};

use std::io::Write;
use std::time::Duration;

use comfy_table::{ContentArrangement, Table, presets::UTF8_BORDERS_ONLY};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use crate::crawl::{Outcome, SourceReport};
use crate::store::SourceStateRecord;

/// A progress bar on a terminal; hidden otherwise (log lines are printed
/// by [`on_source_done`] instead).
pub fn progress_bar(len: u64, terminal: bool) -> ProgressBar {
    if !terminal {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} sources  {msg}",
        )
        .expect("valid progress template"),
    );
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

pub fn on_source_done(bar: &ProgressBar, r: &SourceReport) {
    let line = format!(
        "{}: {} ({} pages, {} items, {} new, {} updated) in {:.1} s",
        r.source,
        r.outcome,
        r.pages,
        r.items,
        r.new,
        r.updated,
        r.duration.as_secs_f64()
    );
    if bar.is_hidden() {
        eprintln!("{line}");
    } else {
        bar.set_message(r.source.clone());
        bar.inc(1);
    }
}

fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_style(UTF8_BORDERS_ONLY)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header.to_vec());
    t
}

pub(crate) fn print_json<T: Serialize + ?Sized>(value: &T) -> anyhow::Result<()> {
    let mut out = out::stdout();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    out.flush()?;
    Ok(())
}

#[derive(Serialize)]
struct ReportJson<'a> {
    source: &'a str,
    outcome: &'static str,
    error: Option<String>,
    /// The error's stable code (`timeout`, `http_503`, `layout_changed`...).
    error_code: Option<String>,
    /// Whether the error may go away on its own (worth retrying later).
    transient: Option<bool>,
    /// For a skipped source: the crawl that holds it.
    held_by: Option<&'a crate::store::Lease>,
    pages: u32,
    pages_not_modified: u32,
    items: u32,
    new: u32,
    updated: u32,
    unchanged: u32,
    merged: u32,
    unlisted: u32,
    errors: u32,
    warnings: &'a [String],
    duration_ms: u128,
}

/// The table that ends `vigie crawl`, then one line per failed source.
pub fn print_crawl_summary(reports: &[SourceReport], format: Format) -> anyhow::Result<()> {
    if format != Format::Table {
        let rows: Vec<ReportJson> = reports
            .iter()
            .map(|r| ReportJson {
                source: &r.source,
                outcome: r.outcome.as_str(),
                error: r.outcome.error().map(ToString::to_string),
                error_code: r.outcome.error().map(|e| e.code().into_owned()),
                transient: r.outcome.error().map(|e| e.is_transient()),
                held_by: match &r.outcome {
                    Outcome::Skipped(lease) => Some(lease),
                    _ => None,
                },
                pages: r.pages,
                pages_not_modified: r.pages_not_modified,
                items: r.items,
                new: r.new,
                updated: r.updated,
                unchanged: r.unchanged,
                merged: r.merged,
                unlisted: r.unlisted,
                errors: r.errors,
                warnings: &r.warnings,
                duration_ms: r.duration.as_millis(),
            })
            .collect();
        return print_json(&rows);
    }
    let mut t = table(&[
        "source",
        "outcome",
        "pages",
        "items",
        "new",
        "updated",
        "unchanged",
        "merged",
        "unlisted",
        "errors",
        "warnings",
        "duration",
    ]);
    for r in reports {
        t.add_row(vec![
            r.source.clone(),
            r.outcome.as_str().replace('_', " "),
            r.pages.to_string(),
            r.items.to_string(),
            r.new.to_string(),
            r.updated.to_string(),
            r.unchanged.to_string(),
            r.merged.to_string(),
            r.unlisted.to_string(),
            r.errors.to_string(),
            r.warnings.len().to_string(),
            format!("{:.1} s", r.duration.as_secs_f64()),
        ]);
    }
    crate::outln!("{t}")?;
    for r in reports {
        match &r.outcome {
            Outcome::Failed(e) => crate::outln!("{}: {}", r.source, e)?,
            Outcome::Skipped(_) => crate::outln!("{}: {}", r.source, r.outcome)?,
            Outcome::Ok | Outcome::NotModified => {}
        }
    }
    Ok(())
}

pub fn print_source_states(states: &[SourceStateRecord], format: Format) -> anyhow::Result<()> {
    if format != Format::Table {
        return print_json(states);
    }
    let mut t = table(&[
        "source",
        "calls",
        "last run",
        "last success",
        "failures",
        "last error",
    ]);
    for s in states {
        t.add_row(vec![
            s.id.clone(),
            s.calls.to_string(),
            s.last_run_at.clone().unwrap_or_default(),
            s.last_success_at.clone().unwrap_or_default(),
            s.consecutive_failures.to_string(),
            s.last_error.clone().unwrap_or_default(),
        ]);
    }
    crate::outln!("{t}")?;
    Ok(())
}
