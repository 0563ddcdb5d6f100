//! The fetch stage against a real local HTTP server: every manner of
//! `Fetcher::fetch` (user agent, robots.txt, conditional GET, retries,
//! timeouts, body cap, redirects, spacing, charset, gzip).

use std::time::{Duration, Instant};

use url::Url;
use vigie::fetch::{
    FetchConfig, FetchError, FetchOutcome, FetchRequest, Fetcher, Page, PageRequest, RequestBody,
    Validators,
};
use vigie::source::schema::HttpMethod;

use crate::support::{FixtureServer, Response};

/// Fast settings: no spacing, short backoff, short timeouts.
fn quick_config() -> FetchConfig {
    FetchConfig {
        min_spacing_ms: 0,
        backoff_base_ms: 10,
        timeout_secs: 5,
        connect_timeout_secs: 2,
        // Every fixture server listens on loopback, which the address guard
        // refuses unless allow-listed.
        allow_hosts: vec!["127.0.0.0/8".into()],
        ..FetchConfig::default()
    }
}

pub(crate) fn fetcher() -> Fetcher {
    Fetcher::new(quick_config()).unwrap()
}

fn get(url: String) -> FetchRequest {
    FetchRequest::get(Url::parse(&url).unwrap())
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/fetch/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

#[track_caller]
pub(crate) fn fetched(outcome: Result<FetchOutcome, FetchError>) -> Page {
    match outcome {
        Ok(FetchOutcome::Fetched(page)) => page,
        other => panic!("expected a page, got {other:?}"),
    }
}

#[tokio::test]
async fn the_user_agent_names_vigie_and_its_contact_url() {
    let server = FixtureServer::start();
    server.route("/aap", Response::ok_html("<p>AAP</p>"));
    let config = FetchConfig {
        contact_url: "https://vigie.example/about".into(),
        ..quick_config()
    };
    fetched(
        Fetcher::new(config)
            .unwrap()
            .fetch(&get(server.url("/aap")))
            .await,
    );

    for request in server.requests() {
        let ua = request.header("user-agent").unwrap();
        assert!(ua.starts_with("Vigie/"), "{ua}");
        assert!(ua.contains("+https://vigie.example/about"), "{ua}");
    }
    let page_request = &server.requests_to("/aap")[0];
    assert!(
        page_request
            .header("accept")
            .unwrap()
            .starts_with("text/html")
    );
    assert!(
        page_request
            .header("accept-encoding")
            .unwrap()
            .contains("gzip")
    );
    assert_eq!(
        server.requests_to("/robots.txt")[0].header("accept"),
        Some("text/plain")
    );
}

#[tokio::test]
async fn a_post_sends_its_json_body_and_asks_for_json() {
    let server = FixtureServer::start();
    server.route("/api", Response::ok("application/json", "[]"));
    let page = PageRequest {
        method: HttpMethod::Post,
        url: Url::parse(&server.url("/api")).unwrap(),
        body: Some(RequestBody::Json(br#"{"page":1}"#.to_vec())),
    };
    fetched(fetcher().fetch(&FetchRequest::new(page)).await);

    let request = &server.requests_to("/api")[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.body, br#"{"page":1}"#);
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert!(
        request
            .header("accept")
            .unwrap()
            .starts_with("application/json")
    );
}

#[tokio::test]
async fn source_headers_replace_defaults_but_may_not_change_the_user_agent() {
    let server = FixtureServer::start();
    server.route("/feed", Response::ok("application/rss+xml", "<rss/>"));
    let mut request = get(server.url("/feed"));
    request.headers = vec![("Accept".into(), vigie::fetch::ACCEPT_FEED.into())];
    let fetcher = fetcher();

    fetched(fetcher.fetch(&request).await);
    request.headers = vec![("User-Agent".into(), "Mozilla/5.0".into())];
    let error = fetcher.fetch(&request).await.unwrap_err();

    let sent = server.requests_to("/feed");
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].header("accept"), Some(vigie::fetch::ACCEPT_FEED));
    assert!(
        matches!(error, FetchError::InvalidRequest { .. }),
        "{error}"
    );
    assert!(error.to_string().contains("user-agent"), "{error}");
}

#[tokio::test]
async fn a_page_disallowed_by_robots_is_never_requested() {
    let server = FixtureServer::start();
    server.robots("User-agent: *\nAllow: /\n\nUser-agent: Vigie\nDisallow: /prive\n");
    server.route("/prive/aap", Response::ok_html("secret"));

    let error = fetcher()
        .fetch(&get(server.url("/prive/aap")))
        .await
        .unwrap_err();

    assert!(
        matches!(error, FetchError::DisallowedByRobots { .. }),
        "{error}"
    );
    assert!(!error.is_retryable());
    assert!(server.requests_to("/prive/aap").is_empty());
}

#[tokio::test]
async fn robots_txt_is_fetched_once_for_several_pages() {
    let server = FixtureServer::start();
    server.robots("User-agent: *\nDisallow: /prive\n");
    server.route("/a", Response::ok_html("a"));
    server.route("/b", Response::ok_html("b"));
    let fetcher = fetcher();

    for path in ["/a", "/b", "/a"] {
        fetched(fetcher.fetch(&get(server.url(path))).await);
    }
    assert!(fetcher.fetch(&get(server.url("/prive"))).await.is_err());

    assert_eq!(server.requests_to("/robots.txt").len(), 1);
    assert_eq!(server.requests().len(), 4);
}

#[tokio::test]
async fn an_unreachable_robots_txt_disallows_the_site_as_rfc_9309_says() {
    let server = FixtureServer::start();
    server.route("/robots.txt", Response::status(503));
    server.route("/aap", Response::ok_html("aap"));

    let error = fetcher().fetch(&get(server.url("/aap"))).await.unwrap_err();

    assert!(
        matches!(error, FetchError::RobotsUnreachable { .. }),
        "{error}"
    );
    assert!(error.to_string().contains("HTTP 503"), "{error}");
    assert!(server.requests_to("/aap").is_empty());
}

#[tokio::test]
async fn robots_can_be_turned_off_for_one_source() {
    let server = FixtureServer::start();
    server.robots("User-agent: *\nDisallow: /\n");
    server.route("/api", Response::ok("application/json", "{}"));
    let mut request = get(server.url("/api"));
    request.overrides.robots = Some(false);

    fetched(fetcher().fetch(&request).await);

    assert!(server.requests_to("/robots.txt").is_empty());
}

#[tokio::test]
async fn an_unchanged_page_gives_not_modified_without_a_body() {
    let server = FixtureServer::start();
    server.serve_dir(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/fetch/site"
    ));
    let fetcher = fetcher();
    let first = fetched(fetcher.fetch(&get(server.url("/aap.html"))).await);
    let etag = first
        .etag
        .clone()
        .expect("the fixture server sends an ETag");

    let mut again = get(server.url("/aap.html"));
    again.validators = Validators {
        etag: Some(etag.clone()),
        last_modified: None,
    };
    let outcome = fetcher.fetch(&again).await.unwrap();

    assert!(matches!(outcome, FetchOutcome::NotModified), "{outcome:?}");
    let requests = server.requests_to("/aap.html");
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[1].header("if-none-match"), Some(etag.as_str()));
}

