//! The fetcher's guards on where it goes: the address guard against
//! server-side request forgery (IP literals in every spelling, host names
//! that resolve to loopback, redirects to forbidden addresses) and robots.txt
//! of the host each redirect lands on. Every server here is on loopback,
//! which the guard refuses unless `fetch.allow_hosts` lists it.

use std::net::IpAddr;

use url::Url;
use vigie::fetch::{
    AddressClass, FetchConfig, FetchError, FetchOutcome, FetchRequest, Fetcher, Page,
};

use crate::support::{FixtureServer, Response};

fn config(allow_hosts: &[&str]) -> FetchConfig {
    FetchConfig {
        min_spacing_ms: 0,
        backoff_base_ms: 10,
        timeout_secs: 5,
        connect_timeout_secs: 2,
        allow_hosts: allow_hosts.iter().map(|h| h.to_string()).collect(),
        ..FetchConfig::default()
    }
}

async fn fetch(allow_hosts: &[&str], url: &str) -> Result<FetchOutcome, FetchError> {
    Fetcher::new(config(allow_hosts))
        .unwrap()
        .fetch(&FetchRequest::get(Url::parse(url).unwrap()))
        .await
}

#[track_caller]
fn fetched(outcome: Result<FetchOutcome, FetchError>) -> Page {
    match outcome {
        Ok(FetchOutcome::Fetched(page)) => page,
        other => panic!("expected a page, got {other:?}"),
    }
}

#[track_caller]
fn forbidden(outcome: Result<FetchOutcome, FetchError>) -> (Url, IpAddr, AddressClass) {
    match outcome {
        Err(error @ FetchError::ForbiddenAddress { .. }) => {
            assert!(!error.is_retryable());
            assert!(error.to_string().contains("fetch.allow_hosts"), "{error}");
            let FetchError::ForbiddenAddress { url, addr, class } = error else {
                unreachable!()
            };
            (url, addr, class)
        }
        other => panic!("expected ForbiddenAddress, got {other:?}"),
    }
}

#[tokio::test]
async fn a_redirect_to_the_cloud_metadata_address_is_refused_and_not_retried() {
    let server = FixtureServer::start();
    server.route(
        "/aap",
        Response::redirect("http://169.254.169.254/latest/meta-data/iam/"),
    );

    let (url, addr, class) = forbidden(fetch(&["127.0.0.1"], &server.url("/aap")).await);

    assert_eq!(url.as_str(), "http://169.254.169.254/latest/meta-data/iam/");
    assert_eq!(addr, IpAddr::from([169, 254, 169, 254]));
    assert_eq!(class, AddressClass::LinkLocal);
    assert_eq!(
        server.requests_to("/aap").len(),
        1,
        "refusals are not retried"
    );
}

#[tokio::test]
async fn loopback_in_every_spelling_is_refused_unless_allow_listed() {
    let server = FixtureServer::start();
    server.route("/aap", Response::ok_html("ici"));
    let port = server.addr().port();

    for host in [
        "127.0.0.1",
        "2130706433",
        "0x7f.0.0.1",
        "0x7f000001",
        "0177.0.0.1",
        "127.1",
        "[::ffff:127.0.0.1]",
        "[::ffff:7f00:1]",
    ] {
        let url = format!("http://{host}:{port}/aap");
        let (_, addr, class) = forbidden(fetch(&[], &url).await);
        assert_eq!(addr, IpAddr::from([127, 0, 0, 1]), "{url}");
        assert_eq!(class, AddressClass::Loopback, "{url}");
        assert!(server.requests().is_empty(), "{url} reached the server");
    }
    // The same spellings do reach the server once it is allow-listed, so the
    // refusals above were the guard's doing.
    for host in [
        "2130706433",
        "0x7f.0.0.1",
        "0177.0.0.1",
        "[::ffff:127.0.0.1]",
    ] {
        let url = format!("http://{host}:{port}/aap");
        assert_eq!(
            fetched(fetch(&["127.0.0.1"], &url).await).text,
            "ici",
            "{url}"
        );
    }
}

