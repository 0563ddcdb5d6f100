//! Validation of the kind-specific tables of a source definition:
//! `[html]` (CSS selectors, fields, pagination, detail pages) and `[json]`
//! (request, item and field paths, pagination). The common fields are
//! checked in `load.rs`; both halves share its [`Checker`].

use scraper::Selector;
use url::Url;

use super::load::{Checker, MAX_PAGES_LIMIT};
use super::schema::{self, FieldSpec, HtmlFields, JsonPagination, SourceFile, SourceKindName};
use super::{
    CompiledFields, CompiledHtml, CompiledJson, CompiledPagination, FieldSel, HtmlField, JsonField,
    JsonFieldPaths, JsonPath, KindSpec, PageRule,
};
use crate::source::error::SourceError;

impl Checker<'_, '_> {
    pub(super) fn check_kind(&self, file: &SourceFile) -> Result<KindSpec, SourceError> {
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
            SourceKindName::Feed => Ok(KindSpec::Feed(Box::new(
                self.check_feed(file.feed.as_ref())?,
            ))),
            SourceKindName::Json => {
                let json = file.json.as_ref().ok_or_else(|| {
                    self.err(&["kind"], "kind is json but there is no [json] table")
                        .with_hint(
                            "add [json] with `items` and [json.fields] with at least `title`",
                        )
                })?;
                Ok(KindSpec::Json(Box::new(self.check_json(json, file)?)))
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
        let place = |field: &[&str], raw: &str| self.field_sel(field, raw);
        let one = |name: &str, v: &Option<FieldSpec>| -> Result<Option<HtmlField>, SourceError> {
            match v {
                Some(s) => {
                    let mut field = base.to_vec();
                    field.push(name);
                    self.field_rule(&field, s, "selector", &place).map(Some)
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
            Some(spec) => Some(self.next_page(spec)?),
            None => None,
        };
        let max_pages = self.check_max_pages(&["html", "max_pages"], html.max_pages)?;
        let detail = match &html.detail {
            Some(d) => Some(self.fields(&["html", "detail"], d)?),
            None => None,
        };
        let place = |field: &[&str], raw: &str| self.field_sel(field, raw);
        let filters = self.item_filters("html", &html.filters, "selector", &place)?;
        Ok(CompiledHtml {
            item,
            item_raw: item_raw.to_string(),
            fields,
            next_page,
            max_pages,
            detail,
            filters,
        })
    }

    /// `next_page`: like a field (one selector or several, each with its
    /// transform), but every selector must find an element in the page and
    /// reads its `href` unless it names another attribute.
    fn next_page(&self, spec: &FieldSpec) -> Result<HtmlField, SourceError> {
        let field = ["html", "next_page"];
        let place = |field: &[&str], raw: &str| {
            let mut sel = self.field_sel(field, raw)?;
            if sel.css.is_none() {
                return Err(self.err(
                    field,
                    format!("invalid field selector `{raw}`: the next page link needs a CSS selector, e.g. `a[rel=next] @href`"),
                ));
            }
            sel.attr.get_or_insert_with(|| "href".to_string());
            Ok(sel)
        };
        self.field_rule(&field, spec, "selector", &place)
    }

    pub(super) fn json_path(
        &self,
        field: &[&str],
        raw: &str,
        allow_empty: bool,
    ) -> Result<JsonPath, SourceError> {
        let hint = "expected a dotted path (`data.results`, `financers.0.name`, `deadlines[*].date`, `$` for the value itself) or a JSON pointer (`/data/results`)";
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
        } else if t == "$" || t == "." {
            Vec::new()
        } else {
            let dotted = t
                .strip_prefix("$.")
                .or_else(|| t.strip_prefix('$'))
                .unwrap_or(t);
            let mut segs = Vec::new();
            for part in dotted.split('.') {
                let part = part.trim();
                segs.extend(split_brackets(part).ok_or_else(|| {
                    let why = if part.is_empty() {
                        "empty segment".to_string()
                    } else {
                        format!("bad segment `{part}` (a bracket holds a number or `*`)")
                    };
                    self.err(field, format!("invalid path `{raw}`: {why}"))
                        .with_hint(hint)
                })?);
            }
            segs
        };
        Ok(JsonPath {
            raw: t.to_string(),
            segments,
        })
    }

    fn check_json(
        &self,
        json: &schema::JsonSpec,
        file: &SourceFile,
    ) -> Result<CompiledJson, SourceError> {
        let f = &json.fields;
        let place = |field: &[&str], raw: &str| self.json_path(field, raw, false);
        let opt = |name: &str, v: &Option<FieldSpec>| -> Result<Option<JsonField>, SourceError> {
            v.as_ref()
                .map(|s| self.field_rule(&["json", "fields", name], s, "path", &place))
                .transpose()
        };
        let fields = JsonFieldPaths {
            id: opt("id", &f.id)?,
            title: self.field_rule(&["json", "fields", "title"], &f.title, "path", &place)?,
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
        if items.segments.iter().any(|s| s == "*") {
            return Err(self
                .err(
                    &["json", "items"],
                    format!(
                        "invalid items path `{}`: `*` is not allowed here",
                        items.raw
                    ),
                )
                .with_hint(
                    "json.items names one array (or, from `$`, one object); use `*` in field paths",
                ));
        }
        let filters = self.item_filters("json", &json.filters, "path", &place)?;
        let body = self.check_body(json, &file.headers)?;
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
            filters,
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

/// `name`, `name[0]`, `name[*][1]`, `[*]`, `*` as path segments; `None`
/// for an empty segment or a bracket holding neither a number nor `*`.
fn split_brackets(part: &str) -> Option<Vec<String>> {
    let (name, mut rest) = match part.find('[') {
        Some(i) => (&part[..i], &part[i..]),
        None => (part, ""),
    };
    let mut segs = Vec::new();
    if !name.is_empty() {
        segs.push(name.to_string());
    } else if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let inner = rest.strip_prefix('[')?;
        let close = inner.find(']')?;
        let index = inner[..close].trim();
        if index != "*" && (index.is_empty() || !index.bytes().all(|b| b.is_ascii_digit())) {
            return None;
        }
        segs.push(index.to_string());
        rest = &inner[close + 1..];
    }
    Some(segs)
}

#[cfg(test)]
#[path = "load_kind_tests.rs"]
mod tests;
