//! Tests of `[auth]` validation: each mistake names the file, the line and
//! the key; nothing read from the environment appears in a message.

use crate::source::load::tests::{HTML, JSON, assert_err, line_of, load};

/// `JSON` with an `[auth]` table: `lines` are its keys.
fn with_auth(lines: &str) -> String {
    format!("{JSON}\n[auth]\n{lines}\n")
}

const GOOD: &str = r#"token_url = "https://aides-territoires.beta.gouv.fr/api/connexion/"
key_header = "X-AUTH-TOKEN"
key = "${CARGO_MANIFEST_DIR}"
lifetime_secs = 86400"#;

#[test]
fn a_valid_auth_table_compiles_with_its_defaults() {
    let def = load(&with_auth(GOOD)).unwrap();
    let auth = def.auth.expect("[auth] compiled");
    assert_eq!(
        auth.token_url.as_str(),
        "https://aides-territoires.beta.gouv.fr/api/connexion/"
    );
    assert_eq!(auth.method, crate::source::schema::HttpMethod::Post);
    assert_eq!(auth.key_header, "X-AUTH-TOKEN");
    assert_eq!(auth.key.expose(), env!("CARGO_MANIFEST_DIR"));
    assert_eq!(auth.key_vars, vec!["CARGO_MANIFEST_DIR".to_string()]);
    assert_eq!(auth.token_path.segments, vec!["token".to_string()]);
    assert_eq!(auth.header, "Authorization");
    assert_eq!(auth.prefix, "Bearer ");
    assert_eq!(auth.lifetime.as_secs(), 86400);
    assert_eq!(auth.renew_before.as_secs(), 8640, "a tenth by default");
    let (name, value) = auth.token_header(&crate::source::Secret::new("t0k".into()));
    assert_eq!(
        (name.as_str(), value.as_str()),
        ("Authorization", "Bearer t0k")
    );
    // The key never prints, not even in a debug dump of the definition.
    let dump = format!("{auth:?} {}", auth.key);
    assert!(!dump.contains(env!("CARGO_MANIFEST_DIR")), "{dump}");
    assert!(auth.fingerprint().len() == 64);

    let custom = with_auth(&format!(
        "{GOOD}\nmethod = \"GET\"\ntoken_path = \"data.access_token\"\nheader = \"X-Api-Token\"\nprefix = \"\"\nrenew_before_secs = 600"
    ));
    let auth = load(&custom).unwrap().auth.unwrap();
    assert_eq!(auth.method, crate::source::schema::HttpMethod::Get);
    assert_eq!(auth.token_path.segments, vec!["data", "access_token"]);
    assert_eq!(
        auth.token_header(&crate::source::Secret::new("t".into())).1,
        "t"
    );
    assert_eq!(auth.renew_before.as_secs(), 600);
}

#[test]
fn auth_is_only_for_json_sources() {
    let text = format!("{HTML}\n[auth]\n{GOOD}\n");
    let msg = assert_err(&text, line_of(&text, "[auth]"), "auth", "json sources");
    assert!(msg.contains("kind is html"), "{msg}");
}

#[test]
fn the_key_comes_from_the_environment_and_is_never_printed() {
    let text = with_auth(&GOOD.replace("${CARGO_MANIFEST_DIR}", "abc123-literal-key"));
    let msg = assert_err(&text, line_of(&text, "abc123"), "auth.key", "environment");
    assert!(msg.contains("${NAME}"), "{msg}");

    let text = with_auth(&GOOD.replace("CARGO_MANIFEST_DIR", "VIGIE_TEST_UNSET_KEY_7C1D"));
    let msg = assert_err(
        &text,
        line_of(&text, "key ="),
        "auth.key",
        "VIGIE_TEST_UNSET_KEY_7C1D",
    );
    assert!(msg.contains("is not set"), "{msg}");

    let text = with_auth(&GOOD.replace("${CARGO_MANIFEST_DIR}", "${CARGO_MANIFEST_DIR"));
    assert_err(&text, line_of(&text, "key ="), "auth.key", "closing");

    // A key with a prefix: still from the environment, the error (a
    // missing second variable) does not print the first one's value.
    let text = with_auth(&GOOD.replace(
        "${CARGO_MANIFEST_DIR}",
        "${CARGO_MANIFEST_DIR}:${VIGIE_TEST_UNSET_KEY_7C1D}",
    ));
    let msg = assert_err(
        &text,
        line_of(&text, "key ="),
        "auth.key",
        "VIGIE_TEST_UNSET_KEY_7C1D",
    );
    assert!(!msg.contains(env!("CARGO_MANIFEST_DIR")), "{msg}");
}

