//! The text of a new source definition: every key a curator may fill,
//! explained in comments, with the values known (id, URL, guessed
//! selectors) written and the rest commented out. The result always loads
//! (`vigie sources check` passes); placeholders say so.

use std::fmt::Write;

use super::dsfr::HtmlGuess;
use crate::source::schema::SourceKindName;

/// What the new definition is made of.
pub struct Skeleton<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub kind: SourceKindName,
    pub url: &'a str,
    /// Selectors guessed from the fetched page (html only).
    pub guess: Option<&'a HtmlGuess>,
    /// Why nothing was guessed, or what was (shown at the top).
    pub notes: &'a [String],
    /// The day the file is written (`YYYY-MM-DD`).
    pub today: &'a str,
}

/// A TOML string literal (quotes and escapes as TOML wants them).
pub fn quoted(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// `line` safe in a TOML comment: control characters (which TOML refuses
/// there) and bidirectional overrides (which would hide what follows)
/// become spaces. Notes may quote an error message about a hostile page.
pub(super) fn comment_text(line: &str) -> String {
    line.chars()
        .map(|c| {
            let bidi = matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
            if c.is_control() || bidi { ' ' } else { c }
        })
        .collect()
}

const COMMON: &str = r#"
# Higher wins when several sources describe the same call: the funder's own
# site 10, an agency or a ministry 5 to 8, an aggregator 0.
priority = 0
# New calls wait for a curator's approval (`vigie review list`) until this
# definition is trusted: set it to false then.
review = true
# false keeps the file but never crawls it.
# enabled = false

# Extra request headers; `${NAME}` reads the environment variable NAME
# (secrets never go in this file).
# [headers]
# Authorization = "Bearer ${API_TOKEN}"

# Per-source politeness, over the [fetch] settings of vigie.toml.
# [politeness]
# min_spacing_ms = 1000     # between two requests to this host
# timeout_secs = 30

# Values used when an item does not say.
[defaults]
# Who may apply: commune, epci, department, region, special, public_org,
# public_cies, association, private_sector, researcher, private_person, farmer.
# audiences = ["commune", "epci"]
# Where calls apply: france, europe, region:<INSEE code>, department:<code>,
# epci:<SIREN>, commune:<INSEE code>. Without any, a call applies to France.
# perimeter = "france"
# Theme codes (config/themes.toml lists them), added to what keyword rules find.
# themes = ["numerique"]
# aap, ami, appel_candidatures, prix or autre, when neither the item's kind
# label nor its title says.
# kind = "aap"

# The source's own labels -> Vigie codes (case, accents and spaces ignored).
# [maps.audiences]
# "Communes" = "commune"
# "Intercommunalités" = "epci"
# [maps.kind]
# "Appel à manifestation d'intérêt" = "ami"
# [maps.perimeter]
# "Communes littorales" = "france"
# [maps.themes]
# "Inclusion numérique" = "inclusion_numerique"
"#;

fn header(s: &Skeleton, out: &mut String) {
    let id = s.id;
    let _ = writeln!(
        out,
        "# {id}: written by `vigie sources new` on {}.",
        s.today
    );
    for note in s.notes {
        for line in note.lines() {
            let _ = writeln!(out, "# {}", comment_text(line));
        }
    }
    let _ = writeln!(
        out,
        "#\n\
         # Next steps (sources/README.md is the full reference):\n\
         #   1. Check every value below; uncomment and fill what this source has.\n\
         #   2. `vigie sources check {id}` validates the file, without network.\n\
         #   3. `vigie sources check {id} --fetch` fetches the pages and shows each\n\
         #      item's fields, which are missing, and the warnings.\n\
         #   4. Save the pages as fixtures in tests/fixtures/sources/{id}/ and commit.\n"
    );
    let _ = writeln!(
        out,
        "# Identifier: the file's name; a-z, 0-9 and `-`.\nid = {}",
        quoted(id)
    );
    let _ = writeln!(out, "# The name curators see.\nname = {}", quoted(s.name));
    let _ = writeln!(
        out,
        "# The funder named on calls when an item does not say.\n# funder = \"\""
    );
    let _ = writeln!(out, "kind = {}", quoted(s.kind.as_str()));
    let what = match s.kind {
        SourceKindName::Html => "the listing page of calls",
        SourceKindName::Feed => "the RSS or Atom feed",
        SourceKindName::Json => "the API endpoint (its query may also go in [json.query])",
    };
    let _ = writeln!(
        out,
        "# First URL fetched: {what}.\nurl = {}\n\
         # When to crawl: 5-field cron (minute hour day month weekday), Paris time;\n\
         # here 7:00 on weekdays.\nschedule = \"0 7 * * 1-5\"",
        quoted(s.url)
    );
    out.push_str(COMMON);
}

/// One `key = value` line, or the key commented out with `example` when
/// nothing is known; `what` explains it.
fn field(out: &mut String, key: &str, value: Option<&str>, example: &str, what: &str) {
    let _ = writeln!(out, "# {key}: {what}");
    match value {
        Some(v) => {
            let _ = writeln!(out, "{key} = {}", quoted(v));
        }
        None => {
            let _ = writeln!(out, "# {key} = {}", quoted(example));
        }
    }
}

fn html(s: &Skeleton, out: &mut String) {
    let g = s.guess;
    out.push_str("\n[html]\n");
    match g {
        Some(g) => {
            let _ = writeln!(
                out,
                "# Guessed from the DSFR {} of the page ({} found): check them.",
                g.component, g.items_found
            );
        }
        None => out.push_str(
            "# PLACEHOLDERS: `item` and `title` below only make the file load;\n\
             # replace them with the page's own selectors.\n",
        ),
    }
    out.push_str(
        "# Field selectors are read inside each item: \"css\" is the text of the first\n\
         # match, \"css @attr\" an attribute (\"h3 a @href\"), \"@attr\" an attribute of\n\
         # the item element itself. A list of selectors is tried in order.\n",
    );
    let item = g.map_or("main article", |g| g.item.as_str());
    let title = g.map_or("h2, h3", |g| g.title.as_str());
    field(
        out,
        "item",
        Some(item),
        "",
        "CSS selector of one call on the listing (required).",
    );
    field(
        out,
        "title",
        Some(title),
        "",
        "the call's title (required).",
    );
    let link = g.map_or(Some("a @href"), |g| g.link.as_deref());
    field(
        out,
        "link",
        link,
        "h3 a @href",
        "the call's own page; relative links are resolved.",
    );
    let opt = |f: fn(&HtmlGuess) -> &Option<String>| g.and_then(|g| f(g).as_deref());
    field(
        out,
        "summary",
        opt(|g| &g.summary),
        "p.description",
        "a short description (its markup is kept, sanitized).",
    );
    field(
        out,
        "deadline",
        opt(|g| &g.deadline),
        ".date-limite",
        "French text with the closing date (\"Date limite : 31 mars 2027 à 12h00\",\n\
         # \"Candidatures au fil de l'eau\"); without it the item's whole text is searched.",
    );
    field(
        out,
        "opens",
        opt(|g| &g.opens),
        ".ouverture",
        "the opening date, same syntax.",
    );
    field(
        out,
        "published",
        opt(|g| &g.published),
        "time @datetime",
        "the publication date, same syntax.",
    );
    field(
        out,
        "kind",
        opt(|g| &g.kind),
        ".fr-tag",
        "a label such as \"Appel à projets\" ([maps.kind] maps others).",
    );
    field(
        out,
        "funder",
        None,
        ".financeur",
        "the funder's name, when the item gives it.",
    );
    field(
        out,
        "audiences",
        None,
        ".public li",
        "who may apply; every match is one label ([maps.audiences]).",
    );
    field(
        out,
        "perimeter",
        None,
        ".territoire",
        "where it applies (a region, a department... by name).",
    );
    field(
        out,
        "themes",
        None,
        ".thematique li",
        "every match is one label ([maps.themes]).",
    );
    field(
        out,
        "id",
        None,
        "@data-id",
        "a stable identifier (else the link is the item's identity).",
    );
    field(
        out,
        "next_page",
        g.and_then(|g| g.next_page.as_deref()),
        "a.next @href",
        "the next listing page's link (a link without href ends pagination).",
    );
    let pages = if g.is_some_and(|g| g.next_page.is_some()) {
        ""
    } else {
        "# "
    };
    let _ = writeln!(
        out,
        "# At most this many listing pages per crawl (1 to 100).\n{pages}max_pages = 5"
    );
    out.push_str(
        "\n# Read each call's own page for what the listing lacks (the detail's\n\
         # deadline wins; other fields only fill gaps).\n\
         # [html.detail]\n# deadline = \"#date-limite\"\n# audiences = \"#public-concerne li\"\n\
         \n# Keep only some items: every filter must keep an item.\n\
         # [[html.filters]]\n# selector = \".statut\"\n# matches = \"(?i)^(ouvert|en cours)\"\n",
    );
}

fn feed(out: &mut String) {
    out.push_str(
        "\n# Title, link, summary, publication date and GUID come from the feed.\n\
         [feed]\n\
         # Keep an entry only if its title or summary contains one of these (case\n\
         # and accents ignored; a word matches anywhere, so write whole phrases).\n\
         # include = [\"appel à projets\", \"appel à manifestation d'intérêt\", \"appel à candidatures\"]\n\
         # Drop an entry whose title or summary contains one of these.\n\
         # exclude = [\"lauréats\", \"webinaire\"]\n",
    );
}

fn json(out: &mut String) {
    out.push_str(
        "\n[json]\n\
         # GET (default) or POST (with a JSON `body`).\n# method = \"GET\"\n\
         # PLACEHOLDER: the path to the array of items in the response: dotted\n\
         # (`data.results`), a JSON pointer (`/data/results`), \"\" for a root array,\n\
         # \"$\" for a response that is one call.\n\
         items = \"results\"\n\
         \n# Added to the URL's query string.\n# [json.query]\n# pageSize = \"50\"\n\
         \n# Paths inside one item (`financers.0.name`, `deadlines[*].date`).\n\
         [json.fields]\n\
         # PLACEHOLDER: the call's title (required).\n\
         title = \"title\"\n\
         # id = \"id\"                    # a stable identifier\n\
         # link = \"url\"                 # the call's page\n\
         # link_template = \"https://example.gouv.fr/aides/{}\"   # `{}` is the link or id\n\
         # summary = \"description\"\n\
         # deadline = \"submission_deadline\"   # every date of an array is one cut-off\n\
         # opens = \"start_date\"\n\
         # published = \"date_created\"\n\
         # funder = \"financers.name\"\n\
         # kind = \"type\"\n\
         # audiences = \"targeted_audiences\"  # every element is one label\n\
         # perimeter = \"perimeter\"\n\
         # themes = \"categories\"\n\
         \n# Exactly one rule: `next` (path to the next page's URL), `page_param` or\n\
         # `offset_param` (with page_size).\n\
         # [json.pagination]\n# next = \"next\"\n# max_pages = 10\n\
         \n# Keep only some items: every filter must keep an item.\n\
         # [[json.filters]]\n# path = \"is_call_for_project\"\n# equals = true\n",
    );
}

/// The whole file.
pub fn render(s: &Skeleton) -> String {
    let mut out = String::new();
    header(s, &mut out);
    match s.kind {
        SourceKindName::Html => html(s, &mut out),
        SourceKindName::Feed => feed(&mut out),
        SourceKindName::Json => json(&mut out),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn every_skeleton_loads_whatever_the_page_title_and_the_guess() {
        let hostile = "Appels \"à projets\" \\ ]] \n[html]\nitem = \"x\" \u{7} \u{202e}";
        let full = HtmlGuess {
            component: "cards",
            items_found: 3,
            item: "main .fr-card".into(),
            title: ".fr-card__title".into(),
            link: Some(".fr-card__title a @href".into()),
            summary: Some(".fr-card__desc".into()),
            deadline: Some(".fr-card__end .fr-card__detail".into()),
            opens: Some(".fr-card__start .fr-card__detail".into()),
            published: Some(".fr-card__start .fr-card__detail".into()),
            kind: Some(".fr-card__start .fr-tag".into()),
            next_page: Some("a.fr-pagination__link--next @href".into()),
            page_title: None,
        };
        let bare = HtmlGuess {
            link: None,
            summary: None,
            deadline: None,
            opens: None,
            published: None,
            kind: None,
            next_page: None,
            ..full.clone()
        };
        let notes = vec![format!("a note\nover two lines with {hostile}")];
        for kind in [
            SourceKindName::Html,
            SourceKindName::Feed,
            SourceKindName::Json,
        ] {
            for guess in [None, Some(&full), Some(&bare)] {
                let text = render(&Skeleton {
                    id: "essai",
                    name: hostile,
                    kind,
                    url: "https://exemple.gouv.fr/aap?x=%22&y=1",
                    guess,
                    notes: &notes,
                    today: "2026-12-03",
                });
                let def = crate::source::load::load_str(Path::new("sources/essai.toml"), &text)
                    .unwrap_or_else(|e| panic!("{e}\n{text}"));
                assert_eq!(def.name, hostile, "the name survives as written");
                assert_eq!(def.kind_name(), kind.as_str());
                assert!(def.review, "new sources wait for a curator");
            }
        }
    }
}
