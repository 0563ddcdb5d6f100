//! Which role each date plays (deadline, publication, opening, event),
//! from the cue words around it, and the years left out of a date.

use chrono::{Datelike, NaiveDate, TimeDelta};

use super::patterns::*;
use super::{DateRole, Hit, JOIN_WINDOW};

/// Longest block taken as the heading of a date that stands alone in the
/// next block.
const HEADING_MAX: usize = 80;

/// The role the words in `text[from..to]` give a date, per the module rules.
pub(super) fn own_cue(text: &str, from: usize, to: usize) -> (Option<DateRole>, bool) {
    let mut window = &text[from..to];
    let cuts: Vec<_> = SENTENCE_END.find_iter(window).collect();
    if let Some(cut) = cuts.last() {
        let rest = &window[cut.end()..];
        // A heading alone in its block, then the date alone in the next:
        // "Date limite (heure de Paris)\n\n30 nov. 2018".
        let heading = cuts
            .len()
            .checked_sub(2)
            .map_or(&window[..cut.start()], |i| {
                &window[cuts[i].end()..cut.start()]
            });
        window = if rest.trim().is_empty()
            && cut.as_str().starts_with('\n')
            && heading.len() <= HEADING_MAX
            && !heading.contains(['.', '!', '?'])
        {
            heading
        } else {
            rest
        };
    }
    let mut strong = None;
    let mut weak = None;
    let mut seen_weak = false;
    // The strong cue is a selection step ("sélection des projets par le
    // jury"), and a generic deadline word came after it ("date butoir"):
    // the step's own cut-off, unless an application word follows.
    let mut step = false;
    let mut step_deadline = false;
    for caps in CUE.captures_iter(window) {
        if caps.name("ry").is_some() {
            // A date in the clause of a relative financial year ("comptes
            // de l'exercice N-1 clos au 31 décembre") is about that year,
            // whatever other cue comes with it.
            return (Some(DateRole::Condition), false);
        }
        let was_step = std::mem::take(&mut step);
        let pending = std::mem::take(&mut step_deadline);
        if caps.name("px").is_some() {
            strong = Some((DateRole::Publication, false));
        } else if caps.name("es").is_some() {
            strong = Some((DateRole::Event, false));
            step = true;
        } else if caps.name("ev").is_some() {
            strong = Some((DateRole::Event, false));
        } else if caps.name("sg").is_some() {
            if was_step {
                // "Sélection par le jury : date butoir :" keeps the event.
                (step, step_deadline) = (true, true);
            } else {
                strong = Some((DateRole::Deadline, superseding(strong)));
            }
        } else if caps.name("cp").is_some() {
            // "dossiers reçus avant le", "dépôts effectués avant le": the
            // participle describes the application, whose cut-off it is.
            if !seen_weak {
                strong = Some((DateRole::Condition, false));
            }
        } else if caps.name("cn").is_some() {
            strong = Some((DateRole::Condition, false));
        } else if caps.name("sx").is_some() {
            // "La durée du contrat est prolongée jusqu'au", "prolonger les
            // projets": what is extended is the event, not the call; but
            // "jury reporté, date limite prolongée au" is a new deadline.
            if pending || !is_event_or_condition(strong) {
                strong = Some((DateRole::Deadline, true));
            } else {
                step = was_step;
            }
        } else if caps.name("tp").is_some() {
            // "avant le", "jusqu'au" say when, not what: after an event or
            // condition cue ("travaux achevés avant le", "équipements
            // achetés avant le") they keep it, and after "prolongée"
            // ("prolongée jusqu'au") the date still replaces the earlier one.
            if !is_event_or_condition(strong) {
                strong = Some((DateRole::Deadline, superseding(strong)));
            } else {
                (step, step_deadline) = (was_step, pending);
            }
        } else if caps.name("sd").is_some() {
            // "prolongation de la date limite au": still a new deadline.
            strong = Some((DateRole::Deadline, superseding(strong)));
        } else if caps.name("op").is_some() {
            strong = Some((DateRole::Opening, false));
        } else if caps.name("wd").is_some() {
            weak = Some((DateRole::Deadline, false));
            seen_weak = true;
            if pending {
                // "jury en mai ; date limite de dépôt des candidatures".
                strong = Some((DateRole::Deadline, false));
            }
            // "collectivités engagées dans la démarche, candidatures
            // jusqu'au": the condition was about something else.
            if strong.is_some_and(|(role, _)| role == DateRole::Condition) {
                strong = None;
            }
        }
    }
    match strong.or(weak) {
        Some((role, supersedes)) => (Some(role), supersedes),
        None => (None, false),
    }
}

