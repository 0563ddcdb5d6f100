//! The daemon's life: SIGTERM during a crawl or a send, a cut run redone,
//! restarts that repeat nothing and catch up once, SIGHUP reloads.

use std::time::{Duration, Instant};

use chrono::Utc;

use super::{configure, db, html_source, listing, mail, next_due, runs};
use crate::support::daemon::{Daemon, wait_until};
use crate::support::smtp::SmtpSink;
use crate::support::{FixtureServer, Response, Scenario};

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
