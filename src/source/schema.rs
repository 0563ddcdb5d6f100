//! The TOML schema of a source definition (`sources/*.toml`), as serde types.
//!
//! Every table denies unknown keys, so a typo in a curator's file is an error
//! that names the key instead of a silently ignored setting. Selector and
//! path strings are kept raw here; `source::load` compiles and checks them
//! and reports the file, line and field of anything wrong.

use std::collections::BTreeMap;

use serde::Deserialize;

pub use crate::fetch::HttpMethod;
use toml::Spanned;

use crate::domain::{Audience, CallKind, SourceId, Theme};

/// One source definition file, as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceFile {
    pub id: Spanned<SourceId>,
    pub name: String,
    /// The funder named on calls from this source when an item does not say.
    pub funder: Option<String>,
    pub kind: SourceKindName,
    /// The first URL to fetch (listing page, feed or API endpoint).
    pub url: Spanned<String>,
    /// A 5-field cron expression in Europe/Paris (`0 6 * * *`).
    pub schedule: Spanned<String>,
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Higher wins when several sources describe the same call (the funder's
    /// own page over relays and aggregators).
    #[serde(default)]
    pub priority: i32,
    /// New calls from this source wait for a curator's approval.
    #[serde(default)]
    pub review: bool,
    /// The IANA time zone of the hours the source writes
    /// (`America/Cayenne`); by default the zone of `[defaults] perimeter`
    /// (an overseas territory's own), else Europe/Paris.
    pub timezone: Option<Spanned<String>>,
    /// Extra request headers (e.g. `Accept`, an API key header).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// How a `json` source obtains the bearer token its API wants.
    pub auth: Option<AuthSpec>,
    #[serde(default)]
    pub politeness: PolitenessOverride,
    #[serde(default)]
    pub defaults: Defaults,
    /// Value maps from the source's own labels to Vigie codes.
    #[serde(default)]
    pub maps: ValueMaps,
    pub html: Option<HtmlSpec>,
    pub feed: Option<FeedSpec>,
    pub json: Option<JsonSpec>,
    /// `[template]`: this file is expanded into one source per row of a
    /// data file by `source::template`, which reads and checks the table.
    pub template: Option<toml::Value>,
}

fn yes() -> bool {
    true
}

/// `[auth]`: a long-lived key (from the environment) exchanged at a token
/// endpoint for a short-lived token, sent with every API request. Checked
/// and compiled by `source::load_auth`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSpec {
    /// The token endpoint (`https://…/api/connexion/`).
    pub token_url: String,
    /// `POST` (default) or `GET`.
    #[serde(default = "post")]
    pub method: HttpMethod,
    /// The header that carries the key to the token endpoint.
    pub key_header: String,
    /// The key: `${NAME}` read from the environment (never the key itself).
    pub key: String,
    /// Where the token is in the endpoint's JSON answer (default `token`).
    #[serde(default = "token_path")]
    pub token_path: String,
    /// The header that carries the token (default `Authorization`).
    #[serde(default = "authorization")]
    pub header: String,
    /// Written before the token in that header (default `Bearer `).
    #[serde(default = "bearer")]
    pub prefix: String,
    /// How long a token is valid, in seconds.
    pub lifetime_secs: u64,
    /// A token this close to its end is renewed before use, in seconds
    /// (default a tenth of the lifetime).
    pub renew_before_secs: Option<u64>,
}

fn post() -> HttpMethod {
    HttpMethod::Post
}

fn token_path() -> String {
    "token".to_string()
}

fn authorization() -> String {
    "Authorization".to_string()
}

fn bearer() -> String {
    "Bearer ".to_string()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKindName {
    Html,
    Feed,
    Json,
}

impl SourceKindName {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKindName::Html => "html",
            SourceKindName::Feed => "feed",
            SourceKindName::Json => "json",
        }
    }
}

/// Per-source relaxations or tightenings of the global politeness settings.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolitenessOverride {
    /// Minimum delay between two requests to this source's host, in ms.
    pub min_spacing_ms: Option<u64>,
    /// Request timeout in seconds.
    pub timeout_secs: Option<u64>,
    /// Maximum response body size in bytes.
    pub max_body_bytes: Option<u64>,
    /// Set to false only for APIs whose robots.txt is not meant for them
    /// and whose operator allows automated access.
    pub robots: Option<bool>,
}

/// Values applied to every item of the source when the item says nothing.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Defaults {
    #[serde(default)]
    pub audiences: Vec<Audience>,
    /// `europe`, `france`, `region:76`, `department:95`, ... (see `Perimeter`).
    pub perimeter: Option<Spanned<String>>,
    #[serde(default)]
    pub themes: Vec<Theme>,
    pub kind: Option<CallKind>,
}

