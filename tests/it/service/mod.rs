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

mod alerts;
mod lifecycle;
mod web_flow;

pub(super) const CURATOR: &str = "curateurs@numerique.gouv.fr";

pub(super) fn listing() -> Vec<u8> {
    std::fs::read(fixtures("crawl/listing.html")).unwrap()
}

/// An HTML source on `server` at `path` (selectors of `crawl/listing.html`).
pub(super) fn html_source(id: &str, server: &FixtureServer, path: &str, schedule: &str) -> String {
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
pub(super) fn configure(sc: &Scenario, extra: &str) {
    let path = sc.path("vigie.toml");
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str(extra);
    std::fs::write(path, text).unwrap();
}

pub(super) fn mail(sink: &SmtpSink) -> String {
    format!(
        "[mail]\nsmtp_host = \"127.0.0.1\"\nsmtp_port = {}\nsmtp_security = \"none\"\n\
         retry_base_secs = 1\nfrom = \"Vigie <vigie@example.gouv.fr>\"\n\
         [curators]\nemails = [\"{CURATOR}\"]\nfailure_threshold = 2\n",
        sink.port
    )
}

/// The request times to `path`, grouped into runs (a run may retry).
pub(super) fn runs(server: &FixtureServer, path: &str) -> Vec<Instant> {
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

pub(super) fn db(sc: &Scenario) -> Connection {
    Connection::open(sc.db()).unwrap()
}

pub(super) fn next_due(sc: &Scenario, id: &str) -> DateTime<Utc> {
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