#[tokio::test]
async fn last_modified_is_sent_back_as_if_modified_since() {
    let server = FixtureServer::start();
    server.route("/aap", Response::status(304));
    let mut request = get(server.url("/aap"));
    request.validators.last_modified = Some("Wed, 21 Oct 2015 07:28:00 GMT".into());

    let outcome = fetcher().fetch(&request).await.unwrap();

    assert!(matches!(outcome, FetchOutcome::NotModified));
    let sent = &server.requests_to("/aap")[0];
    assert_eq!(
        sent.header("if-modified-since"),
        Some("Wed, 21 Oct 2015 07:28:00 GMT")
    );
    assert_eq!(sent.header("if-none-match"), None);
}

#[tokio::test]
async fn etag_and_last_modified_are_returned_with_the_page() {
    let server = FixtureServer::start();
    let response = Response::ok_html("<p>v2</p>")
        .header("ETag", "\"v2\"")
        .header("Last-Modified", "Thu, 01 Jan 2026 10:00:00 GMT");
    server.route("/aap", response);

    let page = fetched(fetcher().fetch(&get(server.url("/aap"))).await);

    assert_eq!(page.status, 200);
    assert_eq!(page.etag.as_deref(), Some("\"v2\""));
    assert_eq!(
        page.last_modified.as_deref(),
        Some("Thu, 01 Jan 2026 10:00:00 GMT")
    );
    assert_eq!(page.text, "<p>v2</p>");
}