#[tokio::test]
async fn a_host_name_resolving_to_loopback_is_refused_unless_allow_listed() {
    let server = FixtureServer::start();
    server.route("/aap", Response::ok_html("ici"));
    let url = format!("http://localhost:{}/aap", server.addr().port());

    let (refused, addr, class) = forbidden(fetch(&[], &url).await);

    assert_eq!(refused.as_str(), url);
    assert!(addr.is_loopback(), "{addr}");
    assert_eq!(class, AddressClass::Loopback);
    assert!(server.requests().is_empty());
    // Allowed by address (only 127.0.0.1 is kept of localhost's addresses)
    // or by name.
    assert_eq!(fetched(fetch(&["127.0.0.1"], &url).await).text, "ici");
    assert_eq!(fetched(fetch(&["localhost"], &url).await).text, "ici");
}

#[tokio::test]
async fn a_redirect_to_a_loopback_host_that_is_not_allow_listed_is_refused() {
    let allowed = FixtureServer::start_on([127, 0, 0, 2].into());
    let private = FixtureServer::start();
    private.route("/admin", Response::ok_html("secret admin page"));
    let port = private.addr().port();
    allowed.route_sequence(
        "/aap",
        [
            Response::redirect(&format!("http://0x7f.0.0.1:{port}/admin")),
            Response::redirect(&format!("http://localhost:{port}/admin")),
        ],
    );

    let (url, ..) = forbidden(fetch(&["127.0.0.2"], &allowed.url("/aap")).await);
    assert_eq!(url.as_str(), format!("http://127.0.0.1:{port}/admin"));
    let (url, ..) = forbidden(fetch(&["127.0.0.2"], &allowed.url("/aap")).await);
    assert_eq!(url.host_str(), Some("localhost"));

    assert!(private.requests().is_empty(), "{:?}", private.requests());
}

#[tokio::test]
async fn a_robots_txt_redirecting_to_a_forbidden_address_blocks_the_host() {
    let server = FixtureServer::start();
    server.route(
        "/robots.txt",
        Response::status(301).header("Location", "http://[::1]:9/robots.txt"),
    );
    server.route("/aap", Response::ok_html("ici"));

    let (url, addr, _) = forbidden(fetch(&["127.0.0.1"], &server.url("/aap")).await);

    assert_eq!(url.as_str(), server.url("/aap"));
    assert_eq!(addr, "::1".parse::<IpAddr>().unwrap());
    assert!(server.requests_to("/aap").is_empty());
}

#[tokio::test]
async fn robots_txt_of_the_host_a_redirect_lands_on_is_obeyed() {
    let first = FixtureServer::start();
    let second = FixtureServer::start();
    second.robots("User-agent: *\nDisallow: /prive\n");
    second.route("/prive/aap", Response::ok_html("interdit"));
    second.route("/public/aap", Response::ok_html("permis"));
    first.route("/blocked", Response::redirect(&second.url("/prive/aap")));
    first.route("/open", Response::redirect(&second.url("/public/aap")));

    let error = fetch(&["127.0.0.1"], &first.url("/blocked"))
        .await
        .unwrap_err();

    match &error {
        FetchError::DisallowedByRobots { url } => {
            assert_eq!(url.as_str(), second.url("/prive/aap"))
        }
        other => panic!("expected DisallowedByRobots, got {other:?}"),
    }
    assert!(second.requests_to("/prive/aap").is_empty());
    assert_eq!(second.requests_to("/robots.txt").len(), 1);
    let page = fetched(fetch(&["127.0.0.1"], &first.url("/open")).await);
    assert_eq!(page.text, "permis");
    assert_eq!(page.url.as_str(), second.url("/public/aap"));
}

