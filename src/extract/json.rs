//! `kind = "json"`: an API. `[json]` names the item array, each field's path
//! inside an item, and the pagination rule; the request may be a POST with a
//! JSON body written as TOML.
//!
//! Paths are dotted (`data.results`, `financers.0.name`, with brackets
//! `deadlines[*].date`, `metadata.deadlineDate[0]`) or JSON pointers
//! (`/data/results`). A path step that meets an array indexes it when the
//! step is a number, takes every element when it is `*`, and otherwise
//! applies to every element, so `financers.name` gives every financer's
//! name. A path that ends on an array yields its elements. `$` is the value
//! itself: `items = "$"` reads a response that is one item (or an array of
//! items). Values are rendered as text: strings trimmed, numbers and
//! booleans as written, objects by their `name`, `label`, `libelle`, `title`
//! or `value` key (the first present). Text fields take the first value,
//! `deadline`, `audiences` and `themes` take them all (a field with several
//! paths: see `extract::transform`). `[[json.filters]]` drop items before
//! they are read.

use serde_json::Value;
use url::Url;

use super::{BodyShape, ExtractError, Extraction, Extractor, RawItem};
use crate::fetch::page::{Page, PageRequest};
use crate::source::transform::FilterRun;
use crate::source::{CompiledJson, JsonField, JsonPath, PageRule, SourceDef};
use crate::text::non_empty;

/// Between the values of a deadline field given several dates: normalize
/// reads every date in it as one of the call's cut-offs.
pub(crate) const DEADLINE_JOIN: &str = " ; ";

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
            body: self.body.clone(),
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
                    url: crate::redact::url(&page.url).to_string(),
                    message,
                }
            })?;
        let elements = self.item_array(&root, page)?;
        let mut out = Extraction::default();
        let mut filters = FilterRun::new(&self.filters);
        for (i, element) in elements.iter().enumerate() {
            if !filters.keeps(|path| texts(element, path)) {
                continue;
            }
            match self.read_item(element, page) {
                Some(item) => out.items.push(item),
                None => {
                    out.untitled += 1;
                    out.warnings.push(format!(
                        "item {} of json.items `{}` on {} has no title (json.fields.title `{}`): skipped",
                        i + 1,
                        self.items.raw,
                        crate::redact::url(&page.url),
                        self.fields.title.raw
                    ));
                }
            }
        }
        out.warnings
            .extend(filters.warnings(crate::redact::url(&page.url)));
        if elements.is_empty() && page_index == 0 {
            out.warnings.push(format!(
                "json.items `{}` is an empty array on {}",
                self.items.raw,
                crate::redact::url(&page.url)
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
    fn item_array<'a>(&self, root: &'a Value, page: &Page) -> Result<&'a [Value], ExtractError> {
        let not_found = |found: String| ExtractError::ItemsPathNotFound {
            url: crate::redact::url(&page.url).to_string(),
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
            // From `$`, an object is the page's one item.
            Value::Object(_) if self.items.raw.starts_with('$') || self.items.raw == "." => {
                Ok(std::slice::from_ref(at))
            }
            other if self.items.segments.is_empty() => Err(not_found(describe_root(other))),
            other => Err(not_found(format!(
                "it is {}, not an array of items",
                type_name(other)
            ))),
        }
    }

    fn read_item(&self, element: &Value, page: &Page) -> Option<RawItem> {
        let f = &self.fields;
        let read = |p: &JsonPath| texts(element, p);
        let first = |r: &Option<JsonField>| r.as_ref().and_then(|r| r.first(read));
        let all = |r: &Option<JsonField>| r.as_ref().map(|r| r.all(read)).unwrap_or_default();
        let title = f.title.first(read)?;
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
            deadline: Some(all(&f.deadline).join(DEADLINE_JOIN)).filter(|d| !d.is_empty()),
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
                let next = crate::fetch::web_link(Some(&page.url), &href);
                let Some(next) = next else {
                    warnings.push(format!(
                        "json.pagination.next `{}` gave `{href}` on {}, which is not a public web link: pagination stopped",
                        path.raw,
                        crate::redact::url(&page.url)
                    ));
                    return None;
                };
                if next == page.url || next == request.url {
                    warnings.push(format!(
                        "json.pagination.next `{}` on {} points back to {}: pagination stopped",
                        path.raw,
                        crate::redact::url(&page.url),
                        crate::redact::url(&next)
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
                Value::Array(a) if seg == "*" => next.extend(a.iter()),
                Value::Object(m) if seg == "*" && !m.contains_key("*") => next.extend(m.values()),
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
mod tests;

#[cfg(test)]
mod declarative_tests;
