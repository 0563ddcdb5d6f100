//! Cross-source deduplication: the pairwise "same call?" decision.
//!
//! The same call is published by its funder, relayed by a ministry feed,
//! listed by Aides-territoires and by a region, each with its own wording,
//! URL and deadline precision. [`decide`] looks at two sightings'
//! [`Signals`] and says whether they are one call, with a score and the
//! human-readable reasons that led there. Finding candidate pairs is the
//! caller's job (index the [`blocking_tokens`] of each title, e.g. in FTS5).
//!
//! # The rule
//!
//! Titles are normalized by [`title_key`]: folded to lowercase ASCII;
//! punctuation, French function words, call boilerplate ("appel à projets",
//! "AAP", "AMI", "candidatures", "édition", "lancement"...) and a trailing
//! publisher suffix ("… - Ministère de la Culture") removed; light plural
//! stemming; edition years, lot/volet/vague/édition numbers (including
//! ordinals: "2e vague", "deuxième appel"), call numbers ("n° 618",
//! "lot n° 2017", "n° 2034-217": a number after "n°" is never a year) and
//! the kind the title states (AMI or AAP) pulled out as fields. Common
//! English call vocabulary reads as its French ("Call for Proposals",
//! "European Urban", "3rd"), feminine adjectives as the masculine, and a
//! moved cut-off ("prolongé", "report") as status, not content.
//!
//! 1. **Hard conflicts** — any of these keeps the pair apart, whatever else
//!    agrees:
//!    - *edition conflicts*: different edition years (each title names a
//!      year the other lacks: 2020 vs 2021, "2020-2021" vs "2021-2022"; a
//!      year on one side only, or "2023" vs "2023-2027", is no conflict;
//!      "France 2030" or "Horizon 2020" is a name, not a year); different
//!      sub-call numbers in the same family ("Lot 1" vs "Lot 2", "1re vague"
//!      vs "2e vague", "2e édition" vs "3e édition"); titles that both name
//!      call numbers and not the same ones ("n° 618" vs "n° 2017"; a law
//!      vs the bill that ratifies an ordinance taken under it, which names
//!      both); titles that each state a different kind (an AMI stage and
//!      the AAP that follows it);
//!    - disjoint local perimeters (region:76 vs region:11, a department
//!      outside the other's region); the perimeter is read from the funder's
//!      name ("Région Bretagne", "DRAC Occitanie") when not given;
//!      `france`/`europe` conflict with nothing, nested perimeters neither;
//!    - deadlines more than 10 days apart, when both are known.
//! 2. **Same URL** — identical canonical URLs, one's URL being the other's
//!    `origin_url`, or identical origin URLs (ignoring listing pages: a site
//!    root or a path ending in "appels-a-projets", "actualites", "aides"...)
//!    make the same call (score ≥ 0.9) unless an edition conflict holds, or
//!    the titles are unrelated (similarity below 0.2: a page hosting several
//!    calls), in which case the rules below decide — except that identical
//!    canonical URLs with deadlines equal to the minute, from two sources,
//!    are the same call whatever the titles (a page and its English
//!    version). A deadline or perimeter
//!    disagreement does not split a shared URL: deadlines get extended and
//!    aggregators code perimeters loosely — unless the deadlines are more
//!    than 10 days apart *and* one title has a word the other lacks (one
//!    page carrying sibling calls: "AMI Fabriques de territoire" / "AMI
//!    Fabriques numériques de territoire"); then the rules below decide. Between two items of the *same*
//!    source only identical URLs count, fragment included (two items of one
//!    listing page with different links are two calls).
//! 3. **Same source** — two items of one source are distinct items unless
//!    their URLs are identical (rule 2); titles never merge them.
//! 4. **Title rule** — otherwise the score starts from the title similarity
//!    ([`similarity::title_similarity`]: weighted token containment and
//!    Jaccard, acronyms expanded, plus character-bigram Dice, minus a
//!    penalty when both titles have words of their own; numbers weigh like
//!    generic words; a short title (two plain words or less) inside one at
//!    least twice its weight scores at most 0.52, so "Mobilité douce" needs
//!    a close deadline or the same funder to join "Développer la mobilité
//!    douce dans les territoires ruraux"); −0.22 when each title has a
//!    distinctive word of its own, not a variant of the other's ("… des
//!    mairies" / "… des écoles": sibling calls share funder, deadline and
//!    kind, which must not carry them); then it adds soft
//!    signals: same lot/vague number named by both titles +0.08, same year
//!    named by both +0.04, same funder +0.05, deadlines within 2 days +0.08,
//!    deadlines 2 to 10 days apart −0.10, same kind +0.02, different kinds
//!    −0.08 (sources label kinds loosely). It is the same call when the
//!    score reaches [`THRESHOLD`] and no hard conflict holds.
//!
//! `same` is true exactly when `score >= THRESHOLD`: a hard conflict caps the
//! score below it. `compatible` is true when nothing keeps the pair apart
//! (no hard conflict, not two items of one source, titles related or a URL
//! shared): a sighting joins a call only when it is compatible with every
//! sighting in it ([`cluster`]). The decision is symmetric (the pair is put
//! in a canonical order first) and deterministic.
//!
//! # Quality
//!
//! `tests/fixtures/dedup/pairs.jsonl` (213 labelled pairs, written alongside
//! these rules, 43 of them adversarial near misses and their true
//! matches) is gated at precision and recall ≥ 0.97;
//! `tests/fixtures/dedup/holdout.jsonl` (28 pairs written after the rules
//! were frozen, never tuned on) measures how they generalize;
//! `tests/fixtures/dedup/holdout_real.jsonl` (50 pairs of real programme
//! titles as real sources title them, written before these rules were
//! read) measures them on real cross-source material. Run
//! `cargo test --lib dedup -- --nocapture` to see both, with every
//! misclassified pair and the pairs nearest the threshold.

