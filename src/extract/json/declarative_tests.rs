//! Tests of the declarative additions to `[json]`: item filters, fields read
//! from several paths, value transforms, `$` items and `[*]`/`[0]` paths.
//! The fixtures are shaped like the public aid APIs they were written for
//! (an aid catalogue with a `results` page, an EU funding search answer),
//! with made-up content.

use chrono::NaiveDate;

use super::*;
use crate::extract::testutil::{page, source};
use crate::extract::{extract_page, first_request};
use crate::normalize::themes::ThemeRules;
use crate::normalize::{NormalizeContext, normalize_item};

fn run(spec: &str, body: &str) -> Extraction {
    let src = source(spec);
    let req = first_request(&src);
    let url = req.url.to_string();
    extract_page(&src, &req, &page(&url, "application/json", body), 0)
        .unwrap_or_else(|e| panic!("{e}"))
}

/// An aid catalogue: only some aids are calls for projects, the link is in
/// one of three keys, and one aid has two submission rounds.
const CATALOGUE_SPEC: &str = r#"kind = "json"
url = "https://aides.example.gouv.fr/api/aids/"

[json]
items = "results"

[[json.filters]]
path = "is_call_for_project"
equals = true

[json.fields]
id = "id"
title = "name"
link = [
  { path = "origin_url", regex = ':\s+//', replace = "://" },
  "application_url",
  "url",
]
link_template = "https://aides.example.gouv.fr/"
deadline = ["submission_deadline", "second_round_deadline"]
perimeter = "perimeter"
"#;

const CATALOGUE: &str = r#"{"count": 5, "next": null, "results": [
  {"id": 1, "name": "Rénovation des écoles rurales", "is_call_for_project": true,
   "origin_url": "", "application_url": "https://depot.example.fr/ecoles",
   "url": "/aides/ecoles/", "submission_deadline": "2026-03-31",
   "second_round_deadline": "2026-09-30", "perimeter": "Occitanie"},
  {"id": 2, "name": "Prêt à taux zéro voirie", "is_call_for_project": false,
   "origin_url": "https://banque.example.fr/pret", "submission_deadline": null},
  {"id": 3, "name": "Tiers-lieux numériques", "is_call_for_project": true,
   "origin_url": "https: //www.region.example.fr/tiers-lieux", "application_url": "",
   "url": "/aides/tiers-lieux/", "submission_deadline": "2026-05-15",
   "second_round_deadline": "2026-05-15", "perimeter": "Hérault"},
  {"id": 4, "name": "Mobilités douces", "is_call_for_project": true,
   "origin_url": null, "url": "/aides/mobilites/", "submission_deadline": "2026-06-01"},
  {"id": 5, "name": "Aide sans indicateur", "url": "/aides/sans/"}
]}"#;

#[test]
fn filters_fallbacks_and_a_repaired_url_on_an_aid_catalogue() {
    let out = run(CATALOGUE_SPEC, CATALOGUE);
    let ids: Vec<_> = out.items.iter().map(|i| i.id.as_deref().unwrap()).collect();
    assert_eq!(ids, vec!["1", "3", "4"], "only calls for projects: {out:?}");
    let links: Vec<_> = out
        .items
        .iter()
        .map(|i| i.link.as_deref().unwrap())
        .collect();
    assert_eq!(
        links,
        vec![
            "https://depot.example.fr/ecoles",
            "https://www.region.example.fr/tiers-lieux",
            "https://aides.example.gouv.fr/aides/mobilites/",
        ],
        "first non-empty of origin_url (repaired), application_url, url"
    );
    assert_eq!(
        out.items[0].deadline.as_deref(),
        Some("2026-03-31 ; 2026-09-30")
    );
    assert_eq!(
        out.items[1].deadline.as_deref(),
        Some("2026-05-15"),
        "same date once"
    );
    assert_eq!(out.items[2].deadline.as_deref(), Some("2026-06-01"));
    assert_eq!(out.warnings.len(), 1, "{:?}", out.warnings);
    assert!(
        out.warnings[0].starts_with("1 item(s) on https://aides.example.gouv.fr/api/aids/ have no value for json.filters[1] (path `is_call_for_project`)"),
        "{:?}",
        out.warnings
    );
}

#[test]
fn combined_deadlines_become_every_cut_off_after_normalize() {
    let src = source(CATALOGUE_SPEC);
    let out = run(CATALOGUE_SPEC, CATALOGUE);
    let rules = ThemeRules::embedded();
    let ctx = NormalizeContext {
        rules: &rules,
        today: NaiveDate::from_ymd_opt(2026, 1, 10).unwrap(),
    };
    let n = normalize_item(&out.items[0], &src, &ctx).unwrap();
    let days: Vec<String> = n
        .item
        .deadlines
        .iter()
        .map(|d| d.date_naive().to_string())
        .collect();
    assert_eq!(days, vec!["2026-03-31", "2026-09-30"], "{:?}", n.warnings);
}