#[test]
fn the_token_endpoint_must_be_an_http_url() {
    for bad in ["/api/connexion/", "ftp://example.fr/token", "not a url"] {
        let text =
            with_auth(&GOOD.replace("https://aides-territoires.beta.gouv.fr/api/connexion/", bad));
        assert_err(
            &text,
            line_of(&text, "token_url"),
            "auth.token_url",
            "invalid URL",
        );
    }
}

#[test]
fn header_names_are_checked() {
    let text = with_auth(&GOOD.replace("X-AUTH-TOKEN", "X AUTH"));
    assert_err(
        &text,
        line_of(&text, "key_header"),
        "auth.key_header",
        "invalid header name",
    );
    let text = with_auth(&format!("{GOOD}\nheader = \"User-Agent\""));
    assert_err(
        &text,
        line_of(&text, "User-Agent"),
        "auth.header",
        "fetcher",
    );
    let text = with_auth(&format!("{GOOD}\nprefix = \"Bearer\\n\""));
    assert_err(&text, line_of(&text, "prefix"), "auth.prefix", "line break");
}

#[test]
fn the_token_header_may_not_also_be_a_fixed_header() {
    let text = format!("{JSON}\n[headers]\nauthorization = \"Bearer x\"\n\n[auth]\n{GOOD}\n");
    let msg = assert_err(
        &text,
        line_of(&text, "authorization ="),
        "headers.authorization",
        "auth.header",
    );
    assert!(msg.contains("remove `authorization`"), "{msg}");
}

#[test]
fn lifetimes_are_in_range_and_renewal_comes_before_the_end() {
    let text = with_auth(&GOOD.replace("86400", "10"));
    let msg = assert_err(
        &text,
        line_of(&text, "lifetime_secs"),
        "auth.lifetime_secs",
        "10",
    );
    assert!(msg.contains("from 60"), "{msg}");
    let text = with_auth(&format!("{GOOD}\nrenew_before_secs = 86400"));
    assert_err(
        &text,
        line_of(&text, "renew_before_secs"),
        "auth.renew_before_secs",
        "less than lifetime_secs",
    );
    let text = with_auth(&GOOD.replace("lifetime_secs = 86400", ""));
    let err = load(&text).unwrap_err().to_string();
    assert!(err.contains("lifetime_secs"), "{err}");
}

#[test]
fn unknown_keys_bad_paths_and_methods_are_named() {
    let text = with_auth(&format!("{GOOD}\ntoken_field = \"token\""));
    let err = load(&text).unwrap_err().to_string();
    assert!(
        err.contains(&format!(":{}:", line_of(&text, "token_field")))
            && err.contains("token_field"),
        "{err}"
    );
    let text = with_auth(&format!("{GOOD}\ntoken_path = \"data..token\""));
    assert_err(
        &text,
        line_of(&text, "token_path"),
        "auth.token_path",
        "empty segment",
    );
    let text = with_auth(&format!("{GOOD}\nmethod = \"PUT\""));
    let err = load(&text).unwrap_err().to_string();
    assert!(
        err.contains(&format!(":{}:", line_of(&text, "PUT"))),
        "{err}"
    );
}
