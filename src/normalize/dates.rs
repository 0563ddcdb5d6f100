//! French dates and deadlines: the part of the normalize stage that turns the
//! dates funders write ("1er octobre 2020", "15/03/2021", "18 / 09 / 2015",
//! "jusqu'au 30 juin 2021 à 12h", "2023-02-27T15:00:00+01:00") into
//! [`FrenchDate`]s, and decides which of them is a call's deadline
//! ([`find_deadline`]).
//!
//! Design choices:
//!
//! - **Normalize, then match, then map back.** The text is first folded to
//!   lowercase ASCII (accents stripped with `deunicode`, every Unicode space
//!   including U+00A0 and U+202F made a plain space, `°`/`º` made `o` so that
//!   "1°" reads like "1o"), keeping for every byte of the folded text the byte
//!   range of the original character it came from. Regexes run on the folded
//!   text; [`FoundDate::span`] is always a byte range of the *original* input
//!   and always lies on char boundaries.
//! - **Linear and panic-free.** Regexes are compiled once and the `regex`
//!   crate matches in linear time; every look-around (time after a date, cue
//!   before it) inspects a window of bounded length, so a huge input costs one
//!   pass. Out-of-range numbers ("31/02/2021", "32 mars", "25h") are dropped,
//!   never unwrapped.
//! - **Times.** "12h", "12 h", "12h00", "9 h 30", "12:00", "15 : 00", "à
//!   midi" (12:00) after a date, or before it ("avant 17h le 31 mars"). "Minuit" and "24h"
//!   mean the *end* of the named day: "le 15 mars à minuit" is 15 March 23:59,
//!   because a deadline written that way never means the night before.
//!   "0h00" is taken literally. An ISO date-time with an offset is converted to
//!   Europe/Paris local date and time; without an offset it is already local.
//! - **Missing year.** A day and month without a year ("le 15 mars") first
//!   borrows the year of the next date when only a connector separates them
//!   ("du 1er mars au 30 avril 2021", "15 mars et 15 septembre 2022"), going
//!   back one year when the borrowed year would put it after that next date
//!   ("du 15 décembre au 15 janvier 2022" starts in December 2021). Otherwise
//!   it is the first occurrence of that day and month on or after
//!   `reference - 60 days`: a page read in early 2022 that says "15 décembre"
//!   means December 2021 only if that is less than two months ago (a call that
//!   just closed), else the coming December. "29 février" takes the first leap
//!   year that fits.
//! - **Roles from cues.** The words between the previous date (or the
//!   previous sentence) and a date, at most 160 bytes of them, carry its role.
//!   Strong cues ("date limite", "date butoir", "clôture", "jusqu'au",
//!   "avant le", "au plus tard", "publié le", "mise à jour", "ouverture",
//!   "jury", "webinaire", "versée", "débuter", "durée"...) beat weak ones ("dépôt", "candidatures",
//!   "dossiers"), and among cues of the same strength the one closest to
//!   the date wins. "du X au Y" and
//!   "entre le X et le Y" make X the opening and Y the deadline; a date that
//!   follows another after a mere "et" / "," / "ou" shares its role
//!   ("clôture : 15 mars et 15 septembre 2022"). "Reporté au", "prolongé
//!   jusqu'au" mark a deadline that supersedes the ones written before it.
//!   "Avant le", "jusqu'au" and "au plus tard" only say *when*: after an
//!   event cue ("travaux achevés avant le") they leave the event role. A cue
//!   may also follow the date: "30 juin 2021 (date limite)", "le 31 mars est
//!   la date limite", and calendar lines "31 mars 2021 : clôture ; 20 avril
//!   2021 : jury", where the words after each date are its own. A
//!   superseding cue stays when "jusqu'au" or "date limite" follows it
//!   ("prolongée jusqu'au", "prolongation de la date limite au"), but after
//!   an event it extends the event ("la durée du contrat est prolongée
//!   jusqu'au"). A selection step keeps its own "date limite" / "date
//!   butoir" ("sélection par le jury : date butoir :") unless an
//!   application word follows ("jury en mai ; date limite de dépôt des
//!   candidatures"). A heading alone in its block describes a date alone in
//!   the next ("Date limite\n\n30 nov. 2018"); after a date, a dash label
//!   counts only as an event ("- Remise des prix"), and a range that only a
//!   label no cue list knows describes ("2 décembre : transmission aux
//!   préfets") is no deadline.
//! - **What counts as a deadline.** In free text ([`find_deadline`]) only a
//!   date with a deadline cue is a deadline: an uncued date on a page is as
//!   often a publication or event date. In a field the source labelled as the
//!   deadline ([`find_deadline_in_field`]) uncued dates count too, but dates
//!   cued as publication, opening or event still do not. When no deadline is
//!   found, wording such as "au fil de l'eau", "sans date limite", "en
//!   continu", "jusqu'à épuisement des crédits" or "AAP permanent" makes the
//!   call [`DeadlineFound::Ongoing`].
//!
//! - **Conditions are not deadlines.** Dates that say what is eligible
//!   ("les équipements achetés avant le 1er mars 2024 ne sont pas
//!   éligibles", "travaux réalisés entre le 1er janvier et le 30 juin",
//!   "dossiers reçus après le…") and dates tied to a financial year written
//!   relatively ("comptes de l'exercice N-1", "clôture de l'exercice N+1")
//!   take the [`DateRole::Condition`] role: like an event, "avant le" or
//!   "jusqu'au" after such a cue keep it.
//! - **A plausible window.** A deadline is at most ten years after the
//!   reference: "31 mars 99999", "31 mars -2035" or a year 2090 deadline
//!   on a 2026 page are typos or serial numbers, never a deadline, and a
//!   year that is there but unreadable is never replaced by an inferred
//!   one. A deadline before last year is kept, with a warning: it closes
//!   the call, and dropping it would show a long-closed call as open to
//!   subscribers. These, and impossible times ("25h00", "12h60": the date
//!   is kept, without a time), are reported as [`DateWarning`]s by
//!   [`scan_deadline`].
//!
//! Not handled (on purpose): a month without a day ("mars 2022", "fin mars"),
//! seasons ("printemps 2022"), day/month without a year in digits ("15/03"),
//! English month names, and relative dates ("sous 30 jours").

