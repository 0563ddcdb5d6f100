//! Reading `sources/*.toml`: TOML → [`schema::SourceFile`] → checked and
//! compiled [`SourceDef`]. Every error carries the file, the line and column
//! and the dotted field path, found from toml's spans.
//!
//! The file is parsed twice: once into the typed schema, once into toml's
//! spanned document tree (see `locate`), which maps a field path to a
//! position and a position back to a field path.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use scraper::Selector;
use toml::Spanned;
use url::Url;

use super::error::SourceError;
use super::locate::Doc;
use super::schema::{self, HtmlFields, HttpMethod, JsonPagination, SourceFile, SourceKindName};
use super::{
    CompiledFields, CompiledHtml, CompiledJson, CompiledMaps, CompiledPagination, FieldSel,
    JsonFieldPaths, JsonPath, KindSpec, PageRule, SourceDef, ValidDefaults, fold_label,
};
use crate::domain::Perimeter;

/// Pages per crawl are capped so that a bad `next` rule cannot crawl a site.
const MAX_PAGES_LIMIT: u32 = 100;

/// Loads and validates one source definition file.
pub fn load_file(path: &Path) -> Result<SourceDef, SourceError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| SourceError::file(path, format!("cannot read the file: {e}")))?;
    load_str(path, &text)
}

/// Loads every `*.toml` in `dir`, sorted by file name. Returns the good
/// definitions and every error: one bad file does not hide the others. Two
/// files with the same id are an error naming both (the second is dropped).
pub fn load_dir(dir: &Path) -> (Vec<SourceDef>, Vec<SourceError>) {
    let mut errors = Vec::new();
    let mut files: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml") && p.is_file())
            .collect(),
        Err(e) => {
            errors.push(SourceError::file(
                dir,
                format!("cannot read the sources directory: {e}"),
            ));
            return (Vec::new(), errors);
        }
    };
    files.sort_by(|a, b| a.file_name().cmp(&b.file_name()));

    let mut defs: Vec<SourceDef> = Vec::new();
    let mut seen: HashMap<String, PathBuf> = HashMap::new();
    for path in files {
        match load_file(&path) {
            Ok(def) => {
                if let Some(first) = seen.get(def.id.as_str()) {
                    let text = std::fs::read_to_string(&path).unwrap_or_default();
                    let doc = Doc::new(&text);
                    errors.push(doc.error(
                        &path,
                        &["id"],
                        format!(
                            "duplicate source id `{}`: already used by {}",
                            def.id,
                            first.display()
                        ),
                    ));
                } else {
                    seen.insert(def.id.as_str().to_string(), path.clone());
                    defs.push(def);
                }
            }
            Err(e) => errors.push(e),
        }
    }
    (defs, errors)
}

/// Loads a definition from its text; `path` is only used in messages.
pub fn load_str(path: &Path, text: &str) -> Result<SourceDef, SourceError> {
    let doc = Doc::new(text);
    let file: SourceFile = toml::from_str(text).map_err(|e| doc.toml_error(path, &e))?;
    Checker { path, doc: &doc }.check(file)
}

struct Checker<'p, 'd> {
    path: &'p Path,
    doc: &'d Doc<'d>,
}

impl Checker<'_, '_> {
    fn err(&self, field: &[&str], message: impl Into<String>) -> SourceError {
        self.doc.error(self.path, field, message)
    }

    fn check(&self, file: SourceFile) -> Result<SourceDef, SourceError> {
        let url = self.check_url(&["url"], file.url.get_ref())?;
        let schedule = self.check_schedule(file.schedule.get_ref())?;
        let defaults = self.check_defaults(&file.defaults)?;
        let maps = self.check_maps(&file.maps)?;
        let spec = self.check_kind(&file)?;
        Ok(SourceDef {
            path: self.path.to_path_buf(),
            id: file.id.into_inner(),
            name: file.name,
            funder: file.funder.filter(|f| !f.trim().is_empty()),
            url,
            schedule,
            enabled: file.enabled,
            priority: file.priority,
            review: file.review,
            headers: self.check_headers(file.headers)?,
            politeness: file.politeness,
            defaults,
            maps,
            spec,
        })
    }

