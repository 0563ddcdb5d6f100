//! Normalize stage: raw items to calls. Pipeline: extract → **normalize** → store.
//!
//! [`normalize_item`] is the one entry point: it turns every scraped string
//! of a [`RawItem`] into a typed, clean [`NormalizedItem`] — French dates to
//! Europe/Paris deadlines, links to canonical URLs, markup to sanitized
//! text, labels to audience/perimeter/theme codes through the source's value
//! maps — and explains what it could not understand as warnings.

pub mod closed;
pub mod dates;
pub mod item;
pub mod kind;
pub mod text;
pub mod themes;
pub mod url;

use chrono::{DateTime, FixedOffset, NaiveDate};
use sha2::{Digest, Sha256};

use self::dates::{DeadlineFound, parse_date, scan_deadline};
use self::item::{ItemKey, NormalizedItem};
use self::text::{clean_summary, clean_title, fold, plain_text};
use self::themes::ThemeRules;
use crate::domain::{
    Audience, CallKind, CallPerimeter, Perimeter, PerimeterSet, Recurrence, Theme, UnresolvedLabel,
};
use crate::extract::RawItem;
use crate::source::SourceDef;

/// What normalization needs besides the item and its source.
pub struct NormalizeContext<'a> {
    pub rules: &'a ThemeRules,
    /// Today in Europe/Paris: the reference for dates written without a year
    /// when the item has no publication date.
    pub today: NaiveDate,
}

/// A normalized item and what was not understood in it.
#[derive(Debug, Clone)]
pub struct Normalized {
    pub item: NormalizedItem,
    pub warnings: Vec<String>,
}

/// Why an item was not kept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Skipped {
    #[error("item without a title (link: {0})")]
    NoTitle(String),
    /// Its source marks it closed (the title, or a deadline field that says
    /// so instead of a date): not an open call, whatever its dates.
    #[error("«{title}»: marked closed by its source (`{marker}`): not kept")]
    Closed { title: String, marker: String },
    /// Its title says it is not an open call though it may name one
    /// (results, a tender, a job offer: see [`kind::not_a_call`]).
    #[error("«{title}»: not an open call ({reason}): not kept")]
    NotACall {
        title: String,
        reason: kind::not_a_call::NotACall,
    },
}

