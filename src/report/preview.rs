//! `vigie sources check --fetch`: what a source would store, item by item,
//! with the fields each item lacks, so a curator sees at once which
//! selector or path of the definition to fix. Nothing is stored.
//!
//! Every field is in one of three states: read from the page, **filled**
//! (not on the page: the definition's `[defaults]` or `funder`, a keyword
//! rule, the title or the item's whole text gave it), or **missing** (no
//! value would be stored).

use chrono::{DateTime, FixedOffset};
use serde::{Serialize, Serializer};

use super::{Format, print_json, table};
use crate::crawl::Crawler;
use crate::domain::{CallKind, Recurrence};
use crate::extract::RawItem;
use crate::normalize::item::NormalizedItem;
use crate::normalize::{NormalizeContext, Skipped, normalize_item};
use crate::source::SourceDef;

/// The fields a curator checks, in the order they are shown.
pub const FIELDS: [&str; 11] = [
    "title",
    "link",
    "deadline",
    "opens",
    "published",
    "funder",
    "audiences",
    "perimeter",
    "themes",
    "kind",
    "summary",
];

/// A count per field of [`FIELDS`], written as a JSON object in that order.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FieldCounts([u32; FIELDS.len()]);

impl FieldCounts {
    fn add(&mut self, fields: &[&'static str]) {
        for f in fields {
            self.add_n(f, 1);
        }
    }

    fn add_n(&mut self, field: &str, n: u32) {
        if let Some(i) = FIELDS.iter().position(|x| *x == field) {
            self.0[i] += n;
        }
    }

    /// The count of `field` (0 for a name not in [`FIELDS`]).
    pub fn get(&self, field: &str) -> u32 {
        FIELDS
            .iter()
            .position(|x| *x == field)
            .map_or(0, |i| self.0[i])
    }
}

impl Serialize for FieldCounts {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(FIELDS.iter().zip(self.0.iter()))
    }
}

/// What `sources check --fetch` shows for one source.
#[derive(Debug, Serialize)]
pub struct Preview {
    pub source: String,
    pub file: String,
    /// The zone in which the source's hours are read (its dates are shown
    /// in Europe/Paris).
    pub time_zone: String,
    pub pages: u32,
    pub error: Option<String>,
    pub warnings: Vec<String>,
    /// How many items lack each field (`title`: items skipped for want of
    /// one, by the listing's selector or by normalize).
    pub missing: FieldCounts,
    /// How many items have each field only from the definition or a guess.
    pub filled: FieldCounts,
    pub items: Vec<PreviewItem>,
}

/// One item as it would be stored.
#[derive(Debug, Serialize)]
pub struct PreviewItem {
    pub title: String,
    pub link: Option<String>,
    pub kind: String,
    /// The cut-off `vigie calls` would show (see
    /// [`crate::domain::current_deadline`]).
    pub deadline: Option<String>,
    /// Every cut-off, ascending.
    pub deadlines: Vec<String>,
    pub recurrence: String,
    pub opens: Option<String>,
    pub published: Option<String>,
    pub funder: Option<String>,
    pub audiences: Vec<String>,
    pub perimeter: String,
    pub themes: Vec<String>,
    /// The summary as plain text.
    pub summary: String,
    /// Fields with no value (names from [`FIELDS`]).
    pub missing: Vec<&'static str>,
    /// Fields not on the page, filled from the definition or guessed.
    pub filled: Vec<&'static str>,
}

fn given(v: &Option<String>) -> bool {
    v.as_deref().is_some_and(|t| !t.trim().is_empty())
}