    fn check_headers(
        &self,
        headers: BTreeMap<String, String>,
    ) -> Result<Vec<(String, String)>, SourceError> {
        for (name, value) in &headers {
            // RFC 9110 §5.1: a field name is a token.
            let token = !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
            if !token {
                return Err(self.err(
                    &["headers", name],
                    format!("invalid header name `{name}`: expected letters, digits and `-`, e.g. `Accept-Language`"),
                ));
            }
            if value.chars().any(|c| c.is_control() && c != '\t') {
                return Err(self.err(
                    &["headers", name],
                    "invalid header value: it contains a line break or control character",
                ));
            }
        }
        headers
            .iter()
            .map(|(name, raw)| {
                expand_env(raw, |var| std::env::var(var).ok())
                    .map(|value| (name.clone(), value))
                    .map_err(|why| {
                        self.err(&["headers", name], format!("header `{name}`: {why}")).with_hint(
                            "set the variable in the environment of vigie, or write `$${` for a literal `${`",
                        )
                    })
            })
            .collect()
    }

    fn check_url(&self, field: &[&str], raw: &str) -> Result<Url, SourceError> {
        let hint =
            "expected an absolute http or https URL, e.g. `https://www.example.gouv.fr/appels`";
        let url = Url::parse(raw.trim()).map_err(|e| {
            self.err(field, format!("invalid URL `{raw}`: {e}"))
                .with_hint(hint)
        })?;
        if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
            return Err(self
                .err(
                    field,
                    format!("invalid URL `{raw}`: not an http or https URL"),
                )
                .with_hint(hint));
        }
        Ok(url)
    }

    /// Header values with `${NAME}` replaced by the environment variable
    /// `NAME`, so that secrets (API tokens) stay out of the files in git. A
    /// missing variable is an error naming the header and the variable;
    /// messages never contain a header's value.
    fn check_schedule(&self, raw: &str) -> Result<String, SourceError> {
        let expected =
            "expected 5 fields: minute hour day-of-month month day-of-week, e.g. `0 6 * * *`";
        let fields = raw.split_whitespace().count();
        if fields != 5 {
            return Err(self.err(
                &["schedule"],
                format!("invalid cron expression `{raw}`: {fields} field(s), {expected}"),
            ));
        }
        croner::Cron::from_str(raw).map_err(|e| {
            self.err(
                &["schedule"],
                format!("invalid cron expression `{raw}`: {e}; {expected}"),
            )
        })?;
        Ok(raw.split_whitespace().collect::<Vec<_>>().join(" "))
    }

    fn check_defaults(&self, d: &schema::Defaults) -> Result<ValidDefaults, SourceError> {
        let perimeter = match &d.perimeter {
            Some(p) => Some(
                Perimeter::from_str(p.get_ref())
                    .map_err(|e| self.err(&["defaults", "perimeter"], e.to_string()))?,
            ),
            None => None,
        };
        Ok(ValidDefaults {
            audiences: d.audiences.clone(),
            perimeter,
            themes: d.themes.clone(),
            kind: d.kind,
        })
    }

    fn check_maps(&self, m: &schema::ValueMaps) -> Result<CompiledMaps, SourceError> {
        fn fold<V: Clone + PartialEq + std::fmt::Display>(
            c: &Checker<'_, '_>,
            table: &str,
            map: &BTreeMap<String, V>,
        ) -> Result<HashMap<String, V>, SourceError> {
            let mut out: HashMap<String, (String, V)> = HashMap::new();
            for (label, value) in map {
                let key = fold_label(label);
                if key.is_empty() {
                    return Err(c.err(&["maps", table, label], "empty label"));
                }
                if let Some((other, v)) = out.get(&key)
                    && v != value
                {
                    return Err(c.err(
                        &["maps", table, label],
                        format!(
                            "label `{label}` is the same as `{other}` once case and accents are \
                             ignored, but maps to `{value}` instead of `{v}`"
                        ),
                    ));
                }
                out.insert(key, (label.clone(), value.clone()));
            }
            Ok(out.into_iter().map(|(k, (_, v))| (k, v)).collect())
        }
        let mut perimeters = BTreeMap::new();
        for (label, text) in &m.perimeter {
            let p = Perimeter::from_str(text)
                .map_err(|e| self.err(&["maps", "perimeter", label], e.to_string()))?;
            perimeters.insert(label.clone(), p);
        }
        Ok(CompiledMaps {
            audiences: fold(self, "audiences", &m.audiences)?,
            perimeter: fold(self, "perimeter", &perimeters)?,
            themes: fold(self, "themes", &m.themes)?,
            kind: fold(self, "kind", &m.kind)?,
        })
    }

    fn check_kind(&self, file: &SourceFile) -> Result<KindSpec, SourceError> {
        let kind = file.kind;
        let tables = [
            (SourceKindName::Html, file.html.is_some()),
            (SourceKindName::Feed, file.feed.is_some()),
            (SourceKindName::Json, file.json.is_some()),
        ];
        for (other, present) in tables {
            if present && other != kind {
                return Err(self
                    .err(
                        &[other.as_str()],
                        format!(
                            "kind is {} but [{}] is present",
                            kind.as_str(),
                            other.as_str()
                        ),
                    )
                    .with_hint(format!(
                        "remove the [{}] table, or set kind = \"{}\"",
                        other.as_str(),
                        other.as_str()
                    )));
            }
        }
        match kind {
            SourceKindName::Html => {
                let html = file.html.as_ref().ok_or_else(|| {
                    self.err(&["kind"], "kind is html but there is no [html] table")
                        .with_hint("add [html] with at least `item` and `title` selectors")
                })?;
                Ok(KindSpec::Html(Box::new(self.check_html(html)?)))
            }
            SourceKindName::Feed => Ok(KindSpec::Feed(file.feed.clone().unwrap_or_default())),
            SourceKindName::Json => {
                let json = file.json.as_ref().ok_or_else(|| {
                    self.err(&["kind"], "kind is json but there is no [json] table")
                        .with_hint(
                            "add [json] with `items` and [json.fields] with at least `title`",
                        )
                })?;
                Ok(KindSpec::Json(Box::new(self.check_json(json)?)))
            }
        }
    }

    fn check_max_pages(&self, field: &[&str], n: u32) -> Result<u32, SourceError> {
        if n == 0 || n > MAX_PAGES_LIMIT {
            return Err(self.err(
                field,
                format!("max_pages is {n}: expected a number from 1 to {MAX_PAGES_LIMIT}"),
            ));
        }
        Ok(n)
    }

    fn css(&self, field: &[&str], raw: &str) -> Result<Selector, SourceError> {
        Selector::parse(raw).map_err(|e| {
            let why = match e {
                scraper::error::SelectorErrorKind::UnexpectedSelectorParseError(_) => {
                    "not a selector this parser understands".to_string()
                }
                other => other.to_string().to_lowercase(),
            };
            self.err(field, format!("invalid CSS selector `{raw}`: {why}"))
                .with_hint("expected a CSS selector such as `article.fr-card` or `h3 > a`")
        })
    }

    /// `"css"`, `"css @attr"` or `"@attr"`.
    fn field_sel(&self, field: &[&str], raw: &str) -> Result<FieldSel, SourceError> {
        let syntax = |why: &str| {
            self.err(field, format!("invalid field selector `{raw}`: {why}"))
                .with_hint("expected `css` (its text), `css @attr` (an attribute) or `@attr` (an attribute of the item)")
        };
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(syntax("it is empty"));
        }
        let (css, attr) = match trimmed.rfind('@') {
            None => (trimmed, None),
            Some(at) => {
                let (css, attr) = (&trimmed[..at], &trimmed[at + 1..]);
                if !css.is_empty() && !css.ends_with(char::is_whitespace) {
                    return Err(syntax("put a space before `@`"));
                }
                let valid = attr.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                    && attr
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':' | '.'));
                if !valid {
                    return Err(syntax("expected an attribute name after `@`"));
                }
                (css.trim(), Some(attr.to_ascii_lowercase()))
            }
        };
        let css = if css.is_empty() {
            None
        } else {
            Some(self.css(field, css)?)
        };
        Ok(FieldSel {
            css,
            attr,
            raw: raw.to_string(),
        })
    }

    fn fields(&self, base: &[&str], f: &HtmlFields) -> Result<CompiledFields, SourceError> {
        let one =
            |name: &str, v: &Option<Spanned<String>>| -> Result<Option<FieldSel>, SourceError> {
                match v {
                    Some(s) => {
                        let mut field = base.to_vec();
                        field.push(name);
                        self.field_sel(&field, s.get_ref()).map(Some)
                    }
                    None => Ok(None),
                }
            };
        Ok(CompiledFields {
            id: one("id", &f.id)?,
            title: one("title", &f.title)?,
            link: one("link", &f.link)?,
            summary: one("summary", &f.summary)?,
            deadline: one("deadline", &f.deadline)?,
            opens: one("opens", &f.opens)?,
            published: one("published", &f.published)?,
            funder: one("funder", &f.funder)?,
            kind: one("kind", &f.kind)?,
            audiences: one("audiences", &f.audiences)?,
            perimeter: one("perimeter", &f.perimeter)?,
            themes: one("themes", &f.themes)?,
        })
    }

    fn check_html(&self, html: &schema::HtmlSpec) -> Result<CompiledHtml, SourceError> {
        let item_raw = html.item.get_ref().trim();
        if item_raw.contains('@') {
            return Err(self
                .err(
                    &["html", "item"],
                    format!("invalid item selector `{item_raw}`: `@attr` is not allowed here"),
                )
                .with_hint("html.item is a plain CSS selector of one item element"));
        }
        let item = self.css(&["html", "item"], item_raw)?;
        let fields = self.fields(&["html"], &html.fields())?;
        if fields.title.is_none() {
            return Err(self
                .err(
                    &["html", "title"],
                    "missing field `title`: a listing needs a title selector",
                )
                .with_hint("add e.g. title = \".fr-card__title a\" under [html]"));
        }
        let next_page = match &html.next_page {
            Some(s) => {
                let sel = self.field_sel(&["html", "next_page"], s.get_ref())?;
                if sel.css.is_none() {
                    return Err(self.err(
                        &["html", "next_page"],
                        format!("invalid field selector `{}`: the next page link needs a CSS selector, e.g. `a[rel=next] @href`", s.get_ref()),
                    ));
                }
                Some(sel)
            }
            None => None,
        };
        let max_pages = self.check_max_pages(&["html", "max_pages"], html.max_pages)?;
        let detail = match &html.detail {
            Some(d) => Some(self.fields(&["html", "detail"], d)?),
            None => None,
        };
        Ok(CompiledHtml {
            item,
            item_raw: item_raw.to_string(),
            fields,
            next_page,
            max_pages,
            detail,
        })
    }

    fn json_path(
        &self,
        field: &[&str],
        raw: &str,
        allow_empty: bool,
    ) -> Result<JsonPath, SourceError> {
        let hint = "expected a dotted path (`data.results`, `financers.0.name`) or a JSON pointer (`/data/results`)";
        let t = raw.trim();
        if t.is_empty() {
            if allow_empty {
                return Ok(JsonPath {
                    raw: String::new(),
                    segments: Vec::new(),
                });
            }
            return Err(self.err(field, "empty path").with_hint(hint));
        }
        let segments: Vec<String> = if let Some(pointer) = t.strip_prefix('/') {
            // RFC 6901: `~1` is `/`, `~0` is `~`, in that order.
            pointer
                .split('/')
                .map(|s| s.replace("~1", "/").replace("~0", "~"))
                .collect()
        } else {
            let segs: Vec<String> = t.split('.').map(|s| s.trim().to_string()).collect();
            if segs.iter().any(String::is_empty) {
                return Err(self
                    .err(field, format!("invalid path `{raw}`: empty segment"))
                    .with_hint(hint));
            }
            segs
        };
        Ok(JsonPath {
            raw: t.to_string(),
            segments,
        })
    }

    fn check_json(&self, json: &schema::JsonSpec) -> Result<CompiledJson, SourceError> {
        let f = &json.fields;
        let opt =
            |name: &str, v: &Option<Spanned<String>>| -> Result<Option<JsonPath>, SourceError> {
                v.as_ref()
                    .map(|s| self.json_path(&["json", "fields", name], s.get_ref(), false))
                    .transpose()
            };
        let fields = JsonFieldPaths {
            id: opt("id", &f.id)?,
            title: self.json_path(&["json", "fields", "title"], f.title.get_ref(), false)?,
            link: opt("link", &f.link)?,
            summary: opt("summary", &f.summary)?,
            deadline: opt("deadline", &f.deadline)?,
            opens: opt("opens", &f.opens)?,
            published: opt("published", &f.published)?,
            funder: opt("funder", &f.funder)?,
            kind: opt("kind", &f.kind)?,
            audiences: opt("audiences", &f.audiences)?,
            perimeter: opt("perimeter", &f.perimeter)?,
            themes: opt("themes", &f.themes)?,
            link_template: match &f.link_template {
                Some(t) => {
                    let t = t.trim();
                    let abs = Url::parse(t).is_ok_and(|u| matches!(u.scheme(), "http" | "https"));
                    if !t.contains("{}") && !abs {
                        return Err(self.err(
                            &["json", "fields", "link_template"],
                            format!("invalid link_template `{t}`: expected a URL containing `{{}}` (e.g. `https://example.fr/aides/{{}}`) or an absolute base URL"),
                        ));
                    }
                    Some(t.to_string())
                }
                None => None,
            },
        };
        let items = self.json_path(&["json", "items"], &json.items, true)?;
        if json.body.is_some() && json.method != HttpMethod::Post {
            return Err(self
                .err(
                    &["json", "body"],
                    "a body is only sent with method = \"POST\"",
                )
                .with_hint("add method = \"POST\" under [json], or remove body"));
        }
        let body = json.body.as_ref().map(toml_to_json);
        let pagination = json
            .pagination
            .as_ref()
            .map(|p| self.check_pagination(p))
            .transpose()?;
        Ok(CompiledJson {
            method: json.method,
            query: json
                .query
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            body,
            items,
            fields,
            pagination,
        })
    }

    fn check_pagination(&self, p: &JsonPagination) -> Result<CompiledPagination, SourceError> {
        let here = ["json", "pagination"];
        let set = |o: &Option<String>| {
            o.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let rule = match (set(&p.next), set(&p.page_param), set(&p.offset_param)) {
            (Some(next), None, None) => {
                PageRule::Next(self.json_path(&["json", "pagination", "next"], &next, false)?)
            }
            (None, Some(param), None) => PageRule::PageParam {
                param,
                start: p.start.unwrap_or(1),
            },
            (None, None, Some(param)) => {
                if p.page_size.is_none() {
                    return Err(self.err(
                        &["json", "pagination", "offset_param"],
                        "offset_param needs page_size: the offset advances by page_size",
                    ));
                }
                PageRule::OffsetParam {
                    param,
                    start: p.start.unwrap_or(0),
                }
            }
            (None, None, None) => {
                return Err(self
                    .err(&here, "pagination has neither `next` nor `page_param`/`offset_param`")
                    .with_hint("set next = \"links.next\", page_param = \"page\" or offset_param = \"offset\", or remove [json.pagination]"));
            }
            _ => {
                return Err(self.err(
                    &here,
                    "pagination sets more than one of `next`, `page_param` and `offset_param`: expected exactly one",
                ));
            }
        };
        if p.page_size == Some(0) {
            return Err(self.err(
                &["json", "pagination", "page_size"],
                "page_size is 0: expected at least 1",
            ));
        }
        Ok(CompiledPagination {
            rule,
            page_size: p.page_size,
            max_pages: self.check_max_pages(&["json", "pagination", "max_pages"], p.max_pages)?,
        })
    }
}

