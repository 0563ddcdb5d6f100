//! Questions the pipeline asks of a compiled source about its kind.

use super::{KindSpec, SourceDef};

impl SourceDef {
    /// `html`, `feed` or `json`.
    pub fn kind_name(&self) -> &'static str {
        self.spec.kind_name().as_str()
    }

    /// Feeds legitimately have no matching entry (keyword filters); an
    /// empty HTML listing or API answer is suspicious instead.
    pub fn is_feed(&self) -> bool {
        matches!(self.spec, KindSpec::Feed(_))
    }

    /// Whether items are followed to a detail page (`[html.detail]`).
    pub fn has_detail(&self) -> bool {
        matches!(&self.spec, KindSpec::Html(h) if h.detail.is_some())
    }
}
