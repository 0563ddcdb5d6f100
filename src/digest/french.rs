//! French wording for digests: dates and deadlines in Europe/Paris, call
//! kinds, perimeters and plurals, written the way French administrations
//! write them ("avant le lundi 1er septembre 2027 à 17 h").
//!
//! Conventions (typographie de l'Imprimerie nationale, as used on
//! service-public.fr):
//!
//! - day and month names are lowercase, the day has no leading zero and the
//!   first of the month is "1er";
//! - hours read "12 h", "12 h 30", "9 h 05", midnight "0 h";
//! - every instant is shown in Europe/Paris local time, whatever offset it
//!   carries, so a deadline stored in UTC reads as the funder wrote it
//!   (+01:00 in winter, +02:00 in summer).
//!
//! Deadlines at 23:59 are Vigie's "no time given" convention (normalize stores
//! "jusqu'au 15 mars" as 23:59 that day): they read "jusqu'au lundi 15 mars
//! 2027 inclus" rather than a misleading "avant … à 23 h 59". A real 00:00
//! deadline keeps its own day ("avant le mardi 16 mars 2027 à 0 h"): "minuit"
//! is ambiguous in French and moving the date would contradict the funder's
//! page.

use chrono::{DateTime, Datelike, TimeZone, Timelike, Weekday};
use chrono_tz::Europe::Paris;

use crate::domain::{CallKind, CallPerimeter, Perimeter};
use crate::territory;

const MONTHS: [&str; 12] = crate::domain::FRENCH_MONTHS;

pub fn weekday(w: Weekday) -> &'static str {
    match w {
        Weekday::Mon => "lundi",
        Weekday::Tue => "mardi",
        Weekday::Wed => "mercredi",
        Weekday::Thu => "jeudi",
        Weekday::Fri => "vendredi",
        Weekday::Sat => "samedi",
        Weekday::Sun => "dimanche",
    }
}

fn day(d: u32) -> String {
    if d == 1 {
        "1er".to_string()
    } else {
        d.to_string()
    }
}

fn month(m0: u32) -> &'static str {
    MONTHS[m0 as usize % 12]
}

/// "lundi 15 mars 2027", in Europe/Paris.
pub fn date_long<Tz: TimeZone>(d: &DateTime<Tz>) -> String {
    let p = d.with_timezone(&Paris);
    format!(
        "{} {} {} {}",
        weekday(p.weekday()),
        day(p.day()),
        month(p.month0()),
        p.year()
    )
}

/// "15 mars", or "15 mars 2028" when the year is not `current_year`
/// (subject lines, where the weekday would be noise).
pub fn date_short<Tz: TimeZone>(d: &DateTime<Tz>, current_year: i32) -> String {
    let p = d.with_timezone(&Paris);
    let dm = format!("{} {}", day(p.day()), month(p.month0()));
    if p.year() == current_year {
        dm
    } else {
        format!("{dm} {}", p.year())
    }
}

/// "12 h", "12 h 30", "9 h 05", "0 h".
pub fn time_of_day<Tz: TimeZone>(d: &DateTime<Tz>) -> String {
    let p = d.with_timezone(&Paris);
    match p.minute() {
        0 => format!("{} h", p.hour()),
        m => format!("{} h {m:02}", p.hour()),
    }
}

/// Whether a deadline uses the 23:59 "no time given" convention.
pub fn is_end_of_day<Tz: TimeZone>(d: &DateTime<Tz>) -> bool {
    let p = d.with_timezone(&Paris);
    p.hour() == 23 && p.minute() == 59
}

/// "avant le lundi 15 mars 2027 à 12 h", or "jusqu'au lundi 15 mars 2027
/// inclus" for a 23:59 deadline (see the module docs).
pub fn deadline_phrase<Tz: TimeZone>(d: &DateTime<Tz>) -> String {
    if is_end_of_day(d) {
        format!("jusqu'au {} inclus", date_long(d))
    } else {
        format!("avant le {} à {}", date_long(d), time_of_day(d))
    }
}

/// The French name of a call kind, capitalised for a label.
pub fn kind_label(kind: CallKind) -> &'static str {
    match kind {
        CallKind::Aap => "Appel à projets",
        CallKind::Ami => "Appel à manifestation d'intérêt",
        CallKind::AppelCandidatures => "Appel à candidatures",
        CallKind::Prix => "Prix",
        CallKind::Autre => "Autre appel",
    }
}

