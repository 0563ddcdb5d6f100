//! Tests of `source::load_kind`: mistakes in the `[html]` and `[json]`
//! tables, each checking the file name, the line and the field in the
//! message. Fixtures and helpers are shared with `load_tests.rs`.

use crate::source::KindSpec;
use crate::source::load::tests::{HTML, JSON, assert_err, line_of, load};

#[test]
fn bad_css_selectors_are_reported_at_their_field() {
    let text = HTML.replace("\".fr-card__title a\"", "\".fr-card__title[\"");
    assert_err(
        &text,
        line_of(&text, "title = "),
        "html.title",
        "invalid CSS selector `.fr-card__title[`",
    );
    let text = HTML.replace("\"article.fr-card\"", "\"article..x\"");
    assert_err(
        &text,
        line_of(&text, "item = "),
        "html.item",
        "invalid CSS selector",
    );
    let text = HTML.replace("\".date-limite\"", "\"##\"");
    assert_err(
        &text,
        line_of(&text, "\"##\""),
        "html.detail.deadline",
        "invalid CSS selector `##`",
    );
}

#[test]
fn bad_field_selector_syntax_is_reported() {
    let text = HTML.replace("\".fr-card__title a @href\"", "\".fr-card__title a@href\"");
    assert_err(
        &text,
        line_of(&text, "link = "),
        "html.link",
        "put a space before `@`",
    );
    let text = HTML.replace("\".fr-card__title a @href\"", "\"a @\"");
    assert_err(
        &text,
        line_of(&text, "link = "),
        "html.link",
        "expected an attribute name after `@`",
    );
    let text = HTML.replace("\"a[rel=next] @href\"", "\"@href\"");
    assert_err(
        &text,
        line_of(&text, "next_page"),
        "html.next_page",
        "needs a CSS selector",
    );
}

#[test]
fn json_paths_must_not_be_empty() {
    let text = JSON.replace("title = \"name\"", "title = \"\"");
    assert_err(
        &text,
        line_of(&text, "title = "),
        "json.fields.title",
        "empty path",
    );
    let text = JSON.replace("\"data.results\"", "\"data..results\"");
    assert_err(
        &text,
        line_of(&text, "items = "),
        "json.items",
        "empty segment",
    );
}

#[test]
fn pagination_needs_a_rule() {
    let text = JSON.replace("page_param = \"page\"\n", "");
    assert_err(
        &text,
        line_of(&text, "[json.pagination]"),
        "json.pagination",
        "neither `next` nor `page_param`/`offset_param`",
    );
    let text = JSON.replace(
        "page_param = \"page\"",
        "page_param = \"page\"\nnext = \"links.next\"",
    );
    assert_err(
        &text,
        line_of(&text, "[json.pagination]"),
        "json.pagination",
        "more than one",
    );
    let text = JSON.replace(
        "page_param = \"page\"\npage_size = 50",
        "offset_param = \"offset\"",
    );
    assert_err(
        &text,
        line_of(&text, "offset_param"),
        "json.pagination.offset_param",
        "needs page_size",
    );
}

#[test]
fn max_pages_must_be_between_1_and_100() {
    let text = JSON.replace("page_size = 50", "page_size = 50\nmax_pages = 0");
    assert_err(
        &text,
        line_of(&text, "max_pages"),
        "json.pagination.max_pages",
        "max_pages is 0",
    );
    let text = HTML.replace("next_page = ", "max_pages = 101\nnext_page = ");
    assert_err(
        &text,
        line_of(&text, "max_pages"),
        "html.max_pages",
        "expected a number from 1 to 100",
    );
}

#[test]
fn a_body_needs_post() {
    let text = JSON.replace("method = \"POST\"\n", "");
    assert_err(
        &text,
        line_of(&text, "body = "),
        "json.body",
        "only sent with method = \"POST\"",
    );
}

/// `JSON` with `extra` appended to `[json.fields]`-free tail: a filter table.
fn with_filter(filter: &str) -> String {
    format!("{JSON}\n[[json.filters]]\n{filter}\n")
}

#[test]
fn a_bad_regex_in_a_field_or_filter_names_the_file_and_field() {
    let text = JSON.replace(
        "link = \"url\"",
        "link = { path = \"url\", capture = \"(unclosed\" }",
    );
    assert_err(
        &text,
        line_of(&text, "link = "),
        "json.fields.link",
        "invalid regex `(unclosed`",
    );
    let text = JSON.replace(
        "link = \"url\"",
        "link = [\"origin_url\", { path = \"url\", regex = \"[z-a]\", replace = \"\" }]",
    );
    assert_err(
        &text,
        line_of(&text, "link = "),
        "json.fields.link",
        "invalid regex `[z-a]`",
    );
    let text = with_filter("path = \"status\"\nmatches = \"*open\"");
    assert_err(
        &text,
        line_of(&text, "[[json.filters]]"),
        "json.filters.1.matches",
        "invalid regex `*open`",
    );
}

