//! Tests of `html`.

use super::*;
use crate::extract::testutil::{page, source};
use crate::extract::{extract_detail, extract_page, first_request};

const SPEC: &str = r##"kind = "html"
url = "https://example.gouv.fr/appels?page=1"

[html]
item = "article.fr-card"
id = "@data-id"
title = ".fr-card__title"
link = ".fr-card__title a @href"
summary = ".fr-card__desc"
deadline = ".fr-card__end"
audiences = "ul.publics li"
themes = ".tag @data-theme"
next_page = "a[rel=next] @href"
max_pages = 3

[html.detail]
deadline = ".date-limite"
summary = "#description"
funder = ".porteur"
"##;

const LISTING: &str = r#"<!DOCTYPE html><html><head><title>AAP</title>
<script>var x = "not text";</script></head><body>
<article class="fr-card" data-id="aap-42">
  <h3 class="fr-card__title"><a href="/appels/archives-2027">Archivage   numérique
 en territoires</a></h3>
  <p class="fr-card__desc">Un <strong>appel</strong> pour les <em>communes</em>.</p>
  <p class="fr-card__end">Clôture le 15&nbsp;mars 2027</p>
  <ul class="publics"><li>Communes</li><li> EPCI </li><li></li></ul>
  <span class="tag" data-theme="Archives"></span><span class="tag" data-theme="Numérique"></span>
  <style>.x { color: red }</style>
</article>
<article class="fr-card" data-id="aap-43">
  <h3 class="fr-card__title">Sans lien</h3>
</article>
<article class="fr-card"><p>Pas de titre</p></article>
<nav><a rel="next" href="?page=2">Suivant</a></nav>
</body></html>"#;

#[test]
fn listing_fields_come_from_text_attr_and_item_attr_selectors() {
    let src = source(SPEC);
    let req = first_request(&src);
    assert_eq!(req.url.as_str(), "https://example.gouv.fr/appels?page=1");
    let p = page(
        "https://example.gouv.fr/appels?page=1",
        "text/html",
        LISTING,
    );
    let out = extract_page(&src, &req, &p, 0).unwrap();
    assert_eq!(out.items.len(), 2, "{out:?}");
    let first = &out.items[0];
    assert_eq!(first.id.as_deref(), Some("aap-42"));
    assert_eq!(
        first.title.as_deref(),
        Some("Archivage numérique en territoires")
    );
    assert_eq!(first.link.as_deref(), Some("/appels/archives-2027"));
    assert_eq!(
        first.summary.as_deref(),
        Some("Un <strong>appel</strong> pour les <em>communes</em>.")
    );
    assert_eq!(first.deadline.as_deref(), Some("Clôture le 15 mars 2027"));
    assert_eq!(first.audiences, vec!["Communes", "EPCI"]);
    assert_eq!(first.themes, vec!["Archives", "Numérique"]);
    assert_eq!(
        first.base_url.as_ref().map(Url::as_str),
        Some(p.url.as_str())
    );
    let text = first.text.as_deref().unwrap();
    assert!(
        text.starts_with("Archivage numérique en territoires Un appel"),
        "{text}"
    );
    assert!(!text.contains("color: red"), "{text}");

    assert_eq!(out.items[1].link, None);
    assert_eq!(out.warnings.len(), 2, "{:?}", out.warnings);
    assert!(
        out.warnings
            .iter()
            .any(|w| w.contains("has no title") && w.contains("item 3"))
    );
    assert!(
        out.warnings
            .iter()
            .any(|w| w.contains("`Sans lien`") && w.contains("no link"))
    );
}