/// Where a call applies, in words: "France entière", "Europe", "Région
/// Île-de-France", "Val-d'Oise (95)", "Cergy (95)", or the EPCI's name.
/// A code missing from the reference data still reads as something sensible
/// ("Département 99", "Commune 95999").
pub fn perimeter_label(p: &Perimeter) -> String {
    match p {
        Perimeter::Europe => "Europe".to_string(),
        Perimeter::France => "France entière".to_string(),
        Perimeter::Region(code) => match territory::region(code) {
            Some(r) => format!("Région {}", r.name),
            None => format!("Région {code}"),
        },
        Perimeter::Department(code) => match territory::department(code) {
            Some(d) => format!("{} ({})", d.name, d.code),
            None => format!("Département {code}"),
        },
        Perimeter::Epci(siren) => match territory::epci(siren) {
            Some(e) => e.name.to_string(),
            None => format!("Intercommunalité {siren}"),
        },
        Perimeter::Commune(insee) => match territory::commune(insee) {
            Some(c) => format!("{} ({})", c.name, c.department),
            None => format!("Commune {insee}"),
        },
    }
}

/// Where a call applies, in words: its territories' labels ("Région
/// Bretagne et Région Normandie"; "A, B et C" for three). An unresolved
/// perimeter never reaches a digest; should it, it reads as to be set.
pub fn call_perimeter_label(p: &CallPerimeter) -> String {
    let Some(members) = p.members() else {
        return "Territoire à préciser".to_string();
    };
    let labels: Vec<String> = members.iter().map(perimeter_label).collect();
    match labels.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} et {last}", rest.join(", ")),
        _ => labels.concat(),
    }
}