#[test]
fn an_empty_fallback_list_or_a_bad_field_table_is_an_error() {
    let text = JSON.replace("link = \"url\"", "link = []");
    assert_err(
        &text,
        line_of(&text, "link = "),
        "json.fields.link",
        "empty list",
    );
    let text = JSON.replace(
        "link = \"url\"",
        "link = { path = \"url\", regexp = \"x\" }",
    );
    assert_err(
        &text,
        line_of(&text, "link = "),
        "json.fields.link",
        "unknown key `regexp`",
    );
    let text = JSON.replace(
        "link = \"url\"",
        "link = { regex = \"x\", replace = \"y\" }",
    );
    assert_err(
        &text,
        line_of(&text, "link = "),
        "json.fields.link",
        "missing `path`",
    );
    let text = JSON.replace("link = \"url\"", "link = { path = \"url\", regex = \"x\" }");
    assert_err(
        &text,
        line_of(&text, "link = "),
        "json.fields.link",
        "`regex` without `replace`",
    );
    let text = JSON.replace("link = \"url\"", "link = [\"a..b\"]");
    assert_err(
        &text,
        line_of(&text, "link = "),
        "json.fields.link",
        "invalid path `a..b`",
    );
    let text = JSON.replace("link = \"url\"", "link = \"dates[x]\"");
    assert_err(
        &text,
        line_of(&text, "link = "),
        "json.fields.link",
        "bad segment `dates[x]`",
    );
}

#[test]
fn bad_filters_are_errors_naming_the_filter() {
    let text = with_filter("path = \"status\"\ncontains = \"open\"");
    let msg = load(&text).unwrap_err().to_string();
    assert!(
        msg.starts_with("sources/test.toml:")
            && msg.contains("json.filters")
            && msg.contains("unknown field `contains`"),
        "{msg}"
    );
    let text = with_filter("path = \"status\"");
    assert_err(
        &text,
        line_of(&text, "[[json.filters]]"),
        "json.filters.1",
        "exactly one test",
    );
    let text = with_filter("path = \"status\"\nequals = \"a\"\nmatches = \"b\"");
    assert_err(
        &text,
        line_of(&text, "[[json.filters]]"),
        "json.filters.1",
        "exactly one test",
    );
    let text = with_filter("selector = \".status\"\nequals = \"a\"");
    assert_err(
        &text,
        line_of(&text, "[[json.filters]]"),
        "json.filters.1",
        "`selector` is not used by json filters",
    );
    let text = with_filter("path = \"status\"\none_of = []");
    assert_err(
        &text,
        line_of(&text, "[[json.filters]]"),
        "json.filters.1.one_of",
        "empty list",
    );
    let text = with_filter("path = \"status\"\nequals = 1.5");
    assert_err(
        &text,
        line_of(&text, "[[json.filters]]"),
        "json.filters.1.equals",
        "got float",
    );
    let text = HTML.replace(
        "[html.detail]",
        "[[html.filters]]\npath = \"x\"\nequals = \"y\"\n\n[html.detail]",
    );
    assert_err(
        &text,
        line_of(&text, "[[html.filters]]"),
        "html.filters.1",
        "`path` is not used by html filters",
    );
}

#[test]
fn dollar_items_and_bracket_paths_compile() {
    let text = JSON
        .replace("items = \"data.results\"", "items = \"$\"")
        .replace(
            "link = \"url\"",
            "link = \"links[*].href\"\ndeadline = \"$.dates[0][*]\"",
        );
    let def = load(&text).unwrap_or_else(|e| panic!("{e}"));
    let KindSpec::Json(json) = &def.spec else {
        panic!("json")
    };
    assert!(json.items.segments.is_empty());
    assert_eq!(
        json.fields.link.as_ref().unwrap().sources[0].at.segments,
        vec!["links", "*", "href"]
    );
    assert_eq!(
        json.fields.deadline.as_ref().unwrap().sources[0]
            .at
            .segments,
        vec!["dates", "0", "*"]
    );
    let text = JSON.replace("items = \"data.results\"", "items = \"data[*]\"");
    assert_err(
        &text,
        line_of(&text, "items = "),
        "json.items",
        "`*` is not allowed here",
    );
}

proptest::proptest! {
    #[test]
    fn any_field_value_or_filter_loads_or_errs_without_panicking(
        field in "[a-z\\[\\]*$.0-9 ]{0,12}",
        re in "[a-z\\[\\](){}*+?.\\\\^$|0-9]{0,10}",
        op in proptest::sample::select(vec!["equals", "matches", "one_of", "contains"]),
    ) {
        let value = if op == "one_of" { format!("[{re:?}]") } else { format!("{re:?}") };
        let text = JSON.replace(
            "link = \"url\"",
            &format!("link = [{field:?}, {{ path = {field:?}, capture = {re:?}, trim = {re:?} }}]"),
        ) + &format!("\n[[json.filters]]\npath = {field:?}\n{op} = {value}\n");
        let _ = load(&text);
    }
}