pub mod cluster;
pub mod similarity;
pub mod title;

use std::cmp::Ordering;

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

pub use title::{TitleKey, blocking_tokens, blocking_tokens_of, title_key};

/// Score at or above which two sightings (without hard conflict) are one call.
pub const THRESHOLD: f32 = 0.6;

/// Deadlines further apart than this (hours) are different calls.
const DEADLINE_CONFLICT_HOURS: i64 = 10 * 24;
/// Deadlines this close (hours) support the same call.
const DEADLINE_CLOSE_HOURS: i64 = 2 * 24;
/// Taken off when each title has a distinctive word of its own ("… des
/// mairies" / "… des écoles"): a funder publishing sibling calls gives
/// them the same funder, deadline and kind, so those must not carry the
/// pair.
const DISTINCT_WORDS_PENALTY: f32 = 0.22;
/// Titles below this similarity are unrelated even with a shared URL.
const UNRELATED_TITLES: f32 = 0.2;

/// What the decision looks at, for one sighting.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Signals {
    pub source_id: String,
    pub title: String,
    pub funder: Option<String>,
    /// Canonical URL of the item.
    pub url: Option<String>,
    /// The funder's URL an aggregator points to, if any.
    pub origin_url: Option<String>,
    /// Last cut-off.
    pub deadline: Option<DateTime<FixedOffset>>,
    /// Perimeter text form: `france`, `region:76`, `department:95`...
    pub perimeter: Option<String>,
    /// `aap`, `ami`, ...
    pub kind: Option<String>,
}

/// The outcome for one pair.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    pub same: bool,
    pub score: f32,
    /// Whether nothing keeps the two apart: no hard conflict, not two
    /// distinct items of one source, and titles related (or a shared URL).
    /// `same` implies `compatible`. A sighting joins a call only when it is
    /// compatible with every sighting already in it (see
    /// [`cluster::partition`]).
    pub compatible: bool,
    /// Human-readable signals that led there, e.g. `["same url", "title
    /// 0.92", "deadline +1 day", "different years 2020/2021"]`.
    pub reasons: Vec<String>,
}

/// A total, argument-order-independent order on sightings, so that
/// `decide(a, b)` and `decide(b, a)` compute exactly the same thing.
fn canonical_order(a: &Signals, b: &Signals) -> Ordering {
    let key = |s: &Signals| {
        (
            s.source_id.clone(),
            s.title.clone(),
            s.url.clone(),
            s.origin_url.clone(),
            s.deadline.map(|d| d.to_rfc3339()),
            s.funder.clone(),
            s.perimeter.clone(),
            s.kind.clone(),
        )
    };
    key(a).cmp(&key(b))
}

fn fmt_years(y: &[u16]) -> String {
    y.iter().map(u16::to_string).collect::<Vec<_>>().join("+")
}

