//! What the API returns, as Rust types that are both serialized and
//! described in the OpenAPI document (utoipa derives the schemas from
//! these very structs, so the document cannot drift from the answers).

use serde::Serialize;
use utoipa::ToSchema;

use crate::digest::french;
use crate::digest::render::safe_url;
use crate::store::{CallRecord, ChangeRecord, SeenOn, SourceStateRecord};
use crate::web::views::{audience_label, kind_label, status_label};

/// A code with its French label.
#[derive(Debug, Serialize, ToSchema)]
pub struct Coded {
    pub code: String,
    pub label: String,
}

/// Where a call applies.
#[derive(Debug, Serialize, ToSchema)]
pub struct Territory {
    /// Perimeter codes (`france`, `region:76`, `department:31`,
    /// `commune:31555`…), or `unresolved:<label>` while a curator has not
    /// set it.
    pub codes: Vec<String>,
    /// In French (`Région Occitanie`).
    pub label: String,
}

/// A call for projects or expressions of interest.
#[derive(Debug, Serialize, ToSchema)]
pub struct Call {
    pub id: i64,
    pub title: String,
    /// Plain text, sanitized.
    pub summary: String,
    pub funder: Option<String>,
    /// `aap`, `ami`, … with its French label.
    pub kind: Coded,
    /// `open`, `upcoming` or `closed` at the time of the answer.
    pub status: Coded,
    /// The next (or last) cut-off, RFC 3339 in Paris time.
    #[schema(format = DateTime)]
    pub deadline: Option<String>,
    /// Every cut-off, RFC 3339 in Paris time.
    pub deadlines: Vec<String>,
    #[schema(format = DateTime)]
    pub opens_on: Option<String>,
    /// When the call was published: the earliest date its sources give,
    /// RFC 3339 in Paris time.
    #[schema(format = DateTime)]
    pub published: Option<String>,
    pub territory: Territory,
    pub audiences: Vec<Coded>,
    pub themes: Vec<Coded>,
    /// The funder's page (absolute http(s) only).
    #[schema(format = "uri")]
    pub url: Option<String>,
    /// This call's page on Vigie.
    #[schema(format = "uri")]
    pub page_url: String,
    #[schema(format = DateTime)]
    pub first_seen: String,
    /// The last change of any field (a deadline extended…).
    #[schema(format = DateTime)]
    pub updated: String,
}

fn paris(d: &chrono::DateTime<chrono::FixedOffset>) -> String {
    d.with_timezone(&chrono_tz::Europe::Paris).to_rfc3339()
}

impl Call {
    pub fn of(c: &CallRecord, site: &str) -> Call {
        Call {
            id: c.id,
            title: c.title.clone(),
            summary: c.summary_text.clone(),
            funder: c.funder.clone(),
            kind: Coded {
                code: c.kind.as_str().into(),
                label: kind_label(c.kind).into(),
            },
            status: Coded {
                code: c.status.as_str().into(),
                label: status_label(c.status).into(),
            },
            deadline: c.deadline.as_ref().map(paris),
            deadlines: c.deadlines.iter().map(paris).collect(),
            opens_on: c.opens_on.as_ref().map(paris),
            published: c.published.as_ref().map(paris),
            territory: Territory {
                codes: c
                    .perimeter
                    .to_string()
                    .split(',')
                    .map(str::to_string)
                    .collect(),
                label: french::call_perimeter_label(&c.perimeter),
            },
            audiences: c
                .audiences
                .iter()
                .map(|a| Coded {
                    code: a.as_str().into(),
                    label: audience_label(*a).into(),
                })
                .collect(),
            themes: c
                .themes
                .iter()
                .map(|t| Coded {
                    code: t.as_str().into(),
                    label: t.label().into(),
                })
                .collect(),
            url: c.url.as_deref().and_then(safe_url),
            page_url: format!("{site}/appels/{}", c.id),
            first_seen: c.first_seen.to_utc().to_rfc3339(),
            updated: c.updated.to_utc().to_rfc3339(),
        }
    }
}

/// Links of a page of results.
#[derive(Debug, Serialize, ToSchema)]
pub struct Links {
    #[serde(rename = "self")]
    #[schema(format = "uri")]
    pub this: String,
    #[schema(format = "uri")]
    pub next: Option<String>,
}

/// One page of calls.
#[derive(Debug, Serialize, ToSchema)]
pub struct CallList {
    pub data: Vec<Call>,
    /// How many calls match the search in all.
    pub total: u64,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
    pub links: Links,
}

/// A source that lists (or listed) a call.
#[derive(Debug, Serialize, ToSchema)]
pub struct Sighting {
    pub source_id: String,
    pub source_name: String,
    #[schema(format = "uri")]
    pub url: Option<String>,
    #[schema(format = DateTime)]
    pub first_seen: String,
    #[schema(format = DateTime)]
    pub last_seen: String,
    /// The source no longer lists it.
    pub unlisted: bool,
}

impl From<SeenOn> for Sighting {
    fn from(s: SeenOn) -> Sighting {
        Sighting {
            source_id: s.source_id,
            source_name: s.source_name,
            url: s.url.as_deref().and_then(safe_url),
            first_seen: s.first_seen,
            last_seen: s.last_seen,
            unlisted: s.unlisted,
        }
    }
}

/// A change seen on a call.
#[derive(Debug, Serialize, ToSchema)]
pub struct Change {
    /// The field (`deadline`, `title`…).
    pub field: String,
    pub old: Option<String>,
    pub new: Option<String>,
    #[schema(format = DateTime)]
    pub at: String,
}

impl From<ChangeRecord> for Change {
    fn from(c: ChangeRecord) -> Change {
        Change {
            field: c.field,
            old: c.old,
            new: c.new,
            at: c.changed_at,
        }
    }
}

/// One call with where it was seen and its history.
#[derive(Debug, Serialize, ToSchema)]
pub struct CallDetail {
    #[serde(flatten)]
    pub call: Call,
    pub sources: Vec<Sighting>,
    pub history: Vec<Change>,
}

/// A source and its health.
#[derive(Debug, Serialize, ToSchema)]
pub struct Source {
    pub id: String,
    pub name: String,
    /// `ok` (last run succeeded), `failing` (consecutive failures) or
    /// `never_run`.
    pub health: String,
    pub consecutive_failures: u32,
    #[schema(format = DateTime)]
    pub last_run_at: Option<String>,
    #[schema(format = DateTime)]
    pub last_success_at: Option<String>,
    /// The last error, with credentials masked.
    pub last_error: Option<String>,
    /// Sightings of calls on this source.
    pub calls: u32,
}

impl From<SourceStateRecord> for Source {
    fn from(s: SourceStateRecord) -> Source {
        let health = if s.consecutive_failures > 0 {
            "failing"
        } else if s.last_success_at.is_some() {
            "ok"
        } else {
            "never_run"
        };
        Source {
            id: s.id,
            name: s.name,
            health: health.into(),
            consecutive_failures: s.consecutive_failures,
            last_run_at: s.last_run_at,
            last_success_at: s.last_success_at,
            last_error: s.last_error.as_deref().map(crate::redact::text),
            calls: s.calls,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SourceList {
    pub data: Vec<Source>,
}

/// Every error of the API.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    pub status: u16,
    /// The query parameter at fault, for a 400.
    pub parameter: Option<String>,
    /// In French.
    pub message: String,
    /// What the parameter accepts, for a 400.
    pub accepted: Vec<String>,
}
