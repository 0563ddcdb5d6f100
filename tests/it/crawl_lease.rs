//! One crawl of a source at a time: two real `vigie crawl` processes on one
//! database; the second skips the source the first is crawling, says who
//! holds it, and exits successfully (the first one is doing the work).

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::crawl_pages::{crawl_json, html_page, html_source, patient_scenario, spawn_crawl};
use crate::support::{FixtureServer, Response, all_output};

#[test]
fn a_second_crawl_skips_the_source_the_first_one_is_crawling() {
    let server = FixtureServer::start();
    let deadline = "Date limite : 15 mars 2035";
    server.route(
        "/page1.html",
        Response::ok_html(html_page(1, 1, deadline, "")).delay(Duration::from_secs(3)),
    );
    let sc = patient_scenario();
    sc.source("held", &html_source("held", &server));

    let first = spawn_crawl(&sc);
    let waited = Instant::now();
    while server.requests_to("/page1.html").is_empty() && waited.elapsed() < Duration::from_secs(20)
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(server.requests_to("/page1.html").len(), 1);

    // The first crawl is waiting on the slow page, holding the lease.
    let out = sc.vigie(&["crawl", "--format", "json"]);
    assert!(
        out.status.success(),
        "a skipped source is not a failure: {}",
        all_output(&out)
    );
    let report: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report[0]["outcome"], "skipped", "{report:#?}");
    assert_eq!(
        report[0]["held_by"]["holder"]["pid"],
        first.id(),
        "{report:#?}"
    );
    assert_eq!(
        server.requests_to("/page1.html").len(),
        1,
        "the second crawl fetched nothing"
    );
    let table = sc.vigie(&["crawl"]);
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(
        text.contains("held: skipped: another crawl holds it since"),
        "{}",
        all_output(&table)
    );

    let done = first.wait_with_output().unwrap();
    assert!(done.status.success(), "{}", all_output(&done));
    let report: Vec<Value> = serde_json::from_slice(&done.stdout).unwrap();
    assert_eq!(report[0]["outcome"], "ok", "{report:#?}");

    // Released at the end: the next crawl runs (the page is now fast).
    server.route(
        "/page1.html",
        Response::ok_html(html_page(1, 1, deadline, "")),
    );
    let report = crawl_json(&sc);
    assert_eq!(report[0]["outcome"], "ok", "{report:#?}");
    assert_eq!(server.requests_to("/page1.html").len(), 2);
}
