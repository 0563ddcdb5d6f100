//! Source definitions: `sources/*.toml` loaded, validated and compiled into
//! [`SourceDef`]s. An error names the file, the line and the field, and says
//! what was expected. First stage of the pipeline:
//! **sources** → schedule → fetch → extract → normalize → store.
//!
//! `schema` is the TOML as written; `load` checks it and compiles selectors,
//! paths, codes and maps once, so the extract stage never meets a bad
//! selector or an unknown code at crawl time.

pub mod auth;
pub mod error;
mod kind;
pub mod load;
mod load_auth;
mod load_body;
mod load_feed;
mod load_fields;
mod load_kind;
mod load_numbers;
mod load_zone;
pub(crate) mod locate;
pub mod schema;
pub mod template;
mod template_data;
pub mod transform;

use std::collections::HashMap;
use std::path::PathBuf;

use scraper::Selector;
use url::Url;

use crate::domain::{Audience, CallKind, PerimeterSet, SourceId, Theme};
use transform::{FieldRule, ItemFilter};

pub use auth::{AuthDef, Secret};
pub use error::SourceError;
pub use load::{load_dir, load_file, load_path};
pub use template::TemplateRow;

/// A validated, compiled source definition.
#[derive(Debug, Clone)]
pub struct SourceDef {
    pub path: PathBuf,
    pub id: SourceId,
    pub name: String,
    pub funder: Option<String>,
    pub url: Url,
    /// A validated 5-field cron expression, read in Europe/Paris.
    pub schedule: String,
    pub enabled: bool,
    pub priority: i32,
    pub review: bool,
    pub headers: Vec<(String, String)>,
    /// `[auth]`: the token the API wants, obtained from a key.
    pub auth: Option<AuthDef>,
    pub politeness: schema::PolitenessOverride,
    pub defaults: ValidDefaults,
    /// The zone in which the source's dates without an offset are read:
    /// `timezone`, else that of `[defaults] perimeter`, else Europe/Paris.
    pub time_zone: chrono_tz::Tz,
    pub maps: CompiledMaps,
    pub spec: KindSpec,
    /// For a source expanded from a template (`path`), its row of the
    /// template's data file.
    pub template: Option<TemplateRow>,
}

/// `[defaults]`, with the perimeter parsed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValidDefaults {
    pub audiences: Vec<Audience>,
    /// One territory or several (`region:84,region:27`).
    pub perimeter: Option<PerimeterSet>,
    pub themes: Vec<Theme>,
    pub kind: Option<CallKind>,
}

/// `[maps]`, keyed by [`fold_label`] of the source's labels.
#[derive(Debug, Clone, Default)]
pub struct CompiledMaps {
    pub(crate) audiences: HashMap<String, Audience>,
    pub(crate) perimeter: HashMap<String, PerimeterSet>,
    pub(crate) themes: HashMap<String, Theme>,
    pub(crate) kind: HashMap<String, CallKind>,
}

impl CompiledMaps {
    pub fn audience(&self, label: &str) -> Option<Audience> {
        self.audiences.get(&fold_label(label)).copied()
    }

    pub fn perimeter(&self, label: &str) -> Option<PerimeterSet> {
        self.perimeter.get(&fold_label(label)).cloned()
    }

    pub fn theme(&self, label: &str) -> Option<Theme> {
        self.themes.get(&fold_label(label)).copied()
    }

    pub fn kind(&self, label: &str) -> Option<CallKind> {
        self.kind.get(&fold_label(label)).copied()
    }
}

/// The comparison key of a label or keyword: accents removed (deunicode),
/// lowercase, whitespace collapsed to single spaces, trimmed. "  Région
/// Île-de-France " and "region ile-de-france" are the same key.
pub fn fold_label(s: &str) -> String {
    let ascii = deunicode::deunicode(s).to_lowercase();
    ascii.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// What to do with the pages of a source, by kind.
#[derive(Debug, Clone)]
pub enum KindSpec {
    Html(Box<CompiledHtml>),
    Feed(Box<CompiledFeed>),
    Json(Box<CompiledJson>),
}

impl KindSpec {
    pub fn kind_name(&self) -> schema::SourceKindName {
        match self {
            KindSpec::Html(_) => schema::SourceKindName::Html,
            KindSpec::Feed(_) => schema::SourceKindName::Feed,
            KindSpec::Json(_) => schema::SourceKindName::Json,
        }
    }
}

/// The part of a feed entry a `[feed.fields]` field reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedPart {
    Title,
    /// RSS `description`, Atom `summary`, as text.
    Description,
    /// RSS `content:encoded`, Atom `content`, as text.
    Content,
    /// Every category (its term), one value each.
    Categories,
}

impl FeedPart {
    pub const NAMES: &[&str] = &["title", "description", "content", "categories"];

    pub fn parse(name: &str) -> Option<FeedPart> {
        match name {
            "title" => Some(FeedPart::Title),
            "description" => Some(FeedPart::Description),
            "content" => Some(FeedPart::Content),
            "categories" => Some(FeedPart::Categories),
            _ => None,
        }
    }
}

