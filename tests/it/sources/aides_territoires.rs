//! Aides-territoires: the real definition against a local API that wants
//! a token (see `token_api`): the key is exchanged once, the token is
//! reused by the next crawl, renewed when the API refuses it or when it
//! nears its end, a refused key is a clear error of the source, and
//! neither the key nor a token ever appears in what Vigie prints. What
//! the pages hold is checked by the data-driven harness
//! (`tests/fixtures/sources/aides-territoires/expected.toml`).

use std::process::Output;

use serde_json::Value;

use super::token_api::TokenApi;
use super::{by_title, definition_at};
use crate::support::{Scenario, all_output, fixtures};

const ID: &str = "aides-territoires";
const VAR: &str = "AIDES_TERRITOIRES_API_KEY";
const KEY: &str = "at-key-5b0c9e1d7f";
const PAGE_1: &str = "/api/aids/?itemsPerPage=100&page=1";

/// The API with the fixture pages, and a scenario holding the real
/// definition pointed at it (with `edit` applied to its text).
fn setup(edit: impl Fn(String) -> String) -> (TokenApi, Scenario) {
    let api = TokenApi::start(KEY);
    let dir = fixtures(&format!("sources/{ID}"));
    for page in 1..=3 {
        let body = std::fs::read(dir.join(format!("aids-page-{page}.json"))).unwrap();
        api.route(&format!("/api/aids/?itemsPerPage=100&page={page}"), body);
    }
    let sc = Scenario::new();
    sc.source(ID, &edit(definition_at(ID, &api.url("/"))));
    (api, sc)
}

/// `vigie crawl --source aides-territoires` with `key` in the environment
/// and debug logs on.
fn crawl(sc: &Scenario, key: &str) -> Output {
    sc.vigie_with_env(
        &["crawl", "--source", ID, "--format", "json"],
        &[(VAR, key), ("VIGIE_LOG", "debug")],
    )
}

/// Neither the key nor any token the API issued is in `outputs`.
#[track_caller]
fn no_secret_in(api: &TokenApi, outputs: &[String]) {
    let mut secrets = api.tokens();
    secrets.push(KEY.to_string());
    for out in outputs {
        for secret in &secrets {
            assert!(
                !out.contains(secret.as_str()),
                "a secret is printed:\n{out}"
            );
        }
    }
}

/// The `Authorization` header of each API request, with its status.
fn bearers(api: &TokenApi) -> Vec<(String, u16)> {
    api.api_requests()
        .into_iter()
        .map(|s| {
            (
                s.header("authorization").unwrap_or("").to_string(),
                s.status,
            )
        })
        .collect()
}

