//! Digest emails: what a subscriber reads. Sits at the end of the pipeline,
//! between match (which calls fit whom) and deliver (outbox and SMTP).
//!
//! - [`render`]: a [`render::DigestView`] (sections of calls for one
//!   subscriber) to a subject, an HTML part and a plain-text part, through
//!   the minijinja templates of `templates/email/` (embedded in the binary,
//!   overridable from a directory).
//! - [`french`]: French dates, deadlines, kinds, perimeters and plurals.
//!
//! Everything scraped (titles, summaries, funders, links) is untrusted here:
//! the HTML part escapes it, links are kept only when they are http(s), and
//! the subject is one line whatever the input.

pub mod french;
pub mod render;
mod text;