/// Maps from labels used by a source to Vigie codes. Keys are compared
/// case- and accent-insensitively; values are checked at load.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValueMaps {
    #[serde(default)]
    pub audiences: BTreeMap<String, Audience>,
    /// Label → perimeter text (`"Occitanie (Région)" = "region:76"`).
    #[serde(default)]
    pub perimeter: BTreeMap<String, String>,
    #[serde(default)]
    pub themes: BTreeMap<String, Theme>,
    #[serde(default)]
    pub kind: BTreeMap<String, CallKind>,
}

/// A field extracted from HTML: `"css selector"` (its text),
/// `"css selector @attr"` (an attribute), or `"@attr"` (an attribute of the
/// item element itself). Compiled by `source::load`.
pub type FieldSelector = Spanned<String>;

/// A field of `[html]`, `[html.detail]` or `[json.fields]`: a string (one
/// selector or path), a table `{ path|selector = "…", replace = "…", regex =
/// "…", capture = "…", trim = "…" }` (the value transformed), or an array of
/// those (several places, see `extract::transform`). Kept as TOML here and
/// checked by `source::load`, which reports unknown keys and bad regexes.
pub type FieldSpec = toml::Value;

/// One `[[json.filters]]` or `[[html.filters]]` entry: where the value is
/// (`path` for json, `selector` for html) and exactly one test.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilterSpec {
    pub path: Option<String>,
    pub selector: Option<String>,
    /// The value is exactly this (a string, an integer or a boolean).
    pub equals: Option<toml::Value>,
    /// The value is one of these.
    pub one_of: Option<Vec<toml::Value>>,
    /// A regex that matches somewhere in the value.
    pub matches: Option<String>,
    /// Drop the items that pass the test instead (items without the value
    /// are then kept).
    #[serde(default)]
    pub exclude: bool,
}

/// Selectors for the fields of one item, shared by the listing and the
/// detail page. Every field is optional here; `load` requires what each
/// place needs (a listing needs `title`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HtmlFields {
    pub id: Option<FieldSpec>,
    pub title: Option<FieldSpec>,
    pub link: Option<FieldSpec>,
    pub summary: Option<FieldSpec>,
    pub deadline: Option<FieldSpec>,
    pub opens: Option<FieldSpec>,
    pub published: Option<FieldSpec>,
    pub funder: Option<FieldSpec>,
    pub kind: Option<FieldSpec>,
    /// Every match is one audience label (mapped through `[maps.audiences]`).
    pub audiences: Option<FieldSpec>,
    pub perimeter: Option<FieldSpec>,
    /// Every match is one theme label (mapped through `[maps.themes]`).
    pub themes: Option<FieldSpec>,
}

/// The `[html]` table. The listing's field selectors are written directly in
/// it (`title = "h2 a"`), like [`HtmlFields`]; they are spelled out here
/// rather than `#[serde(flatten)]`ed because serde buffers flattened fields,
/// which loses toml's spans (every `Spanned` field then fails to
/// deserialize) and the line numbers of unknown keys.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HtmlSpec {
    /// Selector of one item on the listing page.
    pub item: FieldSelector,
    pub id: Option<FieldSpec>,
    pub title: Option<FieldSpec>,
    pub link: Option<FieldSpec>,
    pub summary: Option<FieldSpec>,
    pub deadline: Option<FieldSpec>,
    pub opens: Option<FieldSpec>,
    pub published: Option<FieldSpec>,
    pub funder: Option<FieldSpec>,
    pub kind: Option<FieldSpec>,
    pub audiences: Option<FieldSpec>,
    pub perimeter: Option<FieldSpec>,
    pub themes: Option<FieldSpec>,
    /// Selector of the "next page" link (`"a[rel=next] @href"`), with an
    /// optional transform of the address it gives.
    pub next_page: Option<FieldSpec>,
    /// At most this many listing pages per crawl (default 5).
    #[serde(default = "default_max_pages")]
    pub max_pages: u32,
    /// Follow each item's link and extract more fields there.
    pub detail: Option<HtmlFields>,
    /// `[[html.filters]]`: keep only the listing items every filter keeps.
    #[serde(default)]
    pub filters: Vec<FilterSpec>,
}