#[tokio::test]
async fn a_404_is_not_retried() {
    let server = FixtureServer::start();

    let error = fetcher()
        .fetch(&get(server.url("/gone")))
        .await
        .unwrap_err();

    assert!(
        matches!(error, FetchError::Status { status: 404, .. }),
        "{error}"
    );
    assert!(!error.is_retryable());
    assert_eq!(server.requests_to("/gone").len(), 1);
}

#[tokio::test]
async fn a_500_is_retried_until_it_succeeds() {
    let server = FixtureServer::start();
    server.route_sequence(
        "/flaky",
        [
            Response::status(500),
            Response::status(502),
            Response::ok_html("enfin"),
        ],
    );

    let page = fetched(fetcher().fetch(&get(server.url("/flaky"))).await);

    assert_eq!(page.text, "enfin");
    assert_eq!(server.requests_to("/flaky").len(), 3);
}

#[tokio::test]
async fn retries_stop_after_the_configured_number() {
    let server = FixtureServer::start();
    server.route("/down", Response::status(500));
    let config = FetchConfig {
        retries: 2,
        ..quick_config()
    };

    let error = Fetcher::new(config)
        .unwrap()
        .fetch(&get(server.url("/down")))
        .await
        .unwrap_err();

    assert!(
        matches!(error, FetchError::Status { status: 500, .. }),
        "{error}"
    );
    assert_eq!(server.requests_to("/down").len(), 3);
}

#[tokio::test]
async fn a_429_with_retry_after_waits_before_retrying() {
    let server = FixtureServer::start();
    server.route_sequence(
        "/busy",
        [Response::retry_after(429, "1"), Response::ok_html("ok")],
    );

    let page = fetched(fetcher().fetch(&get(server.url("/busy"))).await);

    assert_eq!(page.text, "ok");
    let requests = server.requests_to("/busy");
    assert_eq!(requests.len(), 2);
    assert!(requests[1].at - requests[0].at >= Duration::from_secs(1));
}

#[tokio::test]
async fn a_retry_after_beyond_the_maximum_fails_at_once() {
    let server = FixtureServer::start();
    server.route("/busy", Response::retry_after(503, "3600"));

    let error = fetcher()
        .fetch(&get(server.url("/busy")))
        .await
        .unwrap_err();

    assert!(
        matches!(
            error,
            FetchError::RetryAfterTooLong {
                secs: 3600,
                max: 120,
                ..
            }
        ),
        "{error}"
    );
    assert_eq!(server.requests_to("/busy").len(), 1);
}

