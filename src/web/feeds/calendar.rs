//! iCalendar (RFC 5545) of deadlines, built with the `icalendar` crate:
//! one event per cut-off of each call, in Europe/Paris time with its
//! VTIMEZONE, a reminder a week before.
//!
//! A deadline at 23:59 means "until the end of that day" (see
//! `digest::french`): it becomes an all-day event on that day. Any other
//! time becomes a 30-minute event ending at the deadline, so a calendar
//! shows it where it falls. UIDs are `appel-{id}-{n}@{host}` (the n-th
//! cut-off of the call): a deadline extended keeps its UID, and clients
//! move the event instead of adding one. DTSTAMP is the call's last
//! change, never "now", so that the file's entity tag is stable; so are
//! the reminder's (the crate would otherwise stamp it with the clock and
//! a random UID). UIDs follow the order of the cut-offs: a new cut-off
//! inserted before others renumbers the later ones (rare; clients then
//! replace those events).

use chrono::{Duration, Timelike};
use chrono_tz::Europe::Paris;
use icalendar::{Alarm, Calendar, CalendarDateTime, Component, EventLike, Property, Trigger};

use super::Selection;
use super::formats::{content, one_line};
use crate::digest::french;
use crate::web::cache::Cacheable;

/// Europe/Paris since 1996 (EU rules: last Sunday of March 02:00 →
/// CEST, last Sunday of October 03:00 → CET), as clients expect it.
const VTIMEZONE: &str = "BEGIN:VTIMEZONE\r\n\
TZID:Europe/Paris\r\n\
X-LIC-LOCATION:Europe/Paris\r\n\
BEGIN:DAYLIGHT\r\n\
TZOFFSETFROM:+0100\r\n\
TZOFFSETTO:+0200\r\n\
TZNAME:CEST\r\n\
DTSTART:19700329T020000\r\n\
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\n\
END:DAYLIGHT\r\n\
BEGIN:STANDARD\r\n\
TZOFFSETFROM:+0200\r\n\
TZOFFSETTO:+0100\r\n\
TZNAME:CET\r\n\
DTSTART:19701025T030000\r\n\
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\n\
END:STANDARD\r\n\
END:VTIMEZONE\r\n";

/// Days before a deadline when the reminder rings.
const REMINDER_DAYS: i64 = 7;

/// The UID of a call's `n`-th cut-off (0-based, in ascending order):
/// stable across requests and crawls, the same in the search's and in the
/// call's own calendar.
pub(crate) fn uid(call: i64, n: usize, host: &str) -> String {
    format!("appel-{call}-{n}@{host}")
}

fn host(site: &str) -> String {
    url::Url::parse(site)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_else(|| "vigie".to_string())
}

pub fn calendar(s: &Selection, name: &str) -> anyhow::Result<Cacheable> {
    let host = host(&s.site);
    let mut cal = Calendar::empty();
    cal.append_property(Property::new("VERSION", "2.0"));
    cal.append_property(Property::new(
        "PRODID",
        format!(
            "-//Vigie//Appels a projets {}//FR",
            env!("CARGO_PKG_VERSION")
        ),
    ));
    cal.append_property(Property::new("CALSCALE", "GREGORIAN"));
    cal.append_property(Property::new("METHOD", "PUBLISH"));
    cal.append_property(Property::new("X-WR-CALNAME", one_line(name)));
    cal.append_property(Property::new("X-WR-TIMEZONE", "Europe/Paris"));
    for c in &s.calls {
        let cutoffs: Vec<_> = if c.deadlines.is_empty() {
            c.deadline.iter().copied().collect()
        } else {
            c.deadlines.clone()
        };
        let page = format!("{}/appels/{}", s.site, c.id);
        let description = format!("{}\n{page}", content(c));
        let title = one_line(&c.title);
        for (n, d) in cutoffs.iter().enumerate() {
            let local = d.with_timezone(&Paris);
            let mut event = icalendar::Event::new();
            event
                .uid(&uid(c.id, n, &host))
                .summary(&format!("Date limite : {title}"))
                .description(&description)
                .url(&page)
                .timestamp(c.updated.to_utc())
                .last_modified(c.updated.to_utc())
                .add_property("STATUS", "CONFIRMED")
                .add_property("TRANSP", "TRANSPARENT");
            if french::is_end_of_day(d) {
                event.all_day(local.date_naive());
            } else {
                let start = (local - Duration::minutes(30)).naive_local();
                let end = local.naive_local();
                event
                    .starts(CalendarDateTime::WithTimezone {
                        date_time: start.with_nanosecond(0).unwrap_or(start),
                        tzid: "Europe/Paris".into(),
                    })
                    .ends(CalendarDateTime::WithTimezone {
                        date_time: end.with_nanosecond(0).unwrap_or(end),
                        tzid: "Europe/Paris".into(),
                    });
            }
            let mut alarm = Alarm::display(
                &format!("Dans {REMINDER_DAYS} jours : date limite de « {title} »"),
                Trigger::before_start(Duration::days(REMINDER_DAYS)),
            );
            // The crate gives every component a DTSTAMP of "now" and a
            // random UID unless told otherwise: both would change the
            // bytes (and the entity tag) on every rendering.
            alarm
                .uid(&format!("appel-{}-{n}-rappel@{host}", c.id))
                .timestamp(c.updated.to_utc());
            event.alarm(alarm);
            cal.push(event.done());
        }
    }
    let text = cal.to_string();
    // The crate has no VTIMEZONE component: the fixed block goes after the
    // calendar's properties, before the first event (RFC 5545 allows any
    // order of components; clients read the zone before the events).
    let at = text
        .find("BEGIN:VEVENT")
        .or_else(|| text.rfind("END:VCALENDAR"))
        .unwrap_or(text.len());
    let body = format!("{}{VTIMEZONE}{}", &text[..at], &text[at..]);
    Ok(Cacheable::new(
        "text/calendar; charset=utf-8",
        body,
        s.last_modified(),
    ))
}
