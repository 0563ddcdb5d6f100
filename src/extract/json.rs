//! `kind = "json"`: an API. `[json]` names the item array, each field's path
//! inside an item, and the pagination rule; the request may be a POST with a
//! JSON body written as TOML.
//!
//! Paths are dotted (`data.results`, `financers.0.name`) or JSON pointers
//! (`/data/results`). A path step that meets an array indexes it when the
//! step is a number, and otherwise applies to every element, so
//! `financers.name` gives every financer's name. A path that ends on an
//! array yields its elements. Values are rendered as text: strings trimmed,
//! numbers and booleans as written, objects by their `name`, `label`,
//! `libelle`, `title` or `value` key (the first present). Text fields take
//! the first value, `audiences` and `themes` take them all.

use serde_json::Value;
use url::Url;

use super::{BodyShape, ExtractError, Extraction, Extractor, RawItem, non_empty};
use crate::fetch::page::{Page, PageRequest};
use crate::source::{CompiledJson, JsonPath, PageRule, SourceDef};

/// Keys that name an object when it stands for a label (an audience, a theme).
const LABEL_KEYS: &[&str] = &["name", "label", "libelle", "title", "value"];

impl Extractor for CompiledJson {
    fn first_request(&self, source: &SourceDef) -> PageRequest {
        let mut url = source.url.clone();
        if !self.query.is_empty() {
            let mut pairs = url.query_pairs_mut();
            for (k, v) in &self.query {
                pairs.append_pair(k, v);
            }
        }
        if let Some(p) = &self.pagination {
            match &p.rule {
                PageRule::PageParam { param, start } | PageRule::OffsetParam { param, start } => {
                    set_param(&mut url, param, &start.to_string());
                }
                PageRule::Next(_) => {}
            }
        }
        PageRequest {
            method: self.method,
            url,
            // Serializing a `Value` cannot fail: its map keys are strings.
            body: self
                .body
                .as_ref()
                .map(|b| serde_json::to_vec(b).unwrap_or_default()),
        }
    }

    fn extract_page(
        &self,
        _source: &SourceDef,
        request: &PageRequest,
        page: &Page,
        page_index: u32,
    ) -> Result<Extraction, ExtractError> {
        let root: Value =
            serde_json::from_str(page.text.trim_start_matches('\u{feff}')).map_err(|e| {
                let shape = BodyShape::of(page);
                let message = if shape == BodyShape::Json {
                    format!("invalid JSON: {e}")
                } else {
                    format!("expected JSON, got {}", shape.describe(page))
                };
                ExtractError::NotJson {
                    url: page.url.to_string(),
                    message,
                }
            })?;
        let elements = self.item_array(&root, page)?;
        let mut out = Extraction::default();
        for (i, element) in elements.iter().enumerate() {
            match self.read_item(element, page) {
                Some(item) => out.items.push(item),
                None => out.warnings.push(format!(
                    "item {} of json.items `{}` on {} has no title (json.fields.title `{}`): skipped",
                    i + 1,
                    self.items.raw,
                    page.url,
                    self.fields.title.raw
                )),
            }
        }
        if elements.is_empty() && page_index == 0 {
            out.warnings.push(format!(
                "json.items `{}` is an empty array on {}",
                self.items.raw, page.url
            ));
        }
        out.next = self.next_request(
            request,
            page,
            &root,
            elements.len(),
            page_index,
            &mut out.warnings,
        );
        Ok(out)
    }
}

impl CompiledJson {
    fn item_array<'a>(&self, root: &'a Value, page: &Page) -> Result<&'a Vec<Value>, ExtractError> {
        let not_found = |found: String| ExtractError::ItemsPathNotFound {
            url: page.url.to_string(),
            path: if self.items.raw.is_empty() {
                "(root)".to_string()
            } else {
                self.items.raw.clone()
            },
            found,
        };
        let mut at = root;
        for seg in &self.items.segments {
            let next = match at {
                Value::Object(m) => m.get(seg),
                Value::Array(a) => seg.parse::<usize>().ok().and_then(|i| a.get(i)),
                _ => None,
            };
            at = next.ok_or_else(|| not_found(describe_root(root)))?;
        }
        match at {
            Value::Array(a) => Ok(a),
            other if self.items.segments.is_empty() => Err(not_found(describe_root(other))),
            other => Err(not_found(format!(
                "it is {}, not an array of items",
                type_name(other)
            ))),
        }
    }

    fn read_item(&self, element: &Value, page: &Page) -> Option<RawItem> {
        let f = &self.fields;
        let first = |p: &Option<JsonPath>| p.as_ref().and_then(|p| first_text(element, p));
        let all = |p: &Option<JsonPath>| p.as_ref().map(|p| texts(element, p)).unwrap_or_default();
        let title = first_text(element, &f.title)?;
        let id = first(&f.id);
        let summary = first(&f.summary);
        let link = match (first(&f.link), &f.link_template) {
            (Some(link), _) if is_absolute(&link) => Some(link),
            (Some(link), Some(t)) => Some(apply_template(t, &link)),
            (Some(link), None) => Some(link),
            (None, Some(t)) => id.as_deref().map(|id| apply_template(t, id)),
            (None, None) => None,
        };
        let text = [Some(title.as_str()), summary.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        Some(RawItem {
            id,
            link,
            summary,
            deadline: first(&f.deadline),
            opens: first(&f.opens),
            published: first(&f.published),
            funder: first(&f.funder),
            kind: first(&f.kind),
            audiences: all(&f.audiences),
            perimeter: first(&f.perimeter),
            themes: all(&f.themes),
            text: non_empty(&text),
            title: Some(title),
            base_url: Some(page.url.clone()),
        })
    }

    fn next_request(
        &self,
        request: &PageRequest,
        page: &Page,
        root: &Value,
        count: usize,
        page_index: u32,
        warnings: &mut Vec<String>,
    ) -> Option<PageRequest> {
        let p = self.pagination.as_ref()?;
        let short = p.page_size.is_some_and(|size| count < size as usize);
        if count == 0 || short || page_index.saturating_add(1) >= p.max_pages {
            return None;
        }
        let following = u64::from(page_index) + 1;
        let url = match &p.rule {
            PageRule::Next(path) => {
                let href = first_text(root, path)?;
                let next = page
                    .url
                    .join(&href)
                    .ok()
                    .filter(|u| matches!(u.scheme(), "http" | "https"));
                let Some(next) = next else {
                    warnings.push(format!(
                        "json.pagination.next `{}` gave `{href}` on {}, which is not a web link: pagination stopped",
                        path.raw, page.url
                    ));
                    return None;
                };
                if next == page.url || next == request.url {
                    warnings.push(format!(
                        "json.pagination.next `{}` on {} points back to {next}: pagination stopped",
                        path.raw, page.url
                    ));
                    return None;
                }
                next
            }
            PageRule::PageParam { param, start } => {
                let mut url = request.url.clone();
                set_param(
                    &mut url,
                    param,
                    &start.saturating_add(following).to_string(),
                );
                url
            }
            PageRule::OffsetParam { param, start } => {
                let size = u64::from(p.page_size.unwrap_or(1));
                let mut url = request.url.clone();
                let offset = start.saturating_add(following.saturating_mul(size));
                set_param(&mut url, param, &offset.to_string());
                url
            }
        };
        Some(PageRequest {
            method: request.method,
            url,
            body: request.body.clone(),
        })
    }
}