#[tokio::test]
async fn a_slow_response_times_out() {
    let server = FixtureServer::start();
    server.route(
        "/slow",
        Response::ok_html("late").delay(Duration::from_secs(5)),
    );
    let config = FetchConfig {
        timeout_secs: 1,
        retries: 0,
        ..quick_config()
    };
    let started = Instant::now();

    let error = Fetcher::new(config)
        .unwrap()
        .fetch(&get(server.url("/slow")))
        .await
        .unwrap_err();

    assert!(
        matches!(error, FetchError::Timeout { after_secs: 1, .. }),
        "{error}"
    );
    assert!(error.is_retryable());
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn a_body_dribbled_past_the_timeout_times_out() {
    let server = FixtureServer::start();
    let body = "x".repeat(100);
    server.route(
        "/drip",
        Response::ok_html(body).dribble(10, Duration::from_millis(300)),
    );
    let config = FetchConfig {
        timeout_secs: 1,
        retries: 0,
        ..quick_config()
    };

    let error = Fetcher::new(config)
        .unwrap()
        .fetch(&get(server.url("/drip")))
        .await
        .unwrap_err();

    assert!(matches!(error, FetchError::Timeout { .. }), "{error}");
}

#[tokio::test]
async fn a_truncated_body_is_an_error() {
    let server = FixtureServer::start();
    server.route("/cut", Response::ok_html("only part of it").truncated(1000));
    let config = FetchConfig {
        retries: 0,
        ..quick_config()
    };

    let error = Fetcher::new(config)
        .unwrap()
        .fetch(&get(server.url("/cut")))
        .await
        .unwrap_err();

    assert!(
        matches!(
            error,
            FetchError::Truncated {
                received: 15,
                expected: 1000,
                ..
            }
        ),
        "{error}"
    );
    assert!(error.is_retryable());
}

#[tokio::test]
async fn a_body_over_the_cap_is_refused_from_its_content_length() {
    let server = FixtureServer::start();
    server.route("/big", Response::ok_html("x".repeat(5000)));
    let mut request = get(server.url("/big"));
    request.overrides.max_body_bytes = Some(1000);

    let error = fetcher().fetch(&request).await.unwrap_err();

    assert!(
        matches!(error, FetchError::BodyTooLarge { limit: 1000, .. }),
        "{error}"
    );
    assert!(error.to_string().contains("1000"), "{error}");
    assert!(!error.is_retryable());
}

#[tokio::test]
async fn a_body_over_the_cap_is_refused_while_streaming_without_content_length() {
    let server = FixtureServer::start();
    server.route(
        "/big",
        Response::ok_html("x".repeat(5000)).without_content_length(),
    );
    let mut request = get(server.url("/big"));
    request.overrides.max_body_bytes = Some(1000);

    let error = fetcher().fetch(&request).await.unwrap_err();

    assert!(
        matches!(error, FetchError::BodyTooLarge { limit: 1000, .. }),
        "{error}"
    );
}

#[tokio::test]
async fn a_body_without_content_length_under_the_cap_is_read_to_the_end() {
    let server = FixtureServer::start();
    server.route(
        "/stream",
        Response::ok_html("x".repeat(5000)).without_content_length(),
    );

    let page = fetched(fetcher().fetch(&get(server.url("/stream"))).await);

    assert_eq!(page.bytes.len(), 5000);
}

#[tokio::test]
async fn a_redirect_loop_gives_too_many_redirects() {
    let server = FixtureServer::start();
    server.route("/a", Response::redirect("/b"));
    server.route("/b", Response::redirect("/a"));

    let error = fetcher().fetch(&get(server.url("/a"))).await.unwrap_err();

    assert!(
        matches!(error, FetchError::TooManyRedirects { limit: 10, .. }),
        "{error}"
    );
    assert_eq!(
        server.requests_to("/a").len() + server.requests_to("/b").len(),
        11
    );
}

#[tokio::test]
async fn the_page_url_is_the_final_url_after_redirects() {
    let server = FixtureServer::start();
    server.route("/old", Response::redirect("/moved"));
    server.route("/moved", Response::redirect("/new?x=1"));
    server.route("/new?x=1", Response::ok_html("here"));

    let page = fetched(fetcher().fetch(&get(server.url("/old"))).await);

    assert_eq!(page.url.as_str(), server.url("/new?x=1"));
    assert_eq!(page.text, "here");
}

#[tokio::test]
async fn requests_to_one_host_are_spaced_by_min_spacing() {
    let server = FixtureServer::start();
    server.route("/p", Response::ok_html("p"));
    let config = FetchConfig {
        min_spacing_ms: 300,
        ..quick_config()
    };
    let fetcher = Fetcher::new(config).unwrap();
    let request = get(server.url("/p"));

    // Started together: the fetcher, not the test, must space them.
    let results = futures::future::join_all((0..3).map(|_| fetcher.fetch(&request))).await;

    assert!(results.iter().all(Result::is_ok));
    let requests = server.requests();
    assert_eq!(requests[0].path, "/robots.txt");
    let pages = server.requests_to("/p");
    assert_eq!(pages.len(), 3);
    // The fetcher spaces request *starts*; the server sees *arrivals*, which
    // trail the starts by a few milliseconds of scheduling noise when the
    // whole suite runs in parallel (599.4 ms was observed once for a 600 ms
    // spacing). The margin absorbs that noise, not a spacing error: without
    // spacing the three requests arrive within a few milliseconds.
    let noise = Duration::from_millis(25);
    assert!(pages[0].at - requests[0].at >= Duration::from_millis(300) - noise);
    assert!(pages[1].at - pages[0].at >= Duration::from_millis(300) - noise);
    assert!(pages[2].at - pages[0].at >= Duration::from_millis(600) - noise);
}

#[tokio::test]
async fn crawl_delay_in_robots_raises_the_spacing() {
    let server = FixtureServer::start();
    server.robots("User-agent: *\nCrawl-delay: 1\n");
    server.route("/p", Response::ok_html("p"));
    let fetcher = fetcher();

    fetched(fetcher.fetch(&get(server.url("/p"))).await);
    fetched(fetcher.fetch(&get(server.url("/p"))).await);

    let pages = server.requests_to("/p");
    // Same arrival-noise margin as in the spacing test above.
    assert!(pages[1].at - pages[0].at >= Duration::from_millis(1000 - 25));
}

#[tokio::test]
async fn two_hosts_are_fetched_concurrently() {
    let one = FixtureServer::start_on([127, 0, 0, 1].into());
    let two = FixtureServer::start_on([127, 0, 0, 2].into());
    for server in [&one, &two] {
        server.route(
            "/slow",
            Response::ok_html("slow").delay(Duration::from_millis(600)),
        );
    }
    let fetcher = fetcher();
    let (request_one, request_two) = (get(one.url("/slow")), get(two.url("/slow")));
    let started = Instant::now();

    let (a, b) = tokio::join!(fetcher.fetch(&request_one), fetcher.fetch(&request_two));

    fetched(a);
    fetched(b);
    assert!(
        started.elapsed() < Duration::from_millis(1100),
        "{:?}",
        started.elapsed()
    );
    let (at_one, at_two) = (
        one.requests_to("/slow")[0].at,
        two.requests_to("/slow")[0].at,
    );
    let gap = at_one.max(at_two) - at_one.min(at_two);
    assert!(gap < Duration::from_millis(300), "{gap:?}");
}

#[tokio::test]
async fn a_windows_1252_page_declared_iso_8859_1_is_decoded() {
    let server = FixtureServer::start();
    let body = fixture("windows-1252.html");
    server.route("/aap", Response::ok("text/html; charset=ISO-8859-1", body));

    let page = fetched(fetcher().fetch(&get(server.url("/aap"))).await);

    assert_eq!(page.encoding, "windows-1252");
    assert!(
        page.text.contains("<title>Appels à projets</title>"),
        "{}",
        page.text
    );
    assert!(
        page.text.contains("Été : cœur à 5 € l’unité"),
        "{}",
        page.text
    );
}

#[tokio::test]
async fn a_utf8_page_declared_iso_8859_1_is_decoded_as_utf8() {
    let server = FixtureServer::start();
    let body = fixture("utf8-declared-latin1.html");
    server.route("/aap", Response::ok("text/html; charset=ISO-8859-1", body));

    let page = fetched(fetcher().fetch(&get(server.url("/aap"))).await);

    assert_eq!(page.encoding, "UTF-8");
    assert!(
        page.text.contains("Été : cœur à 5 € l’unité"),
        "{}",
        page.text
    );
}

#[tokio::test]
async fn a_gzip_body_is_decompressed() {
    let server = FixtureServer::start();
    let body = fixture("gzip.html.gz");
    let response = Response::ok_html(body).header("Content-Encoding", "gzip");
    server.route("/aap", response);

    let page = fetched(fetcher().fetch(&get(server.url("/aap"))).await);

    assert!(page.text.starts_with("<!DOCTYPE html>"), "{}", page.text);
    assert!(page.text.contains("Appel à projets compressé"));
    assert!(page.bytes.len() > fixture("gzip.html.gz").len());
}

#[tokio::test]
async fn a_refused_connection_is_a_retryable_connect_error() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let config = FetchConfig {
        retries: 0,
        robots: false,
        ..quick_config()
    };

    let url = format!("http://127.0.0.1:{port}/aap");
    let error = Fetcher::new(config)
        .unwrap()
        .fetch(&get(url))
        .await
        .unwrap_err();

    assert!(matches!(error, FetchError::Connect { .. }), "{error}");
    assert!(error.is_retryable());
}

#[test]
fn the_fixture_server_works_without_an_async_runtime() {
    use std::io::{Read, Write};
    let server = FixtureServer::start();
    server.route("/hello", Response::ok("text/plain", "bonjour"));

    let mut stream = std::net::TcpStream::connect(server.addr()).unwrap();
    stream
        .write_all(b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();

    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    assert!(answer.ends_with("\r\n\r\nbonjour"), "{answer}");
    assert_eq!(server.requests_to("/hello")[0].method, "GET");
}
