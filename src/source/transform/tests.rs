use proptest::prelude::*;
use regex::Regex;

use super::*;

fn re(s: &str) -> Regex {
    Regex::new(s).unwrap()
}

#[test]
fn replace_repairs_a_spaced_url_and_timestamp() {
    let t = Transform {
        replace: Some((re(r":\s+"), ":".into())),
        ..Transform::default()
    };
    assert_eq!(
        t.apply("https: //www.region.fr/aide").as_deref(),
        Some("https://www.region.fr/aide")
    );
    assert_eq!(
        t.apply("2022-07-28T11: 40: 47+02: 00").as_deref(),
        Some("2022-07-28T11:40:47+02:00")
    );
}

#[test]
fn capture_keeps_the_first_group_or_the_whole_match_and_empties_on_no_match() {
    let group = Transform {
        capture: Some(re(r"clôture le (\d{2}/\d{2}/\d{4})")),
        ..Transform::default()
    };
    assert_eq!(
        group
            .apply("Dépôt : clôture le 15/03/2027 à midi")
            .as_deref(),
        Some("15/03/2027")
    );
    assert_eq!(group.apply("Candidatures en continu"), None);
    let whole = Transform {
        capture: Some(re(r"HORIZON-[A-Z0-9-]+")),
        ..Transform::default()
    };
    assert_eq!(
        whole
            .apply("Topic HORIZON-CL5-2026-D3-01 (two stages)")
            .as_deref(),
        Some("HORIZON-CL5-2026-D3-01")
    );
}

#[test]
fn steps_run_replace_then_capture_then_trim() {
    let t = Transform {
        replace: Some((re("_"), " ".into())),
        capture: Some(re(r"code:(.*)$")),
        trim: Some(".;-".into()),
    };
    assert_eq!(
        t.apply("code:-AAP_2026_ARCHIVES;.").as_deref(),
        Some("AAP 2026 ARCHIVES")
    );
}

#[test]
fn a_rule_takes_the_first_non_empty_place_or_collects_them_all() {
    let rule = FieldRule {
        sources: vec![
            FieldSource {
                at: "origin_url",
                transform: Transform::default(),
            },
            FieldSource {
                at: "application_url",
                transform: Transform::default(),
            },
        ],
        raw: String::new(),
    };
    let values = |at: &&str| match *at {
        "origin_url" => vec!["  ".to_string()],
        "application_url" => vec!["https://a.fr/depot".to_string(), "x".to_string()],
        _ => vec![],
    };
    assert_eq!(rule.first(values).as_deref(), Some("https://a.fr/depot"));
    assert_eq!(rule.all(values), vec!["https://a.fr/depot", "x"]);
    let dup = |_: &&str| vec!["2026-03-31".to_string()];
    assert_eq!(
        rule.all(dup),
        vec!["2026-03-31"],
        "one value per distinct text"
    );
}

fn filter(test: FilterTest, exclude: bool) -> ItemFilter<()> {
    ItemFilter {
        at: (),
        test,
        exclude,
        label: "json.filters[1] (path `x`)".into(),
    }
}

#[test]
fn filters_keep_drop_or_count_missing_values() {
    let is_call = filter(FilterTest::Equals("true".into()), false);
    assert_eq!(is_call.judge(&["true".into()]), Verdict::Keep);
    assert_eq!(is_call.judge(&["false".into()]), Verdict::Drop);
    assert_eq!(is_call.judge(&[]), Verdict::Missing);
    let open = filter(
        FilterTest::OneOf(vec!["31094501".into(), "31094502".into()]),
        false,
    );
    assert_eq!(
        open.judge(&["31094503".into(), "31094502".into()]),
        Verdict::Keep
    );
    assert_eq!(open.judge(&["31094503".into()]), Verdict::Drop);
    let not_closed = filter(FilterTest::Matches(re("(?i)clos")), true);
    assert_eq!(not_closed.judge(&["Clôturé".into()]), Verdict::Keep);
    assert_eq!(not_closed.judge(&["Appel clos".into()]), Verdict::Drop);
    assert_eq!(
        not_closed.judge(&[]),
        Verdict::Keep,
        "exclude keeps items without the value"
    );

    let filters = [is_call, open];
    let mut run = FilterRun::new(&filters);
    assert!(!run.keeps(|_| vec![]));
    assert!(!run.keeps(|_| vec![]));
    assert!(run.keeps(|_| vec!["true".into(), "31094501".into()]));
    let warnings = run.warnings("https://a.fr/api");
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].starts_with("2 item(s) on https://a.fr/api have no value for json.filters[1]")
    );
}

proptest! {
    #[test]
    fn transforms_and_filters_never_panic(
        value in "\\PC{0,80}",
        pattern in "[a-z.*+?()\\[\\]|^$\\\\0-9:\\s]{0,12}",
        with in "[$a-z0-9{}:]{0,8}",
        trim in "\\PC{0,4}",
    ) {
        if let Ok(r) = Regex::new(&pattern) {
            let t = Transform { replace: Some((r.clone(), with)), capture: Some(r.clone()), trim: Some(trim) };
            if let Some(out) = t.apply(&value) {
                prop_assert!(!out.is_empty());
                prop_assert_eq!(out.trim(), out.as_str());
            }
            let f = filter(FilterTest::Matches(r), false);
            let _ = f.judge(std::slice::from_ref(&value));
        }
        let text = crate::text::collapse(&value);
        let f = filter(FilterTest::Equals(text.clone()), false);
        prop_assert_eq!(f.judge(std::slice::from_ref(&text)) == Verdict::Keep, !text.is_empty());
    }
}
