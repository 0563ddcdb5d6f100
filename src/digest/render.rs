//! One subscriber's digest to an email: subject, HTML part, plain-text part.
//!
//! The caller (deliver) gives a [`DigestView`]: sections of calls already
//! chosen by match. This module decides only how they read:
//!
//! - **Section order** is fixed, whatever the order given: new calls, then
//!   extended deadlines, then calls closing soon; empty sections are left
//!   out.
//! - **Call order** within a section: soonest deadline first, calls without
//!   a deadline last, then by title. The request said "newest deadline
//!   first"; a digest exists so that nobody misses a deadline, so the one
//!   that comes first in time is read first.
//! - **Presentation strings** (French deadline phrases, labels, the
//!   shortened summary, the subject) are computed here in Rust, where they
//!   are tested, and handed to the templates ready to print; templates only
//!   lay them out.
//! - **Untrusted text**: titles, funders and summaries are made one line
//!   (CR/LF and control characters become spaces), the HTML template
//!   auto-escapes them, and a link is kept only if it parses as an absolute
//!   `http`/`https` URL (otherwise the text is shown without a link). The
//!   subject is built here, never by a template, and is always one line, so
//!   a scraped title cannot inject a mail header.
//!
//! - **Call blocks** (`call.html.j2`, `call.txt.j2`) depend on the call and
//!   its section only: [`Renderer::render_cached`] renders each once per run
//!   and the envelopes (`digest.html.j2`, `digest.txt.j2`) print them
//!   (`call.html`, `call.text`) around the subscriber's own parts (see
//!   `render/context.rs`).
//!
//! Templates live in `templates/email/` and are embedded in the binary
//! ([`Renderer::new`]); [`Renderer::with_dir`] lets an operator override any
//! of them, or add partials, from a directory.

use std::collections::HashSet;
use std::path::Path;

use anyhow::{Context, bail};
use chrono::{DateTime, Datelike, FixedOffset, Utc};
use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use serde::Serialize;

use super::french::{date_short, plural};
use super::text::{one_line, shorten, wrap};
use crate::domain::{CallKind, CallPerimeter};
pub use context::BlockCache;

/// Longest summary shown for a call, in characters, "…" included.
pub const SUMMARY_MAX_CHARS: usize = 300;

/// Longest subscriber name kept in a subject line, in characters.
const SUBJECT_NAME_MAX_CHARS: usize = 80;

/// Width of the plain-text part (RFC 5322 recommends lines of at most 78
/// characters; 72 leaves room for quoting in replies).
pub const TEXT_WIDTH: usize = 72;

const HTML_TEMPLATE: &str = "digest.html.j2";
const TEXT_TEMPLATE: &str = "digest.txt.j2";

/// The templates compiled into the binary, by name.
const EMBEDDED: &[(&str, &str)] = &[
    (
        HTML_TEMPLATE,
        include_str!("../../templates/email/digest.html.j2"),
    ),
    (
        TEXT_TEMPLATE,
        include_str!("../../templates/email/digest.txt.j2"),
    ),
    (
        "macros.html.j2",
        include_str!("../../templates/email/macros.html.j2"),
    ),
    (
        context::CALL_HTML_TEMPLATE,
        include_str!("../../templates/email/call.html.j2"),
    ),
    (
        context::CALL_TEXT_TEMPLATE,
        include_str!("../../templates/email/call.txt.j2"),
    ),
];

/// Why a call is in the digest; one section per kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SectionKind {
    New,
    DeadlineExtended,
    ClosingSoon,
}

impl SectionKind {
    /// Sections in the order they are shown.
    pub const ALL: [SectionKind; 3] = [
        SectionKind::New,
        SectionKind::DeadlineExtended,
        SectionKind::ClosingSoon,
    ];

    /// The section's heading, with the default reminder horizon (14 days).
    pub fn title(self) -> &'static str {
        match self {
            SectionKind::New => "Nouveaux appels",
            SectionKind::DeadlineExtended => "Date limite prolongée",
            SectionKind::ClosingSoon => "Clôture dans moins de 14 jours",
        }
    }

    /// The section's heading for a reminder horizon of `closing_soon_days`.
    pub fn heading(self, closing_soon_days: u32) -> String {
        match self {
            SectionKind::ClosingSoon => format!(
                "Clôture dans moins de {closing_soon_days} {}",
                super::french::plural(closing_soon_days as usize, "jour", "jours")
            ),
            other => other.title().to_string(),
        }
    }
}

/// One call as the digest shows it. Text fields are scraped and untrusted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CallView {
    pub id: i64,
    pub title: String,
    pub funder: Option<String>,
    pub kind: CallKind,
    pub deadline: Option<DateTime<FixedOffset>>,
    /// The deadline before it was extended (section `DeadlineExtended`).
    pub previous_deadline: Option<DateTime<FixedOffset>>,
    pub perimeter: CallPerimeter,
    /// Plain text; shortened to [`SUMMARY_MAX_CHARS`] at a word.
    pub summary: String,
    /// The call's page on Vigie.
    pub vigie_url: String,
    /// The call's page on the funder's site.
    pub funder_url: Option<String>,
}