#[test]
fn next_page_is_resolved_and_bounded_by_max_pages() {
    let src = source(SPEC);
    let req = first_request(&src);
    let p = page(
        "https://example.gouv.fr/appels?page=1",
        "text/html",
        LISTING,
    );
    let next = extract_page(&src, &req, &p, 0).unwrap().next.unwrap();
    assert_eq!(next.url.as_str(), "https://example.gouv.fr/appels?page=2");
    let p2 = page(
        next.url.as_str(),
        "text/html",
        &LISTING.replace("?page=2", "?page=3"),
    );
    let next2 = extract_page(&src, &next, &p2, 1).unwrap().next.unwrap();
    assert_eq!(next2.url.as_str(), "https://example.gouv.fr/appels?page=3");
    // Third page of max_pages = 3: stop.
    let p3 = page(
        next2.url.as_str(),
        "text/html",
        &LISTING.replace("?page=2", "?page=4"),
    );
    assert_eq!(extract_page(&src, &next2, &p3, 2).unwrap().next, None);
}

#[test]
fn a_next_link_may_be_rewritten_and_found_in_several_places() {
    // A WordPress pager whose plain link loses the listing's filter: the
    // address is rebuilt with the page number (as Aides-territoires' spider
    // does for grandest.fr), and a pager without `rel` is the fallback.
    let spec = SPEC.replace(
        r#"next_page = "a[rel=next] @href""#,
        r#"next_page = [{ selector = "a[rel=next]", regex = '/page/(\d+)/.*$', replace = "/page/${1}/?beneficiaire=63&pg=${1}" }, "a.next-fallback"]"#,
    );
    let src = source(&spec);
    let req = first_request(&src);
    let listing = LISTING.replace("?page=2", "https://example.gouv.fr/aides/page/2/");
    let p = page(
        "https://example.gouv.fr/appels?page=1",
        "text/html",
        &listing,
    );
    let next = extract_page(&src, &req, &p, 0).unwrap().next.unwrap();
    assert_eq!(
        next.url.as_str(),
        "https://example.gouv.fr/aides/page/2/?beneficiaire=63&pg=2"
    );
    // Without the first place's link, the fallback's href.
    let other = LISTING.replace(
        r#"<a rel="next" href="?page=2">"#,
        r#"<a class="next-fallback" href="?page=9">"#,
    );
    let p = page("https://example.gouv.fr/appels?page=1", "text/html", &other);
    let next = extract_page(&src, &req, &p, 0).unwrap().next.unwrap();
    assert_eq!(next.url.as_str(), "https://example.gouv.fr/appels?page=9");
}

#[test]
fn a_next_link_back_to_a_visited_page_stops_pagination() {
    let src = source(SPEC);
    let req = first_request(&src);
    let p = page(
        "https://example.gouv.fr/appels?page=2",
        "text/html",
        &LISTING.replace("?page=2", "?page=1"),
    );
    let out = extract_page(&src, &req, &p, 1).unwrap();
    assert_eq!(out.next, None);
    assert!(
        out.warnings.iter().any(|w| w.contains("already visited")),
        "{:?}",
        out.warnings
    );
    let selfloop = page(
        "https://example.gouv.fr/appels?page=2",
        "text/html",
        LISTING,
    );
    assert_eq!(extract_page(&src, &req, &selfloop, 1).unwrap().next, None);
}

#[test]
fn an_item_selector_that_matches_nothing_is_a_warning() {
    let src = source(SPEC);
    let p = page(
        "https://example.gouv.fr/appels",
        "text/html",
        "<html><body><div>refonte</div></body></html>",
    );
    let out = extract_page(&src, &first_request(&src), &p, 0).unwrap();
    assert!(out.items.is_empty());
    assert_eq!(
        out.warnings[0],
        "html.item `article.fr-card` matched nothing on https://example.gouv.fr/appels: the page layout may have changed"
    );
}

#[test]
fn json_or_xml_where_html_was_expected_is_an_error() {
    let src = source(SPEC);
    let req = first_request(&src);
    let json = page(
        "https://example.gouv.fr/appels",
        "application/json",
        r#"{"a": 1}"#,
    );
    let err = extract_page(&src, &req, &json, 0).unwrap_err();
    assert!(matches!(err, ExtractError::NotHtml { .. }));
    assert_eq!(
        err.to_string(),
        "https://example.gouv.fr/appels is not an HTML page: got JSON (application/json)"
    );
    let xml = page(
        "https://example.gouv.fr/appels",
        "application/xml",
        "<?xml version=\"1.0\"?><rss></rss>",
    );
    assert!(matches!(
        extract_page(&src, &req, &xml, 0),
        Err(ExtractError::NotHtml { .. })
    ));
}