/// An EU funding search answer: every metadata value is an array, the status
/// is a code, and a two-stage topic has two deadline dates.
const EU_SPEC: &str = r#"kind = "json"
url = "https://api.example.europa.eu/search"

[json]
items = "results"

[[json.filters]]
path = "metadata.status[*]"
one_of = ["31094501", "31094502"]

[[json.filters]]
path = "metadata.identifier[0]"
matches = "^DIGITAL-"
exclude = true

[json.fields]
id = "metadata.identifier[0]"
title = "summary"
deadline = "metadata.deadlineDate[*]"
opens = { path = "metadata.startDate[0]", capture = '^(\d{4}-\d{2}-\d{2})' }
kind = "metadata.type[0]"
"#;

const EU: &str = r#"{"totalResults": 4, "results": [
  {"metadata": {"identifier": ["LIFE-2026-CET-LOCAL"], "status": ["31094502"],
    "deadlineDate": ["2026-04-15T17:00:00.000+0000"], "startDate": ["2026-01-20T00:00:00.000+0100"],
    "type": ["1"]}, "summary": "Transition énergétique locale"},
  {"metadata": {"identifier": ["CERV-2026-CITIZENS-TOWN"], "status": ["31094501"],
    "deadlineDate": ["2026-03-01T17:00:00.000+0000", "2026-09-17T17:00:00.000+0000"],
    "type": ["2"]}, "summary": "Jumelage de villes"},
  {"metadata": {"identifier": ["HORIZON-CL6-2025-01"], "status": ["31094503"],
    "deadlineDate": ["2025-02-18T17:00:00.000+0000"]}, "summary": "Appel clos"},
  {"metadata": {"identifier": ["DIGITAL-2026-EDIH"], "status": ["31094502"]}, "summary": "Hors périmètre"}
]}"#;

#[test]
fn status_codes_nested_arrays_and_a_captured_date_on_an_eu_search() {
    let out = run(EU_SPEC, EU);
    let ids: Vec<_> = out.items.iter().map(|i| i.id.as_deref().unwrap()).collect();
    assert_eq!(
        ids,
        vec!["LIFE-2026-CET-LOCAL", "CERV-2026-CITIZENS-TOWN"],
        "{out:?}"
    );
    assert!(out.warnings.is_empty(), "{:?}", out.warnings);
    assert_eq!(out.items[0].opens.as_deref(), Some("2026-01-20"));
    assert_eq!(out.items[0].kind.as_deref(), Some("1"));
    assert_eq!(
        out.items[1].deadline.as_deref(),
        Some("2026-03-01T17:00:00.000+0000 ; 2026-09-17T17:00:00.000+0000"),
        "every deadline of a two-stage topic"
    );
    assert_eq!(out.items[1].opens, None, "no start date: no opening");
}

#[test]
fn a_response_that_is_one_item_is_read_from_dollar() {
    let spec = r#"kind = "json"
url = "https://api.example.fr/aids/42"

[json]
items = "$"

[json.fields]
title = "name"
deadline = "deadlines[*].date"
link = "links[1].href"
"#;
    let body = r#"{"name": "Fonds friches", "deadlines": [{"date": "2026-02-01"}, {"label": "x"}, {"date": "2026-07-01"}],
        "links": [{"href": "https://a.fr/1"}, {"href": "https://a.fr/2"}]}"#;
    let out = run(spec, body);
    assert_eq!(out.items.len(), 1, "{out:?}");
    assert_eq!(out.items[0].title.as_deref(), Some("Fonds friches"));
    assert_eq!(
        out.items[0].deadline.as_deref(),
        Some("2026-02-01 ; 2026-07-01")
    );
    assert_eq!(out.items[0].link.as_deref(), Some("https://a.fr/2"));
    let array = run(spec, r#"[{"name": "A"}, {"name": "B"}]"#);
    assert_eq!(
        array.items.len(),
        2,
        "a root array still gives its elements"
    );
    let src = source(&spec.replace("items = \"$\"", "items = \"data\""));
    let req = first_request(&src);
    let err = extract_page(
        &src,
        &req,
        &page(
            req.url.as_str(),
            "application/json",
            r#"{"data": {"name": "A"}}"#,
        ),
        0,
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("not an array of items"),
        "without `$`, an object is still an error: {err}"
    );
}

proptest::proptest! {
    #[test]
    fn filters_fallbacks_and_transforms_never_panic_on_any_json(root in super::tests::any_json()) {
        let body = root.to_string();
        let spec = r#"kind = "json"
url = "https://api.example.fr/x"

[json]
items = "$"

[[json.filters]]
path = "a[*].b"
matches = "."
exclude = true

[json.fields]
title = ["a[0]", { path = "*", capture = '(\w+)' }, "$"]
deadline = ["a[*]", { path = "b.c[2]", regex = ':\s+', replace = ":" }]
"#;
        let src = source(spec);
        let req = first_request(&src);
        let _ = extract_page(&src, &req, &page("https://api.example.fr/x", "application/json", &body), 0);
    }
}
