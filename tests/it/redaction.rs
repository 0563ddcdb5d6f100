//! Secrets never reach any output: a source URL's credentials
//! (`user:password@`) and header values read from the environment are
//! masked in `sources check` (with and without `--fetch`), `crawl` (table
//! and JSON), `sources list` and the logs, even at debug level, while the
//! requests themselves still carry them.

use std::process::Output;

use crate::support::{FixtureServer, Response, Scenario, all_output, fixtures};

const TOKEN_VAR: &str = "API_TOKEN_FOR_REDACTION_TEST";

fn source(id: &str, url: &str) -> String {
    format!(
        r#"id = "{id}"
name = "Démo {id}"
kind = "html"
url = "{url}"
schedule = "0 6 * * *"

[headers]
X-Api-Key = "${{{TOKEN_VAR}}}"

[defaults]
audiences = ["commune"]
perimeter = "france"
themes = ["numerique"]

[html]
item = "article.call"
id = "@data-id"
title = "h2 a"
link = "h2 a @href"
summary = "p.desc"
deadline = "p.end"
"#
    )
}

#[track_caller]
fn assert_no_secret(what: &str, out: &Output) {
    let text = all_output(out);
    assert!(
        !text.to_lowercase().contains("secret"),
        "`{what}` printed a secret:\n{text}"
    );
}

#[test]
fn credentials_and_secret_headers_appear_in_no_output() {
    let server = FixtureServer::start();
    server.route(
        "/aap",
        Response::ok_html(std::fs::read(fixtures("crawl/listing.html")).unwrap()),
    );
    server.route("/gone", Response::status(404));
    let sc = Scenario::new();
    let port = server.addr().port();
    sc.source(
        "masque-ok",
        &source(
            "masque-ok",
            &format!("http://agent:secret-pw@127.0.0.1:{port}/aap"),
        ),
    );
    sc.source(
        "masque-ko",
        &source(
            "masque-ko",
            &format!("http://agent:secret-pw@127.0.0.1:{port}/gone"),
        ),
    );
    let env = [(TOKEN_VAR, "jeton-secret-42"), ("VIGIE_LOG", "debug")];

    let check = sc.vigie_with_env(&["sources", "check"], &env);
    assert!(check.status.success(), "{}", all_output(&check));
    assert!(
        all_output(&check).contains(&format!("http://***@127.0.0.1:{port}/aap")),
        "the URL is still shown, masked: {}",
        all_output(&check)
    );
    assert_no_secret("sources check", &check);

    for format in ["table", "json"] {
        let preview = sc.vigie_with_env(&["sources", "check", "--fetch", "--format", format], &env);
        assert!(
            all_output(&preview).contains("HTTP 404"),
            "{}",
            all_output(&preview)
        );
        assert_no_secret("sources check --fetch", &preview);

        let crawl = sc.vigie_with_env(&["crawl", "--format", format], &env);
        let text = all_output(&crawl);
        assert!(
            text.contains(&format!("http://***@127.0.0.1:{port}/gone")),
            "{text}"
        );
        assert_no_secret("crawl", &crawl);
    }

    for format in ["table", "json"] {
        let list = sc.vigie_with_env(&["sources", "list", "--format", format], &env);
        assert!(
            all_output(&list).contains("HTTP 404"),
            "{}",
            all_output(&list)
        );
        assert_no_secret("sources list", &list);
    }

    // The requests did carry both secrets: masking is for output only.
    let request = &server.requests_to("/aap")[0];
    assert_eq!(request.header("x-api-key"), Some("jeton-secret-42"));
    // "agent:secret-pw" in Base64.
    assert_eq!(
        request.header("authorization"),
        Some("Basic YWdlbnQ6c2VjcmV0LXB3")
    );
    let stored = rusqlite::Connection::open(sc.db())
        .unwrap()
        .query_row("SELECT group_concat(url, ' ') FROM sources", [], |r| {
            r.get::<_, String>(0)
        })
        .unwrap();
    assert!(!stored.contains("secret"), "{stored}");
}

#[test]
fn an_invalid_source_url_is_reported_without_its_password() {
    let sc = Scenario::new();
    sc.source(
        "casse",
        &source("casse", "ftp://agent:secret-pw@127.0.0.1/aap"),
    );

    let out = sc.vigie_with_env(&["sources", "check"], &[(TOKEN_VAR, "x")]);

    assert!(!out.status.success());
    let text = all_output(&out);
    assert!(
        text.contains("casse.toml") && text.contains("ftp://***@127.0.0.1/aap"),
        "{text}"
    );
    assert_no_secret("sources check", &out);
}