/// Everything one digest email says to one subscriber.
#[derive(Debug, Clone)]
pub struct DigestView {
    /// The collectivity's name ("Cergy", "Communauté d'agglomération …").
    pub subscriber_name: String,
    pub sections: Vec<(SectionKind, Vec<CallView>)>,
    pub manage_url: String,
    pub unsubscribe_url: String,
    pub site_url: String,
    pub generated_at: DateTime<Utc>,
    /// The horizon of the "closing soon" section (`digest.closing_soon_days`).
    pub closing_soon_days: u32,
}

/// A rendered digest, ready for a MIME `multipart/alternative`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedEmail {
    /// One line, no CR/LF, not yet RFC 2047-encoded.
    pub subject: String,
    pub html: String,
    pub text: String,
}

/// The compiled email templates.
pub struct Renderer {
    env: Environment<'static>,
}

impl std::fmt::Debug for Renderer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.env.templates().map(|(name, _)| name).collect();
        f.debug_struct("Renderer")
            .field("templates", &names)
            .finish()
    }
}

impl Renderer {
    /// The templates embedded in the binary.
    pub fn new() -> anyhow::Result<Renderer> {
        let mut env = base_environment()?;
        for (name, source) in EMBEDDED {
            env.add_template(name, source)
                .with_context(|| format!("embedded template {name} does not compile"))?;
        }
        Ok(Renderer { env })
    }

    /// The embedded templates, overridden by every `*.j2` file of `dir`
    /// (the folder holding the templates themselves, e.g.
    /// `/etc/vigie/templates/email`): a file named like an embedded template
    /// replaces it, other files are available to `include`/`import`.
    pub fn with_dir(dir: &Path) -> anyhow::Result<Renderer> {
        let mut renderer = Renderer::new()?;
        let entries = std::fs::read_dir(dir).with_context(|| {
            format!(
                "cannot read the email template directory {}: give the folder that holds \
                 digest.html.j2 and digest.txt.j2",
                dir.display()
            )
        })?;
        for entry in entries {
            let path = entry
                .with_context(|| format!("cannot list {}", dir.display()))?
                .path();
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            if !name.ends_with(".j2") || !path.is_file() {
                continue;
            }
            let source = std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read template {}", path.display()))?;
            renderer
                .env
                .add_template_owned(name.to_string(), source)
                .with_context(|| format!("template {} does not compile", path.display()))?;
        }
        Ok(renderer)
    }

    /// Renders one digest. Fails if a template fails (e.g. an override that
    /// uses an unknown variable) or if one of Vigie's own links (manage,
    /// unsubscribe, site) is not an http(s) URL: an email without a working
    /// unsubscribe link must not leave.
    pub fn render(&self, digest: &DigestView) -> anyhow::Result<RenderedEmail> {
        self.render_cached(digest, &mut BlockCache::new())
    }

    /// [`Renderer::render`], taking the call blocks already rendered from
    /// `cache` and adding the new ones: the same bytes, rendered once per
    /// call instead of once per digest. Keep one cache for the digests of
    /// one run (it grows with the distinct calls they carry).
    pub fn render_cached(
        &self,
        digest: &DigestView,
        cache: &mut BlockCache,
    ) -> anyhow::Result<RenderedEmail> {
        let subject = subject(digest);
        let value = context::email_context(&self.env, digest, &subject, cache)?;
        let html = self
            .env
            .get_template(HTML_TEMPLATE)?
            .render(&value)
            .context("rendering the HTML part of a digest")?;
        let text = self
            .env
            .get_template(TEXT_TEMPLATE)?
            .render(&value)
            .context("rendering the text part of a digest")?;
        Ok(RenderedEmail {
            subject,
            html,
            text,
        })
    }
}

fn base_environment() -> anyhow::Result<Environment<'static>> {
    let mut env = Environment::new();
    // HTML escaping for every `.html.j2` (and `.html`) template, including
    // partials; nothing else is escaped (the text part is plain text).
    env.set_auto_escape_callback(|name| {
        let name = name.strip_suffix(".j2").unwrap_or(name);
        if name.ends_with(".html") || name.ends_with(".htm") {
            AutoEscape::Html
        } else {
            AutoEscape::None
        }
    });
    // Escape `& < > " '` (enough for element text and quoted attributes,
    // which is all the templates use) but not `/`, as minijinja's default
    // does: links stay readable in the HTML source and to naive link
    // scanners (spam filters, link checkers) that do not decode entities.
    env.set_formatter(|out, state, value| {
        if matches!(state.auto_escape(), AutoEscape::Html)
            && !value.is_safe()
            && let Some(s) = value.as_str()
        {
            return out
                .write_str(&html_escape::encode_quoted_attribute(s))
                .map_err(|e| {
                    minijinja::Error::new(minijinja::ErrorKind::WriteFailure, e.to_string())
                });
        }
        minijinja::escape_formatter(out, state, value)
    });
    // A misspelt variable in an override template is an error, not a blank.
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_syntax(
        minijinja::syntax::SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .build()
            .context("template syntax configuration")?,
    );
    env.add_filter(
        "wrap",
        |s: &str, width: Option<usize>, indent: Option<&str>, first: Option<&str>| {
            let indent = indent.unwrap_or("");
            wrap(
                s,
                width.unwrap_or(TEXT_WIDTH),
                first.unwrap_or(indent),
                indent,
            )
        },
    );
    Ok(env)
}

