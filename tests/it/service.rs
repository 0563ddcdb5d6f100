//! `vigie run` as a real process against local fixture servers and the real
//! SMTP sink, with compressed schedules (`--every 1s`) or real cron
//! expressions: sources run on time, a failing source backs off and alerts
//! curators once each way, SIGTERM during a crawl or a send loses nothing,
//! a restart after downtime catches up exactly once, SIGHUP picks up
//! changes and survives a broken file, `/healthz` and `/metrics` answer.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use rusqlite::Connection;

use crate::support::daemon::{Daemon, wait_until};
use crate::support::smtp::{SmtpSink, parse};
use crate::support::{FixtureServer, Response, Scenario, fixtures};

const CURATOR: &str = "curateurs@numerique.gouv.fr";

fn listing() -> Vec<u8> {
    std::fs::read(fixtures("crawl/listing.html")).unwrap()
}

/// An HTML source on `server` at `path` (selectors of `crawl/listing.html`).
fn html_source(id: &str, server: &FixtureServer, path: &str, schedule: &str) -> String {
    format!(
        r#"id = "{id}"
name = "Démo {id}"
kind = "html"
url = "{url}"
schedule = "{schedule}"

[defaults]
audiences = ["commune", "epci"]
perimeter = "france"
themes = ["numerique"]

[html]
item = "article.call"
id = "@data-id"
title = "h2 a"
link = "h2 a @href"
summary = "p.desc"
deadline = "p.end"
"#,
        url = server.url(path)
    )
}

/// Appends the daemon's sections to the scenario's configuration.
fn configure(sc: &Scenario, extra: &str) {
    let path = sc.path("vigie.toml");
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str(extra);
    std::fs::write(path, text).unwrap();
}

fn mail(sink: &SmtpSink) -> String {
    format!(
        "[mail]\nsmtp_host = \"127.0.0.1\"\nsmtp_port = {}\nsmtp_security = \"none\"\n\
         retry_base_secs = 1\nfrom = \"Vigie <vigie@example.gouv.fr>\"\n\
         [curators]\nemails = [\"{CURATOR}\"]\nfailure_threshold = 2\n",
        sink.port
    )
}

/// The request times to `path`, grouped into runs (a run may retry).
fn runs(server: &FixtureServer, path: &str) -> Vec<Instant> {
    let mut out: Vec<Instant> = Vec::new();
    for r in server.requests_to(path) {
        if out
            .last()
            .is_none_or(|l| r.at.duration_since(*l) > Duration::from_millis(500))
        {
            out.push(r.at);
        }
    }
    out
}

fn db(sc: &Scenario) -> Connection {
    Connection::open(sc.db()).unwrap()
}

fn next_due(sc: &Scenario, id: &str) -> DateTime<Utc> {
    let raw: String = db(sc)
        .query_row(
            "SELECT next_due_at FROM service_sources WHERE source_id = ?1",
            [id],
            |r| r.get(0),
        )
        .unwrap();
    DateTime::parse_from_rfc3339(&raw)
        .unwrap()
        .with_timezone(&Utc)
}

