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

    // Importing the same file again changes nothing, and says so.
    let out = s.vigie(&["subscribers", "import", &file]);
    assert!(
        text(&out.stdout).contains("0 added, 0 updated, 4 unchanged"),
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

/// A French list as spreadsheets save it, with accents, `;` and CRLF.
const FRENCH: &str = "email;name;audience;territory;keywords\r\n\
                      mairie@cergy.fr;Mairie de Cergy — numérique;commune;95127;énergie|forêt\r\n\
                      dsi@valdoise.fr;Département du Val-d'Oise;department;95;\r\n";

fn import_bytes(s: &Scenario, name: &str, bytes: &[u8]) -> std::process::Output {
    let path = s.path(name);
    std::fs::write(&path, bytes).unwrap();
    s.vigie(&["subscribers", "import", path.to_str().unwrap()])
}

fn assert_french_list_imported(s: &Scenario, name: &str) {
    let subs = list(s);
    assert_eq!(subs.len(), 2, "{name}: {subs:?}");
    assert_eq!(subs[0]["name"], "Mairie de Cergy — numérique", "{name}");
    assert_eq!(
        subs[0]["keywords"],
        serde_json::json!(["énergie", "forêt"]),
        "{name}"
    );
    assert_eq!(subs[1]["name"], "Département du Val-d'Oise", "{name}");
}

#[test]
fn utf16_files_with_a_bom_are_read_in_both_byte_orders() {
    for (name, big_endian) in [("le.csv", false), ("be.csv", true)] {
        let s = Scenario::new();
        let mut bytes: Vec<u8> = if big_endian {
            vec![0xFE, 0xFF]
        } else {
            vec![0xFF, 0xFE]
        };
        for unit in FRENCH.encode_utf16() {
            let pair = if big_endian {
                unit.to_be_bytes()
            } else {
                unit.to_le_bytes()
            };
            bytes.extend_from_slice(&pair);
        }
        let out = import_bytes(&s, name, &bytes);
        assert!(out.status.success(), "{name}: {}", all_output(&out));
        assert_french_list_imported(&s, name);
    }
}

/// Windows-1252 bytes of `text` (its characters are all in that code page).
fn cp1252(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| match c {
            '—' => 0x97,
            '’' => 0x92,
            c if (c as u32) < 0x100 => c as u32 as u8,
            c => panic!("{c} is not in this test's Windows-1252 table"),
        })
        .collect()
}

#[test]
fn a_windows_1252_semicolon_file_from_french_excel_is_read() {
    let s = Scenario::new();
    let bytes = cp1252(FRENCH);
    assert!(
        std::str::from_utf8(&bytes).is_err(),
        "the test file is not UTF-8"
    );
    let out = import_bytes(&s, "excel.csv", &bytes);
    assert!(out.status.success(), "{}", all_output(&out));
    assert_french_list_imported(&s, "excel.csv");
}

#[test]
fn an_undecodable_file_names_the_line_and_suggests_utf8() {
    let s = Scenario::new();
    // Valid UTF-8 on line 2, then a byte that is neither UTF-8 nor
    // Windows-1252 (0x81 is unassigned there) on line 3.
    let mut bytes = "email,name,audience,territory\na@cergy.fr,Cergy é,commune,95127\n"
        .as_bytes()
        .to_vec();
    bytes.extend_from_slice(b"b@cergy.fr,Cergy \x81,commune,95127\n");
    let out = import_bytes(&s, "bad.csv", &bytes);
    assert_eq!(out.status.code(), Some(1), "{}", all_output(&out));
    let err = text(&out.stderr);
    assert!(err.contains("line 3") && err.contains("UTF-8"), "{err}");
    assert!(list(&s).is_empty());
}

#[test]
fn unsubscribe_keeps_the_row_and_an_import_never_adds_them_back() {
    let s = Scenario::new();
    let out = import_bytes(&s, "list.csv", FRENCH.as_bytes());
    assert!(out.status.success(), "{}", all_output(&out));
    let out = s.vigie(&["subscribers", "unsubscribe", "MAIRIE@cergy.fr"]);
    assert!(out.status.success(), "{}", all_output(&out));
    assert!(
        text(&out.stdout).contains("unsubscribed"),
        "{}",
        all_output(&out)
    );
    let subs = list(&s);
    assert_eq!(subs.len(), 2, "the row is kept");
    assert_eq!(subs[0]["status"], "unsubscribed");

    let out = import_bytes(&s, "again.csv", FRENCH.as_bytes());
    assert!(out.status.success(), "{}", all_output(&out));
    assert!(
        text(&out.stdout).contains("1 skipped"),
        "{}",
        all_output(&out)
    );
    assert_eq!(list(&s)[0]["status"], "unsubscribed");

    let out = s.vigie(&["subscribers", "unsubscribe", "nobody@cergy.fr"]);
    assert_eq!(out.status.code(), Some(1), "{}", all_output(&out));
}

#[test]
fn reactivate_resets_a_bouncing_subscriber_and_refuses_an_unsubscribed_one() {
    let s = Scenario::new();
    let out = import_bytes(&s, "list.csv", FRENCH.as_bytes());
    assert!(out.status.success(), "{}", all_output(&out));
    let conn = rusqlite::Connection::open(s.db()).unwrap();
    conn.execute(
        "UPDATE subscribers SET status = 'bouncing', bounce_count = 3 WHERE email = 'mairie@cergy.fr'",
        [],
    )
    .unwrap();
    drop(conn);
    let out = s.vigie(&["subscribers", "reactivate", "mairie@cergy.fr"]);
    assert!(out.status.success(), "{}", all_output(&out));
    let subs = list(&s);
    assert_eq!(subs[0]["status"], "active");
    assert_eq!(subs[0]["bounce_count"], 0);

    let out = s.vigie(&["subscribers", "unsubscribe", "dsi@valdoise.fr"]);
    assert!(out.status.success(), "{}", all_output(&out));
    let out = s.vigie(&["subscribers", "reactivate", "dsi@valdoise.fr"]);
    assert_eq!(out.status.code(), Some(1), "{}", all_output(&out));
    let err = text(&out.stderr);
    assert!(
        err.contains("unsubscribed") && err.contains("new confirmation"),
        "{err}"
    );
    assert_eq!(list(&s)[1]["status"], "unsubscribed");
}