/// An absolute http(s) URL with a host, normalised by the URL parser (which
/// also removes any tab, CR or LF); anything else (`javascript:`, `data:`,
/// relative, garbage) gives `None` and the text is shown without a link.
pub fn safe_url(raw: &str) -> Option<String> {
    let url = url::Url::parse(raw.trim()).ok()?;
    let ok = matches!(url.scheme(), "http" | "https")
        && url.host_str().is_some_and(|h| !h.is_empty())
        && url.username().is_empty()
        && url.password().is_none();
    ok.then(|| url.to_string())
}

fn own_url(raw: &str, what: &str) -> anyhow::Result<String> {
    match safe_url(raw) {
        Some(url) => Ok(url),
        None => {
            bail!("the digest's {what} `{raw}` is not an http(s) URL: check the site URL setting")
        }
    }
}

/// The sections to show: fixed order, empty ones dropped, calls sorted.
fn ordered_sections(digest: &DigestView) -> Vec<(SectionKind, Vec<&CallView>)> {
    SectionKind::ALL
        .iter()
        .filter_map(|kind| {
            let mut calls: Vec<&CallView> = digest
                .sections
                .iter()
                .filter(|(k, _)| k == kind)
                .flat_map(|(_, calls)| calls)
                .collect();
            calls.sort_by(|a, b| {
                // `None` last: compare (is_none, deadline).
                (a.deadline.is_none(), a.deadline, &a.title, a.id).cmp(&(
                    b.deadline.is_none(),
                    b.deadline,
                    &b.title,
                    b.id,
                ))
            });
            (!calls.is_empty()).then_some((*kind, calls))
        })
        .collect()
}

/// "Vigie : 3 nouveaux appels pour Cergy — prochaine clôture le 15 mars".
///
/// The count is of distinct calls; its wording depends on the sections
/// present (all new, all extended, all closing soon, or a mix). The
/// deadline part names the nearest deadline still to come and is left out
/// when no call has one.
pub fn subject(digest: &DigestView) -> String {
    let sections = ordered_sections(digest);
    let mut ids = HashSet::new();
    let mut new_ids = HashSet::new();
    let mut nearest: Option<DateTime<FixedOffset>> = None;
    for (kind, calls) in &sections {
        for call in calls {
            ids.insert(call.id);
            if *kind == SectionKind::New {
                new_ids.insert(call.id);
            }
            if let Some(d) = call.deadline
                && d >= digest.generated_at
                && nearest.is_none_or(|n| d < n)
            {
                nearest = Some(d);
            }
        }
    }
    let n = ids.len();
    let only = |k: SectionKind| sections.len() == 1 && sections[0].0 == k;
    let what = if only(SectionKind::New) {
        format!("{n} {}", plural(n, "nouvel appel", "nouveaux appels"))
    } else if only(SectionKind::DeadlineExtended) {
        format!("{n} {}", plural(n, "appel prolongé", "appels prolongés"))
    } else if only(SectionKind::ClosingSoon) {
        format!(
            "{n} {} bientôt",
            plural(n, "appel clôture", "appels clôturent")
        )
    } else if !new_ids.is_empty() {
        let m = new_ids.len();
        format!(
            "{n} {} dont {m} {}",
            plural(n, "appel", "appels"),
            plural(m, "nouveau", "nouveaux")
        )
    } else {
        format!("{n} {} à suivre", plural(n, "appel", "appels"))
    };
    let name = shorten(&one_line(&digest.subscriber_name), SUBJECT_NAME_MAX_CHARS);
    let mut subject = if name.is_empty() {
        format!("Vigie : {what}")
    } else {
        format!("Vigie : {what} pour {name}")
    };
    if let Some(d) = nearest {
        let year = digest
            .generated_at
            .with_timezone(&chrono_tz::Europe::Paris)
            .year();
        let next = if n == 1 {
            "clôture"
        } else {
            "prochaine clôture"
        };
        subject.push_str(&format!(" — {next} le {}", date_short(&d, year)));
    }
    // Belt and braces: whatever changes above, a subject is one line.
    one_line(&subject)
}

mod context;

#[cfg(test)]
mod tests;