/// Years conflict when each side names a year the other does not.
pub fn years_conflict(a: &[u16], b: &[u16]) -> bool {
    a.iter().any(|y| !b.contains(y)) && b.iter().any(|y| !a.contains(y))
}

/// Lot-like markers conflict when both titles number the same family and
/// share no number in it.
fn lots_conflict(a: &[String], b: &[String]) -> Vec<String> {
    let family = |m: &str| m.split(':').next().unwrap_or("").to_string();
    let mut families: Vec<String> = a.iter().map(|m| family(m)).collect();
    families.sort();
    families.dedup();
    let mut out = Vec::new();
    for f in families {
        let in_a: Vec<&String> = a.iter().filter(|m| family(m) == f).collect();
        let in_b: Vec<&String> = b.iter().filter(|m| family(m) == f).collect();
        // Numbers identify: two titles that name numbers name the same ones
        // ("n° 618" vs "n° 2017"; a law vs the bill that cites it and an
        // ordinance). Other families conflict only when they share none
        // ("lot 1" vs "lots 1 et 2" is no conflict).
        let conflict = if f == "numero" {
            !in_b.is_empty() && in_a != in_b
        } else {
            !in_b.is_empty() && !in_a.iter().any(|m| in_b.contains(m))
        };
        if conflict {
            let show = |v: &[&String]| {
                v.iter()
                    .map(|m| m.split(':').nth(1).unwrap_or(""))
                    .collect::<Vec<_>>()
                    .join("+")
            };
            out.push(format!("different {f} {}/{}", show(&in_a), show(&in_b)));
        }
    }
    out
}

fn days(hours: i64) -> String {
    let d = (hours as f64 / 24.0).round() as i64;
    if d == 0 {
        format!("deadline +{hours}h")
    } else if d == 1 {
        "deadline +1 day".to_string()
    } else {
        format!("deadline +{d} days")
    }
}

/// Decides whether two sightings are the same call. Symmetric and
/// deterministic; see the module documentation for the rule.
pub fn decide(a: &Signals, b: &Signals) -> Decision {
    decide_keyed(a, &title_key(&a.title), b, &title_key(&b.title))
}

