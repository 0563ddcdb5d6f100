//! The output of normalization: one source item as a clean, typed call
//! description, ready to be stored as a sighting.

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

use crate::domain::{Audience, CallKind, CallPerimeter, Recurrence, Theme};

/// How an item is recognised from one crawl to the next within its source,
/// in this order of preference: the source's own id/GUID, else the canonical
/// URL, else a hash of title and deadline. Stored as `id:…`, `url:…`, `hash:…`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ItemKey {
    Id(String),
    Url(String),
    Hash(String),
}

impl ItemKey {
    pub fn to_db(&self) -> String {
        match self {
            ItemKey::Id(v) => format!("id:{v}"),
            ItemKey::Url(v) => format!("url:{v}"),
            ItemKey::Hash(v) => format!("hash:{v}"),
        }
    }
}

/// A normalized item. Every text is clean (entities decoded, whitespace
/// collapsed); `summary_html` went through the sanitizer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NormalizedItem {
    pub key: ItemKey,
    pub title: String,
    /// Canonical URL of the call's page on the source (tracking removed).
    pub url: Option<String>,
    pub summary_html: String,
    pub summary_text: String,
    pub funder: Option<String>,
    pub kind: CallKind,
    pub audiences: Vec<Audience>,
    /// One or several territories, or a label waiting for a curator.
    pub perimeter: CallPerimeter,
    pub themes: Vec<Theme>,
    pub opens_on: Option<DateTime<FixedOffset>>,
    /// Every cut-off date, ascending, as Europe/Paris local time (several for multi-stage calls).
    pub deadlines: Vec<DateTime<FixedOffset>>,
    pub recurrence: Recurrence,
    pub published: Option<DateTime<FixedOffset>>,
}