use std::ops::Range;

use chrono::{DateTime, Datelike, LocalResult, NaiveDate, NaiveTime, TimeDelta, TimeZone};
use chrono_tz::{Europe::Paris, Tz};

/// A calendar date with an optional time of day, as written on the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FrenchDate {
    pub date: NaiveDate,
    pub time: Option<NaiveTime>,
    /// The text gave a UTC offset (an ISO date-time): `date` and `time` are
    /// then already Europe/Paris local time, whatever the source's zone.
    pub in_paris: bool,
}

/// The time a deadline given without a time of day stands for.
const END_OF_DAY: NaiveTime = match NaiveTime::from_hms_opt(23, 59, 0) {
    Some(t) => t,
    None => panic!("23:59 is a valid time"),
};

impl FrenchDate {
    /// A date and time written without an offset.
    pub fn local(date: NaiveDate, time: Option<NaiveTime>) -> FrenchDate {
        FrenchDate {
            date,
            time,
            in_paris: false,
        }
    }

    /// The Europe/Paris instant; 23:59 when no time was given.
    ///
    /// A local time that occurs twice (the October fall-back hour) is the
    /// earlier instant; a local time that does not exist (the March
    /// spring-forward gap, 02:00–03:00) is shifted forward by the gap, as
    /// clocks do: 02:30 becomes 03:30 summer time.
    pub fn to_paris(&self) -> DateTime<Tz> {
        self.written_in(Paris)
    }

    /// The instant of this date read as local time in `zone` (where the
    /// source's funder is: an overseas territory writes its own hours),
    /// as a Europe/Paris date-time; 23:59 of that zone when no time was
    /// given. A date written with an offset ignores `zone`.
    pub fn written_in(&self, zone: Tz) -> DateTime<Tz> {
        let zone = if self.in_paris { Paris } else { zone };
        let local = self.date.and_time(self.time.unwrap_or(END_OF_DAY));
        let instant = match zone.from_local_datetime(&local) {
            LocalResult::Single(t) => t,
            LocalResult::Ambiguous(a, b) => a.min(b),
            // A summer-time gap (one hour in every zone Vigie meets): the
            // wall time read with the offset in force before the gap lands
            // after it, as clocks move.
            LocalResult::None => {
                let before = local - TimeDelta::hours(1);
                match zone.from_local_datetime(&before) {
                    LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => {
                        t + TimeDelta::hours(1)
                    }
                    LocalResult::None => zone.from_utc_datetime(&local),
                }
            }
        };
        instant.with_timezone(&Paris)
    }
}