/// Sets `name=value` in the query string, replacing any previous value.
fn set_param(url: &mut Url, name: &str, value: &str) {
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| k != name)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    url.query_pairs_mut()
        .clear()
        .extend_pairs(kept)
        .append_pair(name, value);
}

fn is_absolute(link: &str) -> bool {
    Url::parse(link).is_ok_and(|u| matches!(u.scheme(), "http" | "https"))
}

/// `https://x.fr/aides/{}` with `{}` replaced; a template without `{}` is
/// a base URL the value is resolved against.
fn apply_template(template: &str, value: &str) -> String {
    if template.contains("{}") {
        return template.replace("{}", value);
    }
    match Url::parse(template).and_then(|base| base.join(value)) {
        Ok(u) => u.to_string(),
        Err(_) => value.to_string(),
    }
}

/// Every value at `path`, an ending array expanded.
fn resolve<'a>(value: &'a Value, path: &JsonPath) -> Vec<&'a Value> {
    let mut current = vec![value];
    for seg in &path.segments {
        let mut next = Vec::new();
        for v in current {
            match v {
                Value::Object(m) => next.extend(m.get(seg)),
                Value::Array(a) => match seg.parse::<usize>() {
                    Ok(i) => next.extend(a.get(i)),
                    Err(_) => next.extend(a.iter().filter_map(|e| e.get(seg))),
                },
                _ => {}
            }
        }
        current = next;
    }
    current
}

fn render(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Null => {}
        Value::Bool(b) => out.push(b.to_string()),
        Value::Number(n) => out.push(n.to_string()),
        Value::String(s) => out.extend(non_empty(s)),
        Value::Array(items) => items.iter().for_each(|v| render(v, out)),
        Value::Object(m) => {
            if let Some(v) = LABEL_KEYS
                .iter()
                .find_map(|k| m.get(*k).filter(|v| !v.is_object()))
            {
                render(v, out);
            }
        }
    }
}

fn texts(value: &Value, path: &JsonPath) -> Vec<String> {
    let mut out = Vec::new();
    for v in resolve(value, path) {
        render(v, &mut out);
    }
    out
}

fn first_text(value: &Value, path: &JsonPath) -> Option<String> {
    texts(value, path).into_iter().next()
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// What is at the top of a response, to help fix an items path.
fn describe_root(root: &Value) -> String {
    match root {
        Value::Object(m) if m.is_empty() => "the response is an empty object".into(),
        Value::Object(m) => {
            let keys: Vec<String> = m.keys().take(20).map(|k| format!("`{k}`")).collect();
            let more = if m.len() > 20 { ", ..." } else { "" };
            format!("top-level keys are {}{more}", keys.join(", "))
        }
        Value::Array(_) => "the response is an array (use items = \"\")".into(),
        other => format!("the response is {}", type_name(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::testutil::{page, source};
    use crate::extract::{extract_page, first_request};
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
        let body: Value = serde_json::from_slice(req.body.as_ref().unwrap()).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"query": {"bool": {"must": ["aap", 3]}}, "pageSize": 50, "open": true})
        );
        // The next page keeps method and body.
        let out = run(&spec, req.url.as_str(), BODY, 0).unwrap();
        let next = out.next.unwrap();
        assert_eq!(next.method, HttpMethod::Post);
        assert!(next.url.as_str().ends_with("page=2"), "{}", next.url);
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
    fn any_json() -> impl proptest::strategy::Strategy<Value = Value> {
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
}