#[tokio::test]
async fn a_redirect_to_another_origin_does_not_carry_the_source_headers() {
    let first = FixtureServer::start();
    let second = FixtureServer::start();
    first.route("/api", Response::redirect(&second.url("/api")));
    second.route("/api", Response::ok("application/json", "[]"));
    let mut request = FetchRequest::get(Url::parse(&first.url("/api")).unwrap());
    request.headers = vec![
        ("X-Api-Key".into(), "jeton-source".into()),
        ("Accept".into(), "application/json".into()),
    ];

    fetched(
        Fetcher::new(config(&["127.0.0.1"]))
            .unwrap()
            .fetch(&request)
            .await,
    );

    let at_first = &first.requests_to("/api")[0];
    assert_eq!(at_first.header("x-api-key"), Some("jeton-source"));
    let at_second = &second.requests_to("/api")[0];
    assert_eq!(at_second.header("x-api-key"), None);
    assert_eq!(at_second.header("accept"), Some("application/json"));
}

#[tokio::test]
async fn a_post_redirected_with_303_becomes_a_get_and_307_keeps_it() {
    let server = FixtureServer::start();
    server.route(
        "/see-other",
        Response::status(303).header("Location", "/result"),
    );
    server.route(
        "/temporary",
        Response::status(307).header("Location", "/again"),
    );
    server.route("/result", Response::ok("application/json", "[]"));
    server.route("/again", Response::ok("application/json", "[]"));
    let fetcher = Fetcher::new(config(&["127.0.0.1"])).unwrap();
    let post = |path: &str| {
        let mut page = vigie::fetch::PageRequest::get(Url::parse(&server.url(path)).unwrap());
        page.method = vigie::source::schema::HttpMethod::Post;
        page.body = Some(vigie::fetch::RequestBody::Json(b"{\"q\":1}".to_vec()));
        FetchRequest::new(page)
    };

    fetched(fetcher.fetch(&post("/see-other")).await);
    fetched(fetcher.fetch(&post("/temporary")).await);

    let result = &server.requests_to("/result")[0];
    assert_eq!((result.method.as_str(), result.body.len()), ("GET", 0));
    let again = &server.requests_to("/again")[0];
    assert_eq!(
        (again.method.as_str(), again.body.as_slice()),
        ("POST", &b"{\"q\":1}"[..])
    );
}

#[test]
fn a_source_pointing_at_a_private_address_is_refused_by_the_cli() {
    let sc = crate::support::Scenario::new();
    sc.source(
        "interne",
        r#"id = "interne"
name = "Interne"
kind = "feed"
url = "http://0xa9.254.169.254/latest/meta-data/"
schedule = "0 6 * * *"
"#,
    );

    let out = sc.vigie(&["crawl"]);

    assert!(!out.status.success());
    let text = crate::support::all_output(&out);
    assert!(
        text.contains("refused to connect to http://169.254.169.254/latest/meta-data/")
            && text.contains("link-local")
            && text.contains("fetch.allow_hosts"),
        "{text}"
    );
}

#[tokio::test]
async fn a_page_declaring_utf8_in_windows_1252_is_read_without_replacement_characters() {
    let server = FixtureServer::start();
    let mut body = b"<html><head><meta charset=\"utf-8\"></head><body><p>".to_vec();
    // "Appel à projets : dépôt avant l’été, 5 000 €" in windows-1252.
    body.extend_from_slice(
        b"Appel \xE0 projets : d\xE9p\xF4t avant l\x92\xE9t\xE9, 5 000 \x80</p></body></html>",
    );
    server.route("/aap", Response::ok("text/html; charset=UTF-8", body));

    let page = fetched(fetch(&["127.0.0.1"], &server.url("/aap")).await);

    assert!(
        page.text
            .contains("Appel à projets : dépôt avant l’été, 5 000 €"),
        "{}",
        page.text
    );
    assert_eq!(page.encoding, "windows-1252");
}