#[test]
fn the_key_is_exchanged_once_and_the_token_reused_then_renewed_on_a_401() {
    let (api, sc) = setup(|d| d);
    let mut outputs = Vec::new();

    // Without the key the definition does not load: a clear error.
    let out = sc.vigie(&["crawl", "--source", ID]);
    assert!(!out.status.success());
    let text = all_output(&out);
    assert!(
        text.contains("aides-territoires.toml") && text.contains("auth.key") && text.contains(VAR),
        "{text}"
    );
    assert!(api.seen().is_empty(), "nothing is fetched");

    // First crawl: one exchange, with the key, then the bearer on every page.
    let out = crawl(&sc, KEY);
    outputs.push(all_output(&out));
    assert!(out.status.success(), "{}", all_output(&out));
    assert_eq!(api.exchanges(), 1);
    let exchange = api
        .seen()
        .into_iter()
        .find(|s| s.path == "/api/connexion/")
        .unwrap();
    assert_eq!(exchange.method, "POST");
    assert_eq!(exchange.header("x-auth-token"), Some(KEY));
    assert_eq!(exchange.header("authorization"), None);
    let first = format!("Bearer {}", api.tokens()[0]);
    let pages = api.api_requests();
    assert_eq!(pages.len(), 3, "two pages of aids, then the empty one");
    assert_eq!(pages[0].path, PAGE_1);
    assert_eq!(
        pages[0].header("x-auth-token"),
        None,
        "the key goes only to the token endpoint"
    );
    assert!(bearers(&api).iter().all(|(b, s)| *b == first && *s == 200));
    let calls = sc.calls(&[]);
    assert_eq!(calls.len(), 4, "{calls:#?}");
    assert_eq!(
        by_title(&calls, "Inclusion numérique")["url"],
        "https://www.laregion.fr/Appel-a-projets-inclusion-numerique-2027"
    );
    let ia = by_title(&calls, "IA frugale")["summary_html"]
        .as_str()
        .unwrap();
    assert!(
        ia.contains("intelligence artificielle") && !ia.contains("script"),
        "{ia}"
    );

    // Second crawl: the stored token is reused, no new exchange.
    let out = crawl(&sc, KEY);
    outputs.push(all_output(&out));
    assert!(out.status.success(), "{}", all_output(&out));
    assert_eq!(api.exchanges(), 1, "the stored token is reused");
    let all = bearers(&api);
    assert_eq!(all.len(), 6);
    assert!(all.iter().all(|(b, s)| *b == first && *s == 200));

    // The API stops taking it (expired early): one renewal, the same page
    // asked again, and the crawl goes on with the new token.
    api.expire_all();
    let out = crawl(&sc, KEY);
    outputs.push(all_output(&out));
    assert!(out.status.success(), "{}", all_output(&out));
    assert_eq!(api.exchanges(), 2, "renewed once");
    let second = format!("Bearer {}", api.tokens()[1]);
    let third_crawl: Vec<(String, u16)> = bearers(&api).split_off(6);
    assert_eq!(
        third_crawl,
        vec![
            (first.clone(), 401),
            (second.clone(), 200),
            (second.clone(), 200),
            (second.clone(), 200),
        ]
    );
    let paths: Vec<String> = api.api_requests().iter().map(|s| s.path.clone()).collect();
    assert_eq!(paths[6..8], [PAGE_1.to_string(), PAGE_1.to_string()]);
    assert_eq!(sc.calls(&[]).len(), 4);

    // Nothing Vigie prints holds a secret: crawl reports and debug logs,
    // the sources' health, the calls, the definition check.
    outputs.push(all_output(
        &sc.vigie(&["sources", "list", "--format", "json"]),
    ));
    outputs.push(all_output(&sc.vigie(&["calls", "--format", "json"])));
    outputs.push(all_output(
        &sc.vigie_with_env(&["sources", "check"], &[(VAR, KEY)]),
    ));
    // A curator's preview obtains its own token (it stores nothing).
    let preview = sc.vigie_with_env(
        &["sources", "check", ID, "--fetch", "--format", "json"],
        &[(VAR, KEY), ("VIGIE_LOG", "debug")],
    );
    outputs.push(all_output(&preview));
    assert!(preview.status.success(), "{}", all_output(&preview));
    assert!(
        String::from_utf8_lossy(&preview.stdout).contains("Tiers-lieux numériques en montagne"),
        "{}",
        all_output(&preview)
    );
    assert_eq!(api.exchanges(), 3);
    no_secret_in(&api, &outputs);
}

#[test]
fn a_token_near_its_end_is_renewed_before_use() {
    // A token of 65 s renewed 60 s before its end: stale after 5 s.
    let (api, sc) = setup(|d| {
        d.replace("lifetime_secs = 86400", "lifetime_secs = 65")
            .replace("renew_before_secs = 3600", "renew_before_secs = 60")
    });
    let out = crawl(&sc, KEY);
    assert!(out.status.success(), "{}", all_output(&out));
    assert_eq!(api.exchanges(), 1);

    // The API would still take the first token, but it is within a minute
    // of its end: the next crawl renews it before its first request.
    std::thread::sleep(std::time::Duration::from_millis(5300));
    let out = crawl(&sc, KEY);
    assert!(out.status.success(), "{}", all_output(&out));
    assert_eq!(api.exchanges(), 2, "renewed before use");
    let second = format!("Bearer {}", api.tokens()[1]);
    let all = bearers(&api);
    assert_eq!(all.len(), 6);
    assert!(
        all[3..].iter().all(|(b, s)| *b == second && *s == 200),
        "the API never saw the old token again, and no 401: {all:?}"
    );
    no_secret_in(&api, &[all_output(&out)]);
}

/// The source's report in `crawl --format json` output.
fn report(out: &Output) -> Value {
    let text = String::from_utf8_lossy(&out.stdout);
    let json: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    json.as_array()
        .and_then(|rows| rows.iter().find(|r| r["source"] == ID).cloned())
        .unwrap_or_else(|| panic!("no report of {ID} in {json}"))
}

