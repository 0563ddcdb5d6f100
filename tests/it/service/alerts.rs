//! Source health in the daemon: backoff, and one curator alert (in French)
//! per change of state: failing, sudden drop, zero-match, recovered.

use std::time::Duration;

use super::{configure, html_source, listing, mail, runs};
use crate::support::daemon::{Daemon, wait_until};
use crate::support::smtp::{SmtpSink, parse};
use crate::support::{FixtureServer, Response, Scenario};

#[test]
fn a_failing_source_backs_off_alerts_once_and_alerts_once_more_on_recovery() {
    let server = FixtureServer::start();
    server.route("/listing.html", Response::status(503));
    let sink = SmtpSink::start(&[]);
    let sc = Scenario::new();
    sc.source(
        "svc-flaky",
        &html_source("svc-flaky", &server, "/listing.html", "0 6 * * *"),
    );
    configure(&sc, &format!("[service]\ntick_secs = 1\n{}", mail(&sink)));
    let daemon = Daemon::start(&sc, &["--every", "1s"]);

    // Backoff with a 1 s base: runs at about 0, 1, 3 and 7 s.
    let failing = wait_until(Duration::from_secs(20), "four failed runs", || {
        let r = runs(&server, "/listing.html");
        (r.len() >= 4).then_some(r)
    });
    let gaps: Vec<Duration> = failing
        .windows(2)
        .map(|p| p[1].duration_since(p[0]))
        .collect();
    assert!(
        gaps[2] > gaps[0] + Duration::from_millis(1500),
        "backoff grows: {gaps:?}"
    );
    let alerts = sink.wait_for(1, Duration::from_secs(10));
    assert_eq!(alerts.len(), 1, "one alert after two failures");
    let first = parse(&alerts[0]);
    assert_eq!(
        first.subject().unwrap(),
        "[Vigie] Source en échec : Démo svc-flaky (2 échecs de suite)"
    );
    let body = first.body_text(0).unwrap();
    assert!(
        body.contains("vigie sources check svc-flaky --fetch"),
        "{body}"
    );
    assert!(body.contains("503"), "the alert names the error: {body}");
    assert!(body.contains("Dernier passage réussi : aucun."), "{body}");

    server.route("/listing.html", Response::ok_html(listing()));
    let mails = sink.wait_for(2, Duration::from_secs(30));
    assert_eq!(mails.len(), 2, "one more alert on recovery");
    assert_eq!(
        parse(&mails[1]).subject().unwrap(),
        "[Vigie] Source rétablie : Démo svc-flaky"
    );
    // Back on its (compressed) schedule: more runs, no more alerts.
    let before = runs(&server, "/listing.html").len();
    wait_until(Duration::from_secs(10), "two more runs", || {
        (runs(&server, "/listing.html").len() >= before + 2).then_some(())
    });
    assert_eq!(sink.messages().len(), 2, "no alert while nothing changes");
    let (status, log) = daemon.stop(Duration::from_secs(15));
    assert!(status.success(), "{log}");
}

/// A listing page with the first `n` calls of `crawl/listing.html`.
fn listing_of(n: usize) -> String {
    let page = String::from_utf8(listing()).unwrap();
    let mut articles: Vec<&str> = page.split("<article").skip(1).collect();
    articles.truncate(n);
    let body: String = articles
        .iter()
        .map(|a| format!("<article{}", a.split("</article>").next().unwrap()) + "</article>")
        .collect();
    format!("<!doctype html><html lang=\"fr\"><body><main>{body}</main></body></html>")
}

#[test]
fn a_sudden_drop_and_a_page_that_stops_matching_alert_at_once_then_recover() {
    let server = FixtureServer::start();
    server.route_sequence(
        "/listing.html",
        [
            Response::ok_html(listing_of(3)),
            Response::ok_html(listing_of(3)),
            Response::ok_html(listing_of(3)),
            Response::ok_html(listing_of(1)),
            Response::ok_html(listing_of(0)),
            Response::ok_html(listing_of(3)),
        ],
    );
    let sink = SmtpSink::start(&[]);
    let sc = Scenario::new();
    sc.source(
        "svc-layout",
        &html_source("svc-layout", &server, "/listing.html", "0 6 * * *"),
    );
    configure(&sc, &format!("[service]\ntick_secs = 1\n{}", mail(&sink)));
    let daemon = Daemon::start(&sc, &["--every", "1s"]);
    let mails = sink.wait_for(3, Duration::from_secs(40));
    let subjects: Vec<String> = mails
        .iter()
        .map(|m| parse(m).subject().unwrap().to_string())
        .collect();
    assert_eq!(
        subjects,
        [
            "[Vigie] Chute soudaine du nombre d'appels : Démo svc-layout",
            "[Vigie] Plus aucun appel trouvé : Démo svc-layout",
            "[Vigie] Source rétablie : Démo svc-layout",
        ]
    );
    let drop = parse(&mails[0]).body_text(0).unwrap().to_string();
    assert!(
        drop.contains("que 1 élément(s), contre 3 d'habitude"),
        "{drop}"
    );
    let zero = parse(&mails[1]).body_text(0).unwrap().to_string();
    assert!(
        zero.contains("les sélecteurs n'en extraient plus aucun élément"),
        "{zero}"
    );
    assert!(zero.contains("sources/svc-layout.toml"), "{zero}");
    let (status, log) = daemon.stop(Duration::from_secs(15));
    assert!(status.success(), "{log}");
    assert_eq!(sink.messages().len(), 3, "one alert per change of state");
    let out = sc.vigie(&["sources", "status"]);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("svc-layout") && table.contains("healthy"),
        "{table}"
    );
}
