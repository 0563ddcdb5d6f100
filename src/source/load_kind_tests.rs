//! Tests of `source::load_kind`: mistakes in the `[html]` and `[json]`
//! tables, each checking the file name, the line and the field in the
//! message. Fixtures and helpers are shared with `load_tests.rs`.

use crate::source::load::tests::{HTML, JSON, assert_err, line_of};

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
