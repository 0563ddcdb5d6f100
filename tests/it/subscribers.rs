//! `vigie subscribers` run as real processes: add, list, show, remove,
//! all-or-nothing CSV import, export and re-import.

use serde_json::Value;

use crate::support::{Scenario, all_output, text};

const HEADER: &str = "email,name,audience,territory,themes,keywords,frequency,weekday";

fn list(s: &Scenario) -> Vec<Value> {
    let out = s.vigie(&["subscribers", "list", "--format", "json"]);
    assert!(out.status.success(), "{}", all_output(&out));
    serde_json::from_slice(&out.stdout).expect("list --format json is JSON")
}

fn write(s: &Scenario, name: &str, content: &str) -> String {
    let path = s.path(name);
    std::fs::write(&path, content).unwrap();
    path.display().to_string()
}

#[test]
fn a_subscriber_can_be_added_listed_shown_and_removed() {
    let s = Scenario::new();
    let out = s.vigie(&[
        "subscribers",
        "add",
        "Mairie@Cergy.FR",
        "--name",
        "Mairie de Cergy",
        "--audience",
        "commune",
        "--territory",
        "95127",
        "--theme",
        "numerique",
        "--keyword",
        "archiv*",
        "--frequency",
        "weekly",
        "--weekday",
        "lundi",
    ]);
    assert!(out.status.success(), "{}", all_output(&out));

    let subs = list(&s);
    assert_eq!(subs.len(), 1, "{subs:?}");
    let sub = &subs[0];
    assert_eq!(sub["email"], "Mairie@cergy.fr");
    assert_eq!(sub["territory"], "commune:95127");
    assert_eq!(sub["territory_name"], "Cergy");
    assert_eq!(sub["status"], "active");
    assert_eq!(sub["weekday"], "monday");
    assert!(sub.get("manage_token").is_none(), "tokens are not listed");

    let table = s.vigie(&["subscribers", "list"]);
    assert!(
        text(&table.stdout).contains("Mairie de Cergy"),
        "{}",
        all_output(&table)
    );

    let show = s.vigie(&["subscribers", "show", "mairie@cergy.fr"]);
    assert!(show.status.success(), "{}", all_output(&show));
    assert!(
        text(&show.stdout).contains("commune:95127 (Cergy)"),
        "{}",
        all_output(&show)
    );

    let again = s.vigie(&[
        "subscribers",
        "add",
        "mairie@cergy.fr",
        "--name",
        "Cergy",
        "--audience",
        "commune",
        "--territory",
        "95127",
    ]);
    assert!(!again.status.success());
    assert!(
        text(&again.stderr).contains("already subscribed"),
        "{}",
        all_output(&again)
    );

    let id = sub["id"].as_i64().unwrap().to_string();
    let rm = s.vigie(&["subscribers", "remove", &id]);
    assert!(rm.status.success(), "{}", all_output(&rm));
    assert!(list(&s).is_empty());
    let missing = s.vigie(&["subscribers", "show", &id]);
    assert!(!missing.status.success());
    assert!(
        text(&missing.stderr).contains("no subscriber"),
        "{}",
        all_output(&missing)
    );
}

#[test]
fn an_import_with_a_bad_row_names_the_line_and_field_and_imports_nothing() {
    let s = Scenario::new();
    let file = write(
        &s,
        "list.csv",
        &format!(
            "{HEADER}\n\
             a@cergy.fr,Cergy,commune,commune:95127,numerique,,daily,\n\
             b@pontoise.fr,Pontoise,commune,commune:95500,,,,\n\
             c@nowhere.fr,Nulle part,commune,commune:95999,,,,\n\
             d@valdoise.fr,Val-d'Oise,department,95,,,,\n"
        ),
    );
    let out = s.vigie(&["subscribers", "import", &file]);
    assert!(!out.status.success(), "{}", all_output(&out));
    let err = text(&out.stderr);
    assert!(err.contains("line 4"), "{err}");
    assert!(err.contains("field `territory`"), "{err}");
    assert!(err.contains("nothing was imported"), "{err}");
    assert!(list(&s).is_empty(), "nothing is half-imported");
}

#[test]
fn a_good_import_makes_everyone_active_and_export_reimports_identically() {
    let s = Scenario::new();
    let csv = format!(
        "{HEADER}\n\
         a@cergy.fr,Mairie de Cergy,commune,commune:95127,numerique|archives,tiers-lieu|archiv*,weekly,1\n\
         b@pontoise.fr,\"Pontoise, ville\",commune,95500,,,,\n\
         dsi@valdoise.fr,Département du Val-d'Oise,department,department:95,donnees,,daily,\n\
         region@idf.fr,Région Île-de-France,region,11,,,hebdomadaire,vendredi\n"
    );
    let file = write(&s, "list.csv", &csv);
    let out = s.vigie(&["subscribers", "import", &file]);
    assert!(out.status.success(), "{}", all_output(&out));
    assert!(
        text(&out.stdout).contains("4 added"),
        "{}",
        all_output(&out)
    );
    let subs = list(&s);
    assert_eq!(subs.len(), 4);
    assert!(
        subs.iter()
            .all(|v| v["status"] == "active" && !v["confirmed_at"].is_null())
    );
    assert_eq!(subs[3]["territory"], "region:11");

    let exported = s.path("export.csv");
    let out = s.vigie(&[
        "subscribers",
        "export",
        "--output",
        exported.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", all_output(&out));
    let first = std::fs::read_to_string(&exported).unwrap();
    assert!(first.starts_with(HEADER), "{first}");

    let other = Scenario::new();
    let out = other.vigie(&["subscribers", "import", exported.to_str().unwrap()]);
    assert!(out.status.success(), "{}", all_output(&out));
    let out = other.vigie(&["subscribers", "export"]);
    assert!(out.status.success(), "{}", all_output(&out));
    assert_eq!(
        text(&out.stdout),
        first,
        "export → import → export is stable"
    );

    let strip = |v: &Value| {
        let mut v = v.clone();
        for k in ["id", "created_at", "confirmed_at"] {
            v.as_object_mut().unwrap().remove(k);
        }
        v
    };
    let a: Vec<Value> = subs.iter().map(strip).collect();
    let b: Vec<Value> = list(&other).iter().map(strip).collect();
    assert_eq!(a, b);

    // Importing the same file again updates rather than duplicates.
    let out = s.vigie(&["subscribers", "import", &file]);
    assert!(
        text(&out.stdout).contains("0 added, 4 updated"),
        "{}",
        all_output(&out)
    );
    assert_eq!(list(&s).len(), 4);
}

#[test]
fn an_unknown_territory_is_named_with_a_suggestion() {
    let s = Scenario::new();
    let out = s.vigie(&[
        "subscribers",
        "add",
        "mairie@cergy.fr",
        "--name",
        "Cergy",
        "--audience",
        "commune",
        "--territory",
        "95000",
    ]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("territory"), "{err}");
    assert!(err.contains("commune:95000"), "{err}");
    assert!(err.contains("postal code"), "{err}");
    assert!(err.contains("95127"), "{err}");
    assert!(list(&s).is_empty());
}