/// `one` for 0 and 1, `many` otherwise: in French, zero takes the singular
/// ("0 appel", "1 appel", "2 appels").
pub fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n <= 1 { one } else { many }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{FixedOffset, Utc};
    use proptest::prelude::*;

    fn at(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(s).unwrap()
    }

    #[test]
    fn deadline_phrases() {
        for (input, expected) in [
            (
                "2027-03-15T12:00:00+01:00",
                "avant le lundi 15 mars 2027 à 12 h",
            ),
            (
                "2027-03-15T12:30:00+01:00",
                "avant le lundi 15 mars 2027 à 12 h 30",
            ),
            (
                "2027-03-15T09:05:00+01:00",
                "avant le lundi 15 mars 2027 à 9 h 05",
            ),
            (
                "2027-09-01T17:00:00+02:00",
                "avant le mercredi 1er septembre 2027 à 17 h",
            ),
            (
                "2027-03-15T23:59:00+01:00",
                "jusqu'au lundi 15 mars 2027 inclus",
            ),
            (
                "2027-03-15T23:59:59+01:00",
                "jusqu'au lundi 15 mars 2027 inclus",
            ),
            (
                "2027-03-16T00:00:00+01:00",
                "avant le mardi 16 mars 2027 à 0 h",
            ),
            (
                "2026-08-15T12:00:00+02:00",
                "avant le samedi 15 août 2026 à 12 h",
            ),
            (
                "2026-02-01T08:00:00+01:00",
                "avant le dimanche 1er février 2026 à 8 h",
            ),
            (
                "2026-12-31T23:59:00+01:00",
                "jusqu'au jeudi 31 décembre 2026 inclus",
            ),
        ] {
            assert_eq!(deadline_phrase(&at(input)), expected, "{input}");
        }
    }

    #[test]
    fn utc_instants_display_in_paris_time_across_dst() {
        for (input, expected) in [
            // Winter, +01:00.
            (
                "2027-01-15T11:00:00Z",
                "avant le vendredi 15 janvier 2027 à 12 h",
            ),
            // Summer, +02:00.
            (
                "2027-07-15T10:00:00Z",
                "avant le jeudi 15 juillet 2027 à 12 h",
            ),
            // 23:59 Paris in summer is 21:59 UTC.
            (
                "2027-07-15T21:59:00Z",
                "jusqu'au jeudi 15 juillet 2027 inclus",
            ),
            // 23:30 UTC in winter is already the next day in Paris.
            (
                "2026-12-31T23:30:00Z",
                "avant le vendredi 1er janvier 2027 à 0 h 30",
            ),
            // The last Sunday of March 2027 (28th): 01:30 UTC is 03:30 CEST.
            (
                "2027-03-28T01:30:00Z",
                "avant le dimanche 28 mars 2027 à 3 h 30",
            ),
            // The last Sunday of October 2027 (31st): 00:30 UTC is 02:30 CEST,
            // 01:30 UTC is 02:30 CET.
            (
                "2027-10-31T00:30:00Z",
                "avant le dimanche 31 octobre 2027 à 2 h 30",
            ),
            (
                "2027-10-31T01:30:00Z",
                "avant le dimanche 31 octobre 2027 à 2 h 30",
            ),
            // An offset that is not Paris's is converted too.
            (
                "2027-03-15T06:00:00-05:00",
                "avant le lundi 15 mars 2027 à 12 h",
            ),
        ] {
            assert_eq!(deadline_phrase(&at(input)), expected, "{input}");
        }
        let utc: DateTime<Utc> = at("2027-07-15T10:00:00Z").with_timezone(&Utc);
        assert_eq!(
            deadline_phrase(&utc),
            "avant le jeudi 15 juillet 2027 à 12 h"
        );
    }

    #[test]
    fn long_and_short_dates() {
        assert_eq!(
            date_long(&at("2027-03-15T12:00:00+01:00")),
            "lundi 15 mars 2027"
        );
        assert_eq!(
            date_long(&at("2027-09-01T00:00:00+02:00")),
            "mercredi 1er septembre 2027"
        );
        assert_eq!(
            date_short(&at("2027-03-15T12:00:00+01:00"), 2027),
            "15 mars"
        );
        assert_eq!(
            date_short(&at("2028-01-01T12:00:00+01:00"), 2027),
            "1er janvier 2028"
        );
    }

    #[test]
    fn kind_labels() {
        assert_eq!(kind_label(CallKind::Aap), "Appel à projets");
        assert_eq!(kind_label(CallKind::Ami), "Appel à manifestation d'intérêt");
        assert_eq!(
            kind_label(CallKind::AppelCandidatures),
            "Appel à candidatures"
        );
        assert_eq!(kind_label(CallKind::Prix), "Prix");
        assert_eq!(kind_label(CallKind::Autre), "Autre appel");
    }

    #[test]
    fn perimeter_labels() {
        for (perimeter, expected) in [
            ("france", "France entière"),
            ("europe", "Europe"),
            ("region:11", "Région Île-de-France"),
            ("department:95", "Val-d'Oise (95)"),
            ("department:2A", "Corse-du-Sud (2A)"),
            ("commune:95127", "Cergy (95)"),
            ("department:99", "Département 99"),
            ("commune:95999", "Commune 95999"),
        ] {
            let p: Perimeter = perimeter.parse().unwrap();
            assert_eq!(perimeter_label(&p), expected, "{perimeter}");
        }
        let cergy = territory::commune("95127").unwrap();
        let siren = cergy.epci.unwrap();
        let epci = Perimeter::Epci(siren.to_string());
        assert_eq!(perimeter_label(&epci), territory::epci(siren).unwrap().name);
    }

    #[test]
    fn a_perimeter_set_reads_as_a_french_list() {
        let label = |t: &str| call_perimeter_label(&t.parse().unwrap());
        assert_eq!(label("region:11"), "Région Île-de-France");
        // Members in code order, whatever order they were given in.
        assert_eq!(
            label("region:53,region:52"),
            "Région Pays de la Loire et Région Bretagne"
        );
        assert_eq!(
            label("department:95,department:78,department:31"),
            "Haute-Garonne (31), Yvelines (78) et Val-d'Oise (95)"
        );
    }

    #[test]
    fn plurals_take_the_singular_for_zero_and_one() {
        assert_eq!(plural(0, "appel", "appels"), "appel");
        assert_eq!(plural(1, "appel", "appels"), "appel");
        assert_eq!(plural(2, "appel", "appels"), "appels");
        assert_eq!(
            plural(35, "nouvel appel", "nouveaux appels"),
            "nouveaux appels"
        );
    }

    proptest! {
        #[test]
        fn deadline_phrase_never_panics(
            secs in -8_000_000_000_000i64..8_000_000_000_000i64,
            offset in -86_399i32..86_400i32,
        ) {
            let tz = FixedOffset::east_opt(offset).unwrap();
            if let Some(d) = DateTime::from_timestamp(secs, 0) {
                let phrase = deadline_phrase(&d.with_timezone(&tz));
                prop_assert!(
                    phrase.starts_with("avant le ") || phrase.starts_with("jusqu'au "),
                    "{}", phrase
                );
            }
        }
    }
}
