//! Digest emails: what a subscriber reads. Sits at the end of the pipeline,
//! between match (which calls fit whom) and deliver (outbox and SMTP).
//!
//! - [`render`]: a [`render::DigestView`] (sections of calls for one
//!   subscriber) to a subject, an HTML part and a plain-text part, through
//!   the minijinja templates of `templates/email/` (embedded in the binary,
//!   overridable from a directory).
//! - [`build`]: who is due, what each digest carries (new calls, extended
//!   deadlines, closing-soon reminders), and its enqueueing together with
//!   the `digest_items` rows that remember it.
//! - [`bounces`]: after a drain, refused digests count as bounces.
//! - `vigie digest preview|run` lives with the command line (`cli::digest`).
//! - [`config`]: the `[digest]` section.
//! - [`french`]: French dates, deadlines, kinds, perimeters and plurals.
//!
//! Everything scraped (titles, summaries, funders, links) is untrusted here:
//! the HTML part escapes it, links are kept only when they are http(s), and
//! the subject is one line whatever the input.

pub mod bounces;
pub mod build;
pub mod config;
pub mod french;
pub mod render;
pub(crate) mod text;

pub use build::{Catalogue, History, Plan, RunSummary, is_due};
pub use config::DigestConfig;
