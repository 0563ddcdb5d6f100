//! What the public pages and feeds show of a call, in French: labels for
//! the domain codes and a flat, serializable view for the templates.

use chrono::{DateTime, FixedOffset};
use serde::Serialize;

use crate::digest::french;
use crate::digest::render::safe_url;
use crate::domain::{Audience, CallKind, Status, Theme};
use crate::store::CallRecord;

pub fn audience_label(a: Audience) -> &'static str {
    match a {
        Audience::Commune => "Communes",
        Audience::Epci => "Intercommunalités (EPCI)",
        Audience::Department => "Départements",
        Audience::Region => "Régions",
        Audience::Special => "Collectivités à statut particulier",
        Audience::PublicOrg => "Établissements publics",
        Audience::PublicCies => "Entreprises publiques locales",
        Audience::Association => "Associations",
        Audience::PrivateSector => "Entreprises privées",
        Audience::Researcher => "Recherche",
        Audience::PrivatePerson => "Particuliers",
        Audience::Farmer => "Agriculteurs",
    }
}

pub fn status_label(s: Status) -> &'static str {
    match s {
        Status::Open => "Ouvert",
        Status::Upcoming => "À venir",
        Status::Closed => "Clos",
    }
}

pub fn kind_label(k: CallKind) -> &'static str {
    french::kind_label(k)
}

/// A code with its French label, for pickers and tags.
#[derive(Debug, Clone, Serialize)]
pub struct Choice {
    pub code: String,
    pub label: String,
    pub checked: bool,
}

/// One call as pages, feeds and calendars show it.
#[derive(Debug, Clone, Serialize)]
pub struct CallView {
    pub id: i64,
    pub title: String,
    pub summary_text: String,
    pub funder: Option<String>,
    pub kind: &'static str,
    pub kind_label: &'static str,
    pub status: &'static str,
    pub status_label: &'static str,
    /// RFC 3339, for the `date_long`/`deadline` filters.
    pub deadline: Option<String>,
    pub deadlines: Vec<String>,
    pub opens_on: Option<String>,
    pub territory: String,
    pub audiences: Vec<&'static str>,
    pub themes: Vec<&'static str>,
    /// The funder's page, only when it is a safe absolute http(s) link.
    pub url: Option<String>,
    pub first_seen: String,
    pub updated: String,
}

fn rfc(d: &DateTime<FixedOffset>) -> String {
    d.to_rfc3339()
}

impl CallView {
    pub fn of(c: &CallRecord) -> CallView {
        CallView {
            id: c.id,
            title: c.title.clone(),
            summary_text: c.summary_text.clone(),
            funder: c.funder.clone(),
            kind: c.kind.as_str(),
            kind_label: kind_label(c.kind),
            status: c.status.as_str(),
            status_label: status_label(c.status),
            deadline: c.deadline.as_ref().map(rfc),
            deadlines: c.deadlines.iter().map(rfc).collect(),
            opens_on: c.opens_on.as_ref().map(rfc),
            territory: french::call_perimeter_label(&c.perimeter),
            audiences: c.audiences.iter().map(|a| audience_label(*a)).collect(),
            themes: c.themes.iter().map(|t| Theme::label(*t)).collect(),
            url: c.url.as_deref().and_then(safe_url),
            first_seen: rfc(&c.first_seen),
            updated: rfc(&c.updated),
        }
    }
}
