//! Aides-territoires: the national aggregator's API.

use serde_json::{Value, json};

use super::{by_title, crawl, has_theme, site};
use crate::support::all_output;

#[test]
fn aides_territoires_api_pages_are_followed_with_the_secret_header() {
    let (server, sc) = site(
        "aides-territoires",
        &[
            ("/api/aids/", "aids-page-1.json"),
            (
                "/api/aids/?call_for_projects_only=true&order_by=submission_deadline&page=2&targeted_audiences=commune",
                "aids-page-2.json",
            ),
        ],
    );

    // Without the token the definition does not load: a clear error.
    let out = sc.vigie(&["crawl", "--source", "aides-territoires"]);
    assert!(!out.status.success());
    let text = all_output(&out);
    assert!(
        text.contains("aides-territoires.toml")
            && text.contains("headers.Authorization")
            && text.contains("AIDES_TERRITOIRES_TOKEN"),
        "{text}"
    );
    assert!(server.requests().is_empty());

    let calls = crawl(
        &sc,
        "aides-territoires",
        &[("AIDES_TERRITOIRES_TOKEN", "jwt-test-123")],
    );
    assert_eq!(calls.len(), 4, "3 results on page 1, 1 on page 2");
    let requests = server.requests();
    let first = requests
        .iter()
        .find(|r| r.path.starts_with("/api/"))
        .unwrap();
    assert_eq!(
        first.path,
        "/api/aids/?call_for_projects_only=true&order_by=submission_deadline&targeted_audiences=commune"
    );
    assert_eq!(first.header("authorization"), Some("Bearer jwt-test-123"));
    assert_eq!(
        server
            .requests_to("/api/aids/?call_for_projects_only=true&order_by=submission_deadline&page=2&targeted_audiences=commune")
            .len(),
        1
    );

    let tcd = by_title(&calls, "Territoires connectés");
    assert_eq!(
        tcd["title"],
        "Appel à projets « Territoires connectés et durables » 2035"
    );
    assert_eq!(
        tcd["url"],
        "https://aides-territoires.beta.gouv.fr/aides/a1b2-territoires-connectes-et-durables/"
    );
    assert_eq!(tcd["deadline"], "2035-06-30T23:59:00+02:00");
    assert_eq!(tcd["opens_on"], "2035-01-15T00:00:00+01:00");
    assert_eq!(tcd["funder"], "Banque des Territoires");
    assert_eq!(tcd["audiences"], json!(["commune", "epci"]));
    assert_eq!(tcd["perimeter"], "france");
    assert_eq!(tcd["kind"], "aap");
    assert!(has_theme(tcd, "numerique"));
    assert!(!tcd["summary_html"].as_str().unwrap().contains("script"));

    let occ = by_title(&calls, "Occitanie");
    assert_eq!(occ["perimeter"], "region:76", "territory fallback");
    assert_eq!(occ["audiences"], json!(["commune", "department", "region"]));
    assert_eq!(occ["deadline"], "2035-11-14T23:59:00+01:00");
    assert_eq!(occ["funder"], "Région Occitanie");
    assert!(has_theme(occ, "inclusion_numerique"));

    let perm = by_title(&calls, "archivage numérique des petites communes");
    assert_eq!(perm["deadline"], Value::Null);
    assert_eq!(perm["perimeter"], "france", "mapped label");

    let vo = by_title(&calls, "Données ouvertes");
    assert_eq!(
        vo["audiences"],
        json!(["commune", "epci"]),
        "current labels"
    );
    assert_eq!(vo["perimeter"], "department:95");
    assert_eq!(vo["deadline"], "2036-01-31T23:59:00+01:00");
}