/// Which fields of `item` (normalized from `raw`) are missing and which
/// were filled without the page.
fn field_states(raw: &RawItem, item: &NormalizedItem) -> (Vec<&'static str>, Vec<&'static str>) {
    let mut missing = Vec::new();
    let mut filled = Vec::new();
    let has_deadline = !item.deadlines.is_empty() || item.recurrence == Recurrence::Ongoing;
    let kind_said = item.kind != CallKind::Autre;
    // (field, has a value, the page gave it)
    let states = [
        ("link", item.url.is_some(), true),
        ("deadline", has_deadline, given(&raw.deadline)),
        ("opens", item.opens_on.is_some(), true),
        ("published", item.published.is_some(), true),
        ("funder", item.funder.is_some(), given(&raw.funder)),
        (
            "audiences",
            !item.audiences.is_empty(),
            !raw.audiences.is_empty(),
        ),
        ("perimeter", true, given(&raw.perimeter)),
        ("themes", !item.themes.is_empty(), !raw.themes.is_empty()),
        ("kind", kind_said || given(&raw.kind), given(&raw.kind)),
        ("summary", !item.summary_text.is_empty(), true),
    ];
    for (field, has, on_page) in states {
        if !has {
            missing.push(field);
        } else if !on_page {
            filled.push(field);
        }
    }
    (missing, filled)
}

fn ts(t: &DateTime<FixedOffset>) -> String {
    crate::store::ts(t)
}

fn preview_item(raw: &RawItem, item: NormalizedItem) -> PreviewItem {
    let (missing, filled) = field_states(raw, &item);
    PreviewItem {
        deadline: crate::domain::current_deadline(&item.deadlines, chrono::Utc::now())
            .as_ref()
            .map(ts),
        deadlines: item.deadlines.iter().map(ts).collect(),
        recurrence: item.recurrence.to_string(),
        opens: item.opens_on.as_ref().map(ts),
        published: item.published.as_ref().map(ts),
        funder: item.funder,
        title: item.title,
        link: item.url,
        kind: item.kind.to_string(),
        audiences: item.audiences.iter().map(ToString::to_string).collect(),
        perimeter: item.perimeter.to_string(),
        themes: item.themes.iter().map(ToString::to_string).collect(),
        summary: item.summary_text,
        missing,
        filled,
    }
}

/// Fetches a source and normalizes what it would store, storing nothing.
pub async fn preview_source(crawler: &Crawler, source: &SourceDef) -> Preview {
    let collected = crawler.collect(source).await;
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::Paris)
        .date_naive();
    let ctx = NormalizeContext {
        rules: &crawler.rules,
        today,
    };
    let mut warnings = collected.warnings;
    let mut items = Vec::new();
    let mut missing = FieldCounts::default();
    // Items the listing's title selector missed never reach normalize.
    missing.add_n("title", collected.untitled);
    let mut filled = FieldCounts::default();
    for raw in &collected.items {
        match normalize_item(raw, source, &ctx) {
            Ok(n) => {
                warnings.extend(n.warnings);
                if n.item.url.is_none() {
                    warnings.push(format!("«{}»: item without a link", n.item.title));
                }
                let item = preview_item(raw, n.item);
                missing.add(&item.missing);
                filled.add(&item.filled);
                items.push(item);
            }
            Err(skip) => {
                match skip {
                    Skipped::NoTitle(_) => missing.add(&["title"]),
                    Skipped::Closed { .. } | Skipped::NotACall { .. } => {}
                }
                warnings.push(format!("skipped: {skip}"));
            }
        }
    }
    let error = collected
        .fatal
        .or_else(|| {
            (items.is_empty() && !source.is_feed())
                .then_some(crate::crawl::CrawlError::LayoutChanged)
        })
        .map(|e| e.to_string());
    Preview {
        source: source.id.to_string(),
        file: source.path.display().to_string(),
        time_zone: source.time_zone.name().to_string(),
        pages: collected.pages,
        error,
        warnings,
        missing,
        filled,
        items,
    }
}