fn is_event_or_condition(strong: Option<(DateRole, bool)>) -> bool {
    strong.is_some_and(|(role, _)| matches!(role, DateRole::Event | DateRole::Condition))
}

/// Whether the cue seen so far makes the date replace earlier deadlines.
fn superseding(strong: Option<(DateRole, bool)>) -> bool {
    strong == Some((DateRole::Deadline, true))
}

/// The text between two hits when it is short enough to join them.
pub(super) fn gap<'t>(text: &'t str, before: &Hit, after: &Hit) -> Option<&'t str> {
    (after.start >= before.end && after.start - before.end <= JOIN_WINDOW)
        .then(|| &text[before.end..after.start])
}

pub(super) fn joined(text: &str, before: &Hit, after: &Hit) -> bool {
    gap(text, before, after)
        .is_some_and(|g| RANGE_GAP.is_match(g) || LIST_GAP.is_match(g) || ENTRE_GAP.is_match(g))
}

/// Fill missing years, right to left so that chains share the last year.
pub(super) fn resolve_years(text: &str, hits: &mut [Hit], reference: NaiveDate) {
    for i in (0..hits.len()).rev() {
        if hits[i].year.is_some() {
            continue;
        }
        let (month, day) = (hits[i].month, hits[i].day);
        let borrowed = hits.get(i + 1).and_then(|next| {
            let year = next.year?;
            joined(text, &hits[i], next).then(|| {
                if (month, day) > (next.month, next.day) {
                    year - 1
                } else {
                    year
                }
            })
        });
        hits[i].year = borrowed.or_else(|| infer_year(month, day, reference));
    }
}

/// The first `day`/`month` on or after `reference - 60 days`.
pub(super) fn infer_year(month: u32, day: u32, reference: NaiveDate) -> Option<i32> {
    let floor = reference
        .checked_sub_signed(TimeDelta::days(60))
        .unwrap_or(reference);
    (floor.year()..=floor.year().saturating_add(8))
        .filter_map(|y| NaiveDate::from_ymd_opt(y, month, day))
        .find(|d| *d >= floor)
        .map(|d| d.year())
}

/// Final roles: own cue, then ranges ("du X au Y") and lists ("X et Y").
pub(super) fn assign_roles(text: &str, hits: &mut [Hit]) {
    for i in 0..hits.len() {
        let own = hits[i].cue;
        let mut role = own.unwrap_or(DateRole::Unknown);
        if i > 0
            && let Some(g) = gap(text, &hits[i - 1], &hits[i])
        {
            let prev = hits[i - 1].role;
            let range = RANGE_GAP.is_match(g) || (hits[i - 1].after_entre && ENTRE_GAP.is_match(g));
            // "Candidatures du 1er au 30 juin - jury en juillet": the label
            // after the dash is the next step, the range is the cued one.
            let own = own.filter(|_| !(hits[i].dash_cue && prev == DateRole::Deadline));
            if range {
                match prev {
                    DateRole::Publication | DateRole::Event | DateRole::Condition => {
                        if own.is_none() {
                            role = prev;
                        }
                    }
                    // "28 novembre au 2 décembre : transmission aux
                    // préfets": a range no cue describes, but its label does.
                    DateRole::Unknown if own.is_none() && hits[i].labelled => {}
                    _ => {
                        hits[i - 1].role = DateRole::Opening;
                        if own.is_none_or(|r| r == DateRole::Deadline) {
                            role = DateRole::Deadline;
                        }
                    }
                }
            } else if own.is_none() && LIST_GAP.is_match(g) {
                role = prev;
                hits[i].supersedes = hits[i - 1].supersedes;
            }
        }
        hits[i].role = role;
    }
}
