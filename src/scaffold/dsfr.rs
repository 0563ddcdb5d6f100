//! A first guess of `[html]` selectors for a listing built with the State
//! design system (DSFR, <https://www.systeme-de-design.gouv.fr>): a grid of
//! cards (`.fr-card`, with `.fr-card__title`, `.fr-card__desc` and
//! `.fr-card__detail` in `.fr-card__start` / `.fr-card__end`) or of tiles
//! (`.fr-tile`, `.fr-tile__title`, `.fr-tile__desc`, `.fr-tile__detail`),
//! paginated by `.fr-pagination` whose "Page suivante" link is
//! `.fr-pagination__link--next`. Only classes and the detail texts are
//! read; nothing here is specific to one site.

use scraper::{ElementRef, Html, Selector};

use crate::source::fold_label;

/// Selectors that read the page's items, each `None` when the page showed
/// nothing for it. Every selector is plain CSS the source loader accepts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HtmlGuess {
    /// Which component was recognised (`cards` or `tiles`).
    pub component: &'static str,
    /// How many items the page shows.
    pub items_found: usize,
    pub item: String,
    pub title: String,
    pub link: Option<String>,
    pub summary: Option<String>,
    pub deadline: Option<String>,
    pub opens: Option<String>,
    pub published: Option<String>,
    pub kind: Option<String>,
    pub next_page: Option<String>,
    /// The page's `<title>`, for the source's name.
    pub page_title: Option<String>,
}

/// One DSFR component's class names.
struct Component {
    name: &'static str,
    root: &'static str,
    title: &'static str,
    desc: &'static str,
    /// Detail places, in the order they are tried for a deadline.
    details: &'static [&'static str],
    tags: &'static [&'static str],
}

const CARDS: Component = Component {
    name: "cards",
    root: ".fr-card",
    title: ".fr-card__title",
    desc: ".fr-card__desc",
    details: &[
        ".fr-card__end .fr-card__detail",
        ".fr-card__start .fr-card__detail",
    ],
    tags: &[".fr-card__start .fr-tag", ".fr-card__start .fr-badge"],
};

const TILES: Component = Component {
    name: "tiles",
    root: ".fr-tile",
    title: ".fr-tile__title",
    desc: ".fr-tile__desc",
    details: &[".fr-tile__detail"],
    tags: &[".fr-tile__start .fr-tag", ".fr-tile__start .fr-badge"],
};

fn sel(css: &str) -> Selector {
    Selector::parse(css).expect("the DSFR selectors are valid CSS")
}

/// What a detail's texts announce, from words curators' pages use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DateRole {
    Deadline,
    Opens,
    Published,
    Unknown,
}

fn role_of(texts: &[String]) -> DateRole {
    let has = |words: &[&str]| {
        texts
            .iter()
            .any(|t| words.iter().any(|w| fold_label(t).contains(w)))
    };
    if has(&[
        "limite",
        "cloture",
        "jusqu",
        "date de fin",
        "fin des candidatures",
        "depot",
        "au fil de l'eau",
    ]) {
        DateRole::Deadline
    } else if has(&["publie", "mis en ligne", "mise en ligne", "mis a jour"]) {
        DateRole::Published
    } else if has(&["ouverture", "a partir du", "debut", "ouvert le"]) {
        DateRole::Opens
    } else {
        DateRole::Unknown
    }
}

/// The text of every match of `css` inside the items.
fn texts(items: &[ElementRef], css: &str) -> Vec<String> {
    let s = sel(css);
    items
        .iter()
        .flat_map(|i| i.select(&s))
        .map(|e| e.text().collect::<Vec<_>>().join(" "))
        .filter(|t| !t.trim().is_empty())
        .collect()
}

fn any_match(items: &[ElementRef], css: &str) -> bool {
    let s = sel(css);
    items.iter().any(|i| i.select(&s).next().is_some())
}