/// "1 page", "2 pages", "0 pages" (English, as the rest of the CLI).
fn counted(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// At most `max` characters of `s`, cut with `…`.
fn short(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut cut: String = s.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// A date as the table shows it: day and Paris time.
fn day(t: &str) -> String {
    DateTime::parse_from_rfc3339(t).map_or_else(
        |_| t.to_string(),
        |d| d.format("%Y-%m-%d %H:%M").to_string(),
    )
}

/// One table cell: `—` when missing, `[value]` when filled without the page.
fn cell(item: &PreviewItem, field: &str, value: String) -> String {
    if item.missing.contains(&field) {
        "—".into()
    } else if item.filled.contains(&field) {
        format!("[{value}]")
    } else {
        value
    }
}

fn item_row(n: usize, i: &PreviewItem) -> Vec<String> {
    let deadline = match (&i.deadline, i.deadlines.len()) {
        (Some(d), 1) => day(d),
        (Some(d), k) => {
            let at = i.deadlines.iter().position(|x| x == d).unwrap_or(0) + 1;
            format!("{} (cut-off {at} of {k})", day(d))
        }
        (None, _) => i.recurrence.clone(),
    };
    let opt = |v: &Option<String>| v.as_deref().map(day).unwrap_or_default();
    vec![
        n.to_string(),
        i.title.clone(),
        cell(i, "link", i.link.clone().unwrap_or_default()),
        cell(i, "deadline", deadline),
        cell(i, "opens", opt(&i.opens)),
        cell(i, "published", opt(&i.published)),
        cell(i, "funder", short(i.funder.as_deref().unwrap_or(""), 30)),
        cell(i, "audiences", i.audiences.join(", ")),
        cell(i, "perimeter", i.perimeter.clone()),
        cell(i, "themes", i.themes.join(", ")),
        cell(i, "kind", i.kind.clone()),
        cell(i, "summary", short(&i.summary, 40)),
    ]
}

pub fn print_previews(previews: &[Preview], format: Format) -> anyhow::Result<()> {
    if format != Format::Table {
        return print_json(previews);
    }
    for p in previews {
        crate::outln!(
            "{} ({}): {} from {}",
            p.source,
            p.file,
            counted(p.items.len(), "item"),
            counted(p.pages as usize, "page")
        )?;
        if p.time_zone != "Europe/Paris" {
            crate::outln!(
                "hours on its pages are read in {}; dates are shown in Europe/Paris time",
                p.time_zone
            )?;
        }
        if !p.items.is_empty() {
            let mut header = vec!["#"];
            header.extend(FIELDS);
            let mut t = table(&header);
            for (n, i) in p.items.iter().enumerate() {
                t.add_row(item_row(n + 1, i));
            }
            crate::outln!("{t}")?;
            crate::outln!(
                "— missing; [value] not on the page: from the definition ([defaults], funder) \
                 or guessed (keywords, title, the item's text)"
            )?;
            let mut counts = table(&["field", "items missing it", "items filled"]);
            for f in FIELDS {
                counts.add_row(vec![
                    f.to_string(),
                    p.missing.get(f).to_string(),
                    p.filled.get(f).to_string(),
                ]);
            }
            crate::outln!("{counts}")?;
        }
        for w in &p.warnings {
            crate::outln!("warning: {w}")?;
        }
        if let Some(e) = &p.error {
            crate::outln!("error: {e}")?;
        }
        crate::outln!()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_an_object_in_field_order() {
        let mut c = FieldCounts::default();
        c.add(&["summary", "link", "summary"]);
        let json = serde_json::to_string(&c).unwrap();
        assert!(
            json.starts_with(r#"{"title":0,"link":1,"deadline":0"#),
            "{json}"
        );
        assert!(json.ends_with(r#""kind":0,"summary":2}"#), "{json}");
        assert_eq!(c.get("summary"), 2);
        assert_eq!(c.get("nothing"), 0);
    }

    #[test]
    fn long_text_is_cut_with_an_ellipsis_on_a_character_boundary() {
        assert_eq!(short("Écoles numériques", 7), "Écoles…");
        assert_eq!(short("court", 7), "court");
    }
}
