//! Tests of `dates`.

use super::*;
use proptest::prelude::*;

const TABLE: &str = include_str!("../../../tests/fixtures/dates/deadlines.tsv");

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn at(date: &str, time: Option<(u32, u32)>) -> FrenchDate {
    FrenchDate::local(
        day(date),
        time.map(|(h, m)| NaiveTime::from_hms_opt(h, m, 0).unwrap()),
    )
}

/// A date-time written with its offset, as Europe/Paris local time.
fn paris(date: &str, (h, m): (u32, u32)) -> FrenchDate {
    FrenchDate {
        in_paris: true,
        ..at(date, Some((h, m)))
    }
}

#[test]
fn a_date_is_read_in_the_zone_of_its_funder_unless_it_gives_an_offset() {
    let cayenne: Tz = "America/Cayenne".parse().unwrap();
    let paris_text = |d: FrenchDate, zone: Tz| d.written_in(zone).to_rfc3339();
    // Noon in French Guiana (UTC-3) is 16:00 in Paris in winter, 17:00 in
    // summer; a date without a time ends at 23:59 there.
    assert_eq!(
        paris_text(at("2027-02-15", Some((12, 0))), cayenne),
        "2027-02-15T16:00:00+01:00"
    );
    assert_eq!(
        paris_text(at("2027-06-15", Some((12, 0))), cayenne),
        "2027-06-15T17:00:00+02:00"
    );
    assert_eq!(
        paris_text(at("2027-03-31", None), cayenne),
        "2027-04-01T04:59:00+02:00"
    );
    // An ISO date-time with its offset is the same instant anywhere.
    let iso = parse_date("2027-02-15T12:00:00-03:00", day("2027-01-01")).unwrap();
    assert_eq!(paris_text(iso, cayenne), "2027-02-15T16:00:00+01:00");
    assert_eq!(paris_text(iso, Paris), "2027-02-15T16:00:00+01:00");
    // Europe/Paris itself: unchanged, the spring-forward gap moves on.
    assert_eq!(
        paris_text(at("2027-03-28", Some((2, 30))), Paris),
        "2027-03-28T03:30:00+02:00"
    );
}

/// The fixture's notation: `none`, `ongoing` or `2021-03-15[ 12:00][;...]`.
fn render(found: &DeadlineFound) -> String {
    match found {
        DeadlineFound::None => "none".into(),
        DeadlineFound::Ongoing => "ongoing".into(),
        DeadlineFound::Dates(dates) => dates
            .iter()
            .map(|d| match d.time {
                Some(t) => format!("{} {}", d.date, t.format("%H:%M")),
                None => d.date.to_string(),
            })
            .collect::<Vec<_>>()
            .join(";"),
    }
}

