//! Server-side rendering of the public pages: embedded minijinja templates
//! from `templates/web/`, auto-escaped, strict about undefined variables,
//! with the French formatting filters the emails use.
//!
//! Every part of the web adds its templates to [`TEMPLATES`]; they extend
//! `base.html.j2` (the layout: skip link, header, navigation, footer) and
//! fill its blocks `title`, `head` (extra `<link>`s such as feed
//! autodiscovery) and `content`.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use chrono::{DateTime, FixedOffset};
use minijinja::{AutoEscape, Environment, UndefinedBehavior, Value};
use serde::Serialize;

use super::WebError;
use crate::digest::french;

/// Every template of the public web, by name.
const TEMPLATES: &[(&str, &str)] = &[
    (
        "base.html.j2",
        include_str!("../../templates/web/base.html.j2"),
    ),
    (
        "error.html.j2",
        include_str!("../../templates/web/error.html.j2"),
    ),
    (
        "catalogue.html.j2",
        include_str!("../../templates/web/catalogue.html.j2"),
    ),
    (
        "call.html.j2",
        include_str!("../../templates/web/call.html.j2"),
    ),
    (
        "signup.html.j2",
        include_str!("../../templates/web/signup.html.j2"),
    ),
    (
        "message.html.j2",
        include_str!("../../templates/web/message.html.j2"),
    ),
    (
        "confirm.html.j2",
        include_str!("../../templates/web/confirm.html.j2"),
    ),
    (
        "manage.html.j2",
        include_str!("../../templates/web/manage.html.j2"),
    ),
    (
        "unsubscribe.html.j2",
        include_str!("../../templates/web/unsubscribe.html.j2"),
    ),
    (
        "macros.html.j2",
        include_str!("../../templates/web/macros.html.j2"),
    ),
];

/// The stylesheet, served at [`CSS_PATH`] (no external resource at runtime).
pub const CSS: &str = include_str!("../../static/vigie.css");
/// Where the stylesheet is served; the hash-free path is cached briefly.
pub const CSS_PATH: &str = "/static/vigie.css";
/// Where the fonts are served: `/static/fonts/<name>`.
pub const FONTS_PATH: &str = "/static/fonts/{name}";
/// The text face (Inter, OFL 1.1: `static/fonts/OFL.txt`), subset to Latin
/// and French punctuation, by the name the stylesheet's `@font-face` rules
/// ask for. Served by Vigie itself, like the stylesheet.
pub const FONTS: [(&str, &[u8]); 4] = [
    (
        "inter-regular.woff2",
        include_bytes!("../../static/fonts/inter-regular.woff2"),
    ),
    (
        "inter-medium.woff2",
        include_bytes!("../../static/fonts/inter-medium.woff2"),
    ),
    (
        "inter-bold.woff2",
        include_bytes!("../../static/fonts/inter-bold.woff2"),
    ),
    ("OFL.txt", include_bytes!("../../static/fonts/OFL.txt")),
];

/// The compiled templates.
pub struct Templates {
    env: Environment<'static>,
}

impl Templates {
    /// Compiles every embedded template; an error here is a bug in Vigie.
    pub fn new() -> anyhow::Result<Templates> {
        let mut env = Environment::new();
        env.set_auto_escape_callback(|_| AutoEscape::Html);
        // minijinja's HTML escaping also turns `/` into `&#x2f;`, which
        // HTML does not need and which makes every link's source unreadable:
        // escape the five characters that matter, in text and attributes.
        env.set_formatter(|out, state, value| {
            if matches!(state.auto_escape(), AutoEscape::Html) && !value.is_safe() {
                let text = value.to_string();
                out.write_str(&html_escape::encode_quoted_attribute(&text))?;
                Ok(())
            } else {
                minijinja::escape_formatter(out, state, value)
            }
        });
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_syntax(
            minijinja::syntax::SyntaxConfig::builder()
                .trim_blocks(true)
                .lstrip_blocks(true)
                .build()?,
        );
        env.add_filter("date_long", |v: String| {
            paris(&v).map(|d| french::date_long(&d))
        });
        env.add_filter("deadline", |v: String| {
            paris(&v).map(|d| french::deadline_phrase(&d))
        });
        env.add_filter(
            "plural",
            |n: usize, one: String, many: String| {
                if n > 1 { many } else { one }
            },
        );
        env.add_filter("truncate", truncate);
        for (name, source) in TEMPLATES {
            env.add_template(name, source)?;
        }
        Ok(Templates { env })
    }

