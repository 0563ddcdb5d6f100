//! The catalogue and call pages: filters as shareable URLs, French errors
//! for bad parameters, pagination, a call's every field and sources, a
//! merged-away id redirecting, hidden calls answering 404.

use crate::support::fixtures;
use crate::support::web::{Site, numbered_listing};

fn listing() -> Vec<u8> {
    std::fs::read(fixtures("crawl/listing.html")).unwrap()
}

#[test]
fn the_catalogue_lists_open_calls_nearest_deadline_first_with_sanitized_text() {
    let site = Site::crawled(listing());
    for path in ["/", "/appels"] {
        let r = site.get(path);
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        assert!(r.header("content-type").unwrap().starts_with("text/html"));
        let archive = r
            .body
            .find("Archivage numérique en territoires")
            .expect("first call");
        let donnees = r
            .body
            .find("AMI Données et territoires")
            .expect("second call");
        assert!(archive < donnees, "15 March before 30 June");
        assert!(r.body.contains("3 appels trouvés"), "{}", r.body);
        assert!(
            !r.body.contains("alert(\"x\")"),
            "the scraped script is gone"
        );
        assert!(r.body.contains("lang=\"fr\""));
        // Autodiscovery of the same search as feeds.
        assert!(r.body.contains("type=\"application/atom+xml\""));
    }
}

#[test]
fn every_filter_is_a_shareable_url_and_the_form_shows_it() {
    let site = Site::crawled(listing());
    let r = site.get("/appels?q=donnees&type=ami");
    assert_eq!(r.status, 200);
    assert!(r.body.contains("1 appel trouvé"), "{}", r.body);
    assert!(r.body.contains("AMI Données et territoires"));
    assert!(!r.body.contains("Archivage numérique en territoires"));
    assert!(
        r.body.contains("value=\"donnees\""),
        "the text stays in its field"
    );
    assert!(
        r.body
            .contains("id=\"type-ami\" name=\"type\" value=\"ami\" checked"),
        "the kind stays ticked"
    );
    // The feed links carry the same search.
    assert!(r.body.contains("q=donnees"), "{}", r.body);
    // A region picker, a commune by name: France-wide calls reach it.
    let r = site.get("/appels?commune=Toulouse&region=76");
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("3 appels trouvés"), "{}", r.body);
    // Closed only: none.
    let r = site.get("/appels?statut=clos");
    assert!(r.body.contains("0 appel trouvé"), "{}", r.body);
}

#[test]
fn bad_parameters_get_a_french_400_naming_the_parameter() {
    let site = Site::crawled(listing());
    for (query, parameter) in [
        ("statut=fini", "statut"),
        ("cloture_apres=31%2F02%2F2035", "cloture_apres"),
        ("couleur=bleu", "couleur"),
        ("page=0", "page"),
        ("page=abc", "page"),
        ("commune=Atlantis", "commune"),
    ] {
        let r = site.get(&format!("/appels?{query}"));
        assert_eq!(r.status, 400, "{query}: {}", r.body);
        assert!(
            r.body.contains(&format!("Paramètre « {parameter} »")),
            "{query}: {}",
            r.body
        );
        assert!(r.body.contains("role=\"alert\""));
    }
}

#[test]
fn pages_of_twenty_link_to_each_other_and_keep_the_filters() {
    let site = Site::crawled(numbered_listing(45, 28));
    let r = site.get("/appels?q=projets");
    assert!(r.body.contains("45 appels trouvés"), "{}", r.body);
    assert_eq!(r.body.matches("class=\"card\"").count(), 20);
    assert!(
        r.body
            .contains("href=\"/appels?q=projets&amp;page=2\" rel=\"next\""),
        "{}",
        r.body
    );
    let r = site.get("/appels?q=projets&page=3");
    assert_eq!(r.status, 200);
    assert_eq!(r.body.matches("class=\"card\"").count(), 5);
    assert!(r.body.contains("aria-current=\"page\">3<"), "{}", r.body);
    assert!(!r.body.contains("rel=\"next\""));
    // Past the end: an empty page, not an error.
    let r = site.get("/appels?q=projets&page=9");
    assert_eq!(r.status, 200);
    assert_eq!(r.body.matches("class=\"card\"").count(), 0);
}

#[test]
fn a_call_page_shows_every_field_and_where_it_was_seen() {
    let site = Site::crawled(listing());
    let r = site.get("/appels?q=archivage");
    let id = r
        .body
        .split("href=\"/appels/")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("a link to the call")
        .to_string();
    let r = site.get(&format!("/appels/{id}"));
    assert_eq!(r.status, 200, "{}", r.body);
    for expected in [
        "Archivage numérique en territoires",
        "Appel à projets",
        "Ouvert",
        "15 mars 2035",
        "Agence de démonstration",
        "Communes",
        "Financeur de démonstration",
        "Ajouter à mon agenda",
        &format!("/appels/{id}/agenda.ics"),
        &format!("href=\"https://vigie.example.fr/appels/{id}\""),
    ] {
        assert!(
            r.body.contains(expected),
            "missing {expected:?}: {}",
            r.body
        );
    }
    // The funder's link, without its tracking parameters.
    assert!(
        r.body.contains(&site.fixtures.url("/aap/archivage.html")),
        "{}",
        r.body
    );
    assert!(!r.body.contains("<script>alert"));
}

#[test]
fn unknown_ids_are_404_a_merged_id_redirects_and_a_rejected_call_is_hidden() {
    let site = Site::crawled(listing());
    for path in ["/appels/999999", "/appels/abc", "/appels/-1", "/nulle-part"] {
        let r = site.get(path);
        assert_eq!(r.status, 404, "{path}");
        assert!(r.body.contains("Page introuvable"), "{path}: {}", r.body);
    }
    let ids = site.call_ids();
    assert_eq!(ids.len(), 3, "{ids:?}");
    let (a, b, c) = (ids[0], ids[1], ids[2]);
    let out = site
        .sc
        .vigie(&["calls", "merge", &a.to_string(), &b.to_string()]);
    assert!(out.status.success(), "{}", crate::support::all_output(&out));
    let r = site.get(&format!("/appels/{b}"));
    assert_eq!(r.status, 301);
    assert_eq!(r.header("location"), Some(format!("/appels/{a}").as_str()));
    let out = site.sc.vigie(&["review", "reject", &c.to_string()]);
    assert!(out.status.success(), "{}", crate::support::all_output(&out));
    assert_eq!(site.get(&format!("/appels/{c}")).status, 404);
    let r = site.get("/appels");
    assert!(
        r.body.contains("1 appel trouvé"),
        "merged and rejected calls leave the list: {}",
        r.body
    );
}
