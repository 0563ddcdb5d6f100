//! Date expressions found in the folded text ([`Hit`]s): collected by the
//! date patterns, given their time and own cue, then their year and role.

use std::ops::Range;

use chrono::{Datelike, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, TimeZone};
use chrono_tz::Europe::Paris;
use regex::Captures;

use super::patterns::*;
use super::{DateRole, DateWarning, END_OF_DAY, FrenchDate, assign_roles, own_cue, resolve_years};

/// Widest look-back for a cue, in folded bytes.
pub(super) const CUE_WINDOW: usize = 160;
/// Widest text between two dates that can still join them ("au", " et le ").
pub(super) const JOIN_WINDOW: usize = 24;
/// Widest text after a date that may hold its time or a parenthesized cue.
pub(super) const AFTER_WINDOW: usize = 48;

/// A date expression in the folded text, while it is being resolved.
pub(super) struct Hit {
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) day: u32,
    pub(super) month: u32,
    pub(super) year: Option<i32>,
    pub(super) time: Option<NaiveTime>,
    pub(super) cue: Option<DateRole>,
    pub(super) supersedes: bool,
    pub(super) after_entre: bool,
    /// Followed by ": <cue>", as in a calendar line.
    pub(super) calendar: bool,
    /// Followed by ": <words>" that are no known cue: a calendar label
    /// saying what the date is about.
    pub(super) labelled: bool,
    /// Its cue is an event label after a dash ("- Remise des prix").
    pub(super) dash_cue: bool,
    /// A year was written but is unreadable or implausible: it is not
    /// inferred, and the hit gives no date.
    pub(super) bad_year: bool,
    /// A time was written but does not exist ("25h", "12h60").
    pub(super) bad_time: bool,
    /// An ISO date-time written with its UTC offset, already converted to
    /// Europe/Paris local time.
    pub(super) in_paris: bool,
    pub(super) date: FrenchDate,
    pub(super) role: DateRole,
}

impl Hit {
    fn new(start: usize, end: usize, day: u32, month: u32, year: Option<i32>) -> Self {
        Hit {
            start,
            end,
            day,
            month,
            year,
            time: None,
            cue: None,
            supersedes: false,
            after_entre: false,
            calendar: false,
            labelled: false,
            dash_cue: false,
            bad_year: false,
            bad_time: false,
            in_paris: false,
            date: FrenchDate {
                date: NaiveDate::MIN,
                time: None,
                in_paris: false,
            },
            role: DateRole::Unknown,
        }
    }
}

/// The hits of `text` with their dates and roles, and the warnings about
/// dates written with an implausible year (which give no hit).
pub(super) fn scan(text: &str, reference: NaiveDate) -> (Vec<Hit>, Vec<DateWarning>) {
    let mut hits = collect(text);
    resolve_years(text, &mut hits, reference);
    let mut warnings = Vec::new();
    let mut hits: Vec<Hit> = hits
        .into_iter()
        .filter_map(|mut h| {
            if h.bad_year {
                warnings.push(DateWarning::ImplausibleYear {
                    written: text[h.start..h.end].to_string(),
                });
                return None;
            }
            let date = NaiveDate::from_ymd_opt(h.year?, h.month, h.day)?;
            h.date = FrenchDate {
                date,
                time: h.time,
                in_paris: h.in_paris,
            };
            Some(h)
        })
        .collect();
    assign_roles(text, &mut hits);
    (hits, warnings)
}

/// Every date expression with its time and own cue; years may be missing.
fn collect(text: &str) -> Vec<Hit> {
    let mut hits: Vec<Hit> = Vec::new();
    let mut prev_end = 0;
    for caps in DATE.captures_iter(text) {
        let Some(whole) = caps.get(0) else { continue };
        if whole.start() < prev_end {
            continue; // inside the time of the previous date
        }
        let Some(mut hit) = hit_from(&caps, whole.start(), whole.end()) else {
            continue;
        };
        let after = &text[hit.end..(hit.end + AFTER_WINDOW).min(text.len())];
        if hit.time.is_none()
            && let Some(t) = TIME_AFTER.captures(after)
        {
            hit.time = time_from(&t);
            hit.bad_time = hit.time.is_none();
            hit.end += t.get(0).map_or(0, |m| m.end());
        }
        let mut window_start = prev_end.max(hit.start.saturating_sub(CUE_WINDOW));
        if let Some(bare) = BARE_DAY.captures(&text[window_start..hit.start])
            && let (Some(d), Some(span)) = (bare.name("d"), bare.name("bare"))
        {
            let day = d.as_str().parse().unwrap_or(0);
            let mut opening = Hit::new(
                window_start + span.start(),
                window_start + span.end(),
                day,
                hit.month,
                hit.year,
            );
            (opening.cue, opening.supersedes) = own_cue(text, window_start, opening.start);
            window_start = opening.end;
            hits.push(opening);
        }
        let window = &text[window_start..hit.start];
        if hit.time.is_none()
            && !hit.bad_time
            && let Some(t) = TIME_BEFORE.captures(window)
        {
            hit.time = time_from(&t);
            hit.bad_time = hit.time.is_none();
        }
        hit.after_entre = ENTRE.is_match(window);
        let after_text = &text[hit.end..(hit.end + AFTER_WINDOW).min(text.len())];
        let after = CUE_AFTER
            .captures(after_text)
            .map(|c| {
                let role = if c.name("sd").is_some() {
                    DateRole::Deadline
                } else if c.name("px").is_some() {
                    DateRole::Publication
                } else if c.name("op").is_some() {
                    DateRole::Opening
                } else {
                    DateRole::Event
                };
                (role, c.name("colon").is_some(), c.name("dash").is_some())
            })
            .filter(|&(role, _, dash)| !dash || role == DateRole::Event);
        hit.labelled = after.is_none() && LABEL_AFTER.is_match(after_text);
        if hits.last().is_some_and(|h| h.calendar) {
            // In "date : what" lines the words before this date describe the
            // previous one.
            hit.cue = after.map(|(role, ..)| role);
            hit.dash_cue = after.is_some_and(|(_, _, dash)| dash);
        } else {
            (hit.cue, hit.supersedes) = own_cue(text, window_start, hit.start);
            if hit.cue.is_none() {
                hit.cue = after.map(|(role, ..)| role);
                hit.dash_cue = after.is_some_and(|(_, _, dash)| dash);
            }
        }
        hit.calendar = after.is_some_and(|(_, colon, _)| colon);
        prev_end = hit.end;
        hits.push(hit);
    }
    hits
}

