//! Tests of `json`.

use super::*;
use crate::extract::testutil::{page, source};
use crate::extract::{extract_page, first_request};
use crate::fetch::RequestBody;
use crate::source::schema::HttpMethod;

const API: &str = r#"kind = "json"
url = "https://aides.example.gouv.fr/api/aids/?format=json"

[json]
items = "data.results"

[json.query]
targeted_audiences = "commune"

[json.fields]
id = "id"
title = "name"
link = "slug"
summary = "/description"
deadline = "dates.submission_deadline"
audiences = "targeted_audiences"
themes = "categories.label"
funder = "financers.0"
perimeter = "perimeter"
link_template = "https://aides.example.gouv.fr/aides/{}/"

[json.pagination]
page_param = "page"
page_size = 2
max_pages = 3
"#;

const BODY: &str = r#"{"count": 3, "data": {"results": [
  {"id": 101, "name": "  Fonds  numérique ", "slug": "fonds-numerique",
   "description": "<p>Aide</p>", "dates": {"submission_deadline": "2027-06-30"},
   "targeted_audiences": ["commune", {"name": "EPCI"}, {"label": "Département"}, null],
   "categories": [{"label": "Numérique"}, {"label": "Données"}],
   "financers": [{"name": "DINUM"}, {"name": "ANCT"}], "perimeter": {"name": "France"}},
  {"id": "x-2", "name": "Lien absolu", "slug": "https://autre.gouv.fr/x", "targeted_audiences": "epci", "is_live": true}
]}}"#;

fn run(spec: &str, url: &str, body: &str, index: u32) -> Result<Extraction, ExtractError> {
    let src = source(spec);
    let mut req = first_request(&src);
    req.url = Url::parse(url).unwrap();
    extract_page(&src, &req, &page(url, "application/json", body), index)
}

#[test]
fn dotted_and_pointer_paths_fill_the_item() {
    let out = run(
        API,
        "https://aides.example.gouv.fr/api/aids/?page=1",
        BODY,
        0,
    )
    .unwrap();
    assert_eq!(out.items.len(), 2, "{out:?}");
    let it = &out.items[0];
    assert_eq!(it.id.as_deref(), Some("101"));
    assert_eq!(it.title.as_deref(), Some("Fonds numérique"));
    assert_eq!(
        it.link.as_deref(),
        Some("https://aides.example.gouv.fr/aides/fonds-numerique/")
    );
    assert_eq!(it.summary.as_deref(), Some("<p>Aide</p>"));
    assert_eq!(it.deadline.as_deref(), Some("2027-06-30"));
    assert_eq!(it.audiences, vec!["commune", "EPCI", "Département"]);
    assert_eq!(it.themes, vec!["Numérique", "Données"]);
    assert_eq!(it.funder.as_deref(), Some("DINUM"));
    assert_eq!(it.perimeter.as_deref(), Some("France"));
    let second = &out.items[1];
    assert_eq!(second.id.as_deref(), Some("x-2"));
    assert_eq!(
        second.link.as_deref(),
        Some("https://autre.gouv.fr/x"),
        "absolute links are kept"
    );
    assert_eq!(second.audiences, vec!["epci"]);
}

#[test]
fn a_root_array_and_pointer_items_path_work() {
    let spec = API.replace("items = \"data.results\"", "items = \"\"");
    let out = run(
        &spec,
        "https://a.fr/api",
        r#"[{"name": "A", "id": 1}, {"name": 7}]"#,
        0,
    )
    .unwrap();
    let titles: Vec<_> = out.items.iter().filter_map(|i| i.title.clone()).collect();
    assert_eq!(titles, vec!["A", "7"]);
    // No slug: the id fills the template.
    assert_eq!(
        out.items[0].link.as_deref(),
        Some("https://aides.example.gouv.fr/aides/1/")
    );
    let spec = API.replace("items = \"data.results\"", "items = \"/data/results\"");
    assert_eq!(
        run(&spec, "https://a.fr/api", BODY, 0).unwrap().items.len(),
        2
    );
}

#[test]
fn first_request_adds_query_and_first_page() {
    let src = source(API);
    let req = first_request(&src);
    assert_eq!(req.method, HttpMethod::Get);
    assert_eq!(req.body, None);
    assert_eq!(
        req.url.as_str(),
        "https://aides.example.gouv.fr/api/aids/?format=json&targeted_audiences=commune&page=1"
    );
}

