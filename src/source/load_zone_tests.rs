//! The time zone of a source definition: named, from its perimeter, or
//! an error naming the file, the line and the key.

use crate::source::load::tests::{HTML, assert_err, line_of, load};

#[test]
fn a_source_reads_its_hours_in_its_territory_zone_or_the_one_it_names() {
    assert_eq!(load(HTML).unwrap().time_zone.name(), "Europe/Paris");
    let guyane = HTML.replace(r#"perimeter = "france""#, r#"perimeter = "region:03""#);
    assert_eq!(load(&guyane).unwrap().time_zone.name(), "America/Cayenne");
    let named = HTML.replace(
        r#"schedule = "0 6 * * *""#,
        "schedule = \"0 6 * * *\"\ntimezone = \"Indian/Reunion\"",
    );
    assert_eq!(load(&named).unwrap().time_zone.name(), "Indian/Reunion");
    let bad = HTML.replace(
        r#"schedule = "0 6 * * *""#,
        "schedule = \"0 6 * * *\"\ntimezone = \"Guyane/Cayenne\"",
    );
    let msg = assert_err(
        &bad,
        line_of(&bad, "timezone"),
        "timezone",
        "unknown time zone `Guyane/Cayenne`",
    );
    assert!(msg.contains("America/Cayenne"), "{msg}");
}

/// The shipped prefectures' template: each overseas prefecture reads its
/// hours in its own zone, the mainland ones in Paris.
#[test]
fn each_prefecture_reads_its_hours_in_its_department_zone() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sources/prefectures.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let (sources, errors) = crate::source::template::load_template(&path, &text);
    assert!(errors.is_empty(), "{errors:?}");
    let zone = |id: &str| {
        sources
            .iter()
            .find(|s| s.id.as_str() == id)
            .unwrap_or_else(|| panic!("{id}"))
            .time_zone
            .name()
    };
    for (id, expected) in [
        ("prefecture-971", "America/Guadeloupe"),
        ("prefecture-972", "America/Martinique"),
        ("prefecture-973", "America/Cayenne"),
        ("prefecture-974", "Indian/Reunion"),
        ("prefecture-976", "Indian/Mayotte"),
        ("prefecture-2a", "Europe/Paris"),
        ("prefecture-75", "Europe/Paris"),
    ] {
        assert_eq!(zone(id), expected, "{id}");
    }
}