#[test]
fn deadline_table_matches_every_row() {
    let mut failures = Vec::new();
    let (mut rows, mut negatives) = (0, 0);
    for (index, line) in TABLE.lines().enumerate() {
        if line.starts_with('#') || line.starts_with("reference\t") || line.is_empty() {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        assert_eq!(cols.len(), 4, "line {}: expected 4 columns", index + 1);
        let (reference, function, expected) = (day(cols[0]), cols[1], cols[3]);
        let input = cols[2].replace("\\n", "\n");
        let got = match function {
            "text" => find_deadline(&input, reference),
            "field" => find_deadline_in_field(&input, reference),
            other => panic!("line {}: unknown function {other}", index + 1),
        };
        rows += 1;
        if expected == "none" || expected == "ongoing" {
            negatives += 1;
        }
        if render(&got) != expected {
            failures.push(format!(
                "line {}: {function} {:?}: expected {expected}, got {}",
                index + 1,
                input,
                render(&got)
            ));
        }
    }
    assert!(rows >= 180, "only {rows} rows");
    assert!(negatives >= 70, "only {negatives} none/ongoing rows");
    assert!(
        failures.is_empty(),
        "{} of {rows} rows failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn parse_date_reads_every_format() {
    let r = day("2021-01-10");
    let cases: &[(&str, FrenchDate)] = &[
        ("15/03/2021", at("2021-03-15", None)),
        ("15.03.2021", at("2021-03-15", None)),
        ("15-03-2021", at("2021-03-15", None)),
        ("5/3/21", at("2021-03-05", None)),
        ("15 mars 2021", at("2021-03-15", None)),
        ("1er octobre 2020", at("2020-10-01", None)),
        ("1° juin 2018", at("2018-06-01", None)),
        ("31 DÉCEMBRE 2022", at("2022-12-31", None)),
        ("15 janv. 2021", at("2021-01-15", None)),
        ("3 sept 2021", at("2021-09-03", None)),
        (
            "lundi 2 novembre 2020 à 12h00",
            at("2020-11-02", Some((12, 0))),
        ),
        ("15 mars 2021 à 12 h", at("2021-03-15", Some((12, 0)))),
        ("15 mars 2021 à 9 h 30", at("2021-03-15", Some((9, 30)))),
        ("15 mars 2021 12:00", at("2021-03-15", Some((12, 0)))),
        ("15 mars 2021 à midi", at("2021-03-15", Some((12, 0)))),
        ("le 15 mars 2021 à minuit", at("2021-03-15", Some((23, 59)))),
        ("2023-02-27", at("2023-02-27", None)),
        ("2023-02-27T15:00:00+01:00", paris("2023-02-27", (15, 0))),
        ("2023-02-27T15:00:00-05:00", paris("2023-02-27", (21, 0))),
        ("2023-02-27T23:30:00Z", paris("2023-02-28", (0, 30))),
        ("2023-07-14T10:00:00Z", paris("2023-07-14", (12, 0))),
        ("2023-02-27 15:00:00", at("2023-02-27", Some((15, 0)))),
        ("20230214", at("2023-02-14", None)),
        ("le 15 mars", at("2021-03-15", None)),
        ("15\u{a0}mars\u{202f}2021", at("2021-03-15", None)),
    ];
    for (text, expected) in cases {
        assert_eq!(parse_date(text, r), Some(*expected), "{text}");
    }
    for text in [
        "",
        "2021",
        "printemps 2022",
        "31/02/2021",
        "32 mars 2021",
        "mars 2022",
        "du 1er mars au 30 avril 2021",
        "2023-13-01",
        "99999999",
    ] {
        assert_eq!(parse_date(text, r), None, "{text}");
    }
    // An invalid time drops the time, not the date.
    assert_eq!(
        parse_date("15 mars 2021 à 25h", r),
        Some(at("2021-03-15", None))
    );
}

#[test]
fn far_years_and_impossible_times_are_warned_about_not_invented() {
    let r = day("2026-01-15");
    for text in ["Date limite : 31 mars 99999", "Date limite : 31 mars -2035"] {
        let scan = scan_deadline(text, r, false);
        assert_eq!(scan.found, DeadlineFound::None, "{text}");
        assert!(
            matches!(&scan.warnings[..], [DateWarning::ImplausibleYear { .. }]),
            "{text}: {:?}",
            scan.warnings
        );
        // Nor does the bare day and month come back with an inferred year.
        assert_eq!(parse_date(text, r), None, "{text}");
    }
    let scan = scan_deadline("Clôture le 31 mars 2040", r, false);
    assert_eq!(scan.found, DeadlineFound::None);
    assert!(
        matches!(&scan.warnings[..], [DateWarning::TooFarAhead { date, .. }] if *date == day("2040-03-31")),
        "{:?}",
        scan.warnings
    );
    assert!(scan.warnings[0].to_string().contains("31 mars 2040"));
    for text in [
        "Date limite : 15 mars 2026 à 25h00",
        "Date limite : 15 mars 2026 à 12h60",
    ] {
        let scan = scan_deadline(text, r, false);
        // The day stays; the time is dropped, and said to be.
        assert_eq!(
            scan.found,
            DeadlineFound::Dates(vec![at("2026-03-15", None)]),
            "{text}"
        );
        assert!(
            matches!(&scan.warnings[..], [DateWarning::ImpossibleTime { written }] if written.contains("15 mars 2026")),
            "{text}: {:?}",
            scan.warnings
        );
    }
    let clean = scan_deadline("Date limite : 15 mars 2026 à 12h00", r, false);
    assert!(clean.warnings.is_empty(), "{:?}", clean.warnings);
    // A deadline before last year closes the call: kept, with a warning.
    let past = scan_deadline("Date limite : 15 mai 2024", r, false);
    assert_eq!(
        past.found,
        DeadlineFound::Dates(vec![at("2024-05-15", None)])
    );
    assert!(
        matches!(&past.warnings[..], [DateWarning::LongPast { .. }]),
        "{:?}",
        past.warnings
    );
    // A publication date long ago is no deadline and needs no warning.
    let old = scan_deadline("Publié le 3 janvier 2015", r, false);
    assert_eq!(old.found, DeadlineFound::None);
    assert!(old.warnings.is_empty(), "{:?}", old.warnings);
}

#[test]
fn conditions_take_their_own_role() {
    let found = find_dates(
        "Les équipements achetés avant le 1er mars 2024 ne sont pas éligibles. Date limite : 31 mars 2024",
        day("2024-01-10"),
    );
    let roles: Vec<_> = found.iter().map(|f| f.role).collect();
    assert_eq!(roles, [DateRole::Condition, DateRole::Deadline]);
}

#[test]
fn a_missing_year_is_the_first_occurrence_after_reference_minus_60_days() {
    let find = |text, r| parse_date(text, day(r)).map(|d| d.date);
    assert_eq!(find("15 mars", "2021-03-20"), Some(day("2021-03-15")));
    assert_eq!(find("15 janvier", "2021-03-10"), Some(day("2021-01-15")));
    assert_eq!(find("15 janvier", "2021-03-17"), Some(day("2022-01-15")));
    assert_eq!(find("31 décembre", "2022-01-20"), Some(day("2021-12-31")));
    assert_eq!(find("29 février", "2021-06-01"), Some(day("2024-02-29")));
}

#[test]
fn to_paris_uses_the_offset_in_force_and_23_59_by_default() {
    let winter = at("2021-01-15", Some((12, 0))).to_paris();
    assert_eq!(winter.to_rfc3339(), "2021-01-15T12:00:00+01:00");
    let summer = at("2021-07-15", Some((12, 0))).to_paris();
    assert_eq!(summer.to_rfc3339(), "2021-07-15T12:00:00+02:00");
    let default = at("2021-07-15", None).to_paris();
    assert_eq!(default.to_rfc3339(), "2021-07-15T23:59:00+02:00");
    // 28 March 2021: 02:00 → 03:00; the missing 02:30 moves forward.
    let gap = at("2021-03-28", Some((2, 30))).to_paris();
    assert_eq!(gap.to_rfc3339(), "2021-03-28T03:30:00+02:00");
    let spring_day = at("2021-03-28", None).to_paris();
    assert_eq!(spring_day.to_rfc3339(), "2021-03-28T23:59:00+02:00");
    // 31 October 2021: 02:30 happens twice; the earlier one is kept.
    let overlap = at("2021-10-31", Some((2, 30))).to_paris();
    assert_eq!(overlap.to_rfc3339(), "2021-10-31T02:30:00+02:00");
}

#[test]
fn find_dates_reports_roles_and_original_spans() {
    let text = "Publié le 3\u{a0}janvier 2021 — Clôture : 15 décembre 2022 à 12h";
    let found = find_dates(text, day("2021-01-03"));
    assert_eq!(found.len(), 2);
    assert_eq!(found[0].role, DateRole::Publication);
    assert_eq!(&text[found[0].span.clone()], "3\u{a0}janvier 2021");
    assert_eq!(found[1].role, DateRole::Deadline);
    assert_eq!(&text[found[1].span.clone()], "15 décembre 2022 à 12h");
    assert_eq!(found[1].date, at("2022-12-15", Some((12, 0))));

    let range = find_dates("du 1er mars au 30 avril 2021", day("2021-01-01"));
    let roles: Vec<_> = range.iter().map(|f| (f.date.date, f.role)).collect();
    assert_eq!(
        roles,
        [
            (day("2021-03-01"), DateRole::Opening),
            (day("2021-04-30"), DateRole::Deadline)
        ]
    );
}

#[test]
fn a_huge_input_is_handled_in_one_pass() {
    let mut text = "Date limite : 15 mars 2021 à 12h, ".repeat(20_000);
    text.push_str(&"é\u{202f}".repeat(100_000));
    let found = find_dates(&text, day("2021-01-01"));
    assert_eq!(found.len(), 20_000);
    assert_eq!(
        find_deadline(&text, day("2021-01-01")),
        DeadlineFound::Dates(vec![at("2021-03-15", Some((12, 0)))])
    );
}

const MOIS: [&str; 12] = crate::domain::FRENCH_MONTHS;

/// Dates a page read on 2021-06-01 may give as a deadline (the window).
fn valid_date() -> impl Strategy<Value = NaiveDate> {
    (2020i32..=2031, 1u32..=12, 1u32..=31)
        .prop_filter_map("valid date", |(y, m, d)| NaiveDate::from_ymd_opt(y, m, d))
}

fn messy_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        any::<String>(),
        Just("15 mars 2021".to_string()),
        Just("1er".to_string()),
        Just(" à 12h".to_string()),
        Just("du ".to_string()),
        Just(" au ".to_string()),
        Just("Date limite : ".to_string()),
        Just("é\u{a0}\u{202f}°".to_string()),
        Just("2023-02-27T15:00:00+01:00".to_string()),
        "[0-9/.: h-]{0,12}",
    ];
    prop::collection::vec(piece, 0..8).prop_map(|v| v.concat())
}