/// Replaces every `${NAME}` in `raw` by `lookup(NAME)`; `$${` is a literal
/// `${`. The error names the variable, never a value.
fn expand_env(raw: &str, lookup: impl Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at..];
        if let Some(tail) = after.strip_prefix("$${") {
            out.push_str("${");
            rest = tail;
        } else if let Some(tail) = after.strip_prefix("${") {
            let end = tail.find('}').ok_or_else(|| {
                "`${` without a closing `}`: expected `${NAME}` naming an environment variable"
                    .to_string()
            })?;
            let var = &tail[..end];
            let valid = var.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                && var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid {
                return Err(format!(
                    "`${{{var}}}` is not a valid environment variable name (letters, digits, `_`)"
                ));
            }
            let value =
                lookup(var).ok_or_else(|| format!("environment variable `{var}` is not set"))?;
            out.push_str(&value);
            rest = &tail[end + 1..];
        } else {
            out.push('$');
            rest = &after[1..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// A request body written as TOML, as JSON. Dates become their TOML text.
fn toml_to_json(v: &toml::Value) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        toml::Value::String(s) => J::String(s.clone()),
        toml::Value::Integer(i) => J::from(*i),
        toml::Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
        toml::Value::Boolean(b) => J::Bool(*b),
        toml::Value::Datetime(d) => J::String(d.to_string()),
        toml::Value::Array(a) => J::Array(a.iter().map(toml_to_json).collect()),
        toml::Value::Table(t) => J::Object(
            t.iter()
                .map(|(k, v)| (k.clone(), toml_to_json(v)))
                .collect(),
        ),
    }
}

#[cfg(test)]
#[path = "load_tests.rs"]
mod tests;