/// What a date found in free text is about, from the words around it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateRole {
    /// A cut-off for applications.
    Deadline,
    /// When applications open.
    Opening,
    /// When the page or call was published or updated.
    Publication,
    /// A dated step that is not a cut-off: webinar, jury, results, works.
    Event,
    /// A condition on what is eligible ("achetés avant le", "réalisés entre
    /// le … et le", "reçus après le", "exercice N-1"): not a cut-off.
    Condition,
    /// No cue.
    Unknown,
}

/// One date expression found in free text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundDate {
    pub date: FrenchDate,
    pub role: DateRole,
    /// Byte range in the original input (on char boundaries), time included.
    pub span: Range<usize>,
}

/// The outcome of looking for a deadline in free text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeadlineFound {
    /// One or several cut-off dates, sorted ascending (multi-stage calls keep them all).
    Dates(Vec<FrenchDate>),
    /// The text says the call is permanent / rolling ("au fil de l'eau", "sans date limite", "en continu", "permanent").
    Ongoing,
    /// No deadline in the text (including: only a publication or update date).
    None,
}

/// Something in a date text that was not taken, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DateWarning {
    /// A date whose written year is unreadable or implausible ("31 mars
    /// 99999", "31 mars -2035"): no date was taken, and no year invented.
    ImplausibleYear { written: String },
    /// A deadline more than ten years after the reference date: a typo or
    /// a serial number, not taken.
    TooFarAhead { written: String, date: NaiveDate },
    /// A deadline before last year: kept (the call is closed, and showing
    /// it as open to subscribers would be worse), but worth a look in case
    /// the year is a typo.
    LongPast { written: String, date: NaiveDate },
    /// A time of day that does not exist ("25h00", "12h60"): the date is
    /// kept without a time.
    ImpossibleTime { written: String },
}

impl std::fmt::Display for DateWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DateWarning::ImplausibleYear { written } => write!(
                f,
                "date `{written}` has an implausible year: not taken as a deadline"
            ),
            DateWarning::TooFarAhead { written, date } => write!(
                f,
                "date `{written}` ({date}) is more than ten years ahead: not taken as a deadline"
            ),
            DateWarning::LongPast { written, date } => write!(
                f,
                "deadline `{written}` ({date}) is before last year: kept (the call is closed); \
                 check the year if the call is still open"
            ),
            DateWarning::ImpossibleTime { written } => write!(
                f,
                "impossible time in `{written}`: ignored, the deadline is the end of that day"
            ),
        }
    }
}

/// What [`scan_deadline`] found, with what it had to leave out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadlineScan {
    pub found: DeadlineFound,
    pub warnings: Vec<DateWarning>,
}

/// The last day a deadline may fall on, for a text read on `reference`:
/// 31 December ten years on. Written years before 1900 or from 2200 are
/// never dates at all (see [`DateWarning::ImplausibleYear`]).
pub fn latest_deadline(reference: NaiveDate) -> NaiveDate {
    NaiveDate::from_ymd_opt(reference.year().saturating_add(10), 12, 31).unwrap_or(NaiveDate::MAX)
}

/// 1 January of the year before `reference`: deadlines before it are kept
/// with a [`DateWarning::LongPast`].
fn long_past(reference: NaiveDate) -> NaiveDate {
    NaiveDate::from_ymd_opt(reference.year().saturating_sub(1), 1, 1).unwrap_or(NaiveDate::MIN)
}

/// Every date expression in `text`, in order, with its role.
///
/// `reference` is the day the text was read (crawl or publication date); a
/// date without a year is placed as the module documentation explains.
pub fn find_dates(text: &str, reference: NaiveDate) -> Vec<FoundDate> {
    let folded = Folded::new(text);
    scan(&folded.text, reference)
        .0
        .into_iter()
        .map(|hit| FoundDate {
            date: hit.date,
            role: hit.role,
            span: folded.original_span(hit.start..hit.end),
        })
        .collect()
}

/// Parse a text that is expected to be just one date ("15/03/2021",
/// "20230214", "2023-02-27T15:00:00+01:00" in Paris local time, "lundi 2
/// novembre 2020 à 12h00", "Date limite : 15 mars 2021"). `None` when it holds
/// no date or several (a range is not one date).
pub fn parse_date(text: &str, reference: NaiveDate) -> Option<FrenchDate> {
    let folded = Folded::new(text);
    let (hits, _) = scan(&folded.text, reference);
    match hits.as_slice() {
        [only] => Some(only.date),
        _ => None,
    }
}