fn hit_from(caps: &Captures, start: usize, end: usize) -> Option<Hit> {
    let n = |name: &str| caps.name(name).and_then(|m| m.as_str().parse::<u32>().ok());
    let y = |name: &str| caps.name(name).and_then(|m| m.as_str().parse::<i32>().ok());
    if let (Some(year), Some(month), Some(day)) = (y("iy"), n("im"), n("id")) {
        let date = NaiveDate::from_ymd_opt(year, month, day)?;
        let mut hit = Hit::new(start, end, day, month, Some(year));
        if let (Some(h), Some(m)) = (n("ih"), n("imi")) {
            let zone = caps.name("iz").map(|z| z.as_str());
            let local = iso_local(date, h, m, zone)?;
            hit.day = local.day();
            hit.month = local.month();
            hit.year = Some(local.year());
            hit.time = Some(local.time());
            hit.in_paris = zone.is_some();
        }
        return plausible(hit);
    }
    if let (Some(year), Some(month), Some(day)) = (y("cy"), n("cm"), n("cd")) {
        return plausible(Hit::new(start, end, day, month, Some(year)));
    }
    if let (Some(day), Some(month), Some(year)) =
        (n("nd"), n("nm").or(n("nms")), y("ny").or(y("nys")))
    {
        return plausible(Hit::new(start, end, day, month, Some(year)));
    }
    if let (Some(day), Some(month), Some(year)) = (n("nd"), n("nm2"), y("ny2")) {
        return plausible(Hit::new(start, end, day, month, Some(2000 + year)));
    }
    let day = n("td")?;
    let month = month_number(caps.name("tm")?.as_str())?;
    let Some(written) = caps.name("ty") else {
        return plausible(Hit::new(start, end, day, month, None));
    };
    // A year is there: read it, or say it is wrong; never infer one.
    let year = written
        .as_str()
        .parse::<i32>()
        .ok()
        .filter(|y| PLAUSIBLE_YEARS.contains(y));
    let mut hit = Hit::new(start, end, day, month, year);
    hit.bad_year = year.is_none();
    ((1..=12).contains(&month) && (1..=31).contains(&day)).then_some(hit)
}

/// Years a written date may have; others are typos or serial numbers.
const PLAUSIBLE_YEARS: Range<i32> = 1900..2200;

/// Years outside 1900..2200 are serial numbers, not dates.
fn plausible(hit: Hit) -> Option<Hit> {
    let in_range = hit.year.is_none_or(|y| PLAUSIBLE_YEARS.contains(&y));
    (in_range && (1..=12).contains(&hit.month) && (1..=31).contains(&hit.day)).then_some(hit)
}

fn month_number(name: &str) -> Option<u32> {
    Some(match name.get(..3)? {
        "jan" => 1,
        "fev" => 2,
        "mar" => 3,
        "avr" => 4,
        "mai" => 5,
        "jui" if name.starts_with("juin") => 6,
        "jui" => 7,
        "aou" => 8,
        "sep" => 9,
        "oct" => 10,
        "nov" => 11,
        "dec" => 12,
        _ => return None,
    })
}

/// ISO date and time, with an optional offset, as Europe/Paris local time.
fn iso_local(date: NaiveDate, h: u32, m: u32, zone: Option<&str>) -> Option<NaiveDateTime> {
    let local = date.and_time(NaiveTime::from_hms_opt(h, m, 0)?);
    let Some(zone) = zone else {
        return Some(local);
    };
    let seconds = if zone == "z" {
        0
    } else {
        let sign = if zone.starts_with('-') { -1 } else { 1 };
        let digits: String = zone.chars().filter(char::is_ascii_digit).collect();
        let hours: i32 = digits.get(..2)?.parse().ok()?;
        let minutes: i32 = digits.get(2..4).map_or(Some(0), |s| s.parse().ok())?;
        sign * (hours * 3600 + minutes * 60)
    };
    let offset = FixedOffset::east_opt(seconds)?;
    let utc = local.checked_sub_signed(TimeDelta::seconds(i64::from(offset.local_minus_utc())))?;
    Some(Paris.from_utc_datetime(&utc).naive_local())
}

fn time_from(caps: &Captures) -> Option<NaiveTime> {
    let n = |name: &str| caps.name(name).and_then(|m| m.as_str().parse::<u32>().ok());
    if caps.name("noon").is_some() {
        return NaiveTime::from_hms_opt(12, 0, 0);
    }
    if caps.name("midnight").is_some() {
        return Some(END_OF_DAY);
    }
    let (h, m) = match (n("h"), n("h2")) {
        (Some(h), _) => (h, n("m").unwrap_or(0)),
        (None, Some(h)) => (h, n("m2")?),
        (None, None) => return None,
    };
    // "24h" closes the day, like "minuit".
    if h == 24 && m == 0 {
        return Some(END_OF_DAY);
    }
    NaiveTime::from_hms_opt(h, m, 0)
}
