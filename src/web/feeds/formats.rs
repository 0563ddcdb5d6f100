//! The three feed formats, built with their libraries (atom_syndication,
//! rss, serde for JSON Feed), never by string templates: every text is
//! escaped by the writer.
//!
//! One entry per call, identified by its page's URL (stable across
//! crawls); `updated` is the call's own (it moves when a deadline is
//! extended), the content says the deadline, funder, territory and kind in
//! French before the summary.

use atom_syndication as atom;
use chrono::{DateTime, FixedOffset, Utc};
use serde::Serialize;

use super::Selection;
use crate::digest::french;
use crate::store::CallRecord;
use crate::web::cache::Cacheable;
use crate::web::views::kind_label;

const FEED_TITLE: &str = "Vigie — appels à projets pour les collectivités";
const FEED_DESCRIPTION: &str = "Les appels à projets et à manifestation d'intérêt ouverts aux \
     collectivités, rassemblés depuis les sites des financeurs publics.";

/// A date for feeds whose selection is empty: fixed, so that an empty
/// feed's entity tag does not change from one request to the next.
fn epoch() -> DateTime<FixedOffset> {
    DateTime::<Utc>::UNIX_EPOCH.fixed_offset()
}

/// Text as XML 1.0 and iCalendar TEXT accept it: CR LF and lone CR become
/// LF, tab stays, every other control character (C0, DEL, C1) and the
/// non-characters U+FFFE/U+FFFF are dropped. The store's text is already
/// normalized; this keeps a stray byte from making a whole feed
/// unreadable (a reader rejects the document, not the entry).
pub(crate) fn plain(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push('\n');
            }
            '\n' | '\t' => out.push(c),
            '\u{FFFE}' | '\u{FFFF}' => {}
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// [`plain`] on one line: line breaks and tabs become spaces (titles,
/// names).
pub(crate) fn one_line(s: &str) -> String {
    plain(s).replace(['\n', '\t'], " ")
}

fn page_url(site: &str, c: &CallRecord) -> String {
    format!("{site}/appels/{}", c.id)
}

/// The feed's own title: the search, when there is one.
fn title(s: &Selection) -> String {
    match s.query.text.as_deref().filter(|t| !t.trim().is_empty()) {
        Some(q) => format!("{FEED_TITLE} — « {} »", one_line(q)),
        None => FEED_TITLE.to_string(),
    }
}

/// The entry's text in French: key facts, then the funder's summary.
pub(crate) fn content(c: &CallRecord) -> String {
    let mut out = String::new();
    match &c.deadline {
        Some(d) => out.push_str(&format!("Date limite : {}\n", french::deadline_phrase(d))),
        None => out.push_str("Date limite : non précisée\n"),
    }
    if c.deadlines.len() > 1 {
        let all: Vec<String> = c.deadlines.iter().map(french::date_long).collect();
        out.push_str(&format!("Dates de clôture : {}\n", all.join(" ; ")));
    }
    if let Some(f) = &c.funder {
        out.push_str(&format!("Financeur : {}\n", one_line(f)));
    }
    out.push_str(&format!(
        "Territoire : {}\n",
        french::call_perimeter_label(&c.perimeter)
    ));
    out.push_str(&format!("Type : {}\n", kind_label(c.kind)));
    if !c.summary_text.trim().is_empty() {
        out.push('\n');
        out.push_str(c.summary_text.trim());
        out.push('\n');
    }
    plain(&out)
}

pub fn atom(s: &Selection) -> anyhow::Result<Cacheable> {
    let self_url = format!("{}{}", s.site, s.query.url("/flux.atom"));
    let alternate = format!("{}{}", s.site, s.query.url("/appels"));
    let updated = s
        .calls
        .iter()
        .map(|c| c.updated)
        .max()
        .unwrap_or_else(epoch);
    let entries: Vec<atom::Entry> = s
        .calls
        .iter()
        .map(|c| {
            let url = page_url(&s.site, c);
            atom::EntryBuilder::default()
                .title(atom::Text::plain(one_line(&c.title)))
                .id(url.clone())
                .updated(c.updated)
                .published(Some(c.first_seen))
                .links(vec![
                    atom::LinkBuilder::default()
                        .href(url)
                        .rel("alternate".to_string())
                        .mime_type(Some("text/html".to_string()))
                        .build(),
                ])
                .authors(vec![
                    atom::PersonBuilder::default()
                        .name(
                            c.funder
                                .as_deref()
                                .map(one_line)
                                .unwrap_or_else(|| "Financeur non précisé".into()),
                        )
                        .build(),
                ])
                .categories(
                    c.themes
                        .iter()
                        .map(|t| {
                            atom::CategoryBuilder::default()
                                .term(t.as_str().to_string())
                                .label(Some(t.label().to_string()))
                                .build()
                        })
                        .collect::<Vec<_>>(),
                )
                .content(Some(
                    atom::ContentBuilder::default()
                        .value(Some(content(c)))
                        .content_type(Some("text".to_string()))
                        .build(),
                ))
                .build()
        })
        .collect();
    let feed = atom::FeedBuilder::default()
        .title(atom::Text::plain(title(s)))
        .subtitle(Some(atom::Text::plain(FEED_DESCRIPTION)))
        .id(self_url.clone())
        .updated(updated)
        .lang(Some("fr".to_string()))
        .authors(vec![
            atom::PersonBuilder::default()
                .name("Vigie".to_string())
                .uri(Some(s.site.clone()))
                .build(),
        ])
        .generator(Some(atom::Generator {
            value: "Vigie".into(),
            uri: None,
            version: Some(env!("CARGO_PKG_VERSION").into()),
        }))
        .links(vec![
            atom::LinkBuilder::default()
                .href(self_url)
                .rel("self".to_string())
                .mime_type(Some("application/atom+xml".to_string()))
                .build(),
            atom::LinkBuilder::default()
                .href(alternate)
                .rel("alternate".to_string())
                .mime_type(Some("text/html".to_string()))
                .build(),
        ])
        .entries(entries)
        .build();
    let body = feed.write_to(Vec::new())?;
    Ok(Cacheable::new(
        "application/atom+xml; charset=utf-8",
        body,
        s.last_modified(),
    ))
}

