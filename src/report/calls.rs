//! Call listings (`vigie calls`) and one call in full (`vigie calls show`).

use serde::Serialize;

use super::{Format, print_json, table};
use crate::store::{CallRecord, ChangeRecord, EventRecord, SightingRecord};

fn join<T: ToString>(v: &[T]) -> String {
    v.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

fn opt_time(t: &Option<chrono::DateTime<chrono::FixedOffset>>) -> String {
    t.map(|t| t.to_rfc3339()).unwrap_or_default()
}

/// "yes", or "no (last seen 2027-03-01)" for an unlisted call.
fn listed(call: &CallRecord) -> String {
    if !call.unlisted {
        return "yes".into();
    }
    match call.last_listed {
        Some(t) => format!("no (last seen {})", t.format("%Y-%m-%d")),
        None => "no".into(),
    }
}

pub fn print_calls(calls: &[CallRecord], format: Format) -> anyhow::Result<()> {
    match format {
        Format::Json => print_json(calls),
        Format::Csv => {
            let mut w = crate::spreadsheet::Writer::new(super::out::stdout());
            w.write_record([
                "id",
                "title",
                "funder",
                "kind",
                "status",
                "recurrence",
                "url",
                "audiences",
                "perimeter",
                "themes",
                "opens_on",
                "deadline",
                "deadlines",
                "published",
                "sources",
                "first_seen",
                "updated",
                "last_seen",
                "review",
                "unlisted",
                "summary_text",
            ])?;
            for c in calls {
                w.write_record([
                    c.id.to_string(),
                    c.title.clone(),
                    c.funder.clone().unwrap_or_default(),
                    c.kind.to_string(),
                    c.status.to_string(),
                    c.recurrence.to_string(),
                    c.url.clone().unwrap_or_default(),
                    join(&c.audiences),
                    c.perimeter.to_string(),
                    join(&c.themes),
                    opt_time(&c.opens_on),
                    opt_time(&c.deadline),
                    c.deadlines
                        .iter()
                        .map(|d| d.to_rfc3339())
                        .collect::<Vec<_>>()
                        .join(" "),
                    opt_time(&c.published),
                    c.sources.join(" "),
                    c.first_seen.to_rfc3339(),
                    c.updated.to_rfc3339(),
                    c.last_seen.to_rfc3339(),
                    c.review.clone(),
                    c.unlisted.to_string(),
                    c.summary_text.clone(),
                ])?;
            }
            w.flush()?;
            Ok(())
        }
        Format::Table => {
            let mut t = table(&[
                "id",
                "title",
                "kind",
                "status",
                "deadline",
                "perimeter",
                "themes",
                "sources",
                "review",
                "listed",
            ]);
            for c in calls {
                t.add_row(vec![
                    c.id.to_string(),
                    c.title.clone(),
                    c.kind.to_string(),
                    c.status.to_string(),
                    c.deadline
                        .map(|d| d.format("%Y-%m-%d %H:%M").to_string())
                        .unwrap_or_else(|| "—".into()),
                    c.perimeter.to_string(),
                    join(&c.themes),
                    c.sources.join(" "),
                    c.review.clone(),
                    listed(c),
                ]);
            }
            crate::outln!("{t}")?;
            crate::outln!("{} calls", calls.len())?;
            Ok(())
        }
    }
}

pub fn print_call(
    call: &CallRecord,
    sightings: &[SightingRecord],
    history: &[ChangeRecord],
    events: &[EventRecord],
    format: Format,
) -> anyhow::Result<()> {
    if format != Format::Table {
        #[derive(Serialize)]
        struct Full<'a> {
            #[serde(flatten)]
            call: &'a CallRecord,
            sightings: &'a [SightingRecord],
            history: &'a [ChangeRecord],
            events: &'a [EventRecord],
        }
        return print_json(&Full {
            call,
            sightings,
            history,
            events,
        });
    }
    let mut t = table(&["field", "value"]);
    let rows = [
        ("id", call.id.to_string()),
        ("title", call.title.clone()),
        ("funder", call.funder.clone().unwrap_or_default()),
        ("kind", call.kind.to_string()),
        ("status", call.status.to_string()),
        ("recurrence", call.recurrence.to_string()),
        ("url", call.url.clone().unwrap_or_default()),
        ("audiences", join(&call.audiences)),
        ("perimeter", call.perimeter.to_string()),
        ("themes", join(&call.themes)),
        ("opens on", opt_time(&call.opens_on)),
        ("deadline", opt_time(&call.deadline)),
        (
            "deadlines",
            call.deadlines
                .iter()
                .map(|d| d.to_rfc3339())
                .collect::<Vec<_>>()
                .join(", "),
        ),
        ("published", opt_time(&call.published)),
        ("sources", call.sources.join(", ")),
        ("review", call.review.clone()),
        (
            "listed",
            if call.unlisted {
                format!(
                    "no longer listed (last seen {})",
                    opt_time(&call.last_listed)
                )
            } else {
                "yes".into()
            },
        ),
        ("first seen", call.first_seen.to_rfc3339()),
        ("updated", call.updated.to_rfc3339()),
        ("last seen", call.last_seen.to_rfc3339()),
        ("summary", call.summary_text.clone()),
    ];
    for (k, v) in rows {
        t.add_row(vec![k.to_string(), v]);
    }
    crate::outln!("{t}")?;
    let mut st = table(&[
        "sighting",
        "source",
        "title",
        "url",
        "published",
        "seen",
        "why here",
    ]);
    for s in sightings {
        let r = &s.resolution;
        let why = match r.method.as_str() {
            "new" => "first sighting".to_string(),
            "curator" => format!("curator: {}", r.reasons.join(", ")),
            m => format!(
                "{m} match with sighting {} (score {:.2}): {}",
                r.matched_sighting.unwrap_or_default(),
                r.score.unwrap_or_default(),
                r.reasons.join(", ")
            ),
        };
        let seen = match &s.unlisted_since {
            Some(u) => format!("{} → {} (unlisted since {u})", s.first_seen, s.last_seen),
            None => format!("{} → {}", s.first_seen, s.last_seen),
        };
        st.add_row(vec![
            s.id.to_string(),
            s.source_id.clone(),
            s.title.clone(),
            s.url.clone().unwrap_or_default(),
            s.published.clone().unwrap_or_default(),
            seen,
            why,
        ]);
    }
    crate::outln!("Sightings:\n{st}")?;
    if !events.is_empty() {
        let mut et = table(&["when", "event", "old", "new"]);
        for e in events {
            et.add_row(vec![
                e.at.clone(),
                e.kind.replace('_', " "),
                e.old.clone().unwrap_or_default(),
                e.new.clone().unwrap_or_default(),
            ]);
        }
        crate::outln!("Deadline events:\n{et}")?;
    }
    if !history.is_empty() {
        let mut h = table(&["when", "field", "old", "new", "source"]);
        for c in history {
            h.add_row(vec![
                c.changed_at.clone(),
                c.field.clone(),
                c.old.clone().unwrap_or_default(),
                c.new.clone().unwrap_or_default(),
                c.source_id.clone().unwrap_or_default(),
            ]);
        }
        crate::outln!("History:\n{h}")?;
    }
    Ok(())
}
