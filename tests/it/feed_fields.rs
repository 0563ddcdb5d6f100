//! `[feed.fields]` end to end: a WordPress feed (its categories as
//! `<category><![CDATA[…]]></category>`, the excerpt in `description`, the
//! article in `content:encoded`) crawled by the real binary, with the
//! deadline captured from the description, themes and audiences from the
//! categories through the source's maps.

use serde_json::{Value, json};

use crate::support::{FixtureServer, Scenario, all_output, fixtures};

fn definition(server: &FixtureServer) -> String {
    format!(
        r#"id = "territoires-feed"
name = "Numérique en territoires"
kind = "feed"
url = "{url}"
schedule = "30 7 * * 1-5"

[defaults]
audiences = ["region"]
perimeter = "france"

[maps.themes]
"Numérique" = "numerique"
"Cybersécurité" = "cybersecurite"
"Données" = "donnees"

[maps.audiences]
"Communes" = "commune"
"Intercommunalités" = "epci"
"Départements" = "department"

[maps.kind]
"Appels à projets" = "aap"
"Appels à manifestation d'intérêt" = "ami"

[feed]
include = ["appel"]

[feed.fields]
deadline = {{ from = "description", capture = '(?i)(?:date limite|clôture)\s*(?::|le)?\s*([^.]+)' }}
themes = {{ from = "categories", capture = "(?i)^(numérique|cybersécurité|données)$" }}
audiences = {{ from = "categories", capture = "(?i)^(communes|intercommunalités|départements)$" }}
kind = {{ from = "categories", capture = "(?i)^(appels à .*)$" }}
"#,
        url = server.url("/wordpress-categories.xml")
    )
}

#[test]
fn a_feed_maps_deadline_themes_audiences_and_kind_from_its_entries() {
    let server = FixtureServer::start();
    server.serve_dir(fixtures("feeds"));
    let sc = Scenario::new();
    sc.source("territoires-feed", &definition(&server));

    let out = sc.vigie(&["crawl", "--format", "json"]);
    assert!(out.status.success(), "{}", all_output(&out));
    let report: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let warnings = report[0]["warnings"].as_array().unwrap();
    assert!(
        !warnings
            .iter()
            .any(|w| w.as_str().unwrap().contains("not mapped")),
        "captures keep only labels the maps know: {warnings:#?}"
    );

    let calls = sc.calls(&[]);
    let of = |needle: &str| -> Value {
        calls
            .iter()
            .find(|c| c["title"].as_str().unwrap().contains(needle))
            .unwrap_or_else(|| panic!("no call like {needle:?}: {calls:#?}"))
            .clone()
    };
    assert_eq!(calls.len(), 3, "the nomination is not a call: {calls:#?}");

    let aap = of("Territoires numériques 2027");
    assert_eq!(
        aap["deadline"], "2027-03-12T23:59:00+01:00",
        "the description's deadline, not the webinar date of the article"
    );
    assert_eq!(aap["deadlines"].as_array().unwrap().len(), 1);
    assert_eq!(aap["audiences"], json!(["commune", "epci"]));
    assert!(
        aap["themes"]
            .as_array()
            .unwrap()
            .contains(&json!("numerique"))
    );
    assert_eq!(aap["kind"], "aap");

    let ami = of("cybersécurité des collectivités");
    assert_eq!(ami["deadline"], "2027-04-30T23:59:00+02:00");
    assert_eq!(ami["audiences"], json!(["commune", "department"]));
    assert!(
        ami["themes"]
            .as_array()
            .unwrap()
            .contains(&json!("cybersecurite"))
    );
    assert_eq!(ami["kind"], "ami");

    // No category names an audience: the source's default; no deadline in
    // the description: normalize reads the entry's whole text.
    let open_data = of("données ouvertes locales");
    assert_eq!(open_data["audiences"], json!(["region"]));
    assert!(
        open_data["themes"]
            .as_array()
            .unwrap()
            .contains(&json!("donnees"))
    );
    assert_eq!(open_data["deadline"], "2027-05-05T23:59:00+02:00");
}