/// [`decide`] with the title keys already computed (`ka` is
/// `title_key(&a.title)`), for callers that compare one sighting with many.
pub fn decide_keyed(a: &Signals, ka: &TitleKey, b: &Signals, kb: &TitleKey) -> Decision {
    let (a, ka, b, kb) = if canonical_order(a, b) == Ordering::Greater {
        (b, kb, a, ka)
    } else {
        (a, ka, b, kb)
    };
    let t = similarity::title_similarity(ka, kb);
    let mut reasons = vec![format!("title {t:.2}")];

    // 1. Hard conflicts.
    let mut edition_conflicts = Vec::new();
    if years_conflict(&ka.years, &kb.years) {
        edition_conflicts.push(format!(
            "different years {}/{}",
            fmt_years(&ka.years),
            fmt_years(&kb.years)
        ));
    }
    edition_conflicts.extend(lots_conflict(&ka.lots, &kb.lots));
    if ka.kinds.len() == 1 && kb.kinds.len() == 1 && ka.kinds != kb.kinds {
        edition_conflicts.push(format!(
            "titles state different kinds {}/{}",
            ka.kinds[0], kb.kinds[0]
        ));
    }
    let mut other_conflicts = Vec::new();
    let pa = similarity::effective_perimeter(a.perimeter.as_deref(), a.funder.as_deref());
    let pb = similarity::effective_perimeter(b.perimeter.as_deref(), b.funder.as_deref());
    if let (Some(pa), Some(pb)) = (&pa, &pb)
        && similarity::perimeters_disjoint(pa, pb)
    {
        other_conflicts.push(format!("different perimeters {pa}/{pb}"));
    }
    let gap = similarity::deadline_gap_hours(a.deadline.as_ref(), b.deadline.as_ref());
    if let Some(g) = gap
        && g > DEADLINE_CONFLICT_HOURS
    {
        other_conflicts.push(format!(
            "deadlines {} apart",
            days(g).replace("deadline ", "")
        ));
    }

    // 2. Same URL.
    let same_source = a.source_id == b.source_id;
    let url = similarity::url_match(
        a.url.as_deref(),
        a.origin_url.as_deref(),
        b.url.as_deref(),
        b.origin_url.as_deref(),
    )
    // Within one source, links that differ by their fragment are two
    // items of one page ("#mairies", "#ecoles").
    .filter(|why| {
        !same_source
            || (*why == similarity::SAME_URL
                && similarity::fragment(a.url.as_deref()) == similarity::fragment(b.url.as_deref()))
    });
    if let Some(why) = url {
        reasons.push(why.to_string());
        if !edition_conflicts.is_empty() {
            reasons.extend(edition_conflicts);
            return Decision {
                same: false,
                score: t.min(THRESHOLD - 0.15),
                compatible: false,
                reasons,
            };
        }
        // One page can carry several calls ("AMI Fabriques de territoire"
        // and "AMI Fabriques numériques de territoire"): a title that
        // qualifies the other, with cut-offs far apart, is a sibling call
        // on the page, not an extension of its deadline (which leaves the
        // title alone, or says so: "prolongé", "report").
        let far = gap.is_some_and(|g| g > DEADLINE_CONFLICT_HOURS);
        let sibling = far && similarity::either_qualifies(ka, kb);
        if sibling {
            reasons.push("titles differ and deadlines far apart on a shared url".to_string());
        } else if t >= UNRELATED_TITLES {
            return Decision {
                same: true,
                score: t.max(0.9),
                compatible: true,
                reasons,
            };
        }
        // One page, one cut-off to the minute, across sources: the same
        // call described in other words (often another language).
        if why == similarity::SAME_URL && !same_source && same_minute(a, b) {
            reasons.push("same deadline to the minute".to_string());
            return Decision {
                same: true,
                score: 0.9,
                compatible: true,
                reasons,
            };
        }
        if !sibling {
            reasons.push("titles unrelated despite shared url".to_string());
        }
    }
    let related = url.is_some() || t >= UNRELATED_TITLES;

    // 3. Same source.
    if same_source {
        reasons.push("same source, distinct items".to_string());
        reasons.extend(edition_conflicts);
        reasons.extend(other_conflicts);
        return Decision {
            same: false,
            score: t.min(THRESHOLD - 0.15),
            compatible: false,
            reasons,
        };
    }

    // 4. Title rule with soft signals.
    let mut score = t;
    if similarity::both_have_own_words(ka, kb) {
        score -= DISTINCT_WORDS_PENALTY;
        reasons.push("distinct words on both sides".to_string());
    }
    let shared_markers: Vec<&String> = ka.lots.iter().filter(|m| kb.lots.contains(m)).collect();
    if !shared_markers.is_empty() {
        score += 0.08;
        reasons.push(format!(
            "same {}",
            shared_markers
                .iter()
                .map(|m| m.replace(':', " "))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let shared_years: Vec<&u16> = ka.years.iter().filter(|y| kb.years.contains(y)).collect();
    if !shared_years.is_empty() {
        score += 0.04;
        reasons.push(format!("same year {}", shared_years[0]));
    }
    if let (Some(fa), Some(fb)) = (&a.funder, &b.funder)
        && similarity::same_funder(fa, fb)
    {
        score += 0.05;
        reasons.push("same funder".to_string());
    }
    match gap {
        Some(g) if g <= DEADLINE_CLOSE_HOURS => {
            score += 0.08;
            reasons.push(if g == 0 {
                "same deadline".to_string()
            } else {
                days(g)
            });
        }
        Some(g) if g <= DEADLINE_CONFLICT_HOURS => {
            score -= 0.10;
            reasons.push(days(g));
        }
        _ => {}
    }
    if let (Some(x), Some(y)) = (&a.kind, &b.kind) {
        if x == y {
            score += 0.02;
            reasons.push(format!("same kind {x}"));
        } else {
            score -= 0.08;
            reasons.push(format!("different kinds {x}/{y}"));
        }
    }
    let mut score = score.clamp(0.0, 1.0);
    let conflicted = !edition_conflicts.is_empty() || !other_conflicts.is_empty();
    reasons.extend(edition_conflicts);
    reasons.extend(other_conflicts);
    if conflicted {
        score = score.min(THRESHOLD - 0.15);
    }
    Decision {
        same: !conflicted && score >= THRESHOLD,
        score,
        compatible: !conflicted && related,
        reasons,
    }
}

/// Both deadlines known and equal to the minute.
fn same_minute(a: &Signals, b: &Signals) -> bool {
    matches!((a.deadline, b.deadline), (Some(x), Some(y)) if (x - y).num_minutes() == 0)
}

#[cfg(test)]
mod tests;