pub fn rss(s: &Selection) -> anyhow::Result<Cacheable> {
    let self_url = format!("{}{}", s.site, s.query.url("/flux.rss"));
    let alternate = format!("{}{}", s.site, s.query.url("/appels"));
    let items: Vec<rss::Item> = s
        .calls
        .iter()
        .map(|c| {
            let url = page_url(&s.site, c);
            rss::ItemBuilder::default()
                .title(Some(one_line(&c.title)))
                .link(Some(url.clone()))
                .guid(Some(
                    rss::GuidBuilder::default()
                        .value(url)
                        .permalink(true)
                        .build(),
                ))
                .pub_date(Some(c.updated.to_rfc2822()))
                .description(Some(content(c)))
                .categories(
                    c.themes
                        .iter()
                        .map(|t| {
                            rss::CategoryBuilder::default()
                                .name(t.label().to_string())
                                .build()
                        })
                        .collect::<Vec<_>>(),
                )
                .build()
        })
        .collect();
    let last = s
        .calls
        .iter()
        .map(|c| c.updated)
        .max()
        .unwrap_or_else(epoch);
    let channel = rss::ChannelBuilder::default()
        .title(title(s))
        .link(alternate)
        .description(FEED_DESCRIPTION.to_string())
        .language(Some("fr".to_string()))
        .last_build_date(Some(last.to_rfc2822()))
        .generator(Some(format!("Vigie {}", env!("CARGO_PKG_VERSION"))))
        .ttl(Some("60".to_string()))
        .atom_ext(Some(rss::extension::atom::AtomExtension {
            links: vec![
                atom::LinkBuilder::default()
                    .href(self_url)
                    .rel("self".to_string())
                    .mime_type(Some("application/rss+xml".to_string()))
                    .build(),
            ],
        }))
        .items(items)
        .build();
    let body = channel.write_to(Vec::new())?;
    Ok(Cacheable::new(
        "application/rss+xml; charset=utf-8",
        body,
        s.last_modified(),
    ))
}

/// JSON Feed 1.1 (https://www.jsonfeed.org/version/1.1/), with Vigie's
/// facts under the `_vigie` extension key.
#[derive(Serialize)]
struct JsonFeed {
    version: &'static str,
    title: String,
    home_page_url: String,
    feed_url: String,
    description: &'static str,
    language: &'static str,
    items: Vec<JsonItem>,
}

#[derive(Serialize)]
struct JsonItem {
    id: String,
    url: String,
    title: String,
    content_text: String,
    date_published: String,
    date_modified: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tags: Vec<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    authors: Vec<JsonAuthor>,
    #[serde(rename = "_vigie")]
    vigie: JsonFacts,
}

#[derive(Serialize)]
struct JsonAuthor {
    name: String,
}

#[derive(Serialize)]
struct JsonFacts {
    /// Where the extension's fields are described (JSON Feed's rule for
    /// `_` keys).
    about: String,
    deadline: Option<String>,
    deadlines: Vec<String>,
    kind: &'static str,
    status: &'static str,
    territory: String,
    funder_url: Option<String>,
}

pub fn json_feed(s: &Selection) -> anyhow::Result<Cacheable> {
    let feed = JsonFeed {
        version: "https://jsonfeed.org/version/1.1",
        title: title(s),
        home_page_url: format!("{}{}", s.site, s.query.url("/appels")),
        feed_url: format!("{}{}", s.site, s.query.url("/flux.json")),
        description: FEED_DESCRIPTION,
        language: "fr",
        items: s
            .calls
            .iter()
            .map(|c| JsonItem {
                id: page_url(&s.site, c),
                url: page_url(&s.site, c),
                title: one_line(&c.title),
                content_text: content(c),
                date_published: c.first_seen.to_rfc3339(),
                date_modified: c.updated.to_rfc3339(),
                tags: c.themes.iter().map(|t| t.label()).collect(),
                authors: c
                    .funder
                    .iter()
                    .map(|f| JsonAuthor { name: one_line(f) })
                    .collect(),
                vigie: JsonFacts {
                    about: format!("{}/api/v1/openapi.json", s.site),
                    deadline: c.deadline.map(|d| d.to_rfc3339()),
                    deadlines: c.deadlines.iter().map(|d| d.to_rfc3339()).collect(),
                    kind: c.kind.as_str(),
                    status: c.status.as_str(),
                    territory: french::call_perimeter_label(&c.perimeter),
                    funder_url: c.url.as_deref().and_then(crate::digest::render::safe_url),
                },
            })
            .collect(),
    };
    let body = serde_json::to_vec_pretty(&feed)?;
    Ok(Cacheable::new(
        "application/feed+json; charset=utf-8",
        body,
        s.last_modified(),
    ))
}
