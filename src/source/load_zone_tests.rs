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