/// Which date(s) in free text are the deadline: dates with a deadline cue (see
/// the module documentation), else [`DeadlineFound::Ongoing`] when the text
/// says the call is permanent, else [`DeadlineFound::None`]. A date without
/// any cue is not taken as a deadline here; use [`find_deadline_in_field`] for
/// a field the source labelled as the deadline.
pub fn find_deadline(text: &str, reference: NaiveDate) -> DeadlineFound {
    deadline(text, reference, false).found
}

/// Same as [`find_deadline`], for a text that came from a field the source
/// definition labelled as the deadline: when no date is cued as a deadline,
/// dates without any cue count, while publication-, opening- and event-cued
/// dates still do not.
pub fn find_deadline_in_field(text: &str, reference: NaiveDate) -> DeadlineFound {
    deadline(text, reference, true).found
}

/// [`find_deadline`] (or, when `labelled`, [`find_deadline_in_field`]),
/// with the warnings about what it left out: implausible years, deadlines
/// outside [`deadline_window`], impossible times.
pub fn scan_deadline(text: &str, reference: NaiveDate, labelled: bool) -> DeadlineScan {
    deadline(text, reference, labelled)
}

fn deadline(text: &str, reference: NaiveDate, labelled: bool) -> DeadlineScan {
    let folded = Folded::new(text);
    let (mut hits, mut warnings) = scan(&folded.text, reference);
    // Only what could be a deadline is held to the window: a publication
    // date of ten years ago is fine.
    let (past, last) = (long_past(reference), latest_deadline(reference));
    hits.retain(|h| {
        let candidate = h.role == DateRole::Deadline || (labelled && h.role == DateRole::Unknown);
        let written = || written(text, &folded, h.start..h.end);
        let date = h.date.date;
        if candidate && date > last {
            warnings.push(DateWarning::TooFarAhead {
                written: written(),
                date,
            });
            return false;
        }
        if candidate && date < past {
            warnings.push(DateWarning::LongPast {
                written: written(),
                date,
            });
        }
        true
    });
    for h in &hits {
        let candidate = h.role == DateRole::Deadline || (labelled && h.role == DateRole::Unknown);
        if h.bad_time && candidate {
            warnings.push(DateWarning::ImpossibleTime {
                written: written(text, &folded, h.start..h.end),
            });
        }
    }
    let found = choose_deadline(&folded.text, &hits, labelled);
    DeadlineScan { found, warnings }
}

/// The original text of a folded span, on one line.
fn written(text: &str, folded: &Folded, span: Range<usize>) -> String {
    let r = folded.original_span(span);
    text.get(r)
        .unwrap_or_default()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn choose_deadline(folded: &str, hits: &[Hit], labelled: bool) -> DeadlineFound {
    // A "reporté au" / "prolongé jusqu'au" deadline replaces those before it.
    let from = hits
        .iter()
        .rposition(|h| h.role == DateRole::Deadline && h.supersedes)
        .unwrap_or(0);
    let mut dates: Vec<FrenchDate> = hits[from..]
        .iter()
        .filter(|h| h.role == DateRole::Deadline)
        .map(|h| h.date)
        .collect();
    if dates.is_empty() {
        if ONGOING.is_match(folded) {
            return DeadlineFound::Ongoing;
        }
        if labelled {
            dates = hits
                .iter()
                .filter(|h| h.role == DateRole::Unknown)
                .map(|h| h.date)
                .collect();
        }
    }
    if dates.is_empty() {
        return DeadlineFound::None;
    }
    dates.sort();
    // The same day written twice, once with a time: keep the time.
    let mut unique: Vec<FrenchDate> = Vec::with_capacity(dates.len());
    for d in dates {
        match unique.last_mut() {
            Some(last) if last.date == d.date => {
                if last.time.is_none() {
                    *last = d;
                }
            }
            _ => unique.push(d),
        }
    }
    DeadlineFound::Dates(unique)
}

mod folded;
mod hits;
mod patterns;
mod roles;

use folded::Folded;
use hits::{Hit, JOIN_WINDOW, scan};
use patterns::*;
use roles::{assign_roles, own_cue, resolve_years};

#[cfg(test)]
mod tests;