#[test]
fn detail_fills_gaps_and_its_deadline_wins() {
    let src = source(SPEC);
    let p = page(
        "https://example.gouv.fr/appels?page=1",
        "text/html",
        LISTING,
    );
    let mut item = extract_page(&src, &first_request(&src), &p, 0)
        .unwrap()
        .items
        .remove(0);
    let detail = page(
        "https://example.gouv.fr/appels/archives-2027",
        "text/html",
        r#"<html><body><div id="description"><p>Long texte</p></div>
        <p class="date-limite">Date limite : 15 mars 2027 à 12h</p>
        <p class="porteur">SIAF</p></body></html>"#,
    );
    let warnings = extract_detail(&src, &detail, &mut item);
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(
        item.deadline.as_deref(),
        Some("Date limite : 15 mars 2027 à 12h")
    );
    assert_eq!(item.funder.as_deref(), Some("SIAF"));
    // The listing had a summary: it stays.
    assert!(item.summary.as_deref().unwrap().starts_with("Un <strong>"));

    let blank = page(
        "https://example.gouv.fr/x",
        "text/html",
        "<html><body></body></html>",
    );
    let before = item.clone();
    let warnings = extract_detail(&src, &blank, &mut item);
    assert_eq!(item, before);
    assert!(
        warnings[0].contains("html.detail selectors matched nothing"),
        "{warnings:?}"
    );
}

#[test]
fn a_source_without_detail_selectors_leaves_items_alone() {
    let src = source(&SPEC[..SPEC.find("[html.detail]").unwrap()]);
    let mut item = RawItem::default();
    let p = page(
        "https://example.gouv.fr/x",
        "text/html",
        "<p class=date-limite>1 mai</p>",
    );
    assert!(extract_detail(&src, &p, &mut item).is_empty());
    assert_eq!(item, RawItem::default());
}

#[test]
fn deeply_nested_pages_do_not_overflow_the_stack() {
    // A small stack stands in for a much deeper page on a normal one.
    let run = || {
        let src = source(
            "kind = \"html\"\nurl = \"https://a.fr/\"\n[html]\nitem = \"article\"\ntitle = \"h2\"\nsummary = \"div\"\n",
        );
        let body = format!(
            "<article><h2>t</h2>{}x{}</article>",
            "<div>".repeat(5_000),
            "</div>".repeat(5_000)
        );
        let p = page("https://a.fr/", "text/html", &body);
        let out = extract_page(&src, &first_request(&src), &p, 0).unwrap();
        out.items[0].text.clone()
    };
    let text = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(run)
        .unwrap()
        .join()
        .unwrap();
    assert_eq!(text.as_deref(), Some("t x"));
}

proptest::proptest! {
    #[test]
    fn extract_page_never_panics_on_any_text(body in ".{0,400}", tagged in "(<[a-z/ =\"@.]{0,12}>|[a-zé ]{0,8}){0,40}") {
        let src = source(SPEC);
        let req = first_request(&src);
        for b in [body, tagged] {
            let p = page("https://example.gouv.fr/appels", "text/html", &b);
            let _ = extract_page(&src, &req, &p, 0);
            let mut item = RawItem::default();
            let _ = extract_detail(&src, &p, &mut item);
        }
    }
}

/// A regional listing: cards carry a status badge, the deadline is either in
/// a dedicated element or inside a longer sentence, the link is on the title
/// or on a "Candidater" button.
const REGION_SPEC: &str = r##"kind = "html"
url = "https://www.region.example.fr/aides"

[html]
item = "li.aide"
title = "h3"
link = ["h3 a @href", "a.candidater @href"]
deadline = [".cloture", { selector = ".infos", capture = 'avant le (\d{1,2} \w+ \d{4})' }]

[[html.filters]]
selector = ".statut"
matches = "(?i)^(ouvert|en cours)"