/// Normalizes one raw item of `source`.
pub fn normalize_item(
    raw: &RawItem,
    source: &SourceDef,
    ctx: &NormalizeContext,
) -> Result<Normalized, Skipped> {
    let mut warnings = Vec::new();
    let (title, title_cut) = clean_title(raw.title.as_deref().unwrap_or(""));
    if title.is_empty() {
        return Err(Skipped::NoTitle(
            raw.link.clone().unwrap_or_else(|| "none".into()),
        ));
    }
    let folded_title = fold(&title);
    if let Some(marker) = closed::closed_in_title(&title, &folded_title) {
        return Err(Skipped::Closed { title, marker });
    }
    if let Some(reason) = kind::not_a_call::not_a_call_folded(&folded_title) {
        return Err(Skipped::NotACall { title, reason });
    }
    if let Some(field) = raw.deadline.as_deref().map(plain_text)
        && closed::closed_field(&field)
    {
        return Err(Skipped::Closed {
            title,
            marker: field.trim().to_string(),
        });
    }
    let url = raw.link.as_deref().and_then(|link| {
        let url = url::canonical_url(raw.base_url.as_ref(), link);
        if url.is_none() {
            warnings.push(format!(
                "«{title}»: link `{}` is not an http(s) URL",
                plain_text(link)
            ));
        }
        url
    });
    if title_cut {
        warnings.push(format!(
            "«{title}»: title longer than {} characters, cut at a word",
            text::MAX_TITLE_CHARS
        ));
    }
    let summary = clean_summary(raw.summary.as_deref().unwrap_or(""));
    if summary.cut {
        warnings.push(format!(
            "«{title}»: summary longer than {} characters, cut at a word (ends with `…`)",
            text::MAX_SUMMARY_CHARS
        ));
    }
    let text::CleanSummary {
        html: summary_html,
        text: summary_text,
        ..
    } = summary;
    let funder = raw
        .funder
        .as_deref()
        .map(plain_text)
        .filter(|f| !f.is_empty())
        .or_else(|| source.funder.clone());

    let published = raw
        .published
        .as_deref()
        .and_then(|p| parse_date(p, ctx.today));
    let reference = published.map_or(ctx.today, |p| p.date);

    // The deadline field wins; the item's whole text is the fallback.
    let mut found = DeadlineFound::None;
    if let Some(text) = raw.deadline.as_deref().filter(|t| !t.trim().is_empty()) {
        let scan = scan_deadline(&plain_text(text), reference, true);
        found = scan.found;
        warnings.extend(scan.warnings.iter().map(|w| format!("«{title}»: {w}")));
        if found == DeadlineFound::None {
            warnings.push(format!(
                "«{title}»: deadline text not understood: `{}`",
                plain_text(text)
            ));
        }
    }
    if found == DeadlineFound::None {
        let all = [raw.text.as_deref().unwrap_or(""), &summary_text].join(" ");
        let scan = scan_deadline(&plain_text(&all), reference, false);
        found = scan.found;
        warnings.extend(scan.warnings.iter().map(|w| format!("«{title}»: {w}")));
    }
    let (deadlines, ongoing) = match found {
        DeadlineFound::Dates(dates) => (
            dates
                .iter()
                .map(|d| d.written_in(source.time_zone).fixed_offset())
                .collect::<Vec<_>>(),
            false,
        ),
        DeadlineFound::Ongoing => (Vec::new(), true),
        DeadlineFound::None => (Vec::new(), false),
    };
    let opens_on = raw.opens.as_deref().and_then(|o| {
        let date = parse_date(&plain_text(o), reference);
        if date.is_none() {
            warnings.push(format!(
                "«{title}»: opening date not understood: `{}`",
                plain_text(o)
            ));
        }
        // An opening date is the start of that day, unlike a deadline.
        date.map(|d| {
            dates::FrenchDate {
                time: Some(d.time.unwrap_or_default()),
                ..d
            }
            .written_in(source.time_zone)
            .fixed_offset()
        })
    });

    let kind = kind_of(raw, source, &title, &summary_text);
    let audiences = audiences_of(raw, source, &title, &mut warnings);
    let perimeter = perimeter_of(raw, source, &title, &folded_title, &mut warnings);
    // Folded once for both keyword matchers.
    // Folding maps each character on its own: the title's part is reused.
    let folded = format!("{folded_title} {}", fold(&summary_text));
    let themes = themes_of(raw, source, ctx.rules, &title, &folded, &mut warnings);
    let recurrence = recurrence_of(ongoing, &folded);

    let key = item_key(raw, url.as_ref(), &title, &deadlines);
    Ok(Normalized {
        item: NormalizedItem {
            key,
            title,
            url: url.map(String::from),
            summary_html,
            summary_text,
            funder,
            kind,
            audiences,
            perimeter,
            themes,
            opens_on,
            deadlines,
            recurrence,
            // Like an opening date, a day without a time is its start.
            published: published.map(|p| {
                dates::FrenchDate {
                    time: Some(p.time.unwrap_or_default()),
                    ..p
                }
                .written_in(source.time_zone)
                .fixed_offset()
            }),
        },
        warnings,
    })
}

/// Identity within a source, in the written fallback order: id/GUID, else
/// canonical URL, else a hash of title and deadline.
fn item_key(
    raw: &RawItem,
    url: Option<&::url::Url>,
    title: &str,
    deadlines: &[DateTime<FixedOffset>],
) -> ItemKey {
    if let Some(id) = raw.id.as_deref().map(str::trim).filter(|id| !id.is_empty()) {
        return ItemKey::Id(id.chars().take(500).collect());
    }
    if let Some(url) = url {
        return ItemKey::Url(url.to_string());
    }
    let mut h = Sha256::new();
    h.update(fold(title).as_bytes());
    h.update(b"\x1f");
    if let Some(d) = deadlines.last() {
        h.update(d.to_rfc3339().as_bytes());
    }
    ItemKey::Hash(hex::encode(&h.finalize()[..12]))
}

fn kind_of(raw: &RawItem, source: &SourceDef, title: &str, summary: &str) -> CallKind {
    let from_label = raw.kind.as_deref().and_then(|label| {
        source
            .maps
            .kind(label)
            .or_else(|| label.parse().ok())
            .or_else(|| kind::detect_kind(label))
    });
    from_label
        .or_else(|| kind::detect_kind(title))
        .or(source.defaults.kind)
        .or_else(|| kind::detect_kind(summary))
        .unwrap_or(CallKind::Autre)
}

