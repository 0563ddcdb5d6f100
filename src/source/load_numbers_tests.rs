//! Numbers and schedules in source definitions: out of range or never
//! firing is an error naming the file, the line and the field.

use crate::source::load::tests::{HTML, JSON, assert_err, line_of};

#[test]
fn a_schedule_that_never_fires_is_an_error_naming_the_field() {
    for never in ["0 0 30 2 *", "0 6 31 4 *", "0 0 31 2,4,6 *"] {
        let text = HTML.replace("0 6 * * *", never);
        let msg = assert_err(&text, 6, "schedule", "never fires");
        assert!(msg.contains(never) && msg.contains("hint:"), "{msg}");
    }
}

#[test]
fn a_rare_schedule_that_fires_is_accepted() {
    // 29 February: once every four years; the 31st: seven months a year.
    for rare in ["0 6 29 2 *", "0 6 31 * *", "0 6 1 1 *"] {
        let text = HTML.replace("0 6 * * *", rare);
        crate::source::load::load_str(std::path::Path::new("sources/test.toml"), &text)
            .unwrap_or_else(|e| panic!("{rare}: {e}"));
    }
}

#[test]
fn politeness_overrides_out_of_range_name_the_key_and_the_range() {
    for (line, range) in [
        ("min_spacing_ms = 86400000", "from 0 to 60000 milliseconds"),
        ("timeout_secs = 0", "from 1 to 600 seconds"),
        (
            "timeout_secs = 9223372036854775807",
            "from 1 to 600 seconds",
        ),
        ("max_body_bytes = 0", "from 1 to 1073741824 bytes"),
    ] {
        let text = format!("{HTML}\n[politeness]\n{line}\n");
        let key = line.split(' ').next().unwrap();
        let msg = assert_err(
            &text,
            line_of(&text, line),
            &format!("politeness.{key}"),
            range,
        );
        assert!(msg.contains(key), "{msg}");
    }
    let text = format!("{HTML}\n[politeness]\nmin_spacing_ms = -5\n");
    assert_err(
        &text,
        line_of(&text, "min_spacing_ms"),
        "politeness.min_spacing_ms",
        "-5",
    );
}

#[test]
fn priority_and_pagination_numbers_have_ranges() {
    let text = HTML.replace(
        "schedule = \"0 6 * * *\"",
        "schedule = \"0 6 * * *\"\npriority = 2000000000",
    );
    assert_err(&text, 7, "priority", "from -1000 to 1000");
    let text = JSON.replace("page_size = 50", "page_size = 4000000000");
    assert_err(
        &text,
        line_of(&text, "page_size"),
        "json.pagination.page_size",
        "from 1 to 10000 items",
    );
    let text = JSON.replace(
        "page_size = 50",
        "page_size = 50\nstart = 18000000000000000000",
    );
    assert_err(
        &text,
        line_of(&text, "start ="),
        "json.pagination.start",
        "from 0 to 1000000000",
    );
}