#[test]
fn a_post_body_is_sent_as_json() {
    let spec = API.replace(
        "items = \"data.results\"",
        "method = \"POST\"\nitems = \"data.results\"\nbody = { query = { bool = { must = [\"aap\", 3] } }, pageSize = 50, open = true }",
    );
    let req = first_request(&source(&spec));
    assert_eq!(req.method, HttpMethod::Post);
    let Some(RequestBody::Json(bytes)) = &req.body else {
        panic!("a JSON body: {:?}", req.body)
    };
    let body: Value = serde_json::from_slice(bytes).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"query": {"bool": {"must": ["aap", 3]}}, "pageSize": 50, "open": true})
    );
    // The next page keeps method and body.
    let out = run(&spec, req.url.as_str(), BODY, 0).unwrap();
    let next = out.next.unwrap();
    assert_eq!(next.method, HttpMethod::Post);
    assert!(next.url.as_str().ends_with("page=2"), "{}", next.url);
    assert_eq!(next.body, req.body);
}

#[test]
fn a_form_is_sent_as_multipart_parts_on_every_page() {
    let spec = API.replace(
        "items = \"data.results\"",
        "method = \"POST\"\nitems = \"data.results\"\nform = { query = { bool = { must = [{ terms = { status = [\"31094502\"] } }] } }, languages = [\"en\"], text = \"***\", size = 50 }",
    );
    let req = first_request(&source(&spec));
    assert_eq!(req.method, HttpMethod::Post);
    let Some(RequestBody::Multipart(parts)) = &req.body else {
        panic!("a multipart body: {:?}", req.body)
    };
    let part = |name: &str| parts.iter().find(|p| p.name == name).unwrap();
    assert!(part("query").json && part("languages").json);
    assert_eq!(
        serde_json::from_str::<Value>(&part("query").value).unwrap(),
        serde_json::json!({"bool": {"must": [{"terms": {"status": ["31094502"]}}]}})
    );
    assert_eq!(part("languages").value, r#"["en"]"#);
    assert!(!part("text").json && part("text").value == "***");
    assert_eq!(part("size").value, "50");
    let out = run(&spec, req.url.as_str(), BODY, 0).unwrap();
    let next = out.next.unwrap();
    assert!(next.url.as_str().ends_with("page=2"), "{}", next.url);
    assert_eq!(next.body, req.body, "the next page sends the same form");
}

#[test]
fn page_param_pagination_advances_and_stops() {
    let url =
        "https://aides.example.gouv.fr/api/aids/?format=json&targeted_audiences=commune&page=1";
    let next = run(API, url, BODY, 0).unwrap().next.unwrap();
    assert_eq!(
        next.url.as_str(),
        "https://aides.example.gouv.fr/api/aids/?format=json&targeted_audiences=commune&page=2"
    );
    // max_pages = 3: the third page has no next.
    assert_eq!(run(API, url, BODY, 2).unwrap().next, None);
    // A short page ends pagination.
    let short = r#"{"data": {"results": [{"name": "seul"}]}}"#;
    assert_eq!(run(API, url, short, 0).unwrap().next, None);
    let empty = r#"{"data": {"results": []}}"#;
    assert_eq!(run(API, url, empty, 0).unwrap().next, None);
}

#[test]
fn offset_pagination_advances_by_page_size() {
    let spec = API.replace(
        "page_param = \"page\"",
        "offset_param = \"offset\"\nstart = 10",
    );
    let src = source(&spec);
    let first = first_request(&src);
    assert!(first.url.as_str().ends_with("&offset=10"), "{}", first.url);
    let out = run(&spec, first.url.as_str(), BODY, 1).unwrap();
    assert!(out.next.unwrap().url.as_str().ends_with("&offset=14"));
}

#[test]
fn next_url_pagination_follows_relative_links_and_stops_on_loops() {
    let spec = API.replace("page_param = \"page\"", "next = \"links.next\"");
    let body = BODY.replacen(
        "{\"count\": 3,",
        "{\"links\": {\"next\": \"/api/aids/?cursor=abc\"},",
        1,
    );
    let out = run(&spec, "https://aides.example.gouv.fr/api/aids/", &body, 0).unwrap();
    assert_eq!(
        out.next.unwrap().url.as_str(),
        "https://aides.example.gouv.fr/api/aids/?cursor=abc"
    );
    let out = run(
        &spec,
        "https://aides.example.gouv.fr/api/aids/?cursor=abc",
        &body,
        1,
    )
    .unwrap();
    assert_eq!(out.next, None);
    assert!(
        out.warnings[0].contains("points back"),
        "{:?}",
        out.warnings
    );
    let last = BODY.replacen("{\"count\": 3,", "{\"links\": {\"next\": null},", 1);
    assert_eq!(
        run(&spec, "https://aides.example.gouv.fr/api/aids/", &last, 0)
            .unwrap()
            .next,
        None
    );
}

#[test]
fn items_without_title_are_skipped_with_a_warning() {
    let body = r#"{"data": {"results": [{"id": 1}, {"name": "ok"}]}}"#;
    let out = run(API, "https://a.fr/api", body, 0).unwrap();
    assert_eq!(out.items.len(), 1);
    assert!(
        out.warnings[0].contains("item 1 of json.items `data.results`"),
        "{:?}",
        out.warnings
    );
}

#[test]
fn not_json_is_an_error() {
    let err = run(API, "https://a.fr/api", "<!DOCTYPE html><html></html>", 0).unwrap_err();
    let ExtractError::NotJson { .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(
        err.to_string(),
        "https://a.fr/api is not JSON: expected JSON, got HTML (application/json)"
    );
    let err = run(API, "https://a.fr/api", "{\"data\": [", 0).unwrap_err();
    assert!(err.to_string().contains("invalid JSON"), "{err}");
}

#[test]
fn a_missing_items_path_names_the_keys_present() {
    let err = run(API, "https://a.fr/api", r#"{"results": [], "count": 0}"#, 0).unwrap_err();
    assert!(matches!(err, ExtractError::ItemsPathNotFound { .. }));
    assert_eq!(
        err.to_string(),
        "json.items `data.results` not found in the response from https://a.fr/api: top-level keys are `count`, `results`"
    );
    let err = run(API, "https://a.fr/api", r#"{"data": {"results": 3}}"#, 0).unwrap_err();
    assert!(
        err.to_string()
            .ends_with("it is a number, not an array of items"),
        "{err}"
    );
    let spec = API.replace("items = \"data.results\"", "items = \"\"");
    let err = run(&spec, "https://a.fr/api", r#"{"a": 1}"#, 0).unwrap_err();
    assert!(err.to_string().contains("`(root)`"), "{err}");
}

/// Arbitrary JSON documents, with the keys the test source looks for.
pub(super) fn any_json() -> impl proptest::strategy::Strategy<Value = Value> {
    use proptest::prelude::*;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 64, 6, |inner| {
        let key = prop_oneof![
            Just("data".to_string()),
            Just("results".to_string()),
            Just("name".to_string()),
            Just("slug".to_string()),
            Just("targeted_audiences".to_string()),
            Just("categories".to_string()),
            Just("label".to_string()),
            Just("0".to_string()),
            "[a-z]{1,4}",
        ];
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map(key, inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest::proptest! {
    #[test]
    fn extract_page_never_panics_on_any_json(doc in any_json(), index in 0u32..5) {
        let src = source(API);
        let req = first_request(&src);
        let wrapped = serde_json::json!({"data": {"results": [doc.clone()]}});
        for v in [doc, wrapped] {
            let p = page("https://a.fr/api", "application/json", &v.to_string());
            let _ = extract_page(&src, &req, &p, index);
        }
    }

    #[test]
    fn extract_page_never_panics_on_any_text(body in ".{0,300}", shaped in r#"[\[\]{}":,a-z0-9 .]{0,200}"#) {
        let src = source(API);
        let req = first_request(&src);
        for b in [body, shaped, format!("{{\"data\": {{\"results\": [{{\"name\": 1}}]}}, \"x\": \"{}\"}}", "é")] {
            let p = page("https://a.fr/api", "application/json", &b);
            let _ = extract_page(&src, &req, &p, 0);
        }
    }
}