#[test]
fn sources_run_on_time_and_healthz_and_metrics_answer() {
    let server = FixtureServer::start();
    server.route("/listing.html", Response::ok_html(listing()));
    let sc = Scenario::new();
    sc.source(
        "svc-html",
        &html_source("svc-html", &server, "/listing.html", "0 6 * * *"),
    );
    configure(&sc, "[service]\ntick_secs = 1\n");
    let daemon = Daemon::start(&sc, &["--every", "1s", "--log-format", "json"]);

    let got = wait_until(Duration::from_secs(15), "four runs", || {
        let r = runs(&server, "/listing.html");
        (r.len() >= 4).then_some(r)
    });
    for pair in got.windows(2) {
        let gap = pair[1].duration_since(pair[0]);
        assert!(
            gap >= Duration::from_millis(800) && gap < Duration::from_millis(3000),
            "runs every second, got a gap of {gap:?}"
        );
    }
    let (status, body) = daemon.get("/healthz");
    assert_eq!(status, 200, "{body}");
    let health: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(health["status"], "ok");
    assert_eq!(health["database"], "ok");
    assert!(
        health["seconds_since_tick"].as_i64().unwrap() <= 2,
        "{body}"
    );

    let (status, metrics) = daemon.get("/metrics");
    assert_eq!(status, 200);
    let runs_line = metrics
        .lines()
        .find(|l| l.starts_with("vigie_crawl_runs_total{source=\"svc-html\",outcome=\"ok\"}"))
        .unwrap_or_else(|| panic!("no run counter in:\n{metrics}"));
    let n: u64 = runs_line.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(n >= 3, "{runs_line}");
    for needle in [
        "vigie_build_info{version=",
        "vigie_crawl_items_total{source=\"svc-html\"}",
        "vigie_crawl_duration_seconds_count{source=\"svc-html\"}",
        "vigie_outbox_messages{status=\"pending\"} 0",
        "vigie_subscribers{status=\"active\"} 0",
        "vigie_source_health{source=\"svc-html\",health=\"healthy\"} 1",
        "vigie_digest_runs_total",
    ] {
        assert!(metrics.contains(needle), "missing {needle} in:\n{metrics}");
    }

    let (status, log) = daemon.stop(Duration::from_secs(15));
    assert!(status.success(), "exit {status:?}\n{log}");
    // JSON logs: every line of a run names its source and run id.
    let run_lines: Vec<serde_json::Value> = log
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["fields"]["message"] == "run finished")
        .collect();
    assert!(run_lines.len() >= 3, "{log}");
    for v in &run_lines {
        assert_eq!(v["span"]["source"], "svc-html", "{v}");
        assert_eq!(v["span"]["run_id"].as_str().map(str::len), Some(12), "{v}");
    }
    assert!(
        !log.contains("\u{1b}["),
        "no colour codes when not a terminal"
    );
    assert!(
        log.lines()
            .all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok()),
        "{log}"
    );
}

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

#[test]
fn sigterm_during_a_crawl_lets_it_finish_and_loses_nothing() {
    let server = FixtureServer::start();
    server.route(
        "/listing.html",
        Response::ok_html(listing()).delay(Duration::from_millis(1500)),
    );
    let sc = Scenario::new();
    sc.source(
        "svc-slow",
        &html_source("svc-slow", &server, "/listing.html", "0 6 * * *"),
    );
    configure(&sc, "[service]\ncatch_up_spread_secs = 0\n");
    let daemon = Daemon::start(&sc, &[]);
    wait_until(Duration::from_secs(10), "the crawl to start", || {
        (!server.requests_to("/listing.html").is_empty()).then_some(())
    });
    let (status, log) = daemon.stop(Duration::from_secs(20));
    assert!(status.success(), "exit {status:?}\n{log}");
    assert!(
        log.contains("run finished"),
        "the crawl finished before the exit:\n{log}"
    );
    assert_eq!(sc.calls(&[]).len(), 3, "every call stored");
    assert!(
        next_due(&sc, "svc-slow") > Utc::now(),
        "the finished run is not repeated"
    );
}

#[test]
fn a_crawl_cut_by_the_grace_time_runs_again_at_the_next_start() {
    let server = FixtureServer::start();
    server.route(
        "/listing.html",
        Response::ok_html(listing()).delay(Duration::from_millis(1500)),
    );
    let sc = Scenario::new();
    sc.source(
        "svc-cut",
        &html_source("svc-cut", &server, "/listing.html", "0 6 * * *"),
    );
    configure(
        &sc,
        "[service]\ncatch_up_spread_secs = 0\nshutdown_grace_secs = 0\n",
    );
    let daemon = Daemon::start(&sc, &[]);
    wait_until(Duration::from_secs(10), "the crawl to start", || {
        (!server.requests_to("/listing.html").is_empty()).then_some(())
    });
    let started = Instant::now();
    let (status, log) = daemon.stop(Duration::from_secs(20));
    assert!(status.success(), "exit {status:?}\n{log}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the grace time bounds the stop"
    );
    assert!(sc.calls(&[]).is_empty(), "the cut crawl stored nothing");

    server.route("/listing.html", Response::ok_html(listing()));
    let daemon = Daemon::start(&sc, &[]);
    wait_until(Duration::from_secs(15), "the run to happen again", || {
        (sc.calls(&[]).len() == 3).then_some(())
    });
    let (status, log) = daemon.stop(Duration::from_secs(15));
    assert!(status.success(), "{log}");
    assert!(log.contains("stopped during this source's run"), "{log}");
}