fn audiences_of(
    raw: &RawItem,
    source: &SourceDef,
    title: &str,
    warnings: &mut Vec<String>,
) -> Vec<Audience> {
    let mut found: Vec<Audience> = Vec::new();
    for label in raw
        .audiences
        .iter()
        .map(|l| plain_text(l))
        .filter(|l| !l.is_empty())
    {
        match source.maps.audience(&label).or_else(|| label.parse().ok()) {
            Some(a) => found.push(a),
            None => warnings.push(format!(
                "«{title}»: audience label `{label}` is not mapped: add it to [maps.audiences]"
            )),
        }
    }
    if found.is_empty() {
        found = source.defaults.audiences.clone();
    }
    found.sort();
    found.dedup();
    found
}

/// The call's perimeter: the source's map for the label, else its text
/// form, else the territories it names in the reference data (one or a
/// list). A label none of them resolves never falls back to the source's
/// default (a call for "Région Occitanie" must not reach all of France): it
/// stays unresolved, out of digests, until a curator sets it. Without a
/// label, the source's default applies.
fn perimeter_of(
    raw: &RawItem,
    source: &SourceDef,
    title: &str,
    folded_title: &str,
    warnings: &mut Vec<String>,
) -> CallPerimeter {
    let label = raw
        .perimeter
        .as_deref()
        .map(plain_text)
        .filter(|l| !l.is_empty());
    let default = || {
        source
            .defaults
            .perimeter
            .clone()
            .unwrap_or_else(|| PerimeterSet::one(Perimeter::France))
    };
    let Some(label) = label else {
        return placed_by_title(folded_title, default()).into();
    };
    let resolved = source
        .maps
        .perimeter(&label)
        .or_else(|| {
            label.parse::<CallPerimeter>().ok().and_then(|p| match p {
                CallPerimeter::Within(set) => Some(set),
                CallPerimeter::Unresolved(_) => None,
            })
        })
        .or_else(|| crate::territory::from_label_list(&label));
    if let Some(set) = resolved {
        return set.into();
    }
    warnings.push(format!(
        "«{title}»: perimeter label `{label}` is not a known territory: the call is kept out of \
         digests until a curator sets its perimeter (`vigie calls perimeter ID region:76 …`) \
         or the label is added to [maps.perimeter]"
    ));
    match UnresolvedLabel::new(&label) {
        Some(l) => CallPerimeter::Unresolved(l),
        // Nothing printable in the label: as if there were none.
        None => placed_by_title(folded_title, default()).into(),
    }
}

/// The source's default perimeter, or the narrower regions or departments
/// the title places the call in ("… en Normandie", "… dans le Finistère",
/// see [`crate::territory::named_in_text`]) when they lie within it: a
/// national funder's regional call reaches that region only. A title that
/// names a place outside the default (a region's call mentioning a
/// neighbour) leaves the default.
fn placed_by_title(folded_title: &str, default: PerimeterSet) -> PerimeterSet {
    match crate::territory::named_in_folded(folded_title) {
        Some(named)
            if named.members().iter().all(|n| {
                default
                    .members()
                    .iter()
                    .any(|d| crate::territory::contains(d, n))
            }) =>
        {
            named
        }
        _ => default,
    }
}

fn themes_of(
    raw: &RawItem,
    source: &SourceDef,
    rules: &ThemeRules,
    title: &str,
    folded_text: &str,
    warnings: &mut Vec<String>,
) -> Vec<Theme> {
    let mut themes = source.defaults.themes.clone();
    for label in raw
        .themes
        .iter()
        .map(|l| plain_text(l))
        .filter(|l| !l.is_empty())
    {
        match source.maps.theme(&label).or_else(|| label.parse().ok()) {
            Some(t) => themes.push(t),
            // Unmapped theme labels are common (aggregators have hundreds of
            // categories) and keyword rules still apply: note, don't fail.
            None => warnings.push(format!(
                "«{title}»: theme label `{label}` is not mapped (keyword rules still apply)"
            )),
        }
    }
    themes.extend(rules.themes_for_folded(folded_text));
    themes.sort();
    themes.dedup();
    themes
}

/// `folded_text`: title and summary, folded.
fn recurrence_of(ongoing: bool, folded_text: &str) -> Recurrence {
    if ongoing {
        return Recurrence::Ongoing;
    }
    let text = folded_text;
    let recurring = [
        "chaque annee",
        "tous les ans",
        "appel annuel",
        "edition annuelle",
        "nouvelle edition",
        "releve semestrielle",
        "chaque semestre",
    ];
    if recurring.iter().any(|cue| text.contains(cue)) {
        Recurrence::Recurring
    } else {
        Recurrence::Oneoff
    }
}

#[cfg(test)]
mod tests;