/// A feed field: one or several parts of the entry, each with its transform.
pub type FeedField = FieldRule<FeedPart>;

/// Compiled `[feed.fields]`.
#[derive(Debug, Clone, Default)]
pub struct FeedFieldRules {
    pub deadline: Option<FeedField>,
    pub opens: Option<FeedField>,
    pub funder: Option<FeedField>,
    pub kind: Option<FeedField>,
    pub audiences: Option<FeedField>,
    pub perimeter: Option<FeedField>,
    pub themes: Option<FeedField>,
}

/// A compiled `[feed]` table.
#[derive(Debug, Clone, Default)]
pub struct CompiledFeed {
    /// Keywords, as written (folded when compared).
    pub include: Vec<String>,
    pub exclude: Vec<String>,
    pub fields: FeedFieldRules,
}

/// A compiled field selector: `"css"` (text of the first match),
/// `"css @attr"` (attribute of the first match), `"@attr"` (attribute of the
/// item element itself).
#[derive(Debug, Clone)]
pub struct FieldSel {
    /// `None` for `"@attr"`: the item element itself.
    pub css: Option<Selector>,
    pub attr: Option<String>,
    /// As written, for messages.
    pub raw: String,
}

/// An HTML field: one or several selectors, each with its transform.
pub type HtmlField = FieldRule<FieldSel>;

/// Compiled selectors for the fields of one item.
#[derive(Debug, Clone, Default)]
pub struct CompiledFields {
    pub id: Option<HtmlField>,
    pub title: Option<HtmlField>,
    pub link: Option<HtmlField>,
    pub summary: Option<HtmlField>,
    pub deadline: Option<HtmlField>,
    pub opens: Option<HtmlField>,
    pub published: Option<HtmlField>,
    pub funder: Option<HtmlField>,
    pub kind: Option<HtmlField>,
    pub audiences: Option<HtmlField>,
    pub perimeter: Option<HtmlField>,
    pub themes: Option<HtmlField>,
}

/// A compiled `[html]` table.
#[derive(Debug, Clone)]
pub struct CompiledHtml {
    pub item: Selector,
    /// The item selector as written, for warnings.
    pub item_raw: String,
    /// Listing fields; `title` is always present.
    pub fields: CompiledFields,
    /// Without `@attr`, the `href` of the first match.
    pub next_page: Option<HtmlField>,
    pub max_pages: u32,
    pub detail: Option<CompiledFields>,
    /// `[[html.filters]]`: listing items failing one are dropped.
    pub filters: Vec<ItemFilter<FieldSel>>,
}

/// A path into a JSON document, parsed from dotted (`data.results`,
/// `financers.0.name`, `deadlines[*].date`, `$.data`) or JSON pointer
/// (`/data/results`) form. No segment: the value itself. A `*` segment
/// stands for every element of an array (every value of an object).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonPath {
    pub raw: String,
    pub segments: Vec<String>,
}

/// A JSON field: one or several paths, each with its transform.
pub type JsonField = FieldRule<JsonPath>;

/// Compiled `[json.fields]`.
#[derive(Debug, Clone)]
pub struct JsonFieldPaths {
    pub id: Option<JsonField>,
    pub title: JsonField,
    pub link: Option<JsonField>,
    pub summary: Option<JsonField>,
    pub deadline: Option<JsonField>,
    pub opens: Option<JsonField>,
    pub published: Option<JsonField>,
    pub funder: Option<JsonField>,
    pub kind: Option<JsonField>,
    pub audiences: Option<JsonField>,
    pub perimeter: Option<JsonField>,
    pub themes: Option<JsonField>,
    /// Contains `{}` or is an absolute base URL.
    pub link_template: Option<String>,
}

/// How the next page of an API is found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageRule {
    /// The response holds the next page's URL at this path.
    Next(JsonPath),
    /// A page-number query parameter, first page `start`.
    PageParam { param: String, start: u64 },
    /// An offset query parameter advancing by `page_size`, first `start`.
    OffsetParam { param: String, start: u64 },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompiledPagination {
    pub rule: PageRule,
    /// Required with `OffsetParam`.
    pub page_size: Option<u32>,
    pub max_pages: u32,
}

/// A compiled `[json]` table.
#[derive(Debug, Clone)]
pub struct CompiledJson {
    pub method: schema::HttpMethod,
    pub query: Vec<(String, String)>,
    /// The POST body: `body` as JSON, `[json.form]` or `[json.urlencoded]`.
    pub body: Option<crate::fetch::body::RequestBody>,
    pub items: JsonPath,
    pub fields: JsonFieldPaths,
    pub pagination: Option<CompiledPagination>,
    /// `[[json.filters]]`: items failing one are dropped.
    pub filters: Vec<ItemFilter<JsonPath>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_fold_case_accents_and_spaces() {
        assert_eq!(
            fold_label("  Région\n Île-de-France "),
            "region ile-de-france"
        );
        assert_eq!(fold_label("COLLECTIVITÉS"), fold_label("collectivites"));
    }
}