fn window_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("Date limite : ".to_string()),
        Just("clôture le ".to_string()),
        Just("avant le ".to_string()),
        Just(" et ".to_string()),
        Just(" à 25h00".to_string()),
        Just(" à 12h60".to_string()),
        Just("N+1 ".to_string()),
        (1u32..=31, 0usize..12, -3000i64..300_000)
            .prop_map(|(d, m, y)| format!("{d} {} {y}", MOIS[m])),
        (1u32..=31, 1u32..=12, 1000i64..10_000).prop_map(|(d, m, y)| format!("{d}/{m:02}/{y}")),
        (1u32..=31, 0usize..12).prop_map(|(d, m)| format!("{d} {}", MOIS[m])),
        any::<String>(),
    ];
    prop::collection::vec(piece, 0..8).prop_map(|v| v.concat())
}

proptest! {
    #[test]
    fn no_deadline_found_is_too_far_ahead(text in window_text(), days in -40_000i64..40_000) {
        let reference = day("2026-01-15") + TimeDelta::days(days);
        let (first, last) = (day("1900-01-01"), latest_deadline(reference));
        for labelled in [false, true] {
            let scan = scan_deadline(&text, reference, labelled);
            if let DeadlineFound::Dates(dates) = &scan.found {
                for d in dates {
                    prop_assert!((first..=last).contains(&d.date), "{:?} from {:?}", d, text);
                    let _ = d.to_paris();
                }
            }
            for w in &scan.warnings {
                prop_assert!(!w.to_string().is_empty());
            }
        }
    }

    #[test]
    fn nothing_panics_on_arbitrary_text(text in messy_text(), days in -100_000i64..100_000) {
        let reference = day("2021-06-01") + TimeDelta::days(days);
        let _ = find_dates(&text, reference);
        let _ = find_deadline(&text, reference);
        let _ = find_deadline_in_field(&text, reference);
        let _ = scan_deadline(&text, reference, true);
        if let Some(d) = parse_date(&text, reference) {
            let _ = d.to_paris();
        }
    }

    #[test]
    fn spans_are_char_boundaries_of_the_input(text in messy_text()) {
        for found in find_dates(&text, day("2021-06-01")) {
            prop_assert!(found.span.start < found.span.end);
            prop_assert!(text.is_char_boundary(found.span.start));
            prop_assert!(text.is_char_boundary(found.span.end));
        }
    }

    #[test]
    fn a_cued_date_is_found_whatever_surrounds_it(
        date in valid_date(),
        rendering in 0usize..4,
        (hour, minute) in (0u32..24, 0u32..60),
        before in "[a-zA-Zéèàçô ,']{0,30}",
        after in "[a-zA-Zéèàçô ,']{0,30}",
    ) {
        let (d, m, y) = (date.day(), date.month(), date.year());
        let mois = MOIS[m as usize - 1];
        let (written, time) = match rendering {
            0 => (format!("{d}/{m}/{y}"), None),
            1 => (format!("{d} {mois} {y}"), None),
            2 => (format!("{y}-{m:02}-{d:02}"), None),
            _ => (format!("le {d} {mois} {y} à {hour}h{minute:02}"), NaiveTime::from_hms_opt(hour, minute, 0)),
        };
        let text = format!("{before} Date limite : {written} {after}");
        prop_assert_eq!(
            find_deadline(&text, day("2021-06-01")),
            DeadlineFound::Dates(vec![FrenchDate::local(date, time)])
        );
    }
}