#[test]
fn sigterm_during_a_send_lets_it_finish_and_nothing_is_sent_twice() {
    let server = FixtureServer::start();
    server.route("/listing.html", Response::status(503));
    // The sink waits 1.5 s before accepting each recipient: the send is in
    // progress when SIGTERM arrives.
    let sink = SmtpSink::start(&["--delay-ms", "1500"]);
    let sc = Scenario::new();
    sc.source(
        "svc-down",
        &html_source("svc-down", &server, "/listing.html", "0 6 * * *"),
    );
    configure(
        &sc,
        &format!("[service]\ncatch_up_spread_secs = 0\n{}", mail(&sink))
            .replace("failure_threshold = 2", "failure_threshold = 1"),
    );
    let daemon = Daemon::start(&sc, &[]);
    wait_until(Duration::from_secs(15), "the alert to be sending", || {
        let status: Option<String> = db(&sc)
            .query_row("SELECT status FROM outbox", [], |r| r.get(0))
            .ok();
        (status.as_deref() == Some("sending")).then_some(())
    });
    let (status, log) = daemon.stop(Duration::from_secs(20));
    assert!(status.success(), "exit {status:?}\n{log}");
    assert_eq!(
        sink.messages().len(),
        1,
        "the send in progress finished:\n{log}"
    );
    let row: String = db(&sc)
        .query_row("SELECT status FROM outbox", [], |r| r.get(0))
        .unwrap();
    assert_eq!(row, "sent");

    // A restart neither resends it nor alerts again for the same failure.
    let daemon = Daemon::start(&sc, &[]);
    std::thread::sleep(Duration::from_secs(3));
    let (status, log) = daemon.stop(Duration::from_secs(15));
    assert!(status.success(), "{log}");
    assert_eq!(sink.messages().len(), 1, "{log}");
}

#[test]
fn a_restart_repeats_nothing_and_after_downtime_each_missed_run_happens_once() {
    let server = FixtureServer::start();
    server.route("/listing.html", Response::ok_html(listing()));
    let sc = Scenario::new();
    sc.source(
        "svc-daily",
        &html_source("svc-daily", &server, "/listing.html", "0 6 * * *"),
    );
    configure(&sc, "[service]\ncatch_up_spread_secs = 1\ntick_secs = 1\n");

    // A new source runs once at start, then waits for 06:00 Paris.
    let daemon = Daemon::start(&sc, &[]);
    wait_until(Duration::from_secs(10), "the first run", || {
        (runs(&server, "/listing.html").len() == 1).then_some(())
    });
    std::thread::sleep(Duration::from_millis(1500));
    let (status, log) = daemon.stop(Duration::from_secs(15));
    assert!(status.success(), "{log}");
    let due = next_due(&sc, "svc-daily");
    let paris = due.with_timezone(&chrono_tz::Europe::Paris);
    assert_eq!(paris.format("%H:%M").to_string(), "06:00", "{due}");
    assert!(due > Utc::now() && due - Utc::now() <= chrono::Duration::hours(24));

    // Restart before it is due: nothing runs.
    let daemon = Daemon::start(&sc, &[]);
    std::thread::sleep(Duration::from_secs(3));
    let (status, log) = daemon.stop(Duration::from_secs(15));
    assert!(status.success(), "{log}");
    assert_eq!(
        runs(&server, "/listing.html").len(),
        1,
        "a restart repeats nothing"
    );

    // Three days down: the runs of three mornings were missed.
    let three_days_ago = (Utc::now() - chrono::Duration::days(3))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    db(&sc)
        .execute(
            "UPDATE service_sources SET next_due_at = ?1 WHERE source_id = 'svc-daily'",
            [&three_days_ago],
        )
        .unwrap();
    let daemon = Daemon::start(&sc, &[]);
    wait_until(Duration::from_secs(10), "the catch-up run", || {
        (runs(&server, "/listing.html").len() == 2).then_some(())
    });
    std::thread::sleep(Duration::from_secs(3));
    let (status, log) = daemon.stop(Duration::from_secs(15));
    assert!(status.success(), "{log}");
    assert_eq!(
        runs(&server, "/listing.html").len(),
        2,
        "caught up exactly once"
    );
    assert!(next_due(&sc, "svc-daily") > Utc::now());
}