[[html.filters]]
selector = "@data-type"
one_of = ["aap", "ami"]
"##;

const REGION: &str = r#"<html><body><ul>
<li class="aide" data-type="aap"><h3><a href="/aides/friches">Recyclage des friches</a></h3>
  <span class="statut">Ouvert</span><p class="cloture">30 avril 2026</p>
  <p class="infos">Dossiers à déposer avant le 2 juin 2026 pour la seconde vague.</p></li>
<li class="aide" data-type="ami"><h3>Tiers-lieux ruraux</h3><a class="candidater" href="/depot/tiers">Candidater</a>
  <span class="statut">En cours</span><p class="infos">Réponses avant le 12 mai 2026 (midi).</p></li>
<li class="aide" data-type="aap"><h3><a href="/aides/clos">Ancien appel</a></h3><span class="statut">Clôturé</span></li>
<li class="aide" data-type="subvention"><h3><a href="/aides/sub">Subvention fonctionnement</a></h3><span class="statut">Ouvert</span></li>
<li class="aide" data-type="aap"><h3><a href="/aides/sans">Sans statut</a></h3></li>
</ul></body></html>"#;

#[test]
fn html_filters_fallback_selectors_and_a_captured_deadline() {
    let src = source(REGION_SPEC);
    let req = first_request(&src);
    let out = extract_page(
        &src,
        &req,
        &page("https://www.region.example.fr/aides", "text/html", REGION),
        0,
    )
    .unwrap();
    let titles: Vec<_> = out
        .items
        .iter()
        .map(|i| i.title.as_deref().unwrap())
        .collect();
    assert_eq!(
        titles,
        vec!["Recyclage des friches", "Tiers-lieux ruraux"],
        "{out:?}"
    );
    assert_eq!(out.items[0].link.as_deref(), Some("/aides/friches"));
    assert_eq!(
        out.items[1].link.as_deref(),
        Some("/depot/tiers"),
        "second selector"
    );
    assert_eq!(
        out.items[0].deadline.as_deref(),
        Some("30 avril 2026 ; 2 juin 2026"),
        "both places give a cut-off"
    );
    assert_eq!(out.items[1].deadline.as_deref(), Some("12 mai 2026"));
    assert_eq!(out.warnings.len(), 1, "{:?}", out.warnings);
    assert!(
        out.warnings[0].starts_with("1 item(s) on https://www.region.example.fr/aides have no value for html.filters[1] (selector `.statut`)"),
        "{:?}",
        out.warnings
    );
}

#[test]
fn relative_links_and_the_next_page_follow_the_documents_base_href() {
    let src = source(SPEC);
    let req = first_request(&src);
    let with_base = LISTING.replace(
        "<title>AAP</title>",
        r#"<title>AAP</title><base href="/portail/aides/">"#,
    );
    let p = page(
        "https://example.gouv.fr/appels?page=1",
        "text/html",
        &with_base,
    );
    let out = extract_page(&src, &req, &p, 0).unwrap();
    assert_eq!(
        out.items[0].base_url.as_ref().map(Url::as_str),
        Some("https://example.gouv.fr/portail/aides/")
    );
    assert_eq!(
        out.next.map(|n| n.url.to_string()).as_deref(),
        Some("https://example.gouv.fr/portail/aides/?page=2")
    );
}

#[test]
fn a_base_href_that_is_not_a_web_link_is_ignored() {
    let src = source(SPEC);
    let req = first_request(&src);
    for base in [
        r#"<base href="javascript:alert(1)">"#,
        r#"<base href="http://127.0.0.1/">"#,
        r#"<base target="_blank">"#,
    ] {
        let html = LISTING.replace("<title>AAP</title>", &format!("<title>AAP</title>{base}"));
        let p = page("https://example.gouv.fr/appels?page=1", "text/html", &html);
        let out = extract_page(&src, &req, &p, 0).unwrap();
        assert_eq!(
            out.items[0].base_url.as_ref().map(Url::as_str),
            Some(p.url.as_str()),
            "{base}"
        );
    }
}