impl HtmlSpec {
    /// The listing's field selectors, in the same shape as `[html.detail]`.
    pub fn fields(&self) -> HtmlFields {
        HtmlFields {
            id: self.id.clone(),
            title: self.title.clone(),
            link: self.link.clone(),
            summary: self.summary.clone(),
            deadline: self.deadline.clone(),
            opens: self.opens.clone(),
            published: self.published.clone(),
            funder: self.funder.clone(),
            kind: self.kind.clone(),
            audiences: self.audiences.clone(),
            perimeter: self.perimeter.clone(),
            themes: self.themes.clone(),
        }
    }
}

fn default_max_pages() -> u32 {
    5
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedSpec {
    /// Keep an entry only if its title or summary contains one of these
    /// (case- and accent-insensitive). Empty: keep all.
    #[serde(default)]
    pub include: Vec<String>,
    /// Drop an entry whose title or summary contains one of these.
    #[serde(default)]
    pub exclude: Vec<String>,
    /// `[feed.fields]`: call fields read from parts of each entry.
    pub fields: Option<FeedFields>,
}

/// `[feed.fields]`: each field reads a part of the entry — `title`,
/// `description` (RSS description, Atom summary), `content` (the full
/// text) or `categories` (every category) — as a string, a table
/// `{ from = "…", capture = "…", … }` (the value transformed) or a list of
/// those, like the fields of `[json.fields]`. Checked by `source::load`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedFields {
    pub deadline: Option<FieldSpec>,
    pub opens: Option<FieldSpec>,
    pub funder: Option<FieldSpec>,
    pub kind: Option<FieldSpec>,
    /// Every value is one audience label (mapped through `[maps.audiences]`).
    pub audiences: Option<FieldSpec>,
    pub perimeter: Option<FieldSpec>,
    /// Every value is one theme label (mapped through `[maps.themes]`).
    pub themes: Option<FieldSpec>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonSpec {
    #[serde(default)]
    pub method: HttpMethod,
    /// Query parameters added to `url`.
    #[serde(default)]
    pub query: BTreeMap<String, String>,
    /// A JSON request body, written as TOML (sent with POST).
    pub body: Option<toml::Value>,
    /// `[json.form]`: a multipart/form-data body (sent with POST). Each key
    /// is one part: a string, number or boolean is a text field; an array
    /// or a table is a JSON part typed `application/json`.
    pub form: Option<toml::Table>,
    /// `[json.urlencoded]`: an application/x-www-form-urlencoded body (sent
    /// with POST) of strings, numbers or booleans.
    pub urlencoded: Option<toml::Table>,
    /// Path to the item array: dotted (`data.results`), JSON pointer
    /// (`/data/results`), or empty for a root array; `$` (or a path from
    /// `$`, `$.data.call`) may also end on an object, the page's one item.
    #[serde(default)]
    pub items: String,
    pub fields: JsonFields,
    pub pagination: Option<JsonPagination>,
    /// `[[json.filters]]`: keep only the items every filter keeps.
    #[serde(default)]
    pub filters: Vec<FilterSpec>,
}

/// Paths to each field inside one item, dotted (`financers.0.name`) or JSON
/// pointer (`/financers/0/name`). A path that reaches an array yields every
/// element (for audiences and themes) or the first (for text fields).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonFields {
    pub id: Option<FieldSpec>,
    pub title: FieldSpec,
    pub link: Option<FieldSpec>,
    pub summary: Option<FieldSpec>,
    pub deadline: Option<FieldSpec>,
    pub opens: Option<FieldSpec>,
    pub published: Option<FieldSpec>,
    pub funder: Option<FieldSpec>,
    pub kind: Option<FieldSpec>,
    pub audiences: Option<FieldSpec>,
    pub perimeter: Option<FieldSpec>,
    pub themes: Option<FieldSpec>,
    /// How to build an item's URL when the API returns a slug or an id
    /// rather than a URL: `{}` is replaced by the value of `link`, or by
    /// `id` when there is no link (`https://x.fr/aides/{}/`); a template
    /// without `{}` is a base URL the value is resolved against. A `link`
    /// that is already an absolute http(s) URL is kept as is.
    pub link_template: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonPagination {
    /// Path to the next page's URL in the response (`next`, `links.next`).
    pub next: Option<String>,
    /// Name of a page-number parameter (query string for GET, query string
    /// too for POST: APIs such as the EU search API take it there).
    pub page_param: Option<String>,
    /// Name of an offset parameter; it advances by `page_size`.
    pub offset_param: Option<String>,
    /// Number of items a full page holds; a shorter page ends pagination.
    pub page_size: Option<u32>,
    /// First page number (1 by default) or first offset (0).
    pub start: Option<u64>,
    /// At most this many pages per crawl (default 10).
    #[serde(default = "default_json_pages")]
    pub max_pages: u32,
}

fn default_json_pages() -> u32 {
    10
}