    /// Renders `name` with `ctx`; the base layout also gets `css`.
    pub fn render(&self, name: &str, ctx: impl Serialize) -> Result<String, WebError> {
        let template = self
            .env
            .get_template(name)
            .map_err(|e| WebError(anyhow::anyhow!("template {name}: {e:#}")))?;
        let ctx =
            minijinja::context! { css => CSS_PATH, ..Value::from(minijinja::value::Serde(&ctx)) };
        template
            .render(ctx)
            .map_err(|e| WebError(anyhow::anyhow!("rendering {name}: {e:#}")))
    }

    /// A French error page with `status` (404, 400, 500…).
    pub fn error_page(&self, status: StatusCode, title: &str, message: &str) -> Response {
        let body = self.render(
            "error.html.j2",
            minijinja::context! { title, message, status => status.as_u16() },
        );
        match body {
            Ok(html) => (status, Html(html)).into_response(),
            Err(e) => {
                tracing::error!("{e}");
                (status, format!("{title}\n{message}\n")).into_response()
            }
        }
    }
}

/// At most `max` characters of `text`, cut at a word boundary, with an
/// ellipsis when something was cut.
fn truncate(text: String, max: usize) -> String {
    if text.chars().count() <= max {
        return text;
    }
    let cut: String = text.chars().take(max).collect();
    let cut = match cut.rfind(char::is_whitespace) {
        Some(i) if i > max / 2 => &cut[..i],
        _ => cut.as_str(),
    };
    format!(
        "{}…",
        cut.trim_end_matches(|c: char| c.is_whitespace() || c == ',' || c == '.')
    )
}

/// An RFC 3339 instant shown in Paris time; a value that does not parse
/// is a template bug, reported as such.
fn paris(v: &str) -> Result<DateTime<chrono_tz::Tz>, minijinja::Error> {
    DateTime::<FixedOffset>::parse_from_rfc3339(v)
        .map(|d| d.with_timezone(&chrono_tz::Europe::Paris))
        .map_err(|e| {
            minijinja::Error::new(
                minijinja::ErrorKind::InvalidOperation,
                format!("`{v}` is not an RFC 3339 date: {e}"),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_compiles_and_the_layout_escapes_what_it_is_given() {
        let t = Templates::new().unwrap();
        let html = t
            .render(
                "error.html.j2",
                minijinja::context! { title => "<script>x</script>", message => "a & b", status => 404 },
            )
            .unwrap();
        assert!(html.contains("&lt;script&gt;x&lt;"), "{html}");
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("lang=\"fr\""), "{html}");
        assert!(html.contains("href=\"#contenu\""), "a skip link: {html}");
    }

    #[test]
    fn truncation_cuts_on_a_word_and_never_inside_a_character() {
        assert_eq!(truncate("court".into(), 10), "court");
        assert_eq!(
            truncate("un texte assez long pour être coupé".into(), 20),
            "un texte assez long…"
        );
        assert_eq!(truncate("ééééééééééé".into(), 4), "éééé…");
    }

    #[test]
    fn dates_are_french_and_in_paris_time() {
        let t = Templates::new().unwrap();
        let mut env = t.env.clone();
        env.add_template("d", "{{ d | date_long }}").unwrap();
        let out = env
            .get_template("d")
            .unwrap()
            .render(minijinja::context! { d => "2027-03-31T22:30:00+00:00" })
            .unwrap();
        assert_eq!(out, "jeudi 1er avril 2027");
    }
}