#[test]
fn a_refused_key_is_a_clear_error_of_the_source() {
    let (api, sc) = setup(|d| d);
    let wrong = "at-key-not-the-right-one";
    let out = crawl(&sc, wrong);
    assert!(!out.status.success(), "{}", all_output(&out));
    let text = all_output(&out);
    assert!(
        text.contains("refused the key read from AIDES_TERRITOIRES_API_KEY (HTTP 401)"),
        "{text}"
    );
    assert!(text.contains("auth_key_refused"), "{text}");
    assert!(!text.contains(wrong), "the key is never printed: {text}");
    assert!(
        api.api_requests().is_empty(),
        "no API request without a token"
    );
    let report = report(&out);
    assert_eq!(report["outcome"], "failed");
    assert_eq!(report["error_code"], "auth_key_refused");
    assert_eq!(report["transient"], false, "a refused key needs someone");

    // The source's health says the same, without the key.
    let health = all_output(&sc.vigie(&["sources", "list", "--format", "json"]));
    assert!(health.contains("refused the key"), "{health}");
    assert!(!health.contains(wrong), "{health}");
}

#[test]
fn a_second_401_after_renewal_is_an_error_of_the_source() {
    let (api, sc) = setup(|d| d);
    // Tokens are issued, but the API takes none of them (as when the key's
    // account has no access to the API).
    api.refuse_tokens();
    let out = crawl(&sc, KEY);
    assert!(!out.status.success(), "{}", all_output(&out));
    let text = all_output(&out);
    assert!(text.contains("refused a freshly obtained token"), "{text}");
    assert_eq!(report(&out)["error_code"], "auth_token_refused");
    assert_eq!(api.exchanges(), 2, "one renewal, not more");
    assert_eq!(
        bearers(&api),
        vec![
            (format!("Bearer {}", api.tokens()[0]), 401),
            (format!("Bearer {}", api.tokens()[1]), 401),
        ],
        "the first page asked twice, then the crawl stops"
    );
    no_secret_in(&api, &[text]);
}

#[test]
fn the_token_endpoint_goes_through_the_address_guard() {
    // Only 127.0.0.1 is allow-listed in a scenario: a token endpoint on
    // 127.0.0.2 (loopback, so never a public address) is refused before
    // any connection, and the key is sent nowhere.
    let (api, sc) = setup(|d| {
        let lines: Vec<String> = d
            .lines()
            .map(|l| {
                if l.starts_with("token_url = ") {
                    l.replace("127.0.0.1", "127.0.0.2")
                } else {
                    l.to_string()
                }
            })
            .collect();
        lines.join("\n") + "\n"
    });
    let out = crawl(&sc, KEY);
    assert!(!out.status.success(), "{}", all_output(&out));
    let text = all_output(&out);
    assert!(
        text.contains("refused to connect to http://127.0.0.2") && text.contains("allow_hosts"),
        "{text}"
    );
    let report = report(&out);
    assert_eq!(report["error_code"], "auth_unreachable");
    assert_eq!(report["transient"], false);
    assert!(api.seen().is_empty(), "nothing reached the API");
    assert!(!text.contains(KEY));
}

#[test]
fn a_new_key_gets_a_new_token_and_a_wrong_token_path_is_named() {
    let (api, sc) = setup(|d| d);
    let out = crawl(&sc, KEY);
    assert!(out.status.success(), "{}", all_output(&out));
    assert_eq!(api.exchanges(), 1);
    // The operator replaces the key: the stored token (of the old key) is
    // not reused, even though the API would still take it.
    let new_key = "at-key-second-3e8a";
    api.set_key(new_key);
    let out = crawl(&sc, new_key);
    assert!(out.status.success(), "{}", all_output(&out));
    assert_eq!(api.exchanges(), 2, "a token per key");
    let exchange = api
        .seen()
        .into_iter()
        .rfind(|s| s.path == "/api/connexion/");
    assert_eq!(exchange.unwrap().header("x-auth-token"), Some(new_key));
    assert!(!all_output(&out).contains(new_key));

    // A definition that looks for the token elsewhere than the answer has
    // it: an error naming the path, without the answer's content.
    let (api, sc) = setup(|d| d.replace("token_path = \"token\"", "token_path = \"access_token\""));
    let out = crawl(&sc, KEY);
    assert!(!out.status.success(), "{}", all_output(&out));
    let text = all_output(&out);
    assert!(
        text.contains("without a token at `access_token` (nothing there)"),
        "{text}"
    );
    assert_eq!(report(&out)["error_code"], "auth_no_token");
    assert!(api.api_requests().is_empty());
    no_secret_in(&api, &[text]);
}