#[test]
fn sighup_picks_up_an_added_source_and_survives_a_broken_one() {
    let server = FixtureServer::start();
    server.route("/a.html", Response::ok_html(listing()));
    server.route("/b.html", Response::ok_html(listing()));
    let sc = Scenario::new();
    sc.source(
        "svc-a",
        &html_source("svc-a", &server, "/a.html", "0 6 * * *"),
    );
    configure(&sc, "[service]\ncatch_up_spread_secs = 0\ntick_secs = 1\n");
    let mut daemon = Daemon::start(&sc, &[]);
    wait_until(Duration::from_secs(10), "the first source's run", || {
        (!server.requests_to("/a.html").is_empty()).then_some(())
    });

    sc.source(
        "svc-b",
        &html_source("svc-b", &server, "/b.html", "0 6 * * *"),
    );
    sc.source("svc-a", "id = \"svc-a\"\nname = ");
    std::fs::write(sc.path("sources/broken.toml"), "this is not toml [").unwrap();
    daemon.signal(libc::SIGHUP);
    wait_until(Duration::from_secs(10), "the added source's run", || {
        (!server.requests_to("/b.html").is_empty()).then_some(())
    });
    assert!(daemon.is_running());
    let (code, _) = daemon.get("/healthz");
    assert_eq!(code, 200);
    let log = daemon.log();
    assert!(log.contains("added=[\"svc-b\"]"), "{log}");
    assert!(
        log.contains("svc-a.toml") && log.contains("broken.toml"),
        "{log}"
    );
    assert!(log.contains("the previous one (if any) stays"), "{log}");
    let (status, log) = daemon.stop(Duration::from_secs(15));
    assert!(status.success(), "{log}");
    let status_out = sc.vigie(&["sources", "status", "--format", "json"]);
    let rows: serde_json::Value = serde_json::from_slice(&status_out.stdout).unwrap();
    let ids: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"svc-a") && ids.contains(&"svc-b"), "{rows}");
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

#[test]
fn the_daemon_sends_a_due_digest_once_after_crawling() {
    let server = FixtureServer::start();
    server.route("/listing.html", Response::ok_html(listing()));
    let sink = SmtpSink::start(&[]);
    let sc = Scenario::new();
    sc.source(
        "svc-digest",
        &html_source("svc-digest", &server, "/listing.html", "0 6 * * *"),
    );
    // send_hour 0: due whatever the hour the test runs at.
    configure(
        &sc,
        &format!(
            "[service]\ntick_secs = 1\n{}[digest]\nsend_hour = 0\nsite_url = \"https://vigie.example\"\n",
            mail(&sink)
        ),
    );
    let out = sc.vigie(&[
        "subscribers",
        "add",
        "mairie@cergy.fr",
        "--name",
        "Mairie de Cergy",
        "--audience",
        "commune",
        "--territory",
        "commune:95127",
    ]);
    assert!(out.status.success(), "{}", crate::support::all_output(&out));
    let daemon = Daemon::start(&sc, &["--every", "1s"]);
    let mails = sink.wait_for(1, Duration::from_secs(20));
    assert_eq!(mails.len(), 1);
    let digest = parse(&mails[0]);
    assert_eq!(
        digest
            .to()
            .and_then(|t| t.first())
            .and_then(|a| a.address()),
        Some("mairie@cergy.fr")
    );
    // Several more digest runs the same day: nothing more.
    std::thread::sleep(Duration::from_secs(3));
    let (status, log) = daemon.stop(Duration::from_secs(15));
    assert!(status.success(), "{log}");
    assert_eq!(sink.messages().len(), 1, "{log}");
    assert!(log.contains("digests queued"), "{log}");
}