/// Guesses the selectors of a DSFR listing; `None` when the page has
/// neither cards nor tiles with a title.
pub fn guess(html: &str) -> Option<HtmlGuess> {
    let doc = Html::parse_document(html);
    let page_title = doc
        .select(&sel("title"))
        .next()
        .map(|t| t.text().collect::<Vec<_>>().join(" "))
        .map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|t| !t.is_empty());
    let (component, items) = [CARDS, TILES].into_iter().find_map(|c| {
        let title = sel(c.title);
        let items: Vec<ElementRef> = doc
            .select(&sel(c.root))
            .filter(|e| e.select(&title).next().is_some())
            .collect();
        (!items.is_empty()).then_some((c, items))
    })?;
    // Inside `<main>` when every item is: cards in the header or footer
    // ("à lire aussi") stay out.
    let title = sel(component.title);
    let in_main = doc
        .select(&sel(&format!("main {}", component.root)))
        .filter(|e| e.select(&title).next().is_some())
        .count();
    let item = if in_main == items.len() {
        format!("main {}", component.root)
    } else {
        component.root.to_string()
    };
    let mut g = HtmlGuess {
        component: component.name,
        items_found: items.len(),
        item,
        title: component.title.to_string(),
        page_title,
        ..HtmlGuess::default()
    };
    let link = format!("{} a", component.title);
    if any_match(&items, &format!("{link}[href]")) {
        g.link = Some(format!("{link} @href"));
    }
    if any_match(&items, component.desc) {
        g.summary = Some(component.desc.to_string());
    }
    for place in component.details {
        let found = texts(&items, place);
        if found.is_empty() {
            continue;
        }
        let slot = match role_of(&found) {
            DateRole::Deadline => &mut g.deadline,
            DateRole::Published => &mut g.published,
            DateRole::Opens => &mut g.opens,
            // DSFR puts the closing date in the end detail by convention.
            DateRole::Unknown => &mut g.deadline,
        };
        slot.get_or_insert_with(|| place.to_string());
    }
    for place in component.tags {
        let found = texts(&items, place);
        if found.iter().any(|t| {
            let t = fold_label(t);
            t.contains("appel") || t.contains("manifestation d'interet")
        }) {
            g.kind = Some(place.to_string());
            break;
        }
    }
    if doc
        .select(&sel("a.fr-pagination__link--next"))
        .next()
        .is_some()
    {
        g.next_page = Some("a.fr-pagination__link--next @href".into());
    }
    Some(g)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card(title: &str, start: &str, end: &str) -> String {
        format!(
            r#"<div class="fr-col-12 fr-col-md-4"><div class="fr-card fr-enlarge-link">
              <div class="fr-card__body"><div class="fr-card__content">
                <h3 class="fr-card__title"><a href="/aap/{title}">{title}</a></h3>
                <p class="fr-card__desc">Pour les communes.</p>
                <div class="fr-card__start">{start}</div>
                <div class="fr-card__end">{end}</div>
              </div></div></div></div>"#
        )
    }

    #[test]
    fn dsfr_cards_give_every_selector_the_page_supports() {
        let page = format!(
            r#"<html><head><title> Appels à projets | Exemple </title></head><body>
            <header><div class="fr-card"><p>Pas un appel</p></div></header>
            <main>{}{}
            <nav class="fr-pagination"><ul class="fr-pagination__list">
              <li><a class="fr-pagination__link fr-pagination__link--next" href="?page=1">Page suivante</a></li>
            </ul></nav></main></body></html>"#,
            card(
                "un",
                r#"<ul class="fr-tags-group"><li><p class="fr-tag">Appel à projets</p></li></ul>
                   <p class="fr-card__detail">Publié le 2 novembre 2026</p>"#,
                r#"<p class="fr-card__detail">Date limite : 31 mars 2027</p>"#
            ),
            card(
                "deux",
                "",
                r#"<p class="fr-card__detail">Clôture le 15 juin 2027</p>"#
            ),
        );
        let g = guess(&page).expect("cards are recognised");
        assert_eq!(g.component, "cards");
        assert_eq!(g.items_found, 2, "the header card has no title");
        assert_eq!(g.item, "main .fr-card", "every titled card is in main");
        assert_eq!(g.title, ".fr-card__title");
        assert_eq!(g.link.as_deref(), Some(".fr-card__title a @href"));
        assert_eq!(g.summary.as_deref(), Some(".fr-card__desc"));
        assert_eq!(
            g.deadline.as_deref(),
            Some(".fr-card__end .fr-card__detail")
        );
        assert_eq!(
            g.published.as_deref(),
            Some(".fr-card__start .fr-card__detail")
        );
        assert_eq!(g.kind.as_deref(), Some(".fr-card__start .fr-tag"));
        assert_eq!(
            g.next_page.as_deref(),
            Some("a.fr-pagination__link--next @href")
        );
        assert_eq!(g.page_title.as_deref(), Some("Appels à projets | Exemple"));
    }

    #[test]
    fn tiles_inside_main_and_pages_without_dsfr() {
        let page = r#"<main><div class="fr-tile"><div class="fr-tile__body"><div class="fr-tile__content">
            <h3 class="fr-tile__title"><a href="/x">Tiers-lieux</a></h3>
            <p class="fr-tile__detail">Ouverture le 1er mars 2027</p></div></div></div></main>"#;
        let g = guess(page).unwrap();
        assert_eq!((g.component, g.item.as_str()), ("tiles", "main .fr-tile"));
        assert_eq!(g.opens.as_deref(), Some(".fr-tile__detail"));
        assert_eq!((g.deadline, g.summary, g.next_page), (None, None, None));
        assert!(guess("<main><article><h2>Appel</h2></article></main>").is_none());
        let outside = format!(
            "<aside>{}</aside><main>{}</main>",
            card("a", "", ""),
            card("b", "", "")
        );
        let g = guess(&outside).unwrap();
        assert_eq!((g.item.as_str(), g.items_found), (".fr-card", 2));
        assert_eq!(g.deadline, None, "an empty detail says nothing");
        assert!(guess("").is_none());
    }
}
