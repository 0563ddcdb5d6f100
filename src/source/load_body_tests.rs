//! Tests of `source::load_body`: the body of a `[json]` POST request.

use crate::fetch::{FormPart, RequestBody};
use crate::source::KindSpec;
use crate::source::load::tests::{JSON, assert_err, line_of, load};

/// `JSON` with its `body` line replaced by `with`.
fn body(with: &str) -> String {
    JSON.replace(
        "body = { filters = { status = [\"open\"] }, size = 50 }",
        with,
    )
}

fn request_body(text: &str) -> RequestBody {
    let def = load(text).unwrap();
    let KindSpec::Json(json) = def.spec else {
        panic!("json")
    };
    json.body.expect("a body")
}

#[test]
fn a_form_compiles_to_text_and_json_parts() {
    let text = body(
        "form = { query = { bool = { must = [{ terms = { type = [\"1\", \"2\"] } }] } }, languages = [\"en\"], text = \"***\", pageSize = 50 }",
    );
    let RequestBody::Multipart(parts) = request_body(&text) else {
        panic!("multipart")
    };
    let part = |name: &str| parts.iter().find(|p| p.name == name).unwrap().clone();
    assert_eq!(
        part("query"),
        FormPart {
            name: "query".into(),
            value: r#"{"bool":{"must":[{"terms":{"type":["1","2"]}}]}}"#.into(),
            json: true,
        }
    );
    assert_eq!(part("languages").value, r#"["en"]"#);
    assert!(part("languages").json);
    assert!(!part("text").json);
    assert_eq!(part("pageSize").value, "50");
    let names: Vec<&str> = parts.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        ["languages", "pageSize", "query", "text"],
        "in the order of their names, as documented"
    );
}

#[test]
fn a_form_may_be_written_as_a_table() {
    let text = body("").replace(
        "[json.query]",
        "[json.form]\nsort = { field = \"sortStatus\", order = \"ASC\" }\n\n[json.query]",
    );
    let RequestBody::Multipart(parts) = request_body(&text) else {
        panic!("multipart")
    };
    assert_eq!(parts.len(), 1);
    assert_eq!(parts[0].value, r#"{"field":"sortStatus","order":"ASC"}"#);
}

#[test]
fn urlencoded_fields_compile_to_text_pairs() {
    let text = body("urlencoded = { q = \"appel à projets\", page_size = 20, open = true }");
    let RequestBody::UrlEncoded(pairs) = request_body(&text) else {
        panic!("urlencoded")
    };
    let value = |k: &str| pairs.iter().find(|(n, _)| n == k).unwrap().1.clone();
    assert_eq!(value("q"), "appel à projets");
    assert_eq!(value("page_size"), "20");
    assert_eq!(value("open"), "true");
}

#[test]
fn two_bodies_are_refused_at_the_second() {
    let text = JSON.replace(
        "body = { filters",
        "form = { text = \"x\" }\nbody = { filters",
    );
    assert_err(
        &text,
        line_of(&text, "form = "),
        "json.form",
        "json.body and json.form are both set",
    );
    let text = body("form = { a = \"1\" }\nurlencoded = { b = \"2\" }");
    assert_err(
        &text,
        line_of(&text, "urlencoded = "),
        "json.urlencoded",
        "a request has one body",
    );
}

#[test]
fn a_form_needs_post() {
    let text = body("form = { text = \"x\" }").replace("method = \"POST\"\n", "");
    assert_err(
        &text,
        line_of(&text, "form = "),
        "json.form",
        "only sent with method = \"POST\"",
    );
}

#[test]
fn an_empty_form_is_refused() {
    let text = body("form = {}");
    assert_err(
        &text,
        line_of(&text, "form = "),
        "json.form",
        "has no field",
    );
}

#[test]
fn structured_urlencoded_values_are_refused_at_their_key() {
    let text = body("urlencoded = { q = \"x\", filters = { status = \"open\" } }");
    let msg = assert_err(
        &text,
        line_of(&text, "urlencoded = "),
        "json.urlencoded.filters",
        "json.urlencoded.filters is table: expected a string, a number or a boolean",
    );
    assert!(msg.contains("[json.form]"), "{msg}");
}

#[test]
fn a_form_with_its_own_content_type_header_is_refused() {
    let text = body("form = { text = \"x\" }").replace(
        "[json]\n",
        "[headers]\n\"Content-Type\" = \"multipart/form-data\"\n\n[json]\n",
    );
    assert_err(
        &text,
        line_of(&text, "\"Content-Type\" = "),
        "headers.Content-Type",
        "a Content-Type header cannot be set with json.form",
    );
}

#[test]
fn unknown_keys_next_to_the_form_are_still_refused() {
    let text = body("form = { text = \"x\" }\nfrom = { text = \"y\" }");
    assert_err(
        &text,
        line_of(&text, "from = "),
        "json.from",
        "unknown field",
    );
}
