//! What the email templates see, and the call blocks rendered once per run.
//!
//! A digest is an envelope (greeting, intro, section headings, footer with
//! the subscriber's own links) around call blocks. A call's block depends
//! only on the call and its section, never on the subscriber, so
//! `call.html.j2` and `call.txt.j2` render it once and [`BlockCache`] hands
//! the same text to every digest of the run that carries the call: on a
//! first day, ~35,000 digests of ~27 calls each share the blocks of at most
//! the ~5,000 open calls. The envelope templates print the block
//! (`call.html`, `call.text`); every field of the call stays in the context
//! too, so an override template that lays calls out itself still works.

use std::collections::{HashMap, HashSet};

use anyhow::Context;
use minijinja::value::{Serde, Value};
use minijinja::{Environment, context};
use serde::Serialize;

use super::{CallView, DigestView, SUMMARY_MAX_CHARS, SectionKind, ordered_sections, own_url};
use crate::digest::french::{call_perimeter_label, date_long, deadline_phrase, kind_label, plural};
use crate::digest::text::{one_line, shorten};

/// The template of one call's HTML block.
pub(super) const CALL_HTML_TEMPLATE: &str = "call.html.j2";
/// The template of one call's plain-text block.
pub(super) const CALL_TEXT_TEMPLATE: &str = "call.txt.j2";

/// Versions of one (call, section) kept at most: they differ only by the
/// previous deadline of an extension (or by content, outside one run).
const MAX_VARIANTS: usize = 4;

/// Rendered call blocks, reused across the digests of a run.
///
/// An entry is found by call id and section, then compared field by field
/// with the [`CallView`] asked for: a stale entry (the same id with another
/// title, say) is never served, it is rendered again. The cache only saves
/// work; the output is byte for byte what rendering each digest alone gives.
#[derive(Debug, Default)]
pub struct BlockCache {
    blocks: HashMap<(i64, SectionKind), Vec<(CallView, Value)>>,
}

impl BlockCache {
    pub fn new() -> BlockCache {
        BlockCache::default()
    }

    /// Distinct blocks held.
    pub fn len(&self) -> usize {
        self.blocks.values().map(Vec::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.blocks.is_empty()
    }

    /// The template value of `call` in section `kind`: its fields and its
    /// rendered `html` and `text` blocks.
    fn get(
        &mut self,
        env: &Environment<'static>,
        call: &CallView,
        kind: SectionKind,
    ) -> anyhow::Result<Value> {
        let variants = self.blocks.entry((call.id, kind)).or_default();
        if let Some((_, value)) = variants.iter().find(|(view, _)| view == call) {
            return Ok(value.clone());
        }
        let value = render_call(env, call, kind)?;
        if variants.len() < MAX_VARIANTS {
            variants.push((call.clone(), value.clone()));
        }
        Ok(value)
    }
}

/// One call as the templates see it, with its blocks.
#[derive(Serialize)]
struct CallBlock<'a> {
    #[serde(flatten)]
    call: &'a CallContext,
    /// The HTML block, marked safe: it was escaped when rendered.
    html: Value,
    text: String,
}

fn render_call(
    env: &Environment<'static>,
    call: &CallView,
    kind: SectionKind,
) -> anyhow::Result<Value> {
    let fields = CallContext::build(call, kind);
    let ctx = context! { call => Serde(&fields), section => Serde(kind) };
    let html = env
        .get_template(CALL_HTML_TEMPLATE)?
        .render(&ctx)
        .with_context(|| format!("rendering the HTML block of call {}", call.id))?;
    let text = env
        .get_template(CALL_TEXT_TEMPLATE)?
        .render(&ctx)
        .with_context(|| format!("rendering the text block of call {}", call.id))?;
    Ok(Value::from(Serde(CallBlock {
        call: &fields,
        html: Value::from_safe_string(html),
        text,
    })))
}

/// The context of a digest's envelope templates. Every string is ready to
/// print; the calls come from `cache`.
pub(super) fn email_context(
    env: &Environment<'static>,
    digest: &DigestView,
    subject: &str,
    cache: &mut BlockCache,
) -> anyhow::Result<Value> {
    let mut ids = HashSet::new();
    let mut sections = Vec::with_capacity(3);
    for (kind, calls) in ordered_sections(digest) {
        let count = calls.len();
        let mut values = Vec::with_capacity(count);
        for call in calls {
            ids.insert(call.id);
            values.push(cache.get(env, call, kind)?);
        }
        sections.push(context! {
            kind => Serde(kind),
            title => kind.heading(digest.closing_soon_days),
            count => count,
            calls => Value::from_object(values),
        });
    }
    let total = ids.len();
    let intro = if total == 0 {
        "Aucun appel ne correspond à votre profil cette fois-ci.".to_string()
    } else {
        format!(
            "{total} {} à votre profil.",
            plural(total, "appel correspond", "appels correspondent")
        )
    };
    Ok(context! {
        subject => subject,
        subscriber_name => one_line(&digest.subscriber_name),
        intro => intro,
        total => total,
        sections => Value::from_object(sections),
        manage_url => own_url(&digest.manage_url, "preferences link")?,
        unsubscribe_url => own_url(&digest.unsubscribe_url, "unsubscribe link")?,
        site_url => own_url(&digest.site_url, "site link")?,
        sent_on => date_long(&digest.generated_at),
    })
}

/// One call's fields, ready to print.
#[derive(Debug, Serialize)]
struct CallContext {
    id: i64,
    title: String,
    funder: Option<String>,
    kind_label: &'static str,
    /// "Date limite" or, for an extension, "Nouvelle date limite".
    deadline_label: &'static str,
    /// "avant le lundi 15 mars 2027 à 12 h", or `None`.
    deadline: Option<String>,
    previous_deadline: Option<String>,
    perimeter: String,
    summary: String,
    vigie_url: Option<String>,
    funder_url: Option<String>,
}

impl CallContext {
    fn build(call: &CallView, kind: SectionKind) -> CallContext {
        let extended = kind == SectionKind::DeadlineExtended;
        let funder = call
            .funder
            .as_deref()
            .map(one_line)
            .filter(|f| !f.is_empty());
        let title = match one_line(&call.title) {
            t if t.is_empty() => "Appel sans titre".to_string(),
            t => t,
        };
        CallContext {
            id: call.id,
            title,
            funder,
            kind_label: kind_label(call.kind),
            deadline_label: if extended {
                "Nouvelle date limite"
            } else {
                "Date limite"
            },
            deadline: call.deadline.as_ref().map(deadline_phrase),
            previous_deadline: if extended {
                call.previous_deadline.as_ref().map(deadline_phrase)
            } else {
                None
            },
            perimeter: call_perimeter_label(&call.perimeter),
            summary: shorten(&one_line(&call.summary), SUMMARY_MAX_CHARS),
            vigie_url: super::safe_url(&call.vigie_url),
            funder_url: call.funder_url.as_deref().and_then(super::safe_url),
        }
    }
}

#[cfg(test)]
mod tests;
