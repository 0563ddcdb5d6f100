//! Source definitions the integration tests write into a scenario's
//! `sources/` folder.

/// A listing source of kind `html` at `url`, with the selectors of the
/// fixture listings (`article.call` cards: `h2 a` title and link, `p.desc`
/// summary, `p.end` deadline, `data-id` identity). `html_extra` is
/// appended to its `[html]` table (pagination, perimeter selectors...).
pub fn listing_source(id: &str, url: &str, html_extra: &str) -> String {
    format!(
        r#"id = "{id}"
name = "Démo {id}"
funder = "Service interministériel des Archives de France"
kind = "html"
url = "{url}"
schedule = "0 6 * * *"

[defaults]
audiences = ["commune", "epci"]
perimeter = "france"
themes = ["numerique"]

[html]
item = "article.call"
id = "@data-id"
title = "h2 a"
link = "h2 a @href"
summary = "p.desc"
deadline = "p.end"
{html_extra}"#
    )
}
